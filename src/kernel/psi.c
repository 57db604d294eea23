/* psi.c — PSI triggers (contract in psi.h). */
#include "psi.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int psi_trigger_open(int leaf_fd, const char *trigger)
{
        int fd = openat(leaf_fd, "memory.pressure", O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        /* The kernel's parser wants the terminating NUL (psi.rst's example
         * writes strlen() + 1 bytes). */
        size_t len = strlen(trigger) + 1;
        ssize_t n = pwrite(fd, trigger, len, 0);
        if (n < 0 || (size_t)n != len) {
                int e = n < 0 ? errno : EIO;
                close(fd);
                return -e;
        }
        return fd;
}

#define PSI_UNPRIV_WINDOW_USEC UINT64_C(2000000)

int psi_trigger_unprivileged(const char *trigger, char *buf, size_t len)
{
        char kind[8];
        uint64_t stall, window;
        int end = 0;

        if (sscanf(trigger, "%7s %" SCNu64 " %" SCNu64 "%n", kind, &stall, &window, &end) != 3 ||
            trigger[end] != '\0' || window == 0 || stall > window)
                return -EINVAL;
        uint64_t w =
            (window + PSI_UNPRIV_WINDOW_USEC - 1) / PSI_UNPRIV_WINDOW_USEC * PSI_UNPRIV_WINDOW_USEC;
        /* The kernel takes windows up to 10 s: anything near overflow is
         * not a trigger it would take either. */
        if (w < window || stall > UINT64_MAX / w)
                return -EINVAL;
        uint64_t st = stall * w / window;
        int n = snprintf(buf, len, "%s %" PRIu64 " %" PRIu64, kind, st, w);
        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        return w != window;
}

/* psi.c — PSI triggers (contract in psi.h). */
#include "psi.h"

#include <errno.h>
#include <fcntl.h>
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

/* psi.h — a PSI trigger on a cgroup's memory.pressure (kernel
 * Documentation/accounting/psi.rst): the trigger string ("some 150000
 * 1000000": stall and window in usec) is written to the file, and the
 * kernel then signals POLLPRI (EPOLLPRI) on that open file each time the
 * stall within the window reaches the threshold, at most once per window.
 * The trigger lives as long as the fd.
 *
 * Errors the caller tells the user about, from psi_trigger_open():
 *   -ENOENT      no memory.pressure: the kernel lacks PSI (CONFIG_PSI off, or
 *                psi=0 on its command line);
 *   -EOPNOTSUPP  PSI is compiled in but disabled (the write is refused);
 *   -EINVAL      the kernel refused the trigger; for an unprivileged process
 *                (no CAP_SYS_RESOURCE) since 6.4 the window must be a multiple
 *                of 2 s;
 *   -EACCES/-EPERM  the file is not writable by the guard.
 * Nothing here logs. */
#pragma once

#include <stddef.h>

/* An O_RDWR fd of `leaf_fd`/memory.pressure with `trigger` written to it
 * (poll it for POLLPRI), or a negative errno. */
int psi_trigger_open(int leaf_fd, const char *trigger);

/* The trigger an unprivileged process may set (kernel 6.4+: the window a
 * whole number of 2 s): "KIND STALL WINDOW" (usec) with WINDOW rounded up
 * to the next multiple of 2 s and STALL scaled with it, so that the share
 * of stalled time stays the same ("some 150000 1000000" -> "some 300000
 * 2000000").  1 if it differs from `trigger`, 0 if that already fits,
 * -EINVAL for a string not in that form, -ENOBUFS if `len` is too small. */
int psi_trigger_unprivileged(const char *trigger, char *buf, size_t len);

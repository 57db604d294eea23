#include "sentinel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* What the guard writes: whole records, far below PIPE_BUF, so each write
 * arrives in one piece and one read() returns one record. */
enum { MSG_SERVER = 1, MSG_QUIT = 2 };
struct msg {
        int32_t kind;
        int32_t pgid;
};

/* Rounds of killing, 10 ms apart: a process forking meanwhile is caught by
 * the next one, and a tree that keeps forking faster than that cannot hold
 * the sentinel for more than a second. */
#define KILL_ROUNDS 100
#define ROUND_USEC (10 * 1000)

void sentinel_make_marker(char ret[SENTINEL_MARKER_MAX])
{
        uint8_t b[16];
        if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b) {
                /* Unique enough for one boot: pid, time and an address. */
                uint64_t x = now_usec() ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)b;
                for (size_t i = 0; i < sizeof b; i++) {
                        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                        b[i] = (uint8_t)(x >> 56);
                }
        }
        int n = snprintf(ret, SENTINEL_MARKER_MAX, "%s=", SENTINEL_ENV);
        for (size_t i = 0; i < sizeof b && n + 2 < SENTINEL_MARKER_MAX; i++)
                n += snprintf(ret + n, (size_t)(SENTINEL_MARKER_MAX - n), "%02x", b[i]);
}

void sentinel_match_feed(struct sentinel_match *m, const char *marker, const char *buf, size_t n)
{
        size_t len = strlen(marker);
        for (size_t i = 0; i < n; i++) {
                if (buf[i] == '\0') {
                        if (!m->broken && m->pos == len)
                                m->found = true;
                        m->pos = 0;
                        m->broken = false;
                } else if (!m->broken) {
                        if (m->pos < len && marker[m->pos] == buf[i])
                                m->pos++;
                        else
                                m->broken = true;
                }
        }
}

bool sentinel_match_found(const struct sentinel_match *m, const char *marker)
{
        /* The last entry may lack its NUL (a process that rewrote its stack). */
        return m->found || (!m->broken && m->pos > 0 && m->pos == strlen(marker));
}

/* ---- the kill (no allocation: also runs in the forked sentinel) ------ */

/* Before 5.14: SIGKILL each pid server/cgroup.procs lists, until it lists
 * none.  The fd was opened by the guard; lseek(0) makes the kernel produce
 * the list afresh. */
static int kill_procs(int procs_fd)
{
        int signalled = 0;
        for (int round = 0; round < KILL_ROUNDS; round++) {
                char buf[4096];
                long pid = 0;
                bool in_number = false, any = false;
                ssize_t n;

                if (lseek(procs_fd, 0, SEEK_SET) < 0)
                        return signalled ? signalled : -errno;
                while ((n = read(procs_fd, buf, sizeof buf)) != 0) {
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                return signalled ? signalled : -errno;
                        }
                        /* Numbers may straddle two reads: parse as a stream. */
                        for (ssize_t i = 0; i < n; i++) {
                                if (buf[i] >= '0' && buf[i] <= '9') {
                                        pid = pid * 10 + (buf[i] - '0');
                                        in_number = true;
                                        continue;
                                }
                                if (in_number && pid > 0) {
                                        any = true;
                                        if (kill((pid_t)pid, SIGKILL) == 0)
                                                signalled++;
                                }
                                pid = 0;
                                in_number = false;
                        }
                }
                if (in_number && pid > 0) {
                        any = true;
                        if (kill((pid_t)pid, SIGKILL) == 0)
                                signalled++;
                }
                if (!any)
                        break;
                sleep_usec(ROUND_USEC);
        }
        return signalled;
}

/* Whether the process `pidfd` pins (pid `pid`) carries the marker.  The
 * pidfd is taken before PROC/PID/environ is read: if the pid was reused in
 * between, the environ read is the newcomer's, and a signal through the
 * pidfd would go to the (dead) original, never to the newcomer. */
static bool has_marker(int proc_fd, const char *pid, const char *marker)
{
        char path[64], buf[4096];
        struct sentinel_match m = {0};
        ssize_t n;

        snprintf(path, sizeof path, "%s/environ", pid);
        int fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false; /* gone, or another user's */
        while ((n = read(fd, buf, sizeof buf)) != 0) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                sentinel_match_feed(&m, marker, buf, (size_t)n);
                if (m.found)
                        break;
        }
        close(fd);
        return sentinel_match_found(&m, marker);
}

struct linux_dirent64 {
        uint64_t d_ino;
        int64_t d_off;
        unsigned short d_reclen;
        unsigned char d_type;
        char d_name[];
};

/* One pass over PROC: SIGKILL every process with the marker.  Returns how
 * many, or a negative errno if PROC cannot be listed. */
static int kill_marked_once(const char *proc_root, const char *marker)
{
        int proc_fd = open(proc_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int signalled = 0;
        pid_t self = getpid();

        if (proc_fd < 0)
                return -errno;
        for (;;) {
                /* getdents64 rather than opendir: no allocation. */
                char buf[8192] __attribute__((aligned(8)));
                long n = syscall(SYS_getdents64, proc_fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (long off = 0; off < n;) {
                        struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
                        off += d->d_reclen;
                        char *end;
                        long pid = strtol(d->d_name, &end, 10);
                        if (end == d->d_name || *end || pid <= 0 || pid == self)
                                continue;
                        int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
                        if (pidfd < 0)
                                continue;
                        if (has_marker(proc_fd, d->d_name, marker) &&
                            syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0)
                                signalled++;
                        close(pidfd);
                }
        }
        close(proc_fd);
        return signalled;
}

int sentinel_kill_all(const struct sentinel_spec *spec, pid_t pgid)
{
        int signalled = 0, r = 0;

        if (spec->kill_fd >= 0 && write(spec->kill_fd, "1", 1) == 1)
                signalled++;
        else if (spec->procs_fd >= 0 && (r = kill_procs(spec->procs_fd)) > 0)
                signalled += r;
        if (pgid > 0 && kill(-pgid, SIGKILL) == 0)
                signalled++;
        if (spec->proc_root && spec->marker) {
                /* Until a pass finds none: a killed process is a zombie
                 * at once or soon (an empty environ), one forking meanwhile
                 * is found next time. */
                for (int round = 0; round < KILL_ROUNDS; round++) {
                        r = kill_marked_once(spec->proc_root, spec->marker);
                        if (r <= 0)
                                break;
                        signalled += r;
                        sleep_usec(ROUND_USEC);
                }
        }
        return signalled > 0 || r >= 0 ? signalled : r;
}

/* ---- the process ------------------------------------------------------ */

/* Close every fd from 3 up except those in `keep` (sorted, -1 = unused). */
static void close_all_but(const int keep[3])
{
        unsigned from = 3;
        for (int i = 0; i < 3; i++) {
                if (keep[i] < (int)from)
                        continue;
                if ((unsigned)keep[i] > from && close_range(from, (unsigned)keep[i] - 1, 0) < 0)
                        goto slow;
                from = (unsigned)keep[i] + 1;
        }
        if (close_range(from, ~0U, 0) == 0)
                return;
slow:; /* before 5.9: one by one, up to the limit */
        struct rlimit rl;
        unsigned long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                                ? (unsigned long)rl.rlim_cur
                                : 65536;
        for (unsigned long fd = 3; fd < max && fd < (1UL << 20); fd++)
                if ((int)fd != keep[0] && (int)fd != keep[1] && (int)fd != keep[2])
                        (void)close((int)fd);
}

static void sort3(int a[3])
{
        for (int i = 0; i < 3; i++)
                for (int j = i + 1; j < 3; j++)
                        if (a[j] < a[i]) {
                                int t = a[i];
                                a[i] = a[j];
                                a[j] = t;
                        }
}

__attribute__((noreturn)) static void sentinel_main(const struct sentinel_spec *spec, int rfd,
                                                    int devnull)
{
        static const int ignored[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE,
                                      SIGTSTP, SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2};
        sigset_t none;
        pid_t pgid = 0;

        (void)setsid();
        (void)prctl(PR_SET_NAME, "guard-sentinel");
        for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
                signal(ignored[i], SIG_IGN);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int fd = 0; fd < 3; fd++) {
                if (devnull >= 0)
                        (void)dup2(devnull, fd);
                else
                        (void)close(fd);
        }
        int keep[3] = {rfd, spec->kill_fd, spec->procs_fd};
        sort3(keep);
        close_all_but(keep);

        for (;;) {
                struct msg m;
                ssize_t n = read(rfd, &m, sizeof m);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n == (ssize_t)sizeof m) {
                        if (m.kind == MSG_QUIT)
                                _exit(0);
                        if (m.kind == MSG_SERVER)
                                pgid = m.pgid;
                        continue;
                }
                /* EOF: the guard is gone without saying goodbye. */
                (void)sentinel_kill_all(spec, pgid);
                _exit(0);
        }
}

int sentinel_start(const struct sentinel_spec *spec, struct sentinel *ret)
{
        int p[2];
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        int r;

        if (pipe2(p, O_CLOEXEC) < 0) {
                r = -errno;
                if (devnull >= 0)
                        close(devnull);
                return r;
        }
        pid_t pid = fork();
        if (pid == 0) {
                close(p[1]);
                sentinel_main(spec, p[0], devnull);
        }
        r = pid < 0 ? -errno : 0;
        close(p[0]);
        if (devnull >= 0)
                close(devnull);
        if (r < 0) {
                close(p[1]);
                return r;
        }
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                r = -errno;
                close(p[1]); /* EOF: it kills nothing (nothing is told) and exits */
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        (void)fcntl(pidfd, F_SETFD, FD_CLOEXEC);
        /* The guard never waits on the sentinel: a write that would block
         * (it cannot, a few records in a 64 KiB pipe) fails instead. */
        (void)fcntl(p[1], F_SETFL, O_NONBLOCK);
        *ret = (struct sentinel){.pid = pid, .pidfd = pidfd, .fd = p[1]};
        return 0;
}

static int send_msg(const struct sentinel *s, int kind, pid_t pgid)
{
        struct msg m = {.kind = kind, .pgid = (int32_t)pgid};
        if (s->fd < 0)
                return -EBADF;
        ssize_t n = write(s->fd, &m, sizeof m);
        if (n < 0)
                return -errno;
        return n == (ssize_t)sizeof m ? 0 : -EIO;
}

int sentinel_tell_server(const struct sentinel *s, pid_t pgid)
{
        return send_msg(s, MSG_SERVER, pgid);
}

bool sentinel_is(const struct sentinel *s, pid_t pid)
{
        return s->pid > 0 && s->pid == pid;
}

void sentinel_forget(struct sentinel *s)
{
        if (s->fd >= 0)
                close(s->fd);
        if (s->pidfd >= 0)
                close(s->pidfd);
        *s = SENTINEL_NONE;
}

void sentinel_stop(struct sentinel *s)
{
        if (s->pid <= 0) {
                sentinel_forget(s);
                return;
        }
        (void)send_msg(s, MSG_QUIT, 0);
        struct pollfd pfd = {.fd = s->pidfd, .events = POLLIN};
        int r;
        while ((r = poll(&pfd, 1, 1000)) < 0 && errno == EINTR)
                ;
        if (r == 0)
                (void)syscall(SYS_pidfd_send_signal, s->pidfd, SIGKILL, NULL, 0);
        siginfo_t si;
        /* ECHILD: the guard's SIGCHLD handling reaped it already. */
        while (waitid((idtype_t)P_PIDFD, (id_t)s->pidfd, &si, WEXITED) < 0 && errno == EINTR)
                ;
        sentinel_forget(s);
}

#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

extern char **environ;

static pid_t clone3_into(int cgroup_fd, int *ret_pidfd)
{
        int pidfd = -1;
        struct clone_args args = {
                .flags = CLONE_PIDFD | (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = cgroup_fd >= 0 ? (uint64_t)cgroup_fd : 0,
        };
        long r = syscall(SYS_clone3, &args, sizeof args);
        if (r == 0)
                return 0;
        if (r > 0)
                *ret_pidfd = pidfd;
        return (pid_t)r;
}

/* In the child, between clone and exec: only async-signal-safe calls. */
__attribute__((noreturn)) static void child_fail(const char *what, const char *cmd)
{
        const char *reason = strerror(errno);
        const char *parts[] = {"gopls-guard: ", what, " ", cmd, ": ", reason, "\n"};
        for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
                if (write(STDERR_FILENO, parts[i], strlen(parts[i])) < 0)
                        break;
        _exit(127);
}

__attribute__((noreturn)) static void child_run(const struct server_spec *spec, int in_r, int out_w,
                                                int err_w, pid_t guard)
{
        sigset_t none;

        /* The guard blocks signals for sd-event; a server must start with
         * the default mask and dispositions. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);

        if (spec->cgroup_fd < 0 && spec->cgroup_procs_fd >= 0) {
                if (write(spec->cgroup_procs_fd, "0", 1) != 1)
                        child_fail("cannot enter the server cgroup for", spec->argv[0]);
        }
        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != guard) /* the guard died before the line above */
                _exit(127);
        (void)setpgid(0, 0);

        if (dup2(in_r, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
            (err_w >= 0 && dup2(err_w, STDERR_FILENO) < 0))
                child_fail("cannot set up stdio for", spec->argv[0]);
        /* Nothing of the guard's beyond stdio: not the editor's pipe ends it
         * was started with (a server holding them would keep the editor's
         * end open after the guard is gone), not an fd a library opened
         * without O_CLOEXEC.  close_range is 5.9+; before, close one by one. */
        if (close_range(3, ~0U, 0) < 0) {
                struct rlimit rl;
                unsigned long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                                            ? (unsigned long)rl.rlim_cur
                                            : 65536;
                for (unsigned long fd = 3; fd < max && fd < (1UL << 20); fd++)
                        (void)close((int)fd);
        }
        for (char *const *e = spec->env; e && *e; e++)
                (void)putenv(*e);
        execvp(spec->argv[0], spec->argv);
        child_fail("cannot run", spec->argv[0]);
}

int server_spawn(const struct server_spec *spec, struct server_proc *ret)
{
        int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
        int pidfd = -1;
        pid_t guard = getpid(), pid;
        int r;

        /* The child's ends must survive exec, so they are not O_CLOEXEC;
         * the guard's ends are, and non-blocking for the event loop. */
        if (pipe2(in, 0) < 0 || pipe2(out, 0) < 0 ||
            (spec->capture_stderr && pipe2(err, 0) < 0)) {
                r = -errno;
                goto fail;
        }
        /* Large answers (completion lists, symbol searches) pass in fewer
         * wake-ups with a bigger pipe; 1 MiB is the default
         * /proc/sys/fs/pipe-max-size, and a smaller limit just keeps 64 KiB. */
        (void)fcntl(out[1], F_SETPIPE_SZ, 1 << 20);
        (void)fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
        if (fcntl(in[1], F_SETFD, FD_CLOEXEC) < 0 || fcntl(out[0], F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0 ||
            (err[0] >= 0 && (fcntl(err[0], F_SETFD, FD_CLOEXEC) < 0 ||
                             fcntl(err[0], F_SETFL, O_NONBLOCK) < 0))) {
                r = -errno;
                goto fail;
        }

        const struct server_spec *use = spec;
        struct server_spec fallback = *spec;
        pid = clone3_into(spec->cgroup_fd, &pidfd);
        if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
                /* Kernel before 5.7 (no CLONE_INTO_CGROUP) or before 5.3 (no
                 * clone3): the child places itself through cgroup.procs. */
                fallback.cgroup_fd = -1;
                use = &fallback;
                pid = fork();
        }
        if (pid == 0) {
                close(in[1]);
                close(out[0]);
                if (err[0] >= 0)
                        close(err[0]);
                child_run(use, in[0], out[1], err[1], guard);
        }
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (pidfd < 0) {
                pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                if (pidfd < 0) {
                        r = -errno;
                        kill(pid, SIGKILL);
                        (void)waitpid(pid, NULL, 0);
                        goto fail;
                }
        }
        (void)fcntl(pidfd, F_SETFD, FD_CLOEXEC);
        close(in[0]);
        close(out[1]);
        if (err[1] >= 0)
                close(err[1]);
        *ret = (struct server_proc){.pid = pid,
                                    .pidfd = pidfd,
                                    .stdin_fd = in[1],
                                    .stdout_fd = out[0],
                                    .stderr_fd = err[0]};
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
                if (err[i] >= 0)
                        close(err[i]);
        }
        return r;
}

/* Whether `st` is this very program: stat() has followed any symlink, so
 * a link named gopls pointing at the guard (or a hard link to it) matches. */
static bool is_self(const struct stat *self, const struct stat *st)
{
        return self && st->st_dev == self->st_dev && st->st_ino == self->st_ino;
}

int server_find_command(const char *name, const char *path, char **ret_path)
{
        struct stat self_st, st;
        /* Without /proc the guard cannot recognise itself; it then finds
         * commands as execvp would. */
        const struct stat *self = stat("/proc/self/exe", &self_st) == 0 ? &self_st : NULL;
        bool skipped = false;

        if (strchr(name, '/')) {
                if (access(name, X_OK) < 0 || stat(name, &st) < 0)
                        return -errno;
                if (is_self(self, &st))
                        return -ELOOP;
                char *p = strdup(name);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        if (!path)
                path = getenv("PATH");
        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        /* Split by hand: strtok would drop empty entries, which mean the
         * current directory to execvp. */
        for (char *dir = copy, *next; dir; dir = next) {
                char cand[4096];
                next = strchr(dir, ':');
                if (next)
                        *next++ = '\0';
                if ((size_t)snprintf(cand, sizeof cand, "%s/%s", *dir ? dir : ".", name) >=
                    sizeof cand)
                        continue;
                if (access(cand, X_OK) < 0 || stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (is_self(self, &st)) {
                        skipped = true;
                        continue;
                }
                char *p = strdup(cand);
                if (!p)
                        return -ENOMEM;
                *ret_path = p;
                return 0;
        }
        return skipped ? -ELOOP : -ENOENT;
}

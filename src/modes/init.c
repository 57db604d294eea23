/* init.c — `gopls-guard init`: a container's PID 1 (init.h). */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <termios.h>
#include <unistd.h>

#include "cgroup.h"
#include "container.h"
#include "log.h"
#include "procfs.h"
#include "util.h"

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

/* ---- pure parts ---- */

bool init_forwards(int sig)
{
        for (size_t i = 0; i < N_FORWARDED; i++)
                if (forwarded[i] == sig)
                        return true;
        return false;
}

int init_exit_status(int wait_status)
{
        if (WIFEXITED(wait_status))
                return WEXITSTATUS(wait_status);
        if (WIFSIGNALED(wait_status))
                return 128 + WTERMSIG(wait_status);
        return 1; /* stopped or continued: never passed here by waitpid without WUNTRACED */
}

int init_parse_args(int argc, char **argv, struct init_args *ret, char err[256])
{
        struct init_args a = {0};
        int i = 1;

        for (; i < argc; i++) {
                const char *s = argv[i];
                if (strcmp(s, "--") == 0) {
                        i++;
                        break;
                }
                if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
                        a.help = true;
                        *ret = a;
                        return 0;
                }
                if (strcmp(s, "--user") == 0 || strncmp(s, "--user=", 7) == 0) {
                        const char *v = s[6] == '=' ? s + 7 : (i + 1 < argc ? argv[++i] : NULL);
                        if (!v || !*v) {
                                snprintf(err, 256,
                                         "init: option --user needs a value (a user "
                                         "name or a numeric uid)");
                                return -EINVAL;
                        }
                        a.user = v;
                        continue;
                }
                if (s[0] == '-') {
                        snprintf(err, 256, "init: option %s is not known", s);
                        return -EINVAL;
                }
                break;
        }
        if (i >= argc) {
                snprintf(err, 256, "init needs a COMMAND to run");
                return -EINVAL;
        }
        a.argv = argv + i;
        *ret = a;
        return 0;
}

int init_resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid)
{
        if (!user || !*user)
                return -EINVAL;
        struct passwd *pw = getpwnam(user);
        if (pw) {
                *ret_uid = pw->pw_uid;
                *ret_gid = pw->pw_gid;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long v = strtoul(user, &end, 10);
        if (user[0] < '0' || user[0] > '9' || *end || errno || v >= UINT32_MAX)
                return -ENOENT;
        *ret_uid = (uid_t)v;
        pw = getpwuid((uid_t)v);
        *ret_gid = pw ? pw->pw_gid : (gid_t)-1;
        return 0;
}

/* ---- the cgroup subtree ---- */

/* Prepare what container.h describes, or say once why not and what
 * fixes it.  Failing here never stops init: the command still runs. */
static void prepare_cgroup(const struct guard_roots *roots, uid_t uid, gid_t gid)
{
        uint64_t t0 = now_usec();
        _cleanup_free_ char *mount = NULL, *own = NULL, *avail = NULL;
        struct container_situation s = {0};
        char why[CONTAINER_WHY_MAX];

        if (cg_find_mount(roots->cgroup_mount, &mount) >= 0) {
                struct statvfs sv;
                s.have_mount = true;
                s.read_only = statvfs(mount, &sv) == 0 && (sv.f_flag & ST_RDONLY);
                (void)cg_pid_cgroup(roots->proc, 0, &own);
                s.own_cgroup = own;
                char ns[PATH_MAX];
                struct stat st;
                snprintf(ns, sizeof ns, "%s/self/ns/cgroup", roots->proc);
                s.initial_ns = stat(ns, &st) < 0 || st.st_ino == CONTAINER_INIT_CGROUP_NS_INO;
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%s/cgroup.controllers", mount);
                if (read_file_at(AT_FDCWD, path, &avail, 4096) >= 0)
                        s.controllers = avail;
        }
        enum container_state st = container_assess(&s);
        if (st != CONTAINER_PREPARE) {
                log_warning("Cannot prepare the cgroup subtree for gopls-guard: %s. Guards in "
                            "this container run degraded (no memory limit by the kernel).",
                            container_hint(st));
                return;
        }
        int r = container_prepare(mount, uid, gid, why);
        if (r < 0) {
                log_warning("Cannot prepare the cgroup subtree for gopls-guard: %s. Guards in "
                            "this container run degraded (no memory limit by the kernel).",
                            why);
                return;
        }
        log_info("Prepared %s/" CONTAINER_SUBTREE " for uid %u (init in %s/" CONTAINER_SUBTREE
                 "/" CONTAINER_INIT_LEAF ") in %" PRIu64 " us.",
                 mount, (unsigned)uid, mount, now_usec() - t0);
}

/* ---- PID 1 ---- */

enum phase { RUNNING, TERMINATING, KILLING };

struct init {
        sd_event *event;
        const struct guard_roots *roots;
        pid_t child;
        bool pid1;
        enum phase phase;
        int status; /* init's exit status once the child ended */
        sd_event_source *grace;
};

/* Signal everything that is left: as PID 1 every process of the
 * namespace (kill(-1) spares the caller), otherwise only our own
 * descendants (kill(-1) would reach all of the user's processes). */
static void signal_rest(struct init *in, int sig)
{
        if (in->pid1) {
                (void)kill(-1, sig);
                return;
        }
        struct proc_tree t;
        if (proc_descendants(in->roots->proc, getpid(), 0, &t) < 0)
                return;
        for (size_t i = 0; i < t.n; i++)
                (void)kill(t.procs[i].pid, sig);
        proc_tree_free(&t);
}

static bool nothing_left(struct init *in)
{
        if (in->pid1)
                return kill(-1, 0) < 0 && errno == ESRCH;
        struct proc_tree t;
        if (proc_descendants(in->roots->proc, getpid(), 0, &t) < 0)
                return true;
        bool none = t.n == 0;
        proc_tree_free(&t);
        return none;
}

static int on_grace(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct init *in = userdata;
        (void)s;
        (void)usec;
        if (nothing_left(in))
                return sd_event_exit(in->event, in->status);
        log_info("Processes left %" PRIu64 " ms after the command ended; killing them.",
                 INIT_GRACE_USEC / 1000);
        in->phase = KILLING;
        signal_rest(in, SIGKILL);
        /* What was not our child (a `docker exec`'d process) is never
         * reaped here; the kernel ends it with the namespace. */
        return sd_event_exit(in->event, in->status);
}

static void child_ended(struct init *in, int wstatus)
{
        in->status = init_exit_status(wstatus);
        in->child = 0;
        if (WIFSIGNALED(wstatus))
                log_debug("The command was killed by signal %d; exiting %d.", WTERMSIG(wstatus),
                          in->status);
        in->phase = TERMINATING;
        if (nothing_left(in)) {
                (void)sd_event_exit(in->event, in->status);
                return;
        }
        signal_rest(in, SIGTERM);
        int r = sd_event_add_time_relative(in->event, &in->grace, CLOCK_MONOTONIC, INIT_GRACE_USEC,
                                           0, on_grace, in);
        if (r < 0) {
                signal_rest(in, SIGKILL);
                (void)sd_event_exit(in->event, in->status);
        }
}

static int on_sigchld(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct init *in = userdata;
        (void)s;
        (void)si;
        /* One SIGCHLD may stand for many ended children: reap until none. */
        for (;;) {
                int wstatus;
                pid_t p = waitpid(-1, &wstatus, WNOHANG);
                if (p <= 0)
                        break;
                if (p == in->child)
                        child_ended(in, wstatus);
        }
        if (in->phase == TERMINATING && nothing_left(in))
                (void)sd_event_exit(in->event, in->status);
        return 0;
}

static int on_forward(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct init *in = userdata;
        (void)s;
        if (in->phase == RUNNING && in->child > 0 && kill(in->child, (int)si->ssi_signo) < 0)
                log_debug_errno(errno, "Cannot forward signal %u to pid %d: %m", si->ssi_signo,
                                (int)in->child);
        return 0;
}

/* In the child, between fork and exec: its own process group, the
 * terminal's foreground one if stdin is a terminal (SIGTTOU is still
 * blocked, so tcsetpgrp works from the background), default signal mask. */
static _Noreturn void exec_command(char **argv, const sigset_t *orig)
{
        (void)setpgid(0, 0);
        if (isatty(STDIN_FILENO))
                (void)tcsetpgrp(STDIN_FILENO, getpgrp());
        (void)sigprocmask(SIG_SETMASK, orig, NULL);
        execvp(argv[0], argv);
        int e = errno;
        fprintf(stderr, "gopls-guard: init: cannot run %s: %s\n", argv[0], strerror(e));
        _exit(e == ENOENT ? 127 : 126);
}

int init_run(char **argv, const char *user, const struct guard_roots *roots)
{
        struct init in = {.roots = roots, .pid1 = getpid() == 1};
        sigset_t mask, orig;
        uid_t uid = 0;
        gid_t gid = 0;
        int r;

        /* First: a signal arriving before the loop runs stays pending. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTTOU);
        for (size_t i = 0; i < N_FORWARDED; i++)
                sigaddset(&mask, forwarded[i]);
        sigprocmask(SIG_BLOCK, &mask, &orig);
        /* An ignored signal is discarded, never pending, so signalfd would
         * not see it: a shell starting init in the background ignores
         * SIGINT and SIGQUIT, nohup SIGHUP.  Blocked, the default action
         * cannot strike; the command inherits the defaults too. */
        for (size_t i = 0; i < N_FORWARDED; i++)
                signal(forwarded[i], SIG_DFL);

        if (user && init_resolve_user(user, &uid, &gid) < 0) {
                log_error("init: no such user '%s' (give a user name or a numeric uid).", user);
                return 2;
        }
        if (!in.pid1 && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_warning_errno(errno, "Not PID 1 and cannot become a child subreaper (%m): "
                                         "orphans will not be reaped by init.");
        /* Moving every process of the cgroup root is the container's
         * init's business only: a wrapper (or a test) below another init
         * leaves the cgroups alone. */
        if (in.pid1)
                prepare_cgroup(roots, uid, gid);
        else
                log_info("init: not PID 1, so the cgroup subtree is left to the container's "
                         "PID 1; reaping as a child subreaper.");

        r = sd_event_new(&in.event);
        for (size_t i = 0; r >= 0 && i < N_FORWARDED; i++)
                r = sd_event_add_signal(in.event, NULL, forwarded[i], on_forward, &in);
        if (r >= 0)
                r = sd_event_add_signal(in.event, NULL, SIGCHLD, on_sigchld, &in);
        if (r < 0) {
                log_error_errno(r, "init: cannot set up its event loop: %m");
                sd_event_unref(in.event);
                return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
                log_error_errno(errno, "init: cannot fork: %m");
                sd_event_unref(in.event);
                return 1;
        }
        if (pid == 0)
                exec_command(argv, &orig);
        in.child = pid;
        /* Against the race with the parent's setpgid in the child: the
         * group exists either way before a signal is forwarded. */
        (void)setpgid(pid, pid);
        log_debug("init: started %s as pid %d%s.", argv[0], (int)pid,
                  in.pid1 ? "" : " (not PID 1: child subreaper)");

        r = sd_event_loop(in.event);
        /* The grace timer holds a reference on the loop: drop it first. */
        in.grace = sd_event_source_disable_unref(in.grace);
        sd_event_unref(in.event);
        return r < 0 ? 1 : r;
}

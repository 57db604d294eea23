/* init.h — `gopls-guard init [--user USER] [--] COMMAND [ARG...]`: a
 * container's PID 1.
 *
 * The PID-1 duties, as tini does them: every signal it forwards and SIGCHLD
 * are blocked before COMMAND starts and taken from the event loop (sd-event,
 * signalfd underneath); COMMAND runs in its own process group (the
 * terminal's foreground group when stdin is one); SIGTERM, SIGINT, SIGHUP,
 * SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to it; every child
 * is reaped (waitpid(-1, WNOHANG) until none, orphans included).  When
 * COMMAND ends, whatever is left gets SIGTERM, then SIGKILL after
 * INIT_GRACE_USEC, and init exits with COMMAND's status (128+n for signal
 * n).  Not being PID 1 (tests, `docker run --init` style wrappers), it
 * makes itself a child subreaper so orphans still come to it, and signals
 * only its own descendants on the way out.
 *
 * Before COMMAND starts it prepares the cgroup namespace root
 * (container.h) for USER, or says why it cannot and which container
 * settings fix that; either way it goes on as PID 1. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "roots.h"

/* Time the processes left after COMMAND ended get between SIGTERM and
 * SIGKILL.  Docker's `docker stop` allows the whole container 10 s; what is
 * left after COMMAND is usually an orphan that should go quickly. */
#define INIT_GRACE_USEC (2 * UINT64_C(1000000))

struct init_args {
        const char *user; /* --user, or NULL */
        char **argv;      /* COMMAND [ARG...], NULL-terminated */
        bool help;
};

/* Parse init's command line (argv[0] is "init").  Returns 0, or -EINVAL
 * with `err` holding the message for the user. */
int init_parse_args(int argc, char **argv, struct init_args *ret, char err[256]);

/* The exit status of init for a wait(2) status of COMMAND: its exit code,
 * or 128+n when signal n ended it. */
int init_exit_status(int wait_status);

/* Whether init forwards signal `sig` to COMMAND. */
bool init_forwards(int sig);

/* USER as --user or [container] user gives it (a name, or a numeric uid)
 * into uid and gid (the user's group, or (gid_t)-1 for a numeric uid
 * without a passwd entry: the group is then left as it is).  -ENOENT for
 * an unknown name, -EINVAL for an empty one. */
int init_resolve_user(const char *user, uid_t *ret_uid, gid_t *ret_gid);

/* Run as PID 1: prepare the cgroup subtree for `user` (NULL: root), run
 * argv, and return init's exit status.  `roots` gives the cgroup mount
 * and /proc. */
int init_run(char **argv, const char *user, const struct guard_roots *roots);

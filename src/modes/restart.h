/* restart.h — `gopls-guard restart [WORKSPACE]`: restart the server of a
 * running guard now, its editor session replayed (DESIGN.md).
 *
 * The guards are found as `gopls-guard status` finds them (status.h: the
 * caller's own status directory, every user's as root) and each one is
 * sent SIGUSR1, which the guard takes as "stop the server gracefully and
 * start a new one at once" (supervisor.h: not a crash, not counted toward
 * giving up, and it ends a give-up wait).  A status file may outlive its
 * guard (SIGKILL) and its pid be reused, so a guard is signalled only
 * through a pidfd, after /proc/PID still shows the start time the guard
 * wrote into its status file and the status file's owner as its user
 * (procfs.h proc_signal_verified()).
 *
 * Without WORKSPACE the one running guard is meant; with several the
 * command lists them and restarts none.  With WORKSPACE every guard
 * serving it is restarted (one per editor window on stdio).
 *
 * Exit codes: 0 every guard meant was signalled; 1 no guard (serving
 * WORKSPACE) runs; 2 usage error, or several guards and no WORKSPACE;
 * 3 a guard could not be signalled (permission denied: another user's, or
 * its status file records no start time). */
#pragma once

#include <stdio.h>
#include <sys/types.h>

#include "status.h"

#define RESTART_SIGNAL SIGUSR1

struct restart_options {
        const struct status_places *places; /* NULL: from the environment */
        const char *override;               /* status directory (tests), or NULL */
        uid_t uid;                          /* whose guards: the caller's euid */
        const char *proc_root;              /* "/proc" */
        const char *workspace;              /* NULL: the only guard */
        int signal;                         /* RESTART_SIGNAL; 0 in tests: check only */
        FILE *out, *err;
};

/* Returns the exit code above; messages go to out/err. */
int restart_command_with(const struct restart_options *o);
int restart_command(const char *override, const char *proc_root, const char *workspace);

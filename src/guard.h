/* guard.h — one guarded server: the sd-event loop that owns the cgroup
 * leaf, the server process, the editor's stdio and the kernel's event
 * files, and carries out what the supervisor decides.
 *
 *   editor stdin  ─▶ relay ─▶ server stdin     (pipes, new per generation)
 *   editor stdout ◀─ relay ◀─ server stdout
 *   server/memory.events, server/cgroup.events ─▶ inotify ─▶ counters diffed
 *   pidfd of the server ─▶ exit classified (exit-class.h) ─▶ supervisor
 *   timer (sample_interval) ─▶ cpu.stat, memory.current/peak ─▶ status file
 *   SIGTERM/SIGINT/SIGHUP/SIGQUIT, editor EOF ─▶ supervisor stop
 */
#pragma once

#include <stdbool.h>

#include "policy.h"
#include "roots.h"

struct guard_options {
        const struct policy *policy;
        char *const *argv;     /* the server command line (argv[0] resolved on PATH) */
        const char *workspace; /* NULL: the current directory */
        const char *cgroup;    /* --cgroup, overriding [cgroup] path; may be NULL */
        const char *proc_root; /* roots->proc */
        const struct guard_roots *roots;
};

/* Run until the server ends for good or the guard is stopped.  Returns the
 * guard's exit code (DESIGN.md): 0, 3 (no usable cgroup while required),
 * 4 (gave up), the server's own status, or 1 for an internal failure (that
 * has been logged). */
int guard_run(const struct guard_options *o);

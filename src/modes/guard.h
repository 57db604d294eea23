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
#include <stdint.h>
#include <systemd/sd-event.h>

#include "policy.h"
#include "roots.h"

struct guard;

/* Daemon mode (serve.h): the editors are connections the front accepts,
 * not the guard's stdio.  The guard calls these from its event loop. */
struct guard_front {
        /* The loop exists: start taking editors.  0, or a negative errno
         * that the front has logged (the guard then ends with 1). */
        int (*start)(void *userdata, sd_event *e, struct guard *g);
        /* A server generation runs; the front owns its stdin/stdout pipes
         * from here (the guard closes neither). */
        int (*attach)(void *userdata, int stdin_fd, int stdout_fd);
        /* That generation ended. */
        void (*detach)(void *userdata);
        /* The guard stops: whatever the server should still get, then EOF. */
        void (*end_input)(void *userdata);
        /* As session_fail_pending() / session_show_message(), for every editor. */
        void (*fail_pending)(void *userdata, const char *message);
        void (*show_message)(void *userdata, int type, const char *message);
        /* As session_note_crash(), for every editor (optional: NULL). */
        void (*note_crash)(void *userdata);
        /* As session_refuse_requests(), for every editor, and for editors
         * that connect before the next server runs (optional: NULL means
         * fail_pending). */
        void (*refuse_requests)(void *userdata, const char *message);
        /* Hang detection: an identity of the oldest watched request in
         * flight over all editors (session_watched_request()), 0: none
         * (optional: NULL means no hang detection). */
        uint64_t (*watched_request)(void *userdata);
        /* As session_pending_methods(), over every editor, for an
         * incident's requests in flight (optional: NULL means none). */
        size_t (*pending_methods)(void *userdata, const char **ret, size_t max);
        /* Requests dropped as poison, over every editor, gone ones
         * included, for the status file (optional: NULL means 0). */
        unsigned (*poisoned)(void *userdata);
        /* The guard ends: flush each editor for at most timeout_usec, free. */
        void (*finish)(void *userdata, uint64_t timeout_usec);
        void *userdata;
};

/* For the front: stop the server and end guard_run() with 0 (daemon
 * mode's idle timeout); and a replayed initialize that timed out
 * ([lsp] replay_timeout: the server is stopped as a failed start). */
void guard_request_stop(struct guard *g);
void guard_replay_timed_out(struct guard *g);
/* What a new editor should be told about the guard's state: the degraded
 * mode notice ([lsp] notify), or NULL. */
const char *guard_degraded_notice(const struct guard *g);

struct guard_options {
        const struct policy *policy;
        char *const *argv;     /* the server command line (argv[0] resolved on PATH) */
        const char *workspace; /* NULL: the current directory */
        const char *cgroup;    /* --cgroup, overriding [cgroup] path; may be NULL */
        const char *proc_root; /* roots->proc */
        const struct guard_roots *roots;
        const struct guard_front *front; /* NULL: one editor on stdio */
};

/* Run until the server ends for good or the guard is stopped.  Returns the
 * guard's exit code (DESIGN.md): 0, 3 (no usable cgroup while required),
 * 4 (gave up), the server's own status, or 1 for an internal failure (that
 * has been logged). */
int guard_run(const struct guard_options *o);

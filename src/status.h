/* status.h — the per-guard status file that `gopls-guard status` reads.
 *
 * Each running guard keeps RUNTIME_DIR/<guard pid>.json, one JSON object
 * on one line, rewritten atomically at every sample and state change and
 * removed when the guard ends.  RUNTIME_DIR is struct guard_roots'
 * runtime_dir (tests), else $XDG_RUNTIME_DIR/gopls-guard, else
 * /run/gopls-guard for root and /tmp/gopls-guard-UID for others. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct status {
        pid_t guard_pid;
        const char *workspace; /* may be NULL */
        const char *cgroup;    /* NULL when degraded */
        const char *command;
        const char *state;
        pid_t server_pid; /* 0 while none runs */
        unsigned generation, restarts;
        uint64_t oom_kills;
        uint64_t memory_current, memory_peak, memory_high, memory_max;
        uint64_t cpu_usage_usec, cpu_throttled_usec;
        uint64_t pids_current, pids_max;
        bool degraded;
        /* CLOCK_MONOTONIC: guard start, last server reaped, last server
         * spawned (clone returned), this write */
        uint64_t started_usec, last_exit_usec, last_spawn_usec, updated_usec;
        const char *last_end; /* "oom", "signal", ... or NULL */
};

/* The directory, created (0755) if missing. Caller frees. */
int status_dir(const char *override, char **ret);

/* One-line JSON for `s` (caller frees). */
int status_format(const struct status *s, char **ret_json);

int status_write(const char *path, const struct status *s);

/* `gopls-guard status [--json] [WORKSPACE]`: list the live guards' files
 * (a file whose guard pid no longer runs is skipped and removed).  Returns
 * the exit code: 0, or 1 when a WORKSPACE was named and no guard serves it. */
int status_command(const char *runtime_dir, FILE *out, bool json, const char *workspace);

/* status.h — the per-guard status file that `gopls-guard status` reads.
 *
 * Each running guard keeps RUNTIME_DIR/<guard pid>.json, one JSON object
 * on one line, rewritten atomically at every sample and state change and
 * removed when the guard ends.  RUNTIME_DIR is struct guard_roots'
 * runtime_dir (tests), else $XDG_RUNTIME_DIR/gopls-guard when
 * XDG_RUNTIME_DIR is a directory of the user that no one else may enter,
 * else $RUNTIME_DIRECTORY itself when it is likewise the user's (a system
 * unit with RuntimeDirectory=gopls-guard/%i: /run/gopls-guard/ESC, where
 * root's `status` finds it), else /run/user/UID/gopls-guard when that base
 * is likewise the user's, else /run/gopls-guard for root and
 * /tmp/gopls-guard-UID for others.
 *
 * Another local user could pre-create /tmp/gopls-guard-UID, or plant links
 * in it, to have the guard (or root, under su) write where they choose.  So
 * the directory is used only when it is a real directory (not a link), owned
 * by the user, and closed to group and others (mode & 077 == 0); it is
 * created 0700.  Otherwise the guard goes on without a status file and says
 * why.  Files are written 0600 through a temporary name opened with
 * O_EXCL|O_NOFOLLOW in that directory, and read without following links or
 * opening anything that is not a regular file. */
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
        unsigned proactive_restarts; /* [pressure] proactive: not in `restarts` */
        uint64_t memory_current, memory_peak, memory_high, memory_max;
        uint64_t cpu_usage_usec, cpu_throttled_usec;
        uint64_t pids_current, pids_max;
        bool degraded;
        /* CLOCK_MONOTONIC: guard start, last server reaped, last server
         * spawned (clone returned), this write */
        uint64_t started_usec, last_exit_usec, last_spawn_usec, updated_usec;
        const char *last_end; /* "oom", "signal", ... or NULL */
        const char *last_incident; /* the newest incident's directory (incident.h), or NULL */
        unsigned hangs;       /* servers killed as hung ([health]) */
        unsigned requested_restarts; /* by gopls-guard restart */
        unsigned poisoned;           /* requests dropped as poison */
        /* the guard's start time, /proc/PID/stat field 22 (clock ticks after
         * boot): with the pid, this very process (gopls-guard restart
         * checks it before signalling); 0 when unknown */
        unsigned long long pid_starttime;
};

#define STATUS_WHY_MAX 512

/* Where the candidates live; tests point them at fixtures. */
struct status_places {
        const char *xdg;      /* $XDG_RUNTIME_DIR, may be NULL */
        const char *unit_dir; /* $RUNTIME_DIRECTORY's first entry, may be NULL */
        const char *run_user; /* "/run/user" */
        const char *run;      /* "/run" (root's directory) */
        const char *tmp;      /* "/tmp" */
};
extern const struct status_places status_places_default; /* xdg NULL */

/* The status directory of `uid` (or `override` itself), checked as above
 * and created 0700 when `create`.  Returns 0 with a malloc'd path, or a
 * negative errno with `why` naming the directory and the fix (-ENOENT when
 * it does not exist and !create; -EPERM for a wrong owner or mode; -ELOOP
 * for a link). */
int status_dir_at(const struct status_places *pl, const char *override, uid_t uid, bool create,
                  char **ret, char why[STATUS_WHY_MAX]);
/* The same for this process: $XDG_RUNTIME_DIR, the euid, created. */
int status_dir(const char *override, char **ret, char why[STATUS_WHY_MAX]);

/* One-line JSON for `s` (caller frees). */
int status_format(const struct status *s, char **ret_json);

/* Write DIR/NAME (a path from status_dir()) as 0600, atomically: DIR is
 * checked again, NAME.tmp opened O_CREAT|O_EXCL|O_NOFOLLOW in it (a
 * leftover there, link or not, is removed first), then renamed over NAME.
 * Returns 0 or a negative errno. */
int status_write(const char *path, const struct status *s);
/* The same with RUN for "/run" (tests). */
int status_write_at(const char *run, const char *path, const struct status *s);

/* Whether `path` is RUN/gopls-guard (`run` NULL: never), and whether a
 * directory of mode `mode` there is private enough for `uid`: users'
 * directories 0700 (no bit for group or others); root's RUN/gopls-guard
 * writable by root alone (mode & 022 == 0: the system socket units make it
 * 0755 so that editors reach their sockets; the files inside are 0600). */
bool status_is_system_dir(const char *path, const char *run);
bool status_dir_mode_ok(const char *path, uid_t uid, mode_t mode, const char *run);

enum status_output {
        STATUS_TEXT,
        STATUS_JSON,
        STATUS_OPENMETRICS, /* openmetrics.h */
};

/* `gopls-guard status [--json|--openmetrics] [WORKSPACE]`: list the live guards' files
 * (a file whose guard pid no longer runs is skipped, and removed from the
 * user's own directory).  Entries that are not regular files, links, and
 * directories failing the checks are skipped with a note on stderr.  As
 * root (and without `override`), every user's directories are listed too:
 * /run/user/UID/gopls-guard and /tmp/gopls-guard-UID, each only if it
 * belongs to the uid it names, and /run/gopls-guard (root's, and the
 * system units' RuntimeDirectory=) when root owns it and only root may
 * write it: its files as root's, and each private subdirectory (and its
 * private gopls-guard/ of the same owner) as its owner's.  The user of a guard is the owner of its status file.  Returns
 * the exit code: 0, or 1 when a WORKSPACE was named and no guard serves
 * it. */
int status_command_at(const struct status_places *pl, const char *override, uid_t uid, FILE *out,
                      enum status_output fmt, const char *workspace);
int status_command(const char *override, FILE *out, enum status_output fmt,
                   const char *workspace);

/* One live guard as its status file tells (valid during the call). */
struct status_entry {
        pid_t pid;
        const char *workspace;            /* may be NULL */
        uid_t owner;                      /* the status file's owner: the guard's user */
        unsigned long long pid_starttime; /* 0: not recorded */
        const char *state;
};
typedef void (*status_visit_fn)(const struct status_entry *e, void *userdata);

/* The guards `status` would list (same directories, same checks, same
 * WORKSPACE match), one call each, without printing them.  Returns how
 * many were visited. */
unsigned status_foreach_at(const struct status_places *pl, const char *override, uid_t uid,
                           const char *workspace, status_visit_fn visit, void *userdata);
unsigned status_foreach(const char *override, const char *workspace, status_visit_fn visit,
                        void *userdata);

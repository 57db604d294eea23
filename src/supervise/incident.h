/* incident.h — what the guard keeps about each end of a server that went
 * wrong (an OOM kill, a crash, a hang, a proactive restart), for
 * `gopls-guard incidents` and for whoever debugs the leak afterwards.
 *
 * Where: STATE/gopls-guard/incidents, STATE being $STATE_DIRECTORY's first
 * entry itself (a unit with StateDirectory=: the directory is the
 * instance's own, so no gopls-guard/ below it), else $XDG_STATE_HOME, else
 * $HOME/.local/state.  Each incident is one directory there, named
 * YYYYmmddTHHMMSSZ-GUARDPID-GENERATION-KIND (UTC, so that names sort by
 * time), holding incident.json and, when one could be had, heap.pprof.
 *
 * Another local user must not be able to read what the server printed or
 * make the guard write where they choose: gopls-guard/, incidents/ and each
 * incident directory are created 0700 and used only when they are real
 * directories (not links) owned by the user with no bit for group or
 * others; files are created 0600 with O_EXCL|O_NOFOLLOW relative to those
 * directories' fds.  The base (STATE) may be a link (dotfile managers make
 * ~/.local/state one) but must belong to the user or root and be closed to
 * writes by others.
 *
 * Capping ([incidents] keep, max_size): after each capture the oldest
 * incidents are removed until at most `keep` remain and their total size
 * is at most `max_size`; the newest is always kept, even alone over the
 * size.  Nothing here logs; failures come back as negative errnos with a
 * `why` where a user would need one. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define INCIDENT_WHY_MAX 512
#define INCIDENT_NAME_MAX 96
/* Defaults of [incidents] keep and max_size. */
#define INCIDENT_KEEP_DEFAULT 10U
#define INCIDENT_MAX_SIZE_DEFAULT ((uint64_t)64 << 20)
/* The files of one incident directory. */
#define INCIDENT_JSON "incident.json"
#define INCIDENT_HEAP "heap.pprof"

struct incident_facts {
        const char *kind; /* the journal event: "oom-kill", "crash", "hang", "proactive-restart" */
        const char *workspace; /* may be NULL */
        const char *command;
        const char *cgroup; /* the subtree, NULL when degraded */
        pid_t guard_pid, server_pid;
        unsigned generation;
        int status, signal; /* how the server ended (signal 0: exited with status) */
        bool oom;
        uint64_t peak, memory_high, memory_max; /* bytes; POLICY_NO_LIMIT = none */
        uint64_t realtime_usec;                 /* CLOCK_REALTIME of the end */
        /* The server leaf (O_DIRECTORY), or -1: memory.events, memory.stat,
         * memory.peak and cpu.stat are copied from it as they are now. */
        int leaf_fd;
        /* memory.stat as read while the server ran, when its anonymous
         * memory was largest (after an OOM kill the leaf's is empty), and
         * how long before the end; may be NULL. */
        const char *memory_stat_at_peak;
        uint64_t memory_stat_at_peak_age_usec;
        const char *stderr_tail;    /* the server's last stderr lines, may be NULL */
        const char *const *methods; /* editor requests in flight, n_methods of them */
        size_t n_methods;
        /* A heap profile the server wrote (a path the guard chose), moved
         * into the incident, or NULL; heap_note says why there is none. */
        const char *heap_profile;
        const char *heap_note;
};

/* Where the candidates come from; tests set them directly. */
struct incident_places {
        const char *state_directory; /* $STATE_DIRECTORY (':'-separated list), may be NULL */
        const char *xdg_state_home;  /* $XDG_STATE_HOME, may be NULL */
        const char *home;            /* $HOME, may be NULL */
};
/* The process's own environment. */
void incident_places_from_env(struct incident_places *ret);

/* Open the incidents directory (creating what is missing, 0700, when
 * `create`).  Returns an O_DIRECTORY fd, with `ret_path` (may be NULL) a
 * malloc'd path for messages; -ENOENT when it does not exist and !create,
 * -EPERM for a wrong owner or mode, -ELOOP for a link, each with `why`
 * naming the directory and the fix.  Root, only reading (!create), may
 * open another user's private directories (a system unit's dynamic
 * user's). */
int incident_dir_open(const struct incident_places *pl, bool create, char **ret_path,
                      char why[INCIDENT_WHY_MAX]);

/* The directory name of an incident (pure). */
void incident_name(const struct incident_facts *f, char ret[INCIDENT_NAME_MAX]);

/* Write one incident into `dirfd` (from incident_dir_open()).  The
 * directory appears complete or not at all (written as a hidden name and
 * renamed).  Returns 0 with its name in `ret_name`, or a negative errno. */
int incident_capture(int dirfd, const struct incident_facts *f, char ret_name[INCIDENT_NAME_MAX]);

/* Pure: of `n` incidents of these sizes, oldest first, how many of the
 * oldest go so that at most `keep` (0 counts as 1) remain and their total
 * is at most `max_size`, the newest always staying. */
size_t incident_prune_count(const uint64_t *sizes, size_t n, unsigned keep, uint64_t max_size);

/* Apply incident_prune_count() to `dirfd`.  Returns the number removed,
 * or a negative errno. */
int incident_prune(int dirfd, unsigned keep, uint64_t max_size);

/* The newest incident's name for a workspace (NULL: any), 1 when found,
 * 0 when there is none, or a negative errno. */
int incident_last(int dirfd, const char *workspace, char ret_name[INCIDENT_NAME_MAX]);

/* `gopls-guard incidents [--json] [WORKSPACE]`: the user's incidents,
 * oldest first (text: one line each; JSON: an array of the incident.json
 * objects, each with "name", "path" and "size" added).  Returns the exit
 * code: 0 (also for none), 1 when the directory cannot be used (said on
 * stderr). */
int incidents_command(const struct incident_places *pl, FILE *out, bool json,
                      const char *workspace);

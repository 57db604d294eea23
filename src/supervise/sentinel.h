/* sentinel.h — a small process that ends what the guard started when the
 * guard itself dies without cleaning up (SIGKILL, a crash, the OOM killer).
 *
 * Why a process: the server asks for SIGKILL when the guard dies
 * (PR_SET_PDEATHSIG, server.c), but that reaches the server only, not its
 * children (gopls's go list, anything they start); they would live on until
 * the next guard on the same cgroup cleans up, or forever in degraded mode.
 * Nothing in a dead process can act, so the guard forks, at start-up, a
 * sentinel that waits for it to go:
 *
 *   - It holds the read end of a pipe whose only write end is the guard's
 *     (O_CLOEXEC, and the server closes every fd beyond 0-2): read() returns
 *     0 exactly when the guard is gone, however it went.  On a normal exit
 *     the guard sends SENTINEL_QUIT first and reaps it (sentinel_stop()),
 *     before removing its cgroups: a process left in supervisor/ would make
 *     that rmdir fail.
 *   - cgroup mode: it holds an fd of server/cgroup.kill opened by the guard
 *     (5.14+), and writes "1" through it: the kernel kills the whole leaf,
 *     whatever forked or double-forked in it.  Before 5.14 it reads
 *     server/cgroup.procs through an fd opened beforehand and SIGKILLs each
 *     pid, round after round until the leaf is empty (bounded).
 *   - degraded mode (no cgroup): it SIGKILLs the current server's process
 *     group (the guard writes the server's pgid into the pipe at each spawn,
 *     0 when it ended), then walks /proc for the processes whose
 *     environment holds the guard's tree marker (SENTINEL_ENV=TOKEN, a
 *     random token the guard puts into every server's environment, so that
 *     every descendant inherits it through fork and exec), and SIGKILLs
 *     those, again in bounded rounds.  Why a marker rather than the
 *     alternatives: once the guard (a child subreaper) is dead, the
 *     processes it had inherited go to init, and nothing in /proc ties them
 *     to the guard any more, so walking "descendants of the dead guard" is
 *     impossible after the fact; a list of pid+start time passed on by the
 *     guard's /proc polls is always up to one poll late, and misses exactly
 *     the youngest escapee (a go list double-forked a moment before the
 *     guard died).  The environment is inherited at the fork itself.  Each
 *     candidate is pinned by a pidfd before its environment is read, so a
 *     reused pid is never signalled.  What this cannot find: a process that
 *     left the server's process group *and* cleared its environment (env -i
 *     after setsid) — documented, and rare in a go toolchain.
 *
 * The sentinel is forked from the guard after the guard placed itself
 * (supervisor/ in a subtree it lives in), so it is in the guard's cgroup,
 * never in server/: it does not count against the server's limits and is
 * not killed with it.  It starts its own session (a signal to the guard's
 * process group, e.g. a job-control shell's kill, spares it, so it can
 * clean up after that group), ignores the terminal's and the polite stop
 * signals (its lifetime is the guard's, given by the pipe), holds nothing
 * but its own descriptors (0-2 are /dev/null: it must never keep the
 * editor's pipes open, or the editor would not see EOF), and after the
 * fork it neither allocates nor uses sd-event: the kill is plain syscalls
 * on fixed buffers.
 *
 * Functions return 0 or a negative errno and do not log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The variable the guard puts into the server's environment. */
#define SENTINEL_ENV "GOPLS_GUARD_TREE"
/* "GOPLS_GUARD_TREE=" + 32 hex digits + NUL. */
#define SENTINEL_MARKER_MAX 64

struct sentinel_spec {
        int kill_fd;           /* O_WRONLY server/cgroup.kill, or -1 */
        int procs_fd;          /* O_RDONLY server/cgroup.procs (before 5.14), or -1 */
        const char *proc_root; /* degraded mode: where to look for the marker, or NULL */
        const char *marker;    /* "GOPLS_GUARD_TREE=TOKEN" (an environ entry), or NULL */
};

struct sentinel {
        pid_t pid; /* 0: none */
        int pidfd;
        int fd; /* the pipe's write end (O_CLOEXEC | O_NONBLOCK) */
};

#define SENTINEL_NONE ((struct sentinel){.pid = 0, .pidfd = -1, .fd = -1})

/* A fresh marker: SENTINEL_ENV "=" 32 hex digits from getrandom() (pid
 * and clock mixed in when that fails). */
void sentinel_make_marker(char ret[SENTINEL_MARKER_MAX]);

/* Fork the sentinel.  The spec's fds stay the caller's (it may close them
 * after this returns).  0 with *ret set, or a negative errno. */
int sentinel_start(const struct sentinel_spec *spec, struct sentinel *ret);

/* Tell it the pgid of the server just spawned (its pid: the server leads
 * its own group, server.c), or 0 once that server has ended.  0 or a
 * negative errno (-EPIPE: the sentinel is gone). */
int sentinel_tell_server(const struct sentinel *s, pid_t pgid);

/* Let it exit without killing anything and reap it (bounded: SIGKILL if it
 * does not go within a second).  A no-op without a sentinel. */
void sentinel_stop(struct sentinel *s);

/* Whether `pid` is this sentinel (for a guard reaping its children). */
bool sentinel_is(const struct sentinel *s, pid_t pid);
/* It ended by itself and was reaped elsewhere: close what is left. */
void sentinel_forget(struct sentinel *s);

/* The kill itself, as the sentinel does it when the guard is gone; exported
 * for tests.  Returns how many processes were signalled (the process group
 * counts as one), or a negative errno if nothing could be done. */
int sentinel_kill_all(const struct sentinel_spec *spec, pid_t pgid);

/* Streaming match of one environ image (NUL-separated entries, read in
 * chunks) against `marker`: feed every chunk, then ask for the result.
 * Pure, for tests. */
struct sentinel_match {
        size_t pos;  /* bytes of the current entry matched so far */
        bool broken; /* the current entry differs */
        bool found;
};
void sentinel_match_feed(struct sentinel_match *m, const char *marker, const char *buf, size_t n);
bool sentinel_match_found(const struct sentinel_match *m, const char *marker);

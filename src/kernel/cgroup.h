/* cgroup.h — the guard's cgroup v2 subtree: finding it, laying it out,
 * writing limits, reading counters, killing and removing leaves.
 *
 * Layout inside the delegated subtree DIR (DESIGN.md "cgroup layout"):
 *   DIR/supervisor/   the guard itself, only when it lived in DIR (the
 *                     no-internal-process rule forbids enabling controllers
 *                     for children of a cgroup that has processes)
 *   DIR/server/       the language server and everything it starts; the
 *                     limits are written here, never on DIR itself.
 *
 * All I/O is relative to directory fds, so a test can hand in any
 * directory (a fake cgroup tree of regular files) instead of the kernel's.
 *
 * libcgroup (2.0.2 on Debian 12) is used for what it does well here:
 * finding where the kernel mounted the v2 hierarchy (cg_find_mount()).
 * Its cgroup_create_cgroup() writes "+controller" into every ancestor's
 * cgroup.subtree_control, which an unprivileged delegatee may not do
 * (EACCES; fixed only in libcgroup 3), and cgroup_attach_task_pid() does
 * nothing for a cgroup without controllers, so creation, limits and
 * attaching are done with plain openat()/write() below, which also gives
 * error messages that name the exact file and value.
 *
 * Return values: 0 or a negative errno; nothing here logs, except where a
 * function says it fills `why` with a human-readable reason. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy.h"

#define CG_WHY_MAX 1024 /* room for container.h's hints */

/* Counters of memory.events (hierarchical). */
struct cg_memory_events {
        uint64_t low, high, max, oom, oom_kill, oom_group_kill;
};

struct cg_sample {
        uint64_t memory_current;
        uint64_t memory_peak; /* bytes, the leaf's lifetime peak (all generations);
                                 0 if the kernel lacks memory.peak (before 5.19) */
        uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
        uint64_t pids_current;
};

struct cg_tree {
        char *path;        /* DIR, absolute (for messages and the status file) */
        int dir_fd;        /* DIR */
        int server_fd;     /* DIR/server, or -1 */
        bool made_supervisor;
        bool made_dir;     /* DIR is the guard's own (container.h's guard-PID leaf):
                              cg_teardown() removes it too */
        bool has_memory;
        bool has_cpu, has_pids; /* enabled for server/: offered by DIR and limited by the policy */
};

/* Where the v2 hierarchy is mounted: `root` when not NULL (struct
 * guard_roots: a fixture in tests); otherwise libcgroup's mount table, checked to be cgroup2 (a
 * controller bound to a v1 hierarchy, as on hybrid hosts, does not count).
 * -ENOMEDIUM if there is no v2 hierarchy with the memory controller. */
int cg_find_mount(const char *root, char **ret_mount);

/* The cgroup path of `pid` (0 = self) on the v2 hierarchy, from
 * PROC/PID/cgroup's "0::" line, e.g. "/user.slice/foo.scope". */
int cg_pid_cgroup(const char *proc_root, pid_t pid, char **ret_path);

/* Whether DIR was handed to `uid` (geteuid()): systemd marks delegated
 * cgroups with the xattr trusted.delegate=1 (system manager) or
 * user.delegate=1 (user manager); without a mark, a subtree delegated by
 * chown counts (cgroup.procs and cgroup.subtree_control owned by `uid`),
 * except for root, who owns every cgroup.  Being able to write DIR proves
 * nothing.  Returns 1, 0 (with `why` saying what is missing), or a negative
 * errno (with `why`). */
int cg_is_delegated(const char *dir, uid_t uid, char why[CG_WHY_MAX]);

/* The guard marks the children it creates (server/, supervisor/) with this
 * xattr (value "gopls-guard pid PID"; user xattrs on cgroupfs are 5.7+ and
 * allowed to whoever may write the directory) and removes or reuses only
 * marked ones: a server/ someone else made is never killed or removed.
 * cg_mark(): 0 or negative errno.  cg_is_marked(): 1, 0 (no mark, or no
 * user xattrs on this filesystem), or negative errno. */
#define CG_MARK_XATTR "user.gopls-guard"
#define CG_MARK_VALUE "gopls-guard"
int cg_mark(int dir_fd);
int cg_is_marked(int dir_fd);

/* Create t's child NAME (mode 0755) and mark it; *ret_fd is it, open.  An
 * existing NAME is an error (-EEXIST, `why` says so), never reused: it may
 * be another guard's.  A mark the filesystem refuses is only a warning, in
 * `warn` (which must start empty). */
int cg_make_child(struct cg_tree *t, const char *name, int *ret_fd, char warn[CG_WHY_MAX],
                  char why[CG_WHY_MAX]);

/* Leftovers of a daemon killed by SIGKILL ([serve] share = no gives each
 * editor connection a marked DIR/conn-N/ for its guard).
 * cg_remove_after_server(): remove NAME (open as fd) under dir_fd, after
 * its server/ if that is marked.  cg_sweep_conns(): that for every marked
 * conn-N/ under dir_fd.  Nothing in use is removed: the kernel refuses to
 * remove a cgroup with processes or children, and both are best effort. */
void cg_remove_after_server(int dir_fd, const char *name, int fd);
void cg_sweep_conns(int dir_fd);

/* Open DIR as the subtree to work in and take its lock (flock on the
 * directory: a second guard on the same DIR gets -EBUSY instead of killing
 * the first one's server).  `why` explains a failure. */
int cg_open(const char *dir, struct cg_tree *ret, char why[CG_WHY_MAX]);

/* Lay out the subtree: kill and remove a server/ leaf left by a guard that
 * died (marked; an unmarked server/ or supervisor/ is refused with -EEXIST
 * and left alone), move the guard to supervisor/ if `self_inside`, enable the
 * memory controller (and cpu, pids only if the policy limits them and DIR
 * offers them), create server/ and write the policy's limits to it.  Fails (filling `why`) if the memory
 * controller is missing or the kernel refuses a write; a missing
 * memory.swap.max (swap accounting off) is reported in `warn` and not an
 * error. */
int cg_setup(struct cg_tree *t, const struct policy *p, bool self_inside, char why[CG_WHY_MAX],
             char warn[CG_WHY_MAX]);

/* An O_WRONLY fd for server/cgroup.procs, or a fd of server/ itself
 * (O_DIRECTORY, for clone3's CLONE_INTO_CGROUP). */
int cg_server_procs_fd(const struct cg_tree *t);
int cg_server_dir_fd(const struct cg_tree *t);
/* What a process outliving the guard needs to empty server/ (sentinel.h):
 * an O_WRONLY fd of server/cgroup.kill, or before 5.14 (no such file) an
 * O_RDONLY fd of server/cgroup.procs; the other is -1.  0 or a negative
 * errno. */
int cg_server_kill_fds(const struct cg_tree *t, int *ret_kill_fd, int *ret_procs_fd);

/* Read counters from server/. */
int cg_read_memory_events(const struct cg_tree *t, struct cg_memory_events *ret);
int cg_read_sample(const struct cg_tree *t, struct cg_sample *ret);
/* server/memory.current alone (the fast sampling of [pressure]). */
int cg_read_memory_current(const struct cg_tree *t, uint64_t *ret);
/* A peak of this generation only.  6.12+ resets memory.peak per open file
 * (a write of any non-empty string: the reads through that fd then give
 * the peak since the write); cg_peak_open_reset() returns such an fd of
 * server/memory.peak, or a negative errno where the kernel cannot (6.1:
 * memory.peak takes no write, -EINVAL; before 5.19: -ENOENT), in which
 * case callers keep the maximum of memory.current they sampled.
 * cg_peak_read() reads through the fd. */
int cg_peak_open_reset(const struct cg_tree *t);
int cg_peak_read(int peak_fd, uint64_t *ret);

/* server/cgroup.events "populated": 1, 0 or negative errno. */
int cg_populated(const struct cg_tree *t);

/* Kill everything in server/ (cgroup.kill, or SIGKILL to each pid in
 * cgroup.procs on kernels before 5.14).  Returns the number of processes
 * signalled when it had to fall back, else 0. */
int cg_kill_server(const struct cg_tree *t);

/* Remove server/ and supervisor/ (moving the guard back to DIR first),
 * only those this guard created or took over as its own, and DIR itself
 * when `made_dir` says the guard made it,
 * after cg_kill_server(); retries rmdir while the kernel still reports
 * EBUSY for up to `timeout_usec`.  Closes the fds. */
int cg_teardown(struct cg_tree *t, uint64_t timeout_usec, char why[CG_WHY_MAX]);
void cg_close(struct cg_tree *t);

/* Pure parsers, exported for tests. "key value\n" lines (memory.events,
 * cpu.stat): value of `key`, -ENOENT if absent, -EINVAL if malformed. */
int cg_parse_kv(const char *text, const char *key, uint64_t *ret);
int cg_parse_memory_events(const char *text, struct cg_memory_events *ret);
/* "max" → POLICY_NO_LIMIT, else a decimal number. */
int cg_parse_u64_or_max(const char *text, uint64_t *ret);

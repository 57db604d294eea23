/* container.h — the cgroup subtree `gopls-guard init` prepares at a
 * container's cgroup-namespace root, and how a guard finds it.
 *
 * Layout at the namespace root R (the cgroup2 mount inside the container):
 *   R/gopls-guard/         delegated to USER: the directory, cgroup.procs,
 *                          cgroup.subtree_control and cgroup.threads are
 *                          USER's; memory, pids and cpu enabled for children
 *   R/gopls-guard/init/    init, COMMAND and every process that was in R
 *   R/gopls-guard/guard-PID/  made by each guard (cgroup.h lays out its
 *                          server/ inside)
 * and R itself carries the mark CONTAINER_MARK_XATTR = "gopls-guard uid=UID".
 *
 * Why init's leaf is inside the delegated subtree: once R enables
 * controllers, the runtime (runc, crun) puts every `docker exec`'d process
 * into init's own cgroup, and a process may move to another cgroup only if
 * its user can write cgroup.procs of the common ancestor of both.  With
 * init in R/gopls-guard/init that ancestor is R/gopls-guard, which is
 * USER's, so a guard started as USER through `docker exec` can start its
 * server in its own leaf.  The price: USER can move processes of init's leaf
 * (init itself included) within the subtree; inside a devcontainer, whose
 * processes belong to that user anyway, that is the intended trust.
 *
 * Why the mark is a user xattr on R: setting a user.* xattr on a cgroup
 * directory needs write access to it, and R is root's (owner uid 0, not
 * writable by group or others), so only root can have left it, while every
 * user can read it (trusted.* xattrs would be unreadable to the guard).
 * The subtree itself is USER's, so a mark on it would prove nothing.
 *
 * Pure decisions (assess, hints, mark format, controller list) are
 * separate from the I/O (prepare, find, make a leaf) and tested with
 * tables.  Functions return 0/1 or a negative errno and never log; the ones
 * taking `why` fill it with a sentence for the caller's one log line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CONTAINER_SUBTREE "gopls-guard"
#define CONTAINER_INIT_LEAF "init"
#define CONTAINER_MARK_XATTR "user.gopls-guard.container"
#define CONTAINER_WHY_MAX 1024

enum container_state {
        CONTAINER_PREPARE,        /* a writable cgroup2 namespace root: prepare it */
        CONTAINER_NO_CGROUP2,     /* no cgroup v2 hierarchy is mounted */
        CONTAINER_READ_ONLY,      /* the mount is read-only (Docker's default) */
        CONTAINER_NOT_NAMESPACED, /* no cgroup namespace of its own */
        CONTAINER_NO_MEMORY,      /* the root does not offer the memory controller */
};

struct container_situation {
        bool have_mount;         /* a cgroup2 mount was found */
        bool read_only;          /* statvfs: ST_RDONLY */
        bool initial_ns;         /* in the machine's own cgroup namespace */
        const char *own_cgroup;  /* init's cgroup as /proc/self/cgroup says, or NULL */
        const char *controllers; /* the root's cgroup.controllers, or NULL */
};

/* The inode of the initial cgroup namespace (the kernel's
 * PROC_CGROUP_INIT_INO), as /proc/self/ns/cgroup shows it. */
#define CONTAINER_INIT_CGROUP_NS_INO 0xEFFFFFFBU

/* What init can do in `s`.  The machine's own cgroup namespace is never a
 * container's, even at its root.  A namespace root shows init at "/" (or in
 * "/gopls-guard/init" once prepared, e.g. by an earlier init of the same
 * container); anywhere else the container shares a cgroup namespace with
 * its host and R is not the container's to lay out. */
enum container_state container_assess(const struct container_situation *s);

/* The sentence saying what is wrong and which docker/podman/devcontainer
 * settings fix it, for every state but CONTAINER_PREPARE (NULL). */
const char *container_hint(enum container_state st);

/* "+memory +pids +cpu", keeping only those `available` (a
 * cgroup.controllers line) lists, into `buf`.  Returns how many, or
 * -ENOBUFS. */
int container_controllers(const char *available, char *buf, size_t len);

/* The mark's value for `uid`, and its parser: 0, or -EINVAL for anything
 * that is not exactly "gopls-guard uid=N". */
int container_mark_format(uid_t uid, char *buf, size_t len);
int container_mark_parse(const char *value, uid_t *ret_uid);

/* Whether the cgroup path `own` ("/a/b") is "/gopls-guard" or below it. */
bool container_path_inside(const char *own);

/* ---- I/O ---- */

/* Lay the namespace root out (see above) for `uid`/`gid` and leave the
 * mark last, so a guard never sees a half-made subtree: create the
 * directories, move every pid of R/cgroup.procs (init's too) into the
 * init leaf until none is left, enable the available controllers on R and
 * on the subtree, chown the delegated files.  Idempotent.  `why` names the
 * file and the kernel's error on failure. */
int container_prepare(const char *mount, uid_t uid, gid_t gid, char why[CONTAINER_WHY_MAX]);

/* For a guard running as `uid` in cgroup `own`: the prepared subtree
 * (MOUNT/gopls-guard, malloc'd), when R carries a mark root made for
 * `uid`, the subtree is delegated to `uid`, and `own` lies inside it.
 * Returns 1, 0 with `why` saying which of those is missing, or a negative
 * errno with `why`. */
int container_find(const char *mount, const char *own, uid_t uid, char **ret_dir,
                   char why[CONTAINER_WHY_MAX]);

/* container_find(), with `why` left empty when no subtree was prepared at
 * all (R carries no mark): outside any container that is not worth a
 * word. */
int container_find_quiet(const char *mount, const char *own, uid_t uid, char **ret_dir,
                         char why[CONTAINER_WHY_MAX]);

/* Make (or take over, if a dead guard of the same pid left it) the guard's
 * own leaf DIR/guard-PID, marked as the guard's (cgroup.h's cg_mark), and
 * return its path (malloc'd). */
int container_make_leaf(const char *dir, pid_t pid, char **ret_leaf, char why[CONTAINER_WHY_MAX]);

/* Remove the guard-PID leaves under DIR that guards which died left
 * (marked, not locked, empty but for a marked empty server/), except
 * this guard's own.  0 or a negative errno (DIR cannot be listed). */
int container_sweep(const char *dir, pid_t pid);

/* container_find(), container_sweep(), then container_make_leaf() for
 * this process: 1 with
 * the leaf's path, 0 when there is no usable prepared subtree (`why` says
 * why, or is empty when nothing was prepared at all), or a negative errno
 * with `why`. */
int container_guard_leaf(const char *mount, const char *own, uid_t uid, pid_t pid, char **ret_leaf,
                         char why[CONTAINER_WHY_MAX]);

/* For a guard that found no usable cgroup: the hint for a read-only
 * cgroup mount at `mount`, or NULL when it is writable (or unknown). */
const char *container_mount_hint(const char *mount);

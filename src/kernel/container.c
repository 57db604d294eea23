/* container.c — the prepared container subtree (container.h). */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "util.h"

#define MARK_PREFIX "gopls-guard uid="
#define INIT_PATH "/" CONTAINER_SUBTREE "/" CONTAINER_INIT_LEAF

/* ---- pure decisions ---- */

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

enum container_state container_assess(const struct container_situation *s)
{
        if (!s->have_mount)
                return CONTAINER_NO_CGROUP2;
        /* Docker's default on a cgroup v2 host is both a private namespace
         * and a read-only mount: say read-only first, it is what to fix. */
        if (s->read_only)
                return CONTAINER_READ_ONLY;
        if (s->initial_ns || !s->own_cgroup ||
            (strcmp(s->own_cgroup, "/") != 0 && strcmp(s->own_cgroup, INIT_PATH) != 0))
                return CONTAINER_NOT_NAMESPACED;
        if (!s->controllers || !word_in(s->controllers, "memory"))
                return CONTAINER_NO_MEMORY;
        return CONTAINER_PREPARE;
}

const char *container_hint(enum container_state st)
{
        switch (st) {
        case CONTAINER_PREPARE:
                return NULL;
        case CONTAINER_NO_CGROUP2:
                return "no cgroup v2 hierarchy is mounted at /sys/fs/cgroup (a cgroup v1 host, or "
                       "the container has no /sys/fs/cgroup): run it on a host with cgroup v2 "
                       "(systemd.unified_cgroup_hierarchy=1)";
        case CONTAINER_READ_ONLY:
                return "the cgroup mount /sys/fs/cgroup is read-only (Docker mounts it so unless "
                       "the container is privileged; under systemd, ProtectControlGroups=yes "
                       "does the same): start the container with `docker run --cgroupns=private "
                       "--privileged` (or another way to mount /sys/fs/cgroup read-write), "
                       "`podman run --cgroupns=private --security-opt unmask=/sys/fs/cgroup`, "
                       "or in devcontainer.json \"runArgs\": [\"--cgroupns=private\", "
                       "\"--privileged\"]";
        case CONTAINER_NOT_NAMESPACED:
                return "the container has no cgroup namespace of its own (init is not at the "
                       "root of the cgroup tree it sees), so its cgroup root is not its to lay "
                       "out: start it with `docker run --cgroupns=private` (with /sys/fs/cgroup "
                       "read-write, e.g. --privileged), `podman run --cgroupns=private "
                       "--security-opt unmask=/sys/fs/cgroup`, or in devcontainer.json "
                       "\"runArgs\": [\"--cgroupns=private\", \"--privileged\"]";
        case CONTAINER_NO_MEMORY:
                return "the container's cgroup root does not offer the memory controller (the "
                       "host or the runtime did not delegate it): on the host, enable it for "
                       "the container's parent (Docker and podman do with cgroup v2 and "
                       "systemd as cgroup driver)";
        }
        return NULL;
}

int container_controllers(const char *available, char *buf, size_t len)
{
        static const char *const wanted[] = {"memory", "pids", "cpu"};
        size_t used = 0;
        int n = 0;

        if (len == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
                if (!available || !word_in(available, wanted[i]))
                        continue;
                int w = snprintf(buf + used, len - used, "%s+%s", n ? " " : "", wanted[i]);
                if (w < 0 || (size_t)w >= len - used)
                        return -ENOBUFS;
                used += (size_t)w;
                n++;
        }
        return n;
}

int container_mark_format(uid_t uid, char *buf, size_t len)
{
        int n = snprintf(buf, len, MARK_PREFIX "%u", (unsigned)uid);
        return n < 0 || (size_t)n >= len ? -ENOBUFS : 0;
}

int container_mark_parse(const char *value, uid_t *ret_uid)
{
        size_t pl = strlen(MARK_PREFIX);
        if (strncmp(value, MARK_PREFIX, pl) != 0)
                return -EINVAL;
        const char *d = value + pl;
        if (*d < '0' || *d > '9' || (d[0] == '0' && d[1] != '\0'))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(d, &end, 10);
        /* (uid_t)-1 means "no user" to chown: never a delegatee. */
        if (errno || *end || v >= UINT32_MAX)
                return -EINVAL;
        *ret_uid = (uid_t)v;
        return 0;
}

bool container_path_inside(const char *own)
{
        static const char sub[] = "/" CONTAINER_SUBTREE;
        size_t n = sizeof sub - 1;
        return own && strncmp(own, sub, n) == 0 && (own[n] == '\0' || own[n] == '/');
}

/* ---- I/O ---- */

/* mkdir NAME under dirfd (an existing directory is fine) and open it. */
static int make_dir_at(int dirfd, const char *name)
{
        if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
                return -errno;
        return open_dir_at(dirfd, name);
}

/* Move every process of the root into the init leaf.  Processes may
 * appear meanwhile (a `docker exec` racing with the start), so go round
 * until the root is empty; a pid that ended in between is fine (ESRCH). */
static int move_all(int root_fd, int leaf_fd, const char *mount, char why[CONTAINER_WHY_MAX])
{
        for (int round = 0; round < 100; round++) {
                _cleanup_free_ char *procs = NULL;
                int r = read_file_at(root_fd, "cgroup.procs", &procs, 1 << 20);
                if (r < 0) {
                        snprintf(why, CONTAINER_WHY_MAX, "cannot read %s/cgroup.procs: %s", mount,
                                 strerror(-r));
                        return r;
                }
                if (!*procs)
                        return 0;
                for (char *l = procs; *l;) {
                        char *end;
                        long pid = strtol(l, &end, 10);
                        if (end == l)
                                break;
                        l = end;
                        while (*l == '\n')
                                l++;
                        /* A process of another pid namespace shows as 0 and
                         * cannot be named to the kernel: only its own
                         * side could move it. */
                        if (pid <= 0) {
                                snprintf(why, CONTAINER_WHY_MAX,
                                         "%s/cgroup.procs holds a process outside the "
                                         "container's pid namespace, which init cannot move",
                                         mount);
                                return -EBUSY;
                        }
                        char buf[24];
                        snprintf(buf, sizeof buf, "%ld", pid);
                        r = write_file_at(leaf_fd, "cgroup.procs", buf);
                        if (r < 0 && r != -ESRCH) {
                                snprintf(why, CONTAINER_WHY_MAX,
                                         "cannot move pid %ld into %s/" CONTAINER_SUBTREE
                                         "/" CONTAINER_INIT_LEAF ": %s",
                                         pid, mount, strerror(-r));
                                return r;
                        }
                }
        }
        snprintf(why, CONTAINER_WHY_MAX,
                 "%s/cgroup.procs did not become empty: processes keep entering the root", mount);
        return -EBUSY;
}

int container_prepare(const char *mount, uid_t uid, gid_t gid, char why[CONTAINER_WHY_MAX])
{
        _cleanup_close_ int root_fd = -1, sub_fd = -1, init_fd = -1;
        _cleanup_free_ char *avail = NULL;
        char ctl[64], mark[64];
        int r;

        why[0] = '\0';
        root_fd = open_dir_at(AT_FDCWD, mount);
        if (root_fd < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot open %s: %s", mount, strerror(-root_fd));
                return root_fd;
        }
        sub_fd = make_dir_at(root_fd, CONTAINER_SUBTREE);
        if (sub_fd >= 0)
                init_fd = make_dir_at(sub_fd, CONTAINER_INIT_LEAF);
        if (sub_fd < 0 || init_fd < 0) {
                r = sub_fd < 0 ? sub_fd : init_fd;
                snprintf(why, CONTAINER_WHY_MAX, "cannot create %s" INIT_PATH ": %s", mount,
                         strerror(-r));
                return r;
        }
        r = move_all(root_fd, init_fd, mount, why);
        if (r < 0)
                return r;
        r = read_file_at(root_fd, "cgroup.controllers", &avail, 4096);
        if (r < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot read %s/cgroup.controllers: %s", mount,
                         strerror(-r));
                return r;
        }
        r = container_controllers(avail, ctl, sizeof ctl);
        if (r < 0)
                return r;
        if (r > 0) {
                /* The subtree too: each guard's own leaf below it needs the
                 * controllers offered to enable them for its server/. */
                r = write_file_at(root_fd, "cgroup.subtree_control", ctl);
                if (r >= 0)
                        r = write_file_at(sub_fd, "cgroup.subtree_control", ctl);
                if (r < 0) {
                        snprintf(why, CONTAINER_WHY_MAX,
                                 "the kernel refused to write \"%s\" to cgroup.subtree_control of "
                                 "%s or %s/" CONTAINER_SUBTREE ": %s",
                                 ctl, mount, mount, strerror(-r));
                        return r;
                }
        }
        /* The kernel's delegation rule (cgroup-v2.rst "Delegation"): the
         * directory and these files, and nothing else of the delegated
         * cgroup's own (its limits stay with root). */
        static const char *const files[] = {"cgroup.procs", "cgroup.subtree_control",
                                            "cgroup.threads"};
        if (fchown(sub_fd, uid, gid) < 0) {
                r = -errno;
                snprintf(why, CONTAINER_WHY_MAX,
                         "cannot chown %s/" CONTAINER_SUBTREE " to uid %u: %s", mount,
                         (unsigned)uid, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
                if (fchownat(sub_fd, files[i], uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        snprintf(why, CONTAINER_WHY_MAX,
                                 "cannot chown %s/" CONTAINER_SUBTREE "/%s to uid %u: %s", mount,
                                 files[i], (unsigned)uid, strerror(-r));
                        return r;
                }
        r = container_mark_format(uid, mark, sizeof mark);
        if (r < 0)
                return r;
        if (fsetxattr(root_fd, CONTAINER_MARK_XATTR, mark, strlen(mark), 0) < 0) {
                r = -errno;
                snprintf(why, CONTAINER_WHY_MAX,
                         "cannot set the xattr " CONTAINER_MARK_XATTR " on %s: %s%s", mount,
                         strerror(-r),
                         r == -EOPNOTSUPP ? " (user xattrs on cgroupfs need Linux 5.7 or later)"
                                          : "");
                return r;
        }
        return 0;
}

static int find_subtree(const char *mount, const char *own, uid_t uid, char **ret_dir,
                        char why[CONTAINER_WHY_MAX], bool quiet_unprepared)
{
        _cleanup_close_ int root_fd = -1;
        char v[64], sub[PATH_MAX];
        struct stat st;
        uid_t for_uid;

        why[0] = '\0';
        root_fd = open_dir_at(AT_FDCWD, mount);
        if (root_fd < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot open %s: %s", mount, strerror(-root_fd));
                return root_fd;
        }
        ssize_t n = fgetxattr(root_fd, CONTAINER_MARK_XATTR, v, sizeof v - 1);
        if (n < 0) {
                int e = errno;
                if (!quiet_unprepared || !(e == ENODATA || e == EOPNOTSUPP))
                        snprintf(why, CONTAINER_WHY_MAX,
                                 "%s carries no " CONTAINER_MARK_XATTR " mark: no container "
                                 "subtree was prepared by gopls-guard init",
                                 mount);
                return e == ENODATA || e == EOPNOTSUPP || e == ERANGE ? 0 : -e;
        }
        v[n] = '\0';
        if (fstat(root_fd, &st) < 0)
                return -errno;
        /* Only root could have set a user xattr on a directory of root's
         * that nobody else may write. */
        if (!stat_root_only(&st)) {
                snprintf(why, CONTAINER_WHY_MAX,
                         "the " CONTAINER_MARK_XATTR " mark on %s is not trusted: the directory "
                         "is owned by uid %u with mode %04o, so someone other than root may have "
                         "set it",
                         mount, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                return 0;
        }
        if (container_mark_parse(v, &for_uid) < 0) {
                snprintf(why, CONTAINER_WHY_MAX,
                         "the " CONTAINER_MARK_XATTR " mark on %s is malformed (\"%s\")", mount, v);
                return 0;
        }
        if (for_uid != uid) {
                snprintf(why, CONTAINER_WHY_MAX,
                         "the container subtree %s/" CONTAINER_SUBTREE " was prepared for uid %u, "
                         "and this guard runs as uid %u (gopls-guard init --user, or [container] "
                         "user, names who gets it)",
                         mount, (unsigned)for_uid, (unsigned)uid);
                return 0;
        }
        snprintf(sub, sizeof sub, "%s/" CONTAINER_SUBTREE, mount);
        if (fstatat(root_fd, CONTAINER_SUBTREE, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode)) {
                snprintf(why, CONTAINER_WHY_MAX, "the marked container subtree %s is missing", sub);
                return 0;
        }
        /* For root, ownership proves nothing (cg_is_delegated); the mark
         * root left is what counts. */
        if (uid != 0) {
                char missing[CG_WHY_MAX];
                int r = cg_is_delegated(sub, uid, missing);
                if (r <= 0) {
                        snprintf(why, CONTAINER_WHY_MAX, "%s", missing);
                        return r;
                }
        }
        if (!container_path_inside(own)) {
                snprintf(why, CONTAINER_WHY_MAX,
                         "the guard's cgroup %s is outside the container subtree %s, and the "
                         "kernel lets a process enter a cgroup only if its user may write "
                         "cgroup.procs of the common ancestor: start the guard inside the "
                         "container (docker exec puts it into init's leaf, %s/" CONTAINER_INIT_LEAF
                         ")",
                         own ? own : "(unknown)", sub, sub);
                return 0;
        }
        char *dup = strdup(sub);
        if (!dup)
                return -ENOMEM;
        *ret_dir = dup;
        return 1;
}

/* Remove NAME under dir_fd if it is a leaf a dead guard left: marked by
 * gopls-guard, not locked (a live guard holds the flock cgroup.h's
 * cg_open() takes, and a daemon's guards hold its flock with it), and
 * empty but for a marked server/ (its sentinel emptied that) or, a
 * daemon's, marked conn-N/ each empty but for such a server/. */
static void remove_stale(int dir_fd, const char *name)
{
        _cleanup_close_ int fd = open_dir_at(dir_fd, name);
        if (fd < 0 || cg_is_marked(fd) != 1 || flock(fd, LOCK_EX | LOCK_NB) < 0)
                return;
        cg_sweep_conns(fd);
        cg_remove_after_server(dir_fd, name, fd);
}

int container_sweep(const char *dir, pid_t pid)
{
        _cleanup_close_ int dir_fd = open_dir_at(AT_FDCWD, dir);
        if (dir_fd < 0)
                return dir_fd;
        DIR *d = opendir_at(dir_fd, ".");
        if (!d)
                return -errno;
        char own[32];
        snprintf(own, sizeof own, "guard-%d", (int)pid);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && strncmp(de->d_name, "guard-", 6) == 0 &&
                    strcmp(de->d_name, own) != 0)
                        remove_stale(dir_fd, de->d_name);
        closedir(d);
        return 0;
}

int container_make_leaf(const char *dir, pid_t pid, char **ret_leaf, char why[CONTAINER_WHY_MAX])
{
        _cleanup_close_ int dir_fd = -1, leaf_fd = -1;
        char name[32];
        int r;

        why[0] = '\0';
        snprintf(name, sizeof name, "guard-%d", (int)pid);
        dir_fd = open_dir_at(AT_FDCWD, dir);
        if (dir_fd < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot open %s: %s", dir, strerror(-dir_fd));
                return dir_fd;
        }
        bool existed = mkdirat(dir_fd, name, 0755) < 0;
        if (existed && errno != EEXIST) {
                r = -errno;
                snprintf(why, CONTAINER_WHY_MAX, "cannot create %s/%s: %s", dir, name,
                         strerror(-r));
                return r;
        }
        leaf_fd = open_dir_at(dir_fd, name);
        if (leaf_fd < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot open %s/%s: %s", dir, name,
                         strerror(-leaf_fd));
                return leaf_fd;
        }
        /* A leaf of the same name from a guard that died with this pid is
         * taken over only if that guard marked it. */
        if (existed && cg_is_marked(leaf_fd) <= 0) {
                snprintf(why, CONTAINER_WHY_MAX,
                         "%s/%s exists and was not made by gopls-guard; left alone", dir, name);
                return -EEXIST;
        }
        r = cg_mark(leaf_fd);
        if (r < 0) {
                snprintf(why, CONTAINER_WHY_MAX, "cannot mark %s/%s: %s", dir, name, strerror(-r));
                if (!existed)
                        (void)unlinkat(dir_fd, name, AT_REMOVEDIR);
                return r;
        }
        if (asprintf(ret_leaf, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return 0;
}

int container_find(const char *mount, const char *own, uid_t uid, char **ret_dir,
                   char why[CONTAINER_WHY_MAX])
{
        return find_subtree(mount, own, uid, ret_dir, why, false);
}

int container_find_quiet(const char *mount, const char *own, uid_t uid, char **ret_dir,
                         char why[CONTAINER_WHY_MAX])
{
        return find_subtree(mount, own, uid, ret_dir, why, true);
}

int container_guard_leaf(const char *mount, const char *own, uid_t uid, pid_t pid, char **ret_leaf,
                         char why[CONTAINER_WHY_MAX])
{
        _cleanup_free_ char *dir = NULL;
        int r = container_find_quiet(mount, own, uid, &dir, why);
        if (r <= 0)
                return r;
        /* Leaves of guards that were killed would pile up otherwise. */
        (void)container_sweep(dir, pid);
        r = container_make_leaf(dir, pid, ret_leaf, why);
        return r < 0 ? r : 1;
}

const char *container_mount_hint(const char *mount)
{
        struct statvfs sv;
        if (!mount || statvfs(mount, &sv) < 0 || !(sv.f_flag & ST_RDONLY))
                return NULL;
        return container_hint(CONTAINER_READ_ONLY);
}

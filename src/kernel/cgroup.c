#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int cg_parse_kv(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                if (strncmp(l, key, klen) != 0 || l[klen] != ' ')
                        continue;
                const char *v = l + klen + 1;
                if (!isdigit((unsigned char)*v))
                        return -EINVAL;
                errno = 0;
                char *end;
                unsigned long long n = strtoull(v, &end, 10);
                if (errno || (*end != '\n' && *end != '\0'))
                        return -EINVAL;
                *ret = n;
                return 0;
        }
        return -ENOENT;
}

int cg_parse_memory_events(const char *text, struct cg_memory_events *ret)
{
        struct cg_memory_events e = {0};
        struct {
                const char *key;
                uint64_t *val;
        } keys[] = {
                {"low", &e.low},   {"high", &e.high},         {"max", &e.max},
                {"oom", &e.oom},   {"oom_kill", &e.oom_kill}, {"oom_group_kill", &e.oom_group_kill},
        };

        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                int r = cg_parse_kv(text, keys[i].key, keys[i].val);
                /* oom_group_kill is 5.17+: older kernels simply lack it. */
                if (r == -ENOENT && keys[i].val == &e.oom_group_kill)
                        continue;
                if (r < 0)
                        return r;
        }
        *ret = e;
        return 0;
}

int cg_parse_u64_or_max(const char *text, uint64_t *ret)
{
        if (strncmp(text, "max", 3) == 0 && (text[3] == '\n' || text[3] == '\0')) {
                *ret = POLICY_NO_LIMIT;
                return 0;
        }
        if (!isdigit((unsigned char)*text))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno || (*end != '\n' && *end != '\0'))
                return -EINVAL;
        *ret = n;
        return 0;
}

static bool is_cgroup2(const char *path)
{
        struct statfs s;
        return statfs(path, &s) == 0 && (unsigned long)s.f_type == CGROUP2_SUPER_MAGIC;
}

/* libcgroup logs its own complaints to stderr by default; they would land
 * in the editor's log without context, so they are kept quiet and the
 * guard reports what it concluded instead. */
static void cgroup_quiet_logger(void *userdata, int level, const char *fmt, va_list ap)
{
        (void)userdata;
        (void)level;
        (void)fmt;
        (void)ap;
}

int cg_find_mount(const char *root, char **ret_mount)
{
        char *mp = NULL;

        if (root) {
                char *m = strdup(root);
                if (!m)
                        return -ENOMEM;
                *ret_mount = m;
                return 0;
        }

        cgroup_set_logger(cgroup_quiet_logger, CGROUP_LOG_ERROR, NULL);
        if (cgroup_init() != 0)
                return -ENOMEDIUM;
        if (cgroup_get_subsys_mount_point("memory", &mp) != 0 || !mp)
                return -ENOMEDIUM;
        if (!is_cgroup2(mp)) {
                free(mp);
                return -ENOMEDIUM;
        }
        *ret_mount = mp;
        return 0;
}

int cg_pid_cgroup(const char *proc_root, pid_t pid, char **ret_path)
{
        char path[PATH_MAX];
        _cleanup_free_ char *text = NULL;
        int r;

        if (pid == 0)
                snprintf(path, sizeof path, "%s/self/cgroup", proc_root);
        else
                snprintf(path, sizeof path, "%s/%d/cgroup", proc_root, (int)pid);
        r = read_file_at(AT_FDCWD, path, &text, 64 * 1024);
        if (r < 0)
                return r;
        for (char *l = text; l && *l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(l, "0::", 3) == 0) {
                        char *p = strdup(l + 3);
                        if (!p)
                                return -ENOMEM;
                        *ret_path = p;
                        return 0;
                }
                l = nl ? nl + 1 : NULL;
        }
        return -ENOMEDIUM;
}

int cg_is_delegated(const char *dir, uid_t uid, char why[CG_WHY_MAX])
{
        static const char *const attrs[] = {"trusted.delegate", "user.delegate"};
        static const char *const files[] = {"cgroup.procs", "cgroup.subtree_control"};
        char v[8], path[PATH_MAX];
        struct stat st;

        /* The marks systemd puts on a cgroup it hands over (Delegate=yes):
         * trusted.* from the system manager, user.* from a user manager. */
        for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
                ssize_t n = getxattr(dir, attrs[i], v, sizeof v - 1);
                if (n > 0) {
                        v[n] = '\0';
                        if (strcmp(v, "1") == 0)
                                return 1;
                }
        }
        /* Delegation by chown (cgroups(7), the kernel's cgroup-v2.rst
         * "Delegation"): the delegatee owns cgroup.procs and
         * cgroup.subtree_control.  Root owns every cgroup, so for root that
         * proves nothing: only the marks count. */
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
                snprintf(path, sizeof path, "%s/%s", dir, files[i]);
                if (stat(path, &st) < 0) {
                        int e = errno;
                        snprintf(why, CG_WHY_MAX, "cannot inspect %s: %s", path, strerror(e));
                        return -e;
                }
                if (uid == 0 || st.st_uid != uid) {
                        snprintf(why, CG_WHY_MAX,
                                 "%s carries no delegation mark (no trusted.delegate or "
                                 "user.delegate xattr) and %s is owned by uid %u%s",
                                 dir, path, (unsigned)st.st_uid,
                                 uid == 0 ? " (for root only the marks count)" : "");
                        return 0;
                }
        }
        return 1;
}

void cg_remove_after_server(int dir_fd, const char *name, int fd)
{
        _cleanup_close_ int srv = open_dir_at(fd, "server");
        if (srv >= 0 && cg_is_marked(srv) == 1)
                (void)unlinkat(fd, "server", AT_REMOVEDIR);
        (void)unlinkat(dir_fd, name, AT_REMOVEDIR);
}

void cg_sweep_conns(int dir_fd)
{
        DIR *d = opendir_at(dir_fd, ".");
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || strncmp(de->d_name, "conn-", 5) != 0)
                        continue;
                _cleanup_close_ int conn = open_dir_at(dir_fd, de->d_name);
                if (conn >= 0 && cg_is_marked(conn) == 1)
                        cg_remove_after_server(dir_fd, de->d_name, conn);
        }
        closedir(d);
}

int cg_open(const char *dir, struct cg_tree *ret, char why[CG_WHY_MAX])
{
        struct cg_tree t = {.dir_fd = -1, .server_fd = -1};

        t.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t.dir_fd < 0) {
                int e = errno;
                snprintf(why, CG_WHY_MAX, "cannot open cgroup %s: %s", dir, strerror(e));
                return -e;
        }
        if (flock(t.dir_fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                if (e == EWOULDBLOCK)
                        snprintf(why, CG_WHY_MAX,
                                 "cgroup %s is in use by another gopls-guard (give each guard "
                                 "its own --cgroup)",
                                 dir);
                else
                        snprintf(why, CG_WHY_MAX, "cannot lock cgroup %s: %s", dir, strerror(e));
                close(t.dir_fd);
                return e == EWOULDBLOCK ? -EBUSY : -e;
        }
        t.path = strdup(dir);
        if (!t.path) {
                close(t.dir_fd);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

/* Write `value` to DIRFD/NAME, with a reason naming both on failure. */
static int write_attr(int dirfd, const char *dir, const char *name, const char *value,
                      char why[CG_WHY_MAX])
{
        int r = write_file_at(dirfd, name, value);
        if (r < 0)
                snprintf(why, CG_WHY_MAX, "the kernel refused to write \"%s\" to %s/%s: %s", value,
                         dir, name, strerror(-r));
        return r;
}

static int format_limit(uint64_t v, char *buf, size_t len)
{
        if (v == POLICY_NO_LIMIT)
                return snprintf(buf, len, "max");
        return snprintf(buf, len, "%" PRIu64, v);
}

/* Kill what is left in a leaf and wait (bounded) until it is empty. */
static int kill_leaf(int leaf_fd)
{
        int r = write_file_at(leaf_fd, "cgroup.kill", "1");
        int signalled = 0;

        if (r == -ENOENT) {
                /* Before 5.14 there is no cgroup.kill: signal each member.
                 * Members forking meanwhile are caught by the next round. */
                for (int round = 0; round < 100; round++) {
                        _cleanup_free_ char *procs = NULL;
                        if (read_file_at(leaf_fd, "cgroup.procs", &procs, 1 << 20) < 0 ||
                            !*procs)
                                break;
                        for (char *l = procs; *l;) {
                                long pid = strtol(l, &l, 10);
                                if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
                                        signalled++;
                                while (*l == '\n')
                                        l++;
                        }
                        sleep_usec(10 * 1000);
                }
                return signalled;
        }
        return r;
}

static int leaf_populated(int leaf_fd)
{
        _cleanup_free_ char *ev = NULL;
        uint64_t v;
        int r = read_file_at(leaf_fd, "cgroup.events", &ev, 4096);
        if (r < 0)
                return r;
        r = cg_parse_kv(ev, "populated", &v);
        if (r < 0)
                return r;
        return v ? 1 : 0;
}

/* rmdir NAME under dirfd, retrying while the kernel still sees members
 * (EBUSY right after cgroup.kill, until the killed tasks are gone). */
static int remove_leaf(int dirfd, const char *name, uint64_t timeout_usec)
{
        uint64_t waited = 0;
        for (;;) {
                if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY || waited >= timeout_usec)
                        return -errno;
                sleep_usec(5 * 1000);
                waited += 5 * 1000;
        }
}

int cg_mark(int fd)
{
        char v[64];
        int n = snprintf(v, sizeof v, "%s pid %d", CG_MARK_VALUE, (int)getpid());
        return fsetxattr(fd, CG_MARK_XATTR, v, (size_t)n, 0) < 0 ? -errno : 0;
}

int cg_is_marked(int fd)
{
        char v[64];
        ssize_t n = fgetxattr(fd, CG_MARK_XATTR, v, sizeof v - 1);
        if (n < 0)
                return errno == ENODATA || errno == EOPNOTSUPP ? 0 : -errno;
        v[n] = '\0';
        return strncmp(v, CG_MARK_VALUE " ", strlen(CG_MARK_VALUE) + 1) == 0;
}

/* No process in the leaf and no cgroup below it (cgroup.stat has
 * nr_descendants since 4.14).  Returns 1, 0, or a negative errno. */
static int leaf_empty(int fd)
{
        _cleanup_free_ char *st = NULL;
        uint64_t n;
        int r = leaf_populated(fd);
        if (r != 0)
                return r < 0 ? r : 0;
        r = read_file_at(fd, "cgroup.stat", &st, 4096);
        if (r >= 0)
                r = cg_parse_kv(st, "nr_descendants", &n);
        return r < 0 ? r : n == 0;
}

/* A child NAME of DIR that exists already: ours (a dead guard's, marked),
 * or someone else's, which is left alone.  An unmarked one that is empty
 * is what a guard killed between mkdir and marking leaves behind; nothing
 * in it belongs to anyone, so it is marked and taken. */
static int check_existing(struct cg_tree *t, int fd, const char *name, char why[CG_WHY_MAX])
{
        int r = cg_is_marked(fd);
        if (r > 0)
                return 0;
        if (r == 0 && leaf_empty(fd) > 0 && cg_mark(fd) >= 0)
                return 0;
        if (r == 0)
                snprintf(why, CG_WHY_MAX,
                         "%s/%s exists and was not created by gopls-guard (it has no %s mark); "
                         "it is left alone: remove it, or give the guard a cgroup of its own",
                         t->path, name, CG_MARK_XATTR);
        else
                snprintf(why, CG_WHY_MAX, "cannot read the %s mark of %s/%s: %s", CG_MARK_XATTR,
                         t->path, name, strerror(-r));
        return r == 0 ? -EEXIST : r;
}

/* A kernel without user xattrs on cgroupfs (before 5.7) cannot carry the
 * mark: the leaf is used all the same, and a later guard would find it
 * unmarked and leave it alone if this one died without removing it. */
int cg_make_child(struct cg_tree *t, const char *name, int *ret_fd, char warn[CG_WHY_MAX],
                  char why[CG_WHY_MAX])
{
        if (mkdirat(t->dir_fd, name, 0755) < 0) {
                int e = errno;
                snprintf(why, CG_WHY_MAX, "cannot create %s/%s: %s", t->path, name, strerror(e));
                return -e;
        }
        int fd = openat(t->dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                snprintf(why, CG_WHY_MAX, "cannot open %s/%s: %s", t->path, name, strerror(e));
                (void)unlinkat(t->dir_fd, name, AT_REMOVEDIR);
                return -e;
        }
        int r = cg_mark(fd);
        if (r < 0 && !warn[0])
                snprintf(warn, CG_WHY_MAX,
                         "cannot mark %s/%s as gopls-guard's (%s): %s; should this guard die "
                         "without removing it, the next one will leave it alone",
                         t->path, name, CG_MARK_XATTR, strerror(-r));
        *ret_fd = fd;
        return 0;
}

static int cleanup_leftover(struct cg_tree *t, char why[CG_WHY_MAX])
{
        int fd = openat(t->dir_fd, "server", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = check_existing(t, fd, "server", why);
        if (r < 0) {
                close(fd);
                return r;
        }
        /* A guard that died (SIGKILL, power cut of its session) left its
         * server behind; we hold the lock, so nobody else owns it. */
        if (leaf_populated(fd) > 0)
                (void)kill_leaf(fd);
        close(fd);
        r = remove_leaf(t->dir_fd, "server", 5 * USEC_PER_SEC);
        if (r < 0)
                snprintf(why, CG_WHY_MAX,
                         "cannot remove the leftover leaf %s/server of an earlier guard: %s",
                         t->path, strerror(-r));
        return r;
}

static bool word_in(const char *list, const char *word)
{
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || isspace((unsigned char)p[-1])) &&
                    (p[n] == '\0' || isspace((unsigned char)p[n])))
                        return true;
        return false;
}

int cg_setup(struct cg_tree *t, const struct policy *p, bool self_inside, char why[CG_WHY_MAX],
             char warn[CG_WHY_MAX])
{
        _cleanup_free_ char *controllers = NULL;
        char buf[64];
        int r;

        warn[0] = '\0';
        /* Someone else's server/ is checked before the guard moves itself. */
        r = cleanup_leftover(t, why);
        if (r < 0)
                return r;

        if (self_inside) {
                int fd = openat(t->dir_fd, "supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0) {
                        r = check_existing(t, fd, "supervisor", why);
                        close(fd);
                        if (r < 0)
                                return r;
                } else if (errno == ENOENT) {
                        r = cg_make_child(t, "supervisor", &fd, warn, why);
                        if (r < 0)
                                return r;
                        close(fd);
                } else {
                        r = -errno;
                        snprintf(why, CG_WHY_MAX, "cannot open %s/supervisor: %s", t->path,
                                 strerror(-r));
                        return r;
                }
                t->made_supervisor = true;
                snprintf(buf, sizeof buf, "%d", (int)getpid());
                r = write_attr(t->dir_fd, t->path, "supervisor/cgroup.procs", buf, why);
                if (r < 0)
                        return r;
        }

        r = read_file_at(t->dir_fd, "cgroup.controllers", &controllers, 4096);
        if (r < 0) {
                snprintf(why, CG_WHY_MAX, "cannot read %s/cgroup.controllers: %s (is it a cgroup v2 directory?)",
                         t->path, strerror(-r));
                return r;
        }
        t->has_memory = word_in(controllers, "memory");
        t->has_cpu = word_in(controllers, "cpu");
        t->has_pids = word_in(controllers, "pids");
        if (!t->has_memory) {
                snprintf(why, CG_WHY_MAX,
                         "the memory controller is not available in %s (cgroup.controllers: "
                         "\"%.*s\"); enable it in the parent's cgroup.subtree_control or "
                         "delegate it (Delegate=yes)",
                         t->path, (int)strcspn(controllers, "\n"), controllers);
                return -ENOMEDIUM;
        }

        /* cpu and pids only when the policy sets a limit of theirs: a kernel
         * that refuses +cpu (a realtime thread in the subtree, a controller
         * bound elsewhere) must not cost the memory limit that was asked for.
         * cpu.stat's usage fields exist without the cpu controller. */
        const bool want_cpu = p->cpu.weight || p->cpu.max_percent != POLICY_NO_LIMIT;
        const bool want_pids = p->pids.max != POLICY_NO_LIMIT;
        if (want_cpu && !t->has_cpu)
                snprintf(warn, CG_WHY_MAX,
                         "the cpu controller is not available in %s: [cpu] limits are not enforced",
                         t->path);
        if (want_pids && !t->has_pids)
                snprintf(warn, CG_WHY_MAX,
                         "the pids controller is not available in %s: [pids] max is not enforced",
                         t->path);
        t->has_cpu = t->has_cpu && want_cpu;
        t->has_pids = t->has_pids && want_pids;

        static const char *const ctl[] = {"+memory", "+cpu", "+pids"};
        const bool have[] = {t->has_memory, t->has_cpu, t->has_pids};
        for (size_t i = 0; i < 3; i++) {
                if (!have[i])
                        continue;
                r = write_attr(t->dir_fd, t->path, "cgroup.subtree_control", ctl[i], why);
                if (r == -EBUSY)
                        snprintf(why, CG_WHY_MAX,
                                 "cannot enable %s in %s/cgroup.subtree_control: the cgroup has "
                                 "processes of its own (no-internal-process rule); give the guard "
                                 "an empty cgroup or let it move itself with a delegated one",
                                 ctl[i] + 1, t->path);
                if (r < 0)
                        return r;
        }

        r = cg_make_child(t, "server", &t->server_fd, warn, why);
        if (r < 0)
                return r;

        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/server", t->path);

        /* max before high: the kernel accepts either order, but a high above
         * the old max would be pointless for the moment in between. */
        format_limit(p->memory.max, buf, sizeof buf);
        if ((r = write_attr(t->server_fd, dir, "memory.max", buf, why)) < 0)
                return r;
        format_limit(p->memory.high, buf, sizeof buf);
        if ((r = write_attr(t->server_fd, dir, "memory.high", buf, why)) < 0)
                return r;
        format_limit(p->memory.swap_max, buf, sizeof buf);
        r = write_file_at(t->server_fd, "memory.swap.max", buf);
        if (r == -ENOENT)
                snprintf(warn, CG_WHY_MAX,
                         "%s/memory.swap.max does not exist (swap accounting is off): "
                         "[memory] swap_max is not enforced",
                         dir);
        else if (r < 0)
                return write_attr(t->server_fd, dir, "memory.swap.max", buf, why);
        r = write_attr(t->server_fd, dir, "memory.oom.group", p->memory.oom_group ? "1" : "0",
                       why);
        if (r < 0)
                return r;

        if (t->has_cpu) {
                if (p->cpu.weight) {
                        snprintf(buf, sizeof buf, "%" PRIu64, p->cpu.weight);
                        if ((r = write_attr(t->server_fd, dir, "cpu.weight", buf, why)) < 0)
                                return r;
                }
                /* cpu.max is "QUOTA PERIOD"; the default period of 100ms
                 * gives 1000 usec of quota per percent. */
                if (p->cpu.max_percent == POLICY_NO_LIMIT)
                        snprintf(buf, sizeof buf, "max 100000");
                else
                        snprintf(buf, sizeof buf, "%" PRIu64 " 100000", p->cpu.max_percent * 1000);
                if ((r = write_attr(t->server_fd, dir, "cpu.max", buf, why)) < 0)
                        return r;
        }
        if (t->has_pids) {
                format_limit(p->pids.max, buf, sizeof buf);
                if ((r = write_attr(t->server_fd, dir, "pids.max", buf, why)) < 0)
                        return r;
        }
        return 0;
}

int cg_server_procs_fd(const struct cg_tree *t)
{
        int fd = openat(t->server_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cg_server_kill_fds(const struct cg_tree *t, int *ret_kill_fd, int *ret_procs_fd)
{
        int fd = openat(t->server_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                *ret_kill_fd = fd;
                *ret_procs_fd = -1;
                return 0;
        }
        if (errno != ENOENT)
                return -errno;
        fd = openat(t->server_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_kill_fd = -1;
        *ret_procs_fd = fd;
        return 0;
}

int cg_server_dir_fd(const struct cg_tree *t)
{
        int fd = openat(t->server_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cg_read_memory_events(const struct cg_tree *t, struct cg_memory_events *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(t->server_fd, "memory.events", &text, 4096);
        if (r < 0)
                return r;
        return cg_parse_memory_events(text, ret);
}

static int read_u64_at(int dirfd, const char *name, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        int r = read_file_at(dirfd, name, &text, 256);
        if (r < 0)
                return r;
        return cg_parse_u64_or_max(text, ret);
}

int cg_read_memory_current(const struct cg_tree *t, uint64_t *ret)
{
        return read_u64_at(t->server_fd, "memory.current", ret);
}

int cg_read_sample(const struct cg_tree *t, struct cg_sample *ret)
{
        struct cg_sample s = {0};
        _cleanup_free_ char *cpu = NULL;
        int r;

        r = read_u64_at(t->server_fd, "memory.current", &s.memory_current);
        if (r < 0)
                return r;
        /* memory.peak is 5.19+; without it the peak stays 0 and callers
         * keep their own maximum of memory.current. */
        (void)read_u64_at(t->server_fd, "memory.peak", &s.memory_peak);
        if (read_file_at(t->server_fd, "cpu.stat", &cpu, 4096) >= 0) {
                (void)cg_parse_kv(cpu, "usage_usec", &s.cpu_usage_usec);
                (void)cg_parse_kv(cpu, "user_usec", &s.cpu_user_usec);
                (void)cg_parse_kv(cpu, "system_usec", &s.cpu_system_usec);
                (void)cg_parse_kv(cpu, "nr_periods", &s.cpu_nr_periods);
                (void)cg_parse_kv(cpu, "nr_throttled", &s.cpu_nr_throttled);
                (void)cg_parse_kv(cpu, "throttled_usec", &s.cpu_throttled_usec);
        }
        if (t->has_pids)
                (void)read_u64_at(t->server_fd, "pids.current", &s.pids_current);
        *ret = s;
        return 0;
}

int cg_peak_open_reset(const struct cg_tree *t)
{
        int fd = openat(t->server_fd, "memory.peak", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, "reset\n", 6) != 6) {
                int e = errno ? errno : EIO;
                close(fd);
                return -e;
        }
        return fd;
}

int cg_peak_read(int peak_fd, uint64_t *ret)
{
        char buf[64];
        ssize_t n = pread(peak_fd, buf, sizeof buf - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return cg_parse_u64_or_max(buf, ret);
}

int cg_populated(const struct cg_tree *t)
{
        return leaf_populated(t->server_fd);
}

int cg_kill_server(const struct cg_tree *t)
{
        if (t->server_fd < 0)
                return 0;
        if (leaf_populated(t->server_fd) == 0)
                return 0;
        return kill_leaf(t->server_fd);
}

int cg_teardown(struct cg_tree *t, uint64_t timeout_usec, char why[CG_WHY_MAX])
{
        int ret = 0, r;

        why[0] = '\0';
        if (t->server_fd >= 0) {
                (void)cg_kill_server(t);
                close(t->server_fd);
                t->server_fd = -1;
                r = remove_leaf(t->dir_fd, "server", timeout_usec);
                if (r < 0) {
                        snprintf(why, CG_WHY_MAX, "cannot remove %s/server: %s", t->path,
                                 strerror(-r));
                        ret = r;
                }
        }
        if (t->made_supervisor) {
                char buf[32];
                snprintf(buf, sizeof buf, "%d", (int)getpid());
                /* Back to DIR itself, so supervisor/ can go: the
                 * no-internal-process rule allows that only once DIR enables
                 * no controllers for children, so switch them off first. */
                (void)write_file_at(t->dir_fd, "cgroup.subtree_control", "-memory");
                (void)write_file_at(t->dir_fd, "cgroup.subtree_control", "-cpu");
                (void)write_file_at(t->dir_fd, "cgroup.subtree_control", "-pids");
                r = write_file_at(t->dir_fd, "cgroup.procs", buf);
                if (r >= 0)
                        r = remove_leaf(t->dir_fd, "supervisor", timeout_usec);
                if (r < 0 && ret == 0) {
                        snprintf(why, CG_WHY_MAX, "cannot remove %s/supervisor: %s", t->path,
                                 strerror(-r));
                        ret = r;
                }
                t->made_supervisor = false;
        }
        if (t->made_dir && ret == 0) {
                r = remove_leaf(AT_FDCWD, t->path, timeout_usec);
                if (r < 0) {
                        snprintf(why, CG_WHY_MAX, "cannot remove %s: %s", t->path, strerror(-r));
                        ret = r;
                }
                t->made_dir = false;
        }
        return ret;
}

void cg_close(struct cg_tree *t)
{
        if (t->server_fd >= 0)
                close(t->server_fd);
        if (t->dir_fd >= 0)
                close(t->dir_fd);
        free(t->path);
        *t = (struct cg_tree){.dir_fd = -1, .server_fd = -1};
}

/* The container subtree's decisions (container.h) as tables, and its I/O
 * on a fake cgroup root of regular files.  What the kernel itself does
 * (moving processes, enabling controllers, delegation) is proven in the VM
 * tier: tests/vm/scenarios/container-*.sh. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"
#include "container.h"
#include "fake.h"
#include "util.h"

static void test_assess(void)
{
        static const struct {
                struct container_situation s;
                enum container_state want;
        } t[] = {
            {{.have_mount = false}, CONTAINER_NO_CGROUP2},
            /* the machine's own namespace, even at its root: not a container */
            {{true, false, true, "/", "memory"}, CONTAINER_NOT_NAMESPACED},
            /* Docker's default: private namespace, read-only mount */
            {{true, true, false, "/", "cpu memory pids"}, CONTAINER_READ_ONLY},
            {{true, true, false, "/docker/abc", "cpu memory pids"}, CONTAINER_READ_ONLY},
            {{true, false, false, "/system.slice/docker-abc.scope", "memory"},
             CONTAINER_NOT_NAMESPACED},
            {{true, false, false, NULL, "memory"}, CONTAINER_NOT_NAMESPACED},
            /* a leaf that merely resembles ours, deeper down, is not the root */
            {{true, false, false, "/x/gopls-guard/init", "memory"}, CONTAINER_NOT_NAMESPACED},
            {{true, false, false, "/", "cpu pids"}, CONTAINER_NO_MEMORY},
            {{true, false, false, "/", "memoryx cpu"}, CONTAINER_NO_MEMORY},
            {{true, false, false, "/", NULL}, CONTAINER_NO_MEMORY},
            {{true, false, false, "/", "cpuset cpu io memory hugetlb pids rdma misc\n"},
             CONTAINER_PREPARE},
            /* prepared already (an init restarted in the same container) */
            {{true, false, false, "/gopls-guard/init", "memory"}, CONTAINER_PREPARE},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                enum container_state got = container_assess(&t[i].s);
                if (got != t[i].want)
                        fprintf(stderr, "case %zu:\n", i);
                CHECK_INT(got, t[i].want);
        }
}

static void test_hints(void)
{
        CHECK(container_hint(CONTAINER_PREPARE) == NULL);
        const char *ro = container_hint(CONTAINER_READ_ONLY);
        CHECK_CONTAINS(ro, "/sys/fs/cgroup is read-only");
        CHECK_CONTAINS(ro, "docker run --cgroupns=private --privileged");
        CHECK_CONTAINS(ro, "podman run --cgroupns=private --security-opt unmask=/sys/fs/cgroup");
        CHECK_CONTAINS(ro, "\"runArgs\": [\"--cgroupns=private\", \"--privileged\"]");
        CHECK_CONTAINS(ro, "ProtectControlGroups=yes");
        const char *ns = container_hint(CONTAINER_NOT_NAMESPACED);
        CHECK_CONTAINS(ns, "no cgroup namespace of its own");
        CHECK_CONTAINS(ns, "docker run --cgroupns=private");
        CHECK_CONTAINS(ns, "podman run --cgroupns=private");
        CHECK_CONTAINS(ns, "runArgs");
        CHECK_CONTAINS(container_hint(CONTAINER_NO_CGROUP2), "cgroup v2");
        CHECK_CONTAINS(container_hint(CONTAINER_NO_MEMORY), "memory controller");
        /* every hint fits the guard's reason buffer with room to spare */
        for (int st = CONTAINER_NO_CGROUP2; st <= CONTAINER_NO_MEMORY; st++)
                CHECK(strlen(container_hint((enum container_state)st)) < CG_WHY_MAX - 100);
}

static void test_controllers(void)
{
        static const struct {
                const char *avail, *want;
                int n;
        } t[] = {
            {"cpuset cpu io memory hugetlb pids rdma misc\n", "+memory +pids +cpu", 3},
            {"memory", "+memory", 1},
            {"io cpuset", "", 0},
            {"cpuset", "", 0}, /* "cpu" is not a prefix match */
            {"pids memory", "+memory +pids", 2},
            {"", "", 0},
        };
        char buf[64];
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                CHECK_INT(container_controllers(t[i].avail, buf, sizeof buf), t[i].n);
                CHECK_STR(buf, t[i].want);
        }
        CHECK_INT(container_controllers("memory pids cpu", buf, 8), -ENOBUFS);
}

static void test_mark(void)
{
        char buf[64];
        uid_t u = 7;
        CHECK_INT(container_mark_format(1000, buf, sizeof buf), 0);
        CHECK_STR(buf, "gopls-guard uid=1000");
        CHECK_INT(container_mark_parse(buf, &u), 0);
        CHECK_INT(u, 1000);
        CHECK_INT(container_mark_parse("gopls-guard uid=0", &u), 0);
        CHECK_INT(u, 0);
        static const char *const bad[] = {
            "",
            "gopls-guard",
            "gopls-guard uid=",
            "gopls-guard uid=x",
            "gopls-guard uid=-1",
            "gopls-guard uid=12 ",
            "gopls-guard uid=007",
            "gopls-guard uid=4294967295",
            "other uid=1",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                u = 7;
                CHECK_INT(container_mark_parse(bad[i], &u), -EINVAL);
                CHECK_INT(u, 7); /* untouched on failure */
        }
        CHECK_INT(container_mark_format(1000, buf, 8), -ENOBUFS);
}

static void test_path_inside(void)
{
        CHECK(container_path_inside("/gopls-guard"));
        CHECK(container_path_inside("/gopls-guard/init"));
        CHECK(container_path_inside("/gopls-guard/guard-12/server"));
        CHECK(!container_path_inside("/"));
        CHECK(!container_path_inside("/init"));
        CHECK(!container_path_inside("/gopls-guardx/init"));
        CHECK(!container_path_inside("/x/gopls-guard"));
        CHECK(!container_path_inside(NULL));
}

/* A fake namespace root: the files container_prepare() writes, an empty
 * cgroup.procs (nothing to move: moving needs the kernel). */
static char *fake_root(void)
{
        char *d = fake_dir();
        if (!d)
                return NULL;
        fake_write(d, "cgroup.procs", "");
        fake_write(d, "cgroup.controllers", "cpuset cpu io memory pids\n");
        fake_write(d, "cgroup.subtree_control", "");
        fake_mkdir(d, "gopls-guard");
        fake_write(d, "gopls-guard/cgroup.procs", "");
        fake_write(d, "gopls-guard/cgroup.subtree_control", "");
        fake_write(d, "gopls-guard/cgroup.threads", "");
        fake_mkdir(d, "gopls-guard/init");
        fake_write(d, "gopls-guard/init/cgroup.procs", "");
        return d;
}

static bool have_user_xattrs(const char *dir)
{
        int r = setxattr(dir, "user.gopls-guard-test", "1", 1, 0);
        if (r == 0)
                removexattr(dir, "user.gopls-guard-test");
        return r == 0;
}

static uid_t owner(const char *dir, const char *name)
{
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, name);
        return stat(p, &st) == 0 ? st.st_uid : (uid_t)-2;
}

static void test_prepare_and_find(void)
{
        char *d = fake_root();
        char why[CONTAINER_WHY_MAX], path[1024];
        char *dir = NULL;
        uid_t me = geteuid();

        CHECK(d != NULL);
        if (!d)
                return;
        if (!have_user_xattrs(d)) {
                printf("test_prepare_and_find: skipped, %s has no user xattrs\n", d);
                fake_rm_rf(d);
                free(d);
                return;
        }
        /* nothing prepared yet: not found, and the reason says so */
        CHECK_INT(container_find(d, "/gopls-guard/init", me, &dir, why), 0);
        CHECK_CONTAINS(why, "no container subtree was prepared by gopls-guard init");
        char qwhy[CONTAINER_WHY_MAX] = "x";
        CHECK_INT(container_find_quiet(d, "/gopls-guard/init", me, &dir, qwhy), 0);
        CHECK_STR(qwhy, ""); /* and the quiet one says nothing */
        char lwhy[CONTAINER_WHY_MAX] = "x";
        CHECK_INT(container_guard_leaf(d, "/gopls-guard/init", me, 99, &dir, lwhy), 0);
        CHECK_STR(lwhy, ""); /* nothing prepared: the guard keeps its own message */

        CHECK_INT(container_prepare(d, me, (gid_t)-1, why), 0);
        CHECK_STR(why, "");
        snprintf(path, sizeof path, "%s/cgroup.subtree_control", d);
        char *t = NULL;
        CHECK(read_file_at(AT_FDCWD, path, &t, 100) >= 0);
        CHECK_STR(t, "+memory +pids +cpu");
        free(t);
        t = NULL;
        snprintf(path, sizeof path, "%s/gopls-guard/cgroup.subtree_control", d);
        CHECK(read_file_at(AT_FDCWD, path, &t, 100) >= 0);
        CHECK_STR(t, "+memory +pids +cpu");
        free(t);
        CHECK_INT(owner(d, "gopls-guard/cgroup.procs"), me);
        char v[64];
        ssize_t n = getxattr(d, CONTAINER_MARK_XATTR, v, sizeof v - 1);
        CHECK(n > 0);
        if (n > 0) {
                v[n] = '\0';
                char want[64];
                snprintf(want, sizeof want, "gopls-guard uid=%u", (unsigned)me);
                CHECK_STR(v, want);
        }

        if (me == 0) {
                /* root's own fixture: the root is root's, so the mark counts */
                CHECK_INT(container_find(d, "/gopls-guard/init", 0, &dir, why), 1);
                snprintf(path, sizeof path, "%s/gopls-guard", d);
                CHECK_STR(dir, path);
                free(dir);
                dir = NULL;
                /* a guard outside the subtree: the kernel would refuse the move */
                CHECK_INT(container_find(d, "/elsewhere", 0, &dir, why), 0);
                CHECK_CONTAINS(why, "outside the container subtree");
                CHECK_CONTAINS(why, "common ancestor");
                /* once prepared, the quiet one says why as well */
                CHECK_INT(container_find_quiet(d, "/elsewhere", 0, &dir, why), 0);
                CHECK_CONTAINS(why, "outside the container subtree");
                /* prepared for someone else */
                CHECK_INT(container_find(d, "/gopls-guard/init", 1000, &dir, why), 0);
                CHECK_CONTAINS(why, "prepared for uid 0, and this guard runs as uid 1000");
                /* the leaf: made, marked, its path returned */
                char *leaf = NULL;
                CHECK_INT(container_guard_leaf(d, "/gopls-guard/init", 0, 4242, &leaf, why), 1);
                snprintf(path, sizeof path, "%s/gopls-guard/guard-4242", d);
                CHECK_STR(leaf, path);
                int fd = open(path, O_RDONLY | O_DIRECTORY);
                CHECK(fd >= 0 && cg_is_marked(fd) == 1);
                if (fd >= 0)
                        close(fd);
                free(leaf);
                leaf = NULL;
                /* the same pid again (a dead guard's leaf, marked): taken over */
                snprintf(path, sizeof path, "%s/gopls-guard", d);
                CHECK_INT(container_make_leaf(path, 4242, &leaf, why), 0);
                free(leaf);
                leaf = NULL;
                /* an unmarked one of the same name is not ours */
                fake_mkdir(d, "gopls-guard/guard-4243");
                CHECK_INT(container_make_leaf(path, 4243, &leaf, why), -EEXIST);
                CHECK_CONTAINS(why, "was not made by gopls-guard");
                CHECK(leaf == NULL);
                /* a root others may write: anybody could have set the mark */
                chmod(d, 0777);
                CHECK_INT(container_find(d, "/gopls-guard/init", 0, &dir, why), 0);
                CHECK_CONTAINS(why, "is not trusted");
                chmod(d, 0755);
                /* a malformed mark */
                setxattr(d, CONTAINER_MARK_XATTR, "gopls-guard uid=x", 17, 0);
                CHECK_INT(container_find(d, "/gopls-guard/init", 0, &dir, why), 0);
                CHECK_CONTAINS(why, "is malformed");
        } else {
                /* a fixture owned by a user: the mark is not root's */
                CHECK_INT(container_find(d, "/gopls-guard/init", me, &dir, why), 0);
                CHECK_CONTAINS(why, "is not trusted");
        }
        fake_rm_rf(d);
        free(d);
}

/* Delegation is checked on the subtree's files: one not chowned to the
 * user means the kernel would refuse the user's moves. */
static void test_find_not_delegated(void)
{
        if (geteuid() != 0) {
                printf("test_find_not_delegated: skipped, needs root to chown the fixture\n");
                return;
        }
        char *d = fake_root();
        char why[CONTAINER_WHY_MAX];
        char *dir = NULL;
        CHECK(d != NULL);
        if (!d || !have_user_xattrs(d)) {
                free(d);
                return;
        }
        CHECK_INT(container_prepare(d, 1000, 1000, why), 0);
        CHECK_INT(container_find(d, "/gopls-guard/init", 1000, &dir, why), 1);
        free(dir);
        dir = NULL;
        char p[1024];
        snprintf(p, sizeof p, "%s/gopls-guard/cgroup.subtree_control", d);
        CHECK(chown(p, 0, 0) == 0);
        CHECK_INT(container_find(d, "/gopls-guard/init", 1000, &dir, why), 0);
        CHECK_CONTAINS(why, "cgroup.subtree_control is owned by uid 0");
        fake_rm_rf(d);
        free(d);
}

static void test_prepare_errors(void)
{
        char why[CONTAINER_WHY_MAX];
        CHECK_INT(container_prepare("/nonexistent/cgroup", 0, 0, why), -ENOENT);
        CHECK_CONTAINS(why, "cannot open /nonexistent/cgroup");
        /* a root without cgroup.controllers (not a cgroup at all) */
        char *d = fake_dir();
        CHECK(d != NULL);
        if (!d)
                return;
        fake_write(d, "cgroup.procs", "");
        fake_mkdir(d, "gopls-guard");
        fake_mkdir(d, "gopls-guard/init");
        CHECK_INT(container_prepare(d, 0, 0, why), -ENOENT);
        CHECK_CONTAINS(why, "cgroup.controllers");
        CHECK(container_mount_hint(d) == NULL); /* a writable mount: no hint */
        fake_rm_rf(d);
        free(d);
        CHECK(container_mount_hint("/nonexistent") == NULL);
        CHECK(container_mount_hint(NULL) == NULL);
}

/* Leaves of dead guards go; a live guard's (locked), an unmarked one, and
 * one with more than an empty marked server/ in it stay. */
static void test_sweep(void)
{
        char *d = fake_dir();
        char p[1024];
        CHECK(d != NULL);
        if (!d)
                return;
        if (!have_user_xattrs(d)) {
                printf("test_sweep: skipped, %s has no user xattrs\n", d);
                fake_rm_rf(d);
                free(d);
                return;
        }
        static const char *const dirs[] = {"guard-1", "guard-1/server", "guard-2", "guard-3",
                                           "guard-4", "guard-4/server", "guard-5", "other"};
        for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
                fake_mkdir(d, dirs[i]);
                snprintf(p, sizeof p, "%s/%s", d, dirs[i]);
                if (strcmp(dirs[i], "guard-3") != 0) /* guard-3: not ours */
                        setxattr(p, CG_MARK_XATTR, "gopls-guard pid 1", 17, 0);
        }
        fake_write(d, "guard-4/server/leftover", "x"); /* not empty: stays */
        snprintf(p, sizeof p, "%s/guard-2", d);
        int held = open(p, O_RDONLY | O_DIRECTORY);
        CHECK(held >= 0 && flock(held, LOCK_EX | LOCK_NB) == 0); /* a live guard */
        CHECK_INT(container_sweep(d, 5), 0);
        struct stat st;
        snprintf(p, sizeof p, "%s/guard-1", d);
        CHECK(stat(p, &st) < 0 && errno == ENOENT);
        static const char *const stay[] = {"guard-2", "guard-3", "guard-4/server", "guard-5",
                                           "other"};
        for (size_t i = 0; i < sizeof stay / sizeof stay[0]; i++) {
                snprintf(p, sizeof p, "%s/%s", d, stay[i]);
                if (stat(p, &st) < 0)
                        fprintf(stderr, "%s was removed\n", stay[i]);
                CHECK(stat(p, &st) == 0);
        }
        if (held >= 0)
                close(held);
        CHECK_INT(container_sweep("/nonexistent", 1), -ENOENT);
        fake_rm_rf(d);
        free(d);
}

int main(void)
{
        RUN(test_assess);
        RUN(test_hints);
        RUN(test_controllers);
        RUN(test_mark);
        RUN(test_path_inside);
        RUN(test_prepare_and_find);
        RUN(test_find_not_delegated);
        RUN(test_prepare_errors);
        RUN(test_sweep);
        return check_summary();
}

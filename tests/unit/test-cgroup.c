/* The cgroup module's parsers and readers, on fixed text and on a fake
 * leaf of regular files.  Writing limits and killing need a kernel: the
 * VM tier (tests/vm) covers those. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroup.h"
#include "check.h"
#include "fake.h"

static void test_kv(void)
{
        const char *cpu = "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\n"
                          "nr_throttled 3\nthrottled_usec 42\n";
        uint64_t v = 99;

        CHECK_INT(cg_parse_kv(cpu, "usage_usec", &v), 0);
        CHECK_U64(v, 1500);
        CHECK_INT(cg_parse_kv(cpu, "throttled_usec", &v), 0);
        CHECK_U64(v, 42);
        /* a key that is a prefix of another must not match it */
        CHECK_INT(cg_parse_kv(cpu, "usage", &v), -ENOENT);
        CHECK_INT(cg_parse_kv(cpu, "nr_throttled", &v), 0);
        CHECK_U64(v, 3);
        CHECK_INT(cg_parse_kv("a x\n", "a", &v), -EINVAL);
        CHECK_INT(cg_parse_kv("a 12x\n", "a", &v), -EINVAL);
        CHECK_INT(cg_parse_kv("", "a", &v), -ENOENT);
        CHECK_INT(cg_parse_kv("a 5", "a", &v), 0); /* no final newline */
        CHECK_U64(v, 5);
}

static void test_memory_events(void)
{
        struct cg_memory_events e;
        CHECK_INT(cg_parse_memory_events("low 0\nhigh 680\nmax 12\noom 2\noom_kill 2\n"
                                         "oom_group_kill 1\n",
                                         &e),
                  0);
        CHECK_U64(e.high, 680);
        CHECK_U64(e.max, 12);
        CHECK_U64(e.oom, 2);
        CHECK_U64(e.oom_kill, 2);
        CHECK_U64(e.oom_group_kill, 1);
        /* before 5.17 there is no oom_group_kill line */
        CHECK_INT(cg_parse_memory_events("low 0\nhigh 0\nmax 0\noom 0\noom_kill 4\n", &e), 0);
        CHECK_U64(e.oom_kill, 4);
        CHECK_U64(e.oom_group_kill, 0);
        CHECK_INT(cg_parse_memory_events("low 0\nhigh 0\n", &e), -ENOENT);
}

static void test_u64_or_max(void)
{
        uint64_t v;
        CHECK_INT(cg_parse_u64_or_max("max\n", &v), 0);
        CHECK_U64(v, POLICY_NO_LIMIT);
        CHECK_INT(cg_parse_u64_or_max("52428800\n", &v), 0);
        CHECK_U64(v, 52428800);
        CHECK_INT(cg_parse_u64_or_max("maximum\n", &v), -EINVAL);
        CHECK_INT(cg_parse_u64_or_max("-1\n", &v), -EINVAL);
}

static void test_read_sample_from_fake_leaf(void)
{
        char *dir = fake_dir();
        fake_write(dir, "memory.current", "1048576\n");
        fake_write(dir, "memory.peak", "2097152\n");
        fake_write(dir, "cpu.stat", "usage_usec 300\nuser_usec 200\nsystem_usec 100\n"
                                    "nr_periods 10\nnr_throttled 4\nthrottled_usec 77\n");
        fake_write(dir, "pids.current", "3\n");
        fake_write(dir, "memory.events", "low 0\nhigh 1\nmax 2\noom 3\noom_kill 3\n");
        fake_write(dir, "cgroup.events", "populated 1\nfrozen 0\n");

        struct cg_tree t = {.server_fd = open(dir, O_RDONLY | O_DIRECTORY), .has_pids = true};
        struct cg_sample s;
        struct cg_memory_events e;
        CHECK_INT(cg_read_sample(&t, &s), 0);
        CHECK_U64(s.memory_current, 1048576);
        CHECK_U64(s.memory_peak, 2097152);
        CHECK_U64(s.cpu_usage_usec, 300);
        CHECK_U64(s.cpu_throttled_usec, 77);
        CHECK_U64(s.cpu_nr_throttled, 4);
        CHECK_U64(s.pids_current, 3);
        CHECK_INT(cg_read_memory_events(&t, &e), 0);
        CHECK_U64(e.oom_kill, 3);
        CHECK_INT(cg_populated(&t), 1);
        fake_write(dir, "cgroup.events", "populated 0\nfrozen 0\n");
        CHECK_INT(cg_populated(&t), 0);

        /* a kernel before 5.19 has no memory.peak: peak reads as 0 */
        char path[1100];
        snprintf(path, sizeof path, "%s/memory.peak", dir);
        unlink(path);
        CHECK_INT(cg_read_sample(&t, &s), 0);
        CHECK_U64(s.memory_peak, 0);
        close(t.server_fd);
        fake_rm_rf(dir);
        free(dir);
}

static void test_pid_cgroup(void)
{
        char *proc = fake_dir();
        fake_mkdir(proc, "self");
        fake_write(proc, "self/cgroup",
                   "12:memory:/v1/path\n0::/user.slice/user-1000.slice/x.scope\n");
        fake_mkdir(proc, "42");
        fake_write(proc, "42/cgroup", "4:memory:/only-v1\n");
        char *path = NULL;
        CHECK_INT(cg_pid_cgroup(proc, 0, &path), 0);
        CHECK_STR(path, "/user.slice/user-1000.slice/x.scope");
        free(path);
        CHECK_INT(cg_pid_cgroup(proc, 42, &path), -ENOMEDIUM);
        CHECK_INT(cg_pid_cgroup(proc, 43, &path), -ENOENT);
        fake_rm_rf(proc);
        free(proc);
}

static void test_open_locks_out_a_second_guard(void)
{
        char *dir = fake_dir();
        struct cg_tree a, b;
        char why[CG_WHY_MAX];
        CHECK_INT(cg_open(dir, &a, why), 0);
        CHECK_INT(cg_open(dir, &b, why), -EBUSY);
        CHECK_CONTAINS(why, "in use by another gopls-guard");
        cg_close(&a);
        CHECK_INT(cg_open(dir, &b, why), 0);
        cg_close(&b);
        CHECK_INT(cg_open("/nonexistent/cgroup", &b, why), -ENOENT);
        CHECK_CONTAINS(why, "/nonexistent/cgroup");
        fake_rm_rf(dir);
        free(dir);
}

static void test_setup_refuses_without_memory_controller(void)
{
        char *dir = fake_dir();
        struct cg_tree t;
        struct policy p = {0};
        char why[CG_WHY_MAX], warn[CG_WHY_MAX];
        fake_write(dir, "cgroup.controllers", "cpu pids\n");
        fake_write(dir, "cgroup.subtree_control", "");
        CHECK_INT(cg_open(dir, &t, why), 0);
        CHECK_INT(cg_setup(&t, &p, false, why, warn), -ENOMEDIUM);
        CHECK_CONTAINS(why, "memory controller is not available");
        CHECK_CONTAINS(why, dir);
        cg_close(&t);
        fake_rm_rf(dir);
        free(dir);
}

/* Whether the scratch filesystem takes user xattrs (ext4 and tmpfs on
 * 6.6+ do); the mark tests need them. */
static bool user_xattrs_work(const char *dir)
{
        if (setxattr(dir, "user.probe", "1", 1, 0) < 0)
                return false;
        (void)removexattr(dir, "user.probe");
        return true;
}

static void test_delegation_from_marks_not_access(void)
{
        char *dir = fake_dir();
        char why[CG_WHY_MAX] = "";
        fake_write(dir, "cgroup.procs", "");
        fake_write(dir, "cgroup.subtree_control", "");

        /* Writable by us (root, or the owner) but unmarked: not delegated. */
        CHECK(access(dir, W_OK) == 0);
        CHECK_INT(cg_is_delegated(dir, 0, why), 0);
        CHECK_CONTAINS(why, "no delegation mark");
        CHECK_CONTAINS(why, dir);
        /* The files are ours (the test's euid): a non-root owner counts,
         * root does not. */
        if (geteuid() != 0)
                CHECK_INT(cg_is_delegated(dir, geteuid(), why), 1);
        CHECK_INT(cg_is_delegated(dir, geteuid() + 1, why), 0);
        CHECK_CONTAINS(why, "is owned by uid");

        if (user_xattrs_work(dir)) {
                CHECK(setxattr(dir, "user.delegate", "1", 1, 0) == 0);
                CHECK_INT(cg_is_delegated(dir, 0, why), 1);
                CHECK(setxattr(dir, "user.delegate", "0", 1, 0) == 0);
                CHECK_INT(cg_is_delegated(dir, 0, why), 0);
        } else {
                fprintf(stderr, "note: %s takes no user xattrs; marks not tested\n", dir);
        }
        fake_rm_rf(dir);
        free(dir);
}

static void test_foreign_server_left_alone(void)
{
        char *dir = fake_dir();
        struct cg_tree t;
        struct policy p = {.memory = {.high = POLICY_NO_LIMIT, .max = POLICY_NO_LIMIT}};
        char why[CG_WHY_MAX], warn[CG_WHY_MAX], path[1100];

        if (!user_xattrs_work(dir)) {
                fprintf(stderr, "skip: %s takes no user xattrs\n", dir);
                fake_rm_rf(dir);
                free(dir);
                return;
        }
        fake_write(dir, "cgroup.controllers", "memory\n");
        fake_write(dir, "cgroup.subtree_control", "");
        fake_mkdir(dir, "server"); /* someone else's */
        fake_write(dir, "server/cgroup.events", "populated 1\n");

        CHECK_INT(cg_open(dir, &t, why), 0);
        CHECK_INT(cg_setup(&t, &p, false, why, warn), -EEXIST);
        CHECK_CONTAINS(why, "server exists and was not created by gopls-guard");
        CHECK_CONTAINS(why, dir);
        CHECK_INT(cg_teardown(&t, 0, why), 0);
        cg_close(&t);
        snprintf(path, sizeof path, "%s/server/cgroup.events", dir);
        CHECK(access(path, F_OK) == 0); /* untouched */

        /* A marked one is a dead guard's leftover: removed, and the new
         * server/ carries the mark (the fake leaf then lacks memory.max). */
        snprintf(path, sizeof path, "%s/server/cgroup.events", dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/server", dir);
        int fd = open(path, O_RDONLY | O_DIRECTORY);
        CHECK_INT(cg_is_marked(fd), 0);
        CHECK_INT(cg_mark(fd), 0);
        CHECK_INT(cg_is_marked(fd), 1);
        close(fd);
        CHECK_INT(cg_open(dir, &t, why), 0);
        CHECK_INT(cg_setup(&t, &p, false, why, warn), -ENOENT);
        CHECK_CONTAINS(why, "memory.max");
        CHECK(t.server_fd >= 0);
        CHECK_INT(cg_is_marked(t.server_fd), 1);
        CHECK_INT(cg_teardown(&t, 0, why), 0);
        cg_close(&t);
        CHECK(access(path, F_OK) < 0); /* ours, so removed */

        /* A mark written by something else is no mark. */
        fake_mkdir(dir, "server");
        CHECK(setxattr(path, CG_MARK_XATTR, "someone", 7, 0) == 0);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        CHECK_INT(cg_is_marked(fd), 0);
        close(fd);

        /* Unmarked but empty (no process, no cgroup below): what a guard
         * killed between creating server/ and marking it leaves.  Nothing in
         * it is anyone's, so it is marked and taken rather than refused. */
        fake_rm_rf(path);
        fake_mkdir(dir, "server");
        fake_write(dir, "server/cgroup.events", "populated 0\n");
        fake_write(dir, "server/cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n");
        CHECK_INT(cg_open(dir, &t, why), 0);
        /* Taken as a leftover: marked, then removed (which a fake directory
         * holding files refuses, as cgroupfs would not). */
        CHECK_INT(cg_setup(&t, &p, false, why, warn), -ENOTEMPTY);
        CHECK_CONTAINS(why, "cannot remove the leftover leaf");
        CHECK_INT(cg_teardown(&t, 0, why), 0);
        cg_close(&t);
        fd = open(path, O_RDONLY | O_DIRECTORY);
        CHECK_INT(cg_is_marked(fd), 1);
        close(fd);
        fake_rm_rf(path);

        /* ...but one with a cgroup below it is still someone else's. */
        fake_mkdir(dir, "server");
        fake_write(dir, "server/cgroup.events", "populated 0\n");
        fake_write(dir, "server/cgroup.stat", "nr_descendants 1\nnr_dying_descendants 0\n");
        CHECK_INT(cg_open(dir, &t, why), 0);
        CHECK_INT(cg_setup(&t, &p, false, why, warn), -EEXIST);
        CHECK_CONTAINS(why, "server exists and was not created by gopls-guard");
        CHECK_INT(cg_teardown(&t, 0, why), 0);
        cg_close(&t);
        fake_rm_rf(dir);
        free(dir);
}

/* The generation's peak: a memory.peak that takes the reset write is read
 * through that same fd; one that does not exist (or, on 6.1, takes no
 * write) gives an error and the caller samples instead. */
static void test_peak_reset(void)
{
        char *dir = fake_dir();
        struct cg_tree t = {.server_fd = open(dir, O_RDONLY | O_DIRECTORY)};
        uint64_t v = 0;

        CHECK_INT(cg_peak_open_reset(&t), -ENOENT);
        fake_write(dir, "memory.peak", "999999\n");
        int fd = cg_peak_open_reset(&t);
        CHECK(fd >= 0);
        fake_write(dir, "memory.peak", "4096\n"); /* what the kernel shows after the reset */
        CHECK_INT(cg_peak_read(fd, &v), 0);
        CHECK_U64(v, 4096);
        fake_write(dir, "memory.peak", "8192\n");
        CHECK_INT(cg_peak_read(fd, &v), 0); /* re-read from the start each time */
        CHECK_U64(v, 8192);
        close(fd);
        close(t.server_fd);
        fake_rm_rf(dir);
        free(dir);
}

int main(void)
{
        RUN(test_kv);
        RUN(test_memory_events);
        RUN(test_u64_or_max);
        RUN(test_read_sample_from_fake_leaf);
        RUN(test_pid_cgroup);
        RUN(test_open_locks_out_a_second_guard);
        RUN(test_setup_refuses_without_memory_controller);
        RUN(test_delegation_from_marks_not_access);
        RUN(test_foreign_server_left_alone);
        RUN(test_peak_reset);
        return check_summary();
}

/* The degraded mode's process-tree accounting, on a fake /proc. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "policy.h"
#include "procfs.h"
#include "util.h"

static void add_proc_state(const char *root, int pid, int ppid, char state,
                           unsigned long resident_pages)
{
        char name[64], text[256];
        snprintf(name, sizeof name, "%d", pid);
        fake_mkdir(root, name);
        snprintf(name, sizeof name, "%d/stat", pid);
        /* a command name with spaces and a ')' of its own */
        snprintf(text, sizeof text,
                 "%d (go list) x) %c %d %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %d 1000 "
                 "%lu\n",
                 pid, state, ppid, pid, pid, 7000 + pid, resident_pages);
        fake_write(root, name, text);
        snprintf(name, sizeof name, "%d/statm", pid);
        snprintf(text, sizeof text, "1000 %lu 0 0 0 0 0\n", resident_pages);
        fake_write(root, name, text);
}

static void add_proc(const char *root, int pid, int ppid, unsigned long resident_pages)
{
        add_proc_state(root, pid, ppid, 'S', resident_pages);
}

static void test_parse_stat(void)
{
        pid_t pid, ppid;
        CHECK_INT(proc_parse_stat_ppid("123 (gopls) S 45 123 0", &pid, &ppid), 0);
        CHECK_INT(pid, 123);
        CHECK_INT(ppid, 45);
        CHECK_INT(proc_parse_stat_ppid("7 (a) b) c) R 1 7", &pid, &ppid), 0);
        CHECK_INT(ppid, 1);
        CHECK_INT(proc_parse_stat_ppid("garbage", &pid, &ppid), -EINVAL);
        CHECK_INT(proc_parse_stat_ppid("9 (x) S", &pid, &ppid), -EINVAL);

        /* A line as the kernel writes it: the start time is field 22. */
        struct proc_stat st;
        CHECK_INT(proc_parse_stat("4242 (go (list)) Z 17 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 "
                                  "20 0 1 0 987654321 1000 50 18446744073709551615 1 1 0 0 0",
                                  &st),
                  0);
        CHECK_INT(st.pid, 4242);
        CHECK_INT(st.ppid, 17);
        CHECK_INT(st.state, 'Z');
        CHECK_U64(st.starttime, 987654321ULL);
        CHECK_U64(st.cpu_ticks, 5 + 3); /* utime + stime, no children reaped */
        CHECK_INT(proc_parse_stat("1 (x) S 0 1 1 0 -1 0 0 0 0 0 40 2 7 1 20 0 1 0 5", &st), 0);
        CHECK_U64(st.cpu_ticks, 40 + 2 + 7 + 1);
}

static void test_tree_rss(void)
{
        char *root = fake_dir();
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), bytes = 0;
        unsigned count = 0;

        add_proc(root, 100, 1, 10);   /* the server */
        add_proc(root, 101, 100, 20); /* its go list */
        add_proc(root, 102, 101, 5);  /* a grandchild */
        add_proc(root, 200, 1, 1000); /* unrelated */
        add_proc(root, 201, 200, 1000);
        fake_mkdir(root, "self"); /* non-numeric entries are skipped */

        CHECK_INT(proc_tree_rss(root, 100, &bytes, &count), 0);
        CHECK_U64(bytes, 35 * page);
        CHECK_INT(count, 3);
        CHECK_INT(proc_tree_rss(root, 101, &bytes, &count), 0);
        CHECK_U64(bytes, 25 * page);
        CHECK_INT(proc_tree_rss(root, 999, &bytes, &count), -ESRCH);
        fake_rm_rf(root);
        free(root);
}

/* The degraded mode's tree is every descendant of the guard (a subreaper):
 * a double-forked process reparented to the guard is in it, as is what
 * the server started; a zombie is not counted. */
static void test_descendants_include_orphans(void)
{
        char *root = fake_dir();
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        struct proc_tree t;

        add_proc(root, 50, 1, 7);              /* the guard */
        add_proc(root, 100, 50, 10);           /* the server */
        add_proc(root, 101, 100, 20);          /* its go list */
        add_proc(root, 102, 50, 300);          /* a double-forked hog, now the guard's */
        add_proc(root, 103, 102, 4);           /* and its child */
        add_proc_state(root, 104, 50, 'Z', 0); /* an exited one, not reaped yet */
        add_proc(root, 200, 1, 1000);          /* unrelated */

        CHECK_INT(proc_descendants(root, 50, 0, &t), 0);
        CHECK_INT(t.n, 4);
        CHECK_U64(t.rss, (10 + 20 + 300 + 4) * page);
        /* 8 ticks each (utime 5, stime 3), for the four live ones */
        CHECK_U64(t.cpu_usec, 4 * 8 * (USEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK)));
        bool seen_orphan = false;
        for (size_t i = 0; i < t.n; i++) {
                CHECK(t.procs[i].pid != 50 && t.procs[i].pid != 104 && t.procs[i].pid != 200);
                if (t.procs[i].pid == 102) {
                        seen_orphan = true;
                        CHECK_U64(t.procs[i].starttime, 7102);
                }
        }
        CHECK(seen_orphan);
        proc_tree_free(&t);

        /* The guard's sentinel (here 102) and what is below it are not the
         * server's: neither counted nor killed. */
        CHECK_INT(proc_descendants(root, 50, 102, &t), 0);
        CHECK_INT(t.n, 2);
        CHECK_U64(t.rss, (10 + 20) * page);
        for (size_t i = 0; i < t.n; i++)
                CHECK(t.procs[i].pid == 100 || t.procs[i].pid == 101);
        proc_tree_free(&t);

        /* No descendants is an empty tree, not an error. */
        CHECK_INT(proc_descendants(root, 200, 0, &t), 0);
        CHECK_INT(t.n, 0);
        proc_tree_free(&t);
        char missing[1100];
        snprintf(missing, sizeof missing, "%s/missing", root);
        CHECK_INT(proc_descendants(missing, 50, 0, &t), -ENOENT);
        fake_rm_rf(root);
        free(root);
}

/* On the real /proc, with processes this test starts: as a subreaper it
 * adopts a double-forked grandchild, and the kill reaches it. */
static void test_kill_descendants_real(void)
{
        int p[2];
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0 || pipe(p) < 0) {
                fprintf(stderr, "skip: no subreaper or pipe\n");
                return;
        }
        pid_t child = fork();
        if (child == 0) {
                pid_t g = fork();
                if (g == 0) {
                        setsid();
                        pid_t me = getpid();
                        if (write(p[1], &me, sizeof me) != sizeof me)
                                _exit(1);
                        for (;;)
                                pause();
                }
                _exit(0);
        }
        pid_t orphan = 0;
        CHECK(read(p[0], &orphan, sizeof orphan) == sizeof orphan);
        (void)waitpid(child, NULL, 0);
        close(p[0]);
        close(p[1]);
        CHECK(orphan > 0);
        if (orphan <= 0)
                return;

        struct proc_tree t;
        CHECK_INT(proc_descendants("/proc", getpid(), 0, &t), 0);
        bool found = false;
        for (size_t i = 0; i < t.n; i++)
                found = found || t.procs[i].pid == orphan;
        CHECK(found);
        proc_tree_free(&t);

        CHECK(proc_kill_descendants("/proc", getpid(), 0, 100) >= 1);
        int st = 0;
        CHECK_INT(waitpid(orphan, &st, 0), orphan); /* ours to reap: we are its subreaper */
        CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        CHECK_INT(proc_descendants("/proc", getpid(), 0, &t), 0);
        CHECK_INT(t.n, 0);
        proc_tree_free(&t);
        (void)prctl(PR_SET_CHILD_SUBREAPER, 0);
}

/* A process is signalled only while it is the one that started at the
 * given time: a status file's pid may have been reused since. */
static void test_signal_verified_real(void)
{
        pid_t child = fork();
        if (child == 0) {
                for (;;)
                        pause();
        }
        CHECK(child > 0);
        if (child <= 0)
                return;
        char path[64];
        _cleanup_free_ char *line = NULL;
        struct proc_stat st = {0};
        snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
        CHECK(read_file_at(AT_FDCWD, path, &line, 4096) >= 0);
        CHECK_INT(line ? proc_parse_stat(line, &st) : -1, 0);

        /* Another start time: "another process", not signalled. */
        CHECK_INT(proc_signal_verified("/proc", child, st.starttime + 1, SIGTERM), -ESRCH);
        CHECK_INT(proc_signal_verified("/proc", child, st.starttime, 0), 0);
        CHECK_INT(proc_signal_verified("/proc", child, st.starttime, SIGTERM), 0);
        int ws = 0;
        CHECK_INT(waitpid(child, &ws, 0), child);
        CHECK(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGTERM);
        /* Gone (reaped): -ESRCH, whatever the start time. */
        CHECK_INT(proc_signal_verified("/proc", child, st.starttime, SIGTERM), -ESRCH);
        CHECK_INT(proc_signal_verified("/proc", 0, 0, SIGTERM), -ESRCH);
        /* init is not ours: EPERM unless this runs as root. */
        if (geteuid() != 0) {
                snprintf(path, sizeof path, "/proc/1/stat");
                free(line);
                line = NULL;
                if (read_file_at(AT_FDCWD, path, &line, 4096) >= 0 &&
                    proc_parse_stat(line, &st) == 0)
                        CHECK_INT(proc_signal_verified("/proc", 1, st.starttime, 0), -EPERM);
        }
}

int main(void)
{
        RUN(test_parse_stat);
        RUN(test_tree_rss);
        RUN(test_descendants_include_orphans);
        RUN(test_kill_descendants_real);
        RUN(test_signal_verified_real);
        return check_summary();
}

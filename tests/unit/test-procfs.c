/* The degraded mode's process-tree accounting, on a fake /proc. */
#include <errno.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "procfs.h"

static void add_proc(const char *root, int pid, int ppid, unsigned long resident_pages)
{
        char name[64], text[256];
        snprintf(name, sizeof name, "%d", pid);
        fake_mkdir(root, name);
        snprintf(name, sizeof name, "%d/stat", pid);
        /* a command name with spaces and a ')' of its own */
        snprintf(text, sizeof text, "%d (go list) x) S %d %d 0 0\n", pid, ppid, pid);
        fake_write(root, name, text);
        snprintf(name, sizeof name, "%d/statm", pid);
        snprintf(text, sizeof text, "1000 %lu 0 0 0 0 0\n", resident_pages);
        fake_write(root, name, text);
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

int main(void)
{
        RUN(test_parse_stat);
        RUN(test_tree_rss);
        return check_summary();
}

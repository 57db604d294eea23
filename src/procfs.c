#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int proc_parse_stat_ppid(const char *line, pid_t *ret_pid, pid_t *ret_ppid)
{
        char *end;
        long pid = strtol(line, &end, 10);
        const char *close = strrchr(line, ')');
        char state;
        int ppid;

        if (end == line || pid <= 0 || !close)
                return -EINVAL;
        if (sscanf(close + 1, " %c %d", &state, &ppid) != 2)
                return -EINVAL;
        *ret_pid = (pid_t)pid;
        *ret_ppid = (pid_t)ppid;
        return 0;
}

struct pp {
        pid_t pid, ppid;
};

static int cmp_ppid(const void *a, const void *b)
{
        const struct pp *x = a, *y = b;
        return (x->ppid > y->ppid) - (x->ppid < y->ppid);
}

static uint64_t rss_of(const char *proc_root, pid_t pid)
{
        char path[256];
        _cleanup_free_ char *text = NULL;
        unsigned long size, resident;

        snprintf(path, sizeof path, "%s/%d/statm", proc_root, (int)pid);
        if (read_file_at(AT_FDCWD, path, &text, 4096) < 0)
                return 0;
        if (sscanf(text, "%lu %lu", &size, &resident) != 2)
                return 0;
        return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

int proc_tree_rss(const char *proc_root, pid_t root, uint64_t *ret_bytes, unsigned *ret_count)
{
        DIR *d = opendir(proc_root);
        struct pp *all = NULL;
        size_t n = 0, cap = 0;
        bool root_seen = false;
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[300];
                _cleanup_free_ char *line = NULL;
                struct pp e;

                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                snprintf(path, sizeof path, "%s/%s/stat", proc_root, de->d_name);
                if (read_file_at(AT_FDCWD, path, &line, 4096) < 0)
                        continue; /* gone meanwhile */
                if (proc_parse_stat_ppid(line, &e.pid, &e.ppid) < 0)
                        continue;
                if (e.pid == root)
                        root_seen = true;
                if (n == cap) {
                        cap = cap ? cap * 2 : 256;
                        struct pp *na = realloc(all, cap * sizeof *all);
                        if (!na) {
                                free(all);
                                closedir(d);
                                return -ENOMEM;
                        }
                        all = na;
                }
                all[n++] = e;
        }
        closedir(d);
        if (!root_seen) {
                free(all);
                return -ESRCH;
        }
        qsort(all, n, sizeof *all, cmp_ppid);

        /* Breadth-first over the children lists, found by binary search in
         * the ppid-sorted array. */
        pid_t *queue = malloc((n + 1) * sizeof *queue);
        if (!queue) {
                free(all);
                return -ENOMEM;
        }
        size_t head = 0, tail = 0;
        uint64_t bytes = 0;
        queue[tail++] = root;
        while (head < tail) {
                pid_t p = queue[head++];
                bytes += rss_of(proc_root, p);
                size_t lo = 0, hi = n;
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (all[mid].ppid < p)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (size_t i = lo; i < n && all[i].ppid == p && tail <= n; i++)
                        queue[tail++] = all[i].pid;
        }
        free(queue);
        free(all);
        *ret_bytes = bytes;
        *ret_count = (unsigned)tail;
        return 0;
}

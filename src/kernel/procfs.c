#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy.h" /* USEC_PER_SEC */
#include "util.h"

int proc_parse_stat(const char *line, struct proc_stat *ret)
{
        char *end;
        long pid = strtol(line, &end, 10);
        const char *close = strrchr(line, ')');
        char state;
        int ppid;
        unsigned long long start;

        if (end == line || pid <= 0 || !close)
                return -EINVAL;
        /* Fields after the name: 3 state, 4 ppid, ..., 22 starttime. */
        if (sscanf(close + 1,
                   " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                   "%*d %*d %*d %llu",
                   &state, &ppid, &start) < 2)
                return -EINVAL;
        if (sscanf(close + 1,
                   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                   "%*d %*d %*d %llu",
                   &start) != 1)
                start = 0; /* a short line (tests, or a kernel we do not know) */
        /* 14 utime, 15 stime (unsigned), 16 cutime, 17 cstime (signed in
         * the format, never negative in practice) */
        unsigned long long ut = 0, st = 0;
        long long cut = 0, cst = 0;
        if (sscanf(close + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %lld %lld",
                   &ut, &st, &cut, &cst) != 4)
                ut = st = 0, cut = cst = 0;
        *ret = (struct proc_stat){.pid = (pid_t)pid,
                                  .ppid = (pid_t)ppid,
                                  .state = state,
                                  .starttime = start,
                                  .cpu_ticks = ut + st + (cut > 0 ? (unsigned long long)cut : 0) +
                                               (cst > 0 ? (unsigned long long)cst : 0)};
        return 0;
}

int proc_parse_stat_ppid(const char *line, pid_t *ret_pid, pid_t *ret_ppid)
{
        struct proc_stat st;
        int r = proc_parse_stat(line, &st);
        if (r < 0)
                return r;
        *ret_pid = st.pid;
        *ret_ppid = st.ppid;
        return 0;
}

struct pp {
        pid_t pid, ppid;
        char state;
        unsigned long long starttime, cpu_ticks;
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

/* Every process PROC lists, sorted by ppid; whether `root` was among them. */
static int scan(const char *proc_root, pid_t root, struct pp **ret, size_t *ret_n,
                bool *ret_root_seen)
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
                struct proc_stat st;

                if (!isdigit((unsigned char)de->d_name[0]))
                        continue;
                snprintf(path, sizeof path, "%s/%s/stat", proc_root, de->d_name);
                if (read_file_at(AT_FDCWD, path, &line, 4096) < 0)
                        continue; /* gone meanwhile */
                if (proc_parse_stat(line, &st) < 0)
                        continue;
                if (st.pid == root)
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
                all[n++] = (struct pp){st.pid, st.ppid, st.state, st.starttime, st.cpu_ticks};
        }
        closedir(d);
        qsort(all, n, sizeof *all, cmp_ppid);
        *ret = all;
        *ret_n = n;
        *ret_root_seen = root_seen;
        return 0;
}

/* Breadth-first from `root` over the children lists, found by binary
 * search in the ppid-sorted array; calls `visit` for each descendant. */
static int walk(const struct pp *all, size_t n, pid_t root, pid_t skip,
                void (*visit)(const struct pp *e, void *userdata), void *userdata)
{
        pid_t *queue = malloc((n + 1) * sizeof *queue);
        if (!queue)
                return -ENOMEM;
        size_t head = 0, tail = 0;
        queue[tail++] = root;
        while (head < tail) {
                pid_t p = queue[head++];
                size_t lo = 0, hi = n;
                while (lo < hi) {
                        size_t mid = (lo + hi) / 2;
                        if (all[mid].ppid < p)
                                lo = mid + 1;
                        else
                                hi = mid;
                }
                for (size_t i = lo; i < n && all[i].ppid == p && tail <= n; i++) {
                        if (skip > 0 && all[i].pid == skip)
                                continue;
                        queue[tail++] = all[i].pid;
                        visit(&all[i], userdata);
                }
        }
        free(queue);
        return 0;
}

struct rss_acc {
        const char *proc_root;
        uint64_t bytes;
        unsigned count;
};

static void add_rss(const struct pp *e, void *userdata)
{
        struct rss_acc *a = userdata;
        a->bytes += rss_of(a->proc_root, e->pid);
        a->count++;
}

int proc_tree_rss(const char *proc_root, pid_t root, uint64_t *ret_bytes, unsigned *ret_count)
{
        struct pp *all = NULL;
        size_t n = 0;
        bool root_seen;
        int r = scan(proc_root, root, &all, &n, &root_seen);
        if (r < 0)
                return r;
        if (!root_seen) {
                free(all);
                return -ESRCH;
        }
        struct rss_acc a = {.proc_root = proc_root, .bytes = rss_of(proc_root, root), .count = 1};
        r = walk(all, n, root, 0, add_rss, &a);
        free(all);
        if (r < 0)
                return r;
        *ret_bytes = a.bytes;
        *ret_count = a.count;
        return 0;
}

struct list_acc {
        const char *proc_root;
        struct proc_tree *t;
        unsigned long long ticks;
};

static void add_entry(const struct pp *e, void *userdata)
{
        struct list_acc *a = userdata;
        /* A zombie holds no memory and cannot be killed again; its
         * children are still walked (they are live orphans-to-be). */
        if (e->state == 'Z' || e->state == 'X')
                return;
        a->t->procs[a->t->n++] = (struct proc_entry){e->pid, e->starttime};
        a->t->rss += rss_of(a->proc_root, e->pid);
        a->ticks += e->cpu_ticks;
}

int proc_descendants(const char *proc_root, pid_t root, pid_t skip, struct proc_tree *ret)
{
        struct pp *all = NULL;
        size_t n = 0;
        bool root_seen;
        int r = scan(proc_root, root, &all, &n, &root_seen);
        if (r < 0)
                return r;
        struct proc_tree t = {.procs = calloc(n + 1, sizeof *t.procs)};
        if (!t.procs) {
                free(all);
                return -ENOMEM;
        }
        struct list_acc a = {.proc_root = proc_root, .t = &t};
        r = walk(all, n, root, skip, add_entry, &a);
        free(all);
        if (r < 0) {
                free(t.procs);
                return r;
        }
        long hz = sysconf(_SC_CLK_TCK);
        t.cpu_usec = (uint64_t)a.ticks * (USEC_PER_SEC / (uint64_t)(hz > 0 ? hz : 100));
        *ret = t;
        return 0;
}

void proc_tree_free(struct proc_tree *t)
{
        free(t->procs);
        *t = (struct proc_tree){0};
}

/* SIGKILL one process through a pidfd, if PROC/PID/stat still shows the
 * same start time (the pid was not reused since the scan). */
static bool kill_one(const char *proc_root, const struct proc_entry *e)
{
        char path[300];
        _cleanup_free_ char *line = NULL;
        struct proc_stat st;
        bool done = false;

        int fd = (int)syscall(SYS_pidfd_open, e->pid, 0);
        if (fd < 0)
                return false;
        snprintf(path, sizeof path, "%s/%d/stat", proc_root, (int)e->pid);
        if (read_file_at(AT_FDCWD, path, &line, 4096) >= 0 && proc_parse_stat(line, &st) == 0 &&
            st.starttime == e->starttime)
                done = syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0) == 0;
        close(fd);
        return done;
}

int proc_starttime(const char *proc_root, pid_t pid, unsigned long long *ret)
{
        char path[300];
        _cleanup_free_ char *line = NULL;
        struct proc_stat st;

        snprintf(path, sizeof path, "%s/%d/stat", proc_root, (int)pid);
        int r = read_file_at(AT_FDCWD, path, &line, 4096);
        if (r < 0)
                return r;
        r = proc_parse_stat(line, &st);
        if (r < 0)
                return r;
        *ret = st.starttime;
        return 0;
}

int proc_signal_verified(const char *proc_root, pid_t pid, unsigned long long starttime, int sig)
{
        char path[300];
        _cleanup_free_ char *line = NULL;
        struct proc_stat st;
        int r;

        if (pid <= 0)
                return -ESRCH;
        _cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0)
                return -errno;
        snprintf(path, sizeof path, "%s/%d/stat", proc_root, (int)pid);
        r = read_file_at(AT_FDCWD, path, &line, 4096);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (proc_parse_stat(line, &st) < 0 || st.starttime != starttime)
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
                return -errno;
        return 0;
}

int proc_kill_descendants(const char *proc_root, pid_t root, pid_t skip, unsigned rounds)
{
        int signalled = 0;
        for (unsigned round = 0; round < rounds; round++) {
                struct proc_tree t;
                int r = proc_descendants(proc_root, root, skip, &t);
                if (r < 0)
                        return signalled ? signalled : r;
                size_t n = t.n;
                for (size_t i = 0; i < t.n; i++)
                        if (kill_one(proc_root, &t.procs[i]))
                                signalled++;
                proc_tree_free(&t);
                if (n == 0)
                        break;
                sleep_usec(10 * 1000);
        }
        return signalled;
}

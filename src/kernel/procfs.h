/* procfs.h — the server's process tree as /proc shows it, for the degraded
 * mode (no usable cgroup): its resident memory is polled and compared with
 * [memory] max, since no kernel limit protects the machine then, and the
 * tree is killed through it.
 *
 * The guard is a child subreaper (PR_SET_CHILD_SUBREAPER), so a process the
 * server double-forks away (a daemonizing `go list`, anything that calls
 * setsid) is reparented to the guard, not to init: "the server's tree" is
 * then every descendant of the guard but its sentinel (sentinel.h), which
 * these functions walk.
 *
 * `proc_root` is "/proc" outside tests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_stat {
        pid_t pid, ppid;
        char state;                   /* 'R', 'S', 'Z', ... */
        unsigned long long starttime; /* clock ticks after boot: with the pid, one process */
        /* utime + stime + cutime + cstime, clock ticks: the CPU it used,
         * with that of its children it has reaped */
        unsigned long long cpu_ticks;
};

struct proc_entry {
        pid_t pid;
        unsigned long long starttime;
};

struct proc_tree {
        struct proc_entry *procs; /* live descendants (zombies left out), malloc'd */
        size_t n;
        uint64_t rss; /* their resident bytes */
        /* their CPU time (struct proc_stat's cpu_ticks), usec: it goes
         * down when a process ends and is reaped outside the tree, so
         * users compare it for change, not for growth alone */
        uint64_t cpu_usec;
};

/* Resident bytes and process count of `root` and all its descendants.
 * -ESRCH if `root` is gone. */
int proc_tree_rss(const char *proc_root, pid_t root, uint64_t *ret_bytes, unsigned *ret_count);

/* Every live descendant of `root` (not `root` itself) with its resident
 * memory, except `skip` and its own descendants (0: none; the guard's
 * sentinel, which is the guard's and not the server's, sentinel.h).  0 or
 * a negative errno (PROC cannot be listed); an empty tree is not an error.
 * Free with proc_tree_free(). */
int proc_descendants(const char *proc_root, pid_t root, pid_t skip, struct proc_tree *ret);
void proc_tree_free(struct proc_tree *t);

/* SIGKILL every live descendant of `root` but `skip`'s subtree, in rounds
 * until none is left (a process forking meanwhile is caught by the next
 * round), at most `rounds` rounds 10 ms apart.  Each one is signalled
 * through a pidfd after checking its start time again, so a pid reused in
 * between is never hit.  Returns how many were signalled, or a negative errno. */
int proc_kill_descendants(const char *proc_root, pid_t root, pid_t skip, unsigned rounds);

/* Parse a /proc/PID/stat line; the command name may contain spaces and
 * parentheses, so the last ')' ends it.  -EINVAL if malformed. */
int proc_parse_stat(const char *line, struct proc_stat *ret);
/* PID's start time (struct proc_stat's starttime) from PROC/PID/stat. */
int proc_starttime(const char *proc_root, pid_t pid, unsigned long long *ret);

/* Send `sig` to PID only if it is still the process that started at
 * `starttime` (struct proc_stat's clock ticks): through a pidfd opened
 * before PROC/PID/stat is checked, so a pid reused by another process is
 * never signalled.  0, -ESRCH (gone, or the pid is another process's now),
 * -EPERM (not ours to signal), or another negative errno. */
int proc_signal_verified(const char *proc_root, pid_t pid, unsigned long long starttime, int sig);

/* The same, pid and ppid only. */
int proc_parse_stat_ppid(const char *line, pid_t *ret_pid, pid_t *ret_ppid);

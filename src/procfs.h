/* procfs.h — the server's process tree as /proc shows it, for the degraded
 * mode (no usable cgroup): its resident memory is polled and compared with
 * [memory] max, since no kernel limit protects the machine then.
 *
 * `proc_root` is "/proc" outside tests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Resident bytes and process count of `root` and all its descendants.
 * -ESRCH if `root` is gone. */
int proc_tree_rss(const char *proc_root, pid_t root, uint64_t *ret_bytes, unsigned *ret_count);

/* Parse the pid and ppid out of a /proc/PID/stat line; the command name
 * may contain spaces and parentheses, so the last ')' ends it. */
int proc_parse_stat_ppid(const char *line, pid_t *ret_pid, pid_t *ret_ppid);

/* openmetrics.h — `gopls-guard status --openmetrics`: the running guards
 * as OpenMetrics text (https://openmetrics.io, the text format 1.0.0) for
 * node_exporter's textfile collector or any scraper: one family per
 * figure, each with "# HELP" and "# TYPE" (and "# UNIT" for bytes and
 * seconds) once before its samples, one sample per guard labelled
 * workspace, user and pid, counters named *_total, limits that are not
 * set as +Inf, and "# EOF" as the last line.  Metric names:
 *
 *   gopls_guard_memory_{current,peak,high,max}_bytes   gauge
 *   gopls_guard_{restarts,oom_kills,proactive_restarts}_total  counter
 *   gopls_guard_cpu_usage_seconds_total, _cpu_throttled_seconds_total
 *   gopls_guard_degraded (0|1), gopls_guard_generation     gauge
 *
 * Pure formatting: the caller reads the status files. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct om_guard {
        const char *workspace; /* "" when unknown */
        const char *user;      /* the status file's owner: a name, or the uid */
        int pid;               /* the guard's */
        uint64_t memory_current, memory_peak;
        uint64_t memory_high, memory_max; /* UINT64_MAX: not set (+Inf) */
        uint64_t restarts, oom_kills, proactive_restarts;
        uint64_t cpu_usage_usec, cpu_throttled_usec;
        uint64_t generation;
        bool degraded;
};

/* Write every family for the `n` guards (none: the metadata alone, then
 * "# EOF").  Returns 0, or -EIO when the stream failed. */
int om_write(FILE *out, const struct om_guard *guards, size_t n);

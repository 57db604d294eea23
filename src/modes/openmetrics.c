#include "openmetrics.h"

#include <errno.h>
#include <inttypes.h>

enum om_kind { OM_GAUGE, OM_COUNTER };
enum om_value {
        V_MEM_CURRENT,
        V_MEM_PEAK,
        V_MEM_HIGH,
        V_MEM_MAX,
        V_RESTARTS,
        V_OOM_KILLS,
        V_PROACTIVE,
        V_CPU_USAGE,
        V_CPU_THROTTLED,
        V_DEGRADED,
        V_GENERATION
};

static const struct {
        const char *name; /* the family; counters' samples add _total */
        enum om_kind kind;
        const char *unit; /* NULL: none; else the name ends in _UNIT */
        enum om_value value;
        const char *help;
} families[] = {
    {"gopls_guard_memory_current_bytes", OM_GAUGE, "bytes", V_MEM_CURRENT,
     "Memory the language server's cgroup uses now (degraded: the RSS of its processes)."},
    {"gopls_guard_memory_peak_bytes", OM_GAUGE, "bytes", V_MEM_PEAK,
     "Peak memory of the current server generation."},
    {"gopls_guard_memory_high_bytes", OM_GAUGE, "bytes", V_MEM_HIGH,
     "memory.high of the server's cgroup ([memory] high); +Inf when not set."},
    {"gopls_guard_memory_max_bytes", OM_GAUGE, "bytes", V_MEM_MAX,
     "memory.max of the server's cgroup ([memory] max); +Inf when not set."},
    {"gopls_guard_restarts", OM_COUNTER, NULL, V_RESTARTS,
     "Restarts of the language server since the guard started."},
    {"gopls_guard_oom_kills", OM_COUNTER, NULL, V_OOM_KILLS,
     "Processes of the server's cgroup killed by the kernel's OOM killer."},
    {"gopls_guard_proactive_restarts", OM_COUNTER, NULL, V_PROACTIVE,
     "Restarts the guard made before the OOM killer would have ([pressure] proactive)."},
    {"gopls_guard_cpu_usage_seconds", OM_COUNTER, "seconds", V_CPU_USAGE,
     "CPU time used by the server's cgroup (cpu.stat usage_usec)."},
    {"gopls_guard_cpu_throttled_seconds", OM_COUNTER, "seconds", V_CPU_THROTTLED,
     "Time the server's cgroup was throttled by cpu.max (cpu.stat throttled_usec)."},
    {"gopls_guard_degraded", OM_GAUGE, NULL, V_DEGRADED,
     "1 when the guard runs without a cgroup (memory polled, not limited by the kernel)."},
    {"gopls_guard_generation", OM_GAUGE, NULL, V_GENERATION,
     "The server generation: 1 for the first start, one more for each restart."},
};

/* A label value: backslash, double quote and newline escaped. */
static void put_label(FILE *out, const char *name, const char *v)
{
        fprintf(out, "%s=\"", name);
        for (const char *p = v ? v : ""; *p; p++) {
                if (*p == '\\')
                        fputs("\\\\", out);
                else if (*p == '"')
                        fputs("\\\"", out);
                else if (*p == '\n')
                        fputs("\\n", out);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
}

static void put_value(FILE *out, const struct om_guard *g, enum om_value v)
{
        uint64_t x = 0;
        switch (v) {
        case V_MEM_CURRENT:
                x = g->memory_current;
                break;
        case V_MEM_PEAK:
                x = g->memory_peak;
                break;
        case V_MEM_HIGH:
                x = g->memory_high;
                break;
        case V_MEM_MAX:
                x = g->memory_max;
                break;
        case V_RESTARTS:
                x = g->restarts;
                break;
        case V_OOM_KILLS:
                x = g->oom_kills;
                break;
        case V_PROACTIVE:
                x = g->proactive_restarts;
                break;
        case V_CPU_USAGE:
        case V_CPU_THROTTLED: {
                uint64_t us = v == V_CPU_USAGE ? g->cpu_usage_usec : g->cpu_throttled_usec;
                /* Exact: whole seconds, then six decimals. */
                fprintf(out, "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
                return;
        }
        case V_DEGRADED:
                x = g->degraded;
                break;
        case V_GENERATION:
                x = g->generation;
                break;
        }
        if ((v == V_MEM_HIGH || v == V_MEM_MAX) && x == UINT64_MAX)
                fputs("+Inf", out);
        else
                fprintf(out, "%" PRIu64, x);
}

int om_write(FILE *out, const struct om_guard *guards, size_t n)
{
        for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
                fprintf(out, "# TYPE %s %s\n", families[f].name,
                        families[f].kind == OM_COUNTER ? "counter" : "gauge");
                if (families[f].unit)
                        fprintf(out, "# UNIT %s %s\n", families[f].name, families[f].unit);
                fprintf(out, "# HELP %s %s\n", families[f].name, families[f].help);
                for (size_t i = 0; i < n; i++) {
                        char pid[16];
                        snprintf(pid, sizeof pid, "%d", guards[i].pid);
                        fprintf(out, "%s%s{", families[f].name,
                                families[f].kind == OM_COUNTER ? "_total" : "");
                        put_label(out, "workspace", guards[i].workspace);
                        fputc(',', out);
                        put_label(out, "user", guards[i].user);
                        fputc(',', out);
                        put_label(out, "pid", pid);
                        fputs("} ", out);
                        put_value(out, &guards[i], families[f].value);
                        fputc('\n', out);
                }
        }
        fputs("# EOF\n", out);
        return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

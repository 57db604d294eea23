/* policy.c — loading, checking and printing the INI policy.
 *
 * inih does the INI syntax.  Debian's build has INI_HANDLER_LINENO off, so
 * the handler is not told the line; instead every file goes through
 * ini_parse_stream() with our own reader, which inih calls exactly once per
 * line and always before the handler for that line (verified with Debian's
 * r55), so the reader's line count is the handler's line.
 * Owning the reader also lets us reject what inih would silently mangle:
 * lines longer than its fixed buffer (inih would split them in two) and
 * indented lines (inih would take them as a continuation of the previous
 * value). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <ini.h>

#include "policy.h"
#include "util.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * KIB)
#define USEC_PER_MIN (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MIN)
#define USEC_PER_DAY (24 * USEC_PER_HOUR)

/* The kernel's cpu.weight when nobody wrote it (CGROUP_WEIGHT_DFL): what
 * cpu.weight = "" (0 in struct policy) is compared against a ceiling as. */
#define CPU_WEIGHT_KERNEL_DEFAULT 100

/* Must equal SV_MAX_RESTARTS_LIMIT (supervisor.h sizes its ring of restart
 * times by it); test-policy.c checks that they agree. */
#define MAX_RESTARTS_LIMIT 1000

/* PID_MAX_LIMIT on 64-bit kernels: pids.max above it means nothing. */
#define PIDS_MAX_LIMIT 4194304

/* The shortest wait before a restart (backoff_initial, backoff_max).  A
 * server that dies at once (bad flag, missing module, OOM at start-up)
 * would otherwise be restarted in a hot loop that burns a CPU and floods
 * the log until max_restarts runs out; 100 ms keeps that to ten starts a
 * second at worst and is still far below what an editor user notices. */
#define BACKOFF_FLOOR (100 * USEC_PER_MSEC)

/* A policy file is a few KiB; anything this large is the wrong file. */
#define POLICY_FILE_MAX (1024 * 1024)

/* [pressure] restart_above by default: a tenth of memory.max left to grow
 * into while the replacement starts. */
#define DEFAULT_RESTART_ABOVE_PERCENT 90

/* Default shares of physical memory for [memory] high and max. */
#define DEFAULT_HIGH "40%"
#define DEFAULT_MAX "50%"

enum value_type {
        VT_COMMAND,  /* one word, "..." quoting */
        VT_ARGS,     /* words, "..." quoting */
        VT_ENV,      /* NAME=VALUE, accumulates; "" clears */
        VT_MEMLIMIT, /* percent 0..100, "off" = 0 */
        VT_SIZE,     /* bytes */
        VT_COUNT,    /* plain integer */
        VT_CPU,      /* percent of one CPU */
        VT_DURATION, /* usec */
        VT_FACTOR,   /* decimal */
        VT_BOOL,
        VT_RESTART_ON,
        VT_LOG_TARGET,
        VT_LOG_LEVEL,
        VT_PSI,
        VT_PATH,  /* absolute path; "" = unset */
        VT_SLICE, /* a systemd slice unit name; "" = unset */
        VT_AFTER_GIVE_UP,
        VT_THRESHOLD, /* a size, or a % of [memory] max */
        VT_DIRS,      /* absolute paths, "..." quoting; "" = none */
        VT_USER,      /* a user name or a numeric uid; "" = unset */
};

struct key_info {
        const char *section;
        const char *name;
        const char *full; /* "section.name", for policy_key_name() and [limits] */
        enum value_type type;
        uint64_t min, max; /* numeric range, in the key's unit */
        bool unlimited;    /* "max"/"infinity" allowed (POLICY_NO_LIMIT) */
        bool empty;        /* "" allowed, meaning "not set" */
};

#define KEY(s, n, ...)                                                                             \
        {                                                                                          \
                .section = s, .name = n, .full = s "." n, __VA_ARGS__                              \
        }

static const struct key_info keys[PK__COUNT] = {
    [PK_SERVER_COMMAND] = KEY("server", "command", .type = VT_COMMAND),
    [PK_SERVER_ARGS] = KEY("server", "args", .type = VT_ARGS, .empty = true),
    [PK_SERVER_ENV] = KEY("server", "env", .type = VT_ENV, .empty = true),
    [PK_SERVER_GO_MEMLIMIT] = KEY("server", "go_memlimit", .type = VT_MEMLIMIT, .max = 100),
    [PK_MEMORY_HIGH] = KEY("memory", "high", .type = VT_SIZE, .min = MIB, .max = UINT64_MAX - 1,
                           .unlimited = true),
    [PK_MEMORY_MAX] =
        KEY("memory", "max", .type = VT_SIZE, .min = MIB, .max = UINT64_MAX - 1, .unlimited = true),
    [PK_MEMORY_SWAP_MAX] = KEY("memory", "swap_max", .type = VT_SIZE, .min = 0,
                               .max = UINT64_MAX - 1, .unlimited = true),
    [PK_MEMORY_OOM_GROUP] = KEY("memory", "oom_group", .type = VT_BOOL),
    [PK_CPU_WEIGHT] = KEY("cpu", "weight", .type = VT_COUNT, .min = 1, .max = 10000, .empty = true),
    /* 1024 CPUs' worth: cpu.max takes any quota, but more is a typo. */
    [PK_CPU_MAX] =
        KEY("cpu", "max", .type = VT_CPU, .min = 1, .max = 100 * 1024, .unlimited = true),
    [PK_CPU_SAMPLE_INTERVAL] = KEY("cpu", "sample_interval", .type = VT_DURATION,
                                   .min = 100 * USEC_PER_MSEC, .max = USEC_PER_HOUR),
    [PK_PIDS_MAX] =
        KEY("pids", "max", .type = VT_COUNT, .min = 1, .max = PIDS_MAX_LIMIT, .unlimited = true),
    [PK_RESTART_ON] = KEY("restart", "on", .type = VT_RESTART_ON),
    [PK_RESTART_BACKOFF_INITIAL] = KEY("restart", "backoff_initial", .type = VT_DURATION,
                                       .min = BACKOFF_FLOOR, .max = USEC_PER_DAY),
    [PK_RESTART_BACKOFF_FACTOR] = KEY("restart", "backoff_factor", .type = VT_FACTOR),
    [PK_RESTART_BACKOFF_MAX] = KEY("restart", "backoff_max", .type = VT_DURATION,
                                   .min = BACKOFF_FLOOR, .max = USEC_PER_DAY),
    [PK_RESTART_RESET_AFTER] =
        KEY("restart", "reset_after", .type = VT_DURATION, .max = USEC_PER_DAY),
    [PK_RESTART_MAX_RESTARTS] =
        KEY("restart", "max_restarts", .type = VT_COUNT, .max = MAX_RESTARTS_LIMIT),
    [PK_RESTART_WINDOW] = KEY("restart", "window", .type = VT_DURATION, .max = 7 * USEC_PER_DAY),
    [PK_RESTART_STOP_GRACE] =
        KEY("restart", "stop_grace", .type = VT_DURATION, .max = USEC_PER_DAY),
    [PK_RESTART_AFTER_GIVE_UP] = KEY("restart", "after_give_up", .type = VT_AFTER_GIVE_UP),
    /* At least a second: a shorter cooldown is a restart loop by another name. */
    [PK_RESTART_COOLDOWN] =
        KEY("restart", "cooldown", .type = VT_DURATION, .min = USEC_PER_SEC, .max = USEC_PER_DAY),
    [PK_PRESSURE_PROACTIVE] = KEY("pressure", "proactive", .type = VT_BOOL),
    [PK_PRESSURE_RESTART_ABOVE] = KEY("pressure", "restart_above", .type = VT_THRESHOLD),
    [PK_PRESSURE_ABOVE_FOR] =
        KEY("pressure", "above_for", .type = VT_DURATION, .max = USEC_PER_DAY),
    [PK_PRESSURE_PSI] = KEY("pressure", "psi", .type = VT_PSI),
    [PK_HEALTH_REQUEST_TIMEOUT] =
        KEY("health", "request_timeout", .type = VT_DURATION, .max = USEC_PER_DAY),
    [PK_RECOVERY_PURGE_CACHE] = KEY("recovery", "purge_cache", .type = VT_BOOL),
    [PK_RECOVERY_CACHE_DIRS] = KEY("recovery", "cache_dirs", .type = VT_DIRS, .empty = true),
    [PK_INCIDENTS_KEEP] = KEY("incidents", "keep", .type = VT_COUNT, .max = 1000),
    [PK_INCIDENTS_MAX_SIZE] = KEY("incidents", "max_size", .type = VT_SIZE, .min = 0,
                                  .max = UINT64_MAX - 1, .unlimited = true),
    [PK_INCIDENTS_HEAP_PROFILE] = KEY("incidents", "heap_profile", .type = VT_BOOL),
    [PK_SERVE_SHARE] = KEY("serve", "share", .type = VT_BOOL),
    [PK_SERVE_IDLE_TIMEOUT] =
        KEY("serve", "idle_timeout", .type = VT_DURATION, .max = 7 * USEC_PER_DAY),
    [PK_CGROUP_PATH] = KEY("cgroup", "path", .type = VT_PATH, .empty = true),
    [PK_CGROUP_REQUIRE] = KEY("cgroup", "require", .type = VT_BOOL),
    [PK_CGROUP_SLICE] = KEY("cgroup", "slice", .type = VT_SLICE, .empty = true),
    [PK_CGROUP_SCOPE] = KEY("cgroup", "scope", .type = VT_BOOL),
    [PK_CONTAINER_USER] = KEY("container", "user", .type = VT_USER, .empty = true),
    [PK_LSP_REPLAY] = KEY("lsp", "replay", .type = VT_BOOL),
    [PK_LSP_NOTIFY] = KEY("lsp", "notify", .type = VT_BOOL),
    [PK_LSP_REPLAY_TIMEOUT] = KEY("lsp", "replay_timeout", .type = VT_DURATION,
                                  .min = 100 * USEC_PER_MSEC, .max = USEC_PER_HOUR),
    [PK_LOG_TARGET] = KEY("log", "target", .type = VT_LOG_TARGET),
    [PK_LOG_LEVEL] = KEY("log", "level", .type = VT_LOG_LEVEL),
};

static const char *const sections[] = {
    "server",    "memory", "cpu",    "pids",      "restart", "pressure", "health", "recovery",
    "incidents", "serve",  "cgroup", "container", "lsp",     "log",      "limits",
};

static const char *const after_give_up_names[] = {
    [AFTER_GIVE_UP_WAIT] = "wait",
    [AFTER_GIVE_UP_EXIT] = "exit",
};

static const char *const restart_on_names[] = {
    [RESTART_ON_OOM] = "oom",
    [RESTART_ON_CRASH] = "crash",
    [RESTART_ON_ALWAYS] = "always",
    [RESTART_ON_NEVER] = "never",
};

static const char *const log_target_names[] = {
    [LOG_TARGET_AUTO] = "auto",
    [LOG_TARGET_JOURNAL] = "journal",
    [LOG_TARGET_STDERR] = "stderr",
};

static const struct {
        const char *name;
        int level;
} log_levels[] = {
    {"err", LOG_ERR},   {"warning", LOG_WARNING}, {"notice", LOG_NOTICE},
    {"info", LOG_INFO}, {"debug", LOG_DEBUG},
};

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static bool streq(const char *a, const char *b)
{
        return strcmp(a, b) == 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_numeric(enum value_type t)
{
        return t == VT_MEMLIMIT || t == VT_SIZE || t == VT_COUNT || t == VT_CPU || t == VT_DURATION;
}

const char *policy_restart_on_name(enum restart_on on)
{
        return (size_t)on < ELEMENTSOF(restart_on_names) ? restart_on_names[on] : "invalid";
}

const char *policy_after_give_up_name(enum after_give_up a)
{
        return (size_t)a < ELEMENTSOF(after_give_up_names) ? after_give_up_names[a] : "invalid";
}

const char *policy_key_name(enum policy_key k)
{
        if ((unsigned)k >= PK__COUNT)
                return NULL;
        return keys[k].full;
}

/* ---- numeric keys as uint64_t, for the table-driven checks and ceilings ---- */

/* Where a numeric key's value lives in a policy: a uint64_t (usec_t is
 * one), or an unsigned when *narrow.  NULL for keys that are not numeric. */
static void *num_field(struct policy *p, enum policy_key k, bool *narrow)
{
        *narrow = false;
        switch (k) {
        case PK_SERVER_GO_MEMLIMIT:
                *narrow = true;
                return &p->server.go_memlimit;
        case PK_MEMORY_HIGH:
                return &p->memory.high;
        case PK_MEMORY_MAX:
                return &p->memory.max;
        case PK_MEMORY_SWAP_MAX:
                return &p->memory.swap_max;
        case PK_CPU_WEIGHT:
                return &p->cpu.weight;
        case PK_CPU_MAX:
                return &p->cpu.max_percent;
        case PK_CPU_SAMPLE_INTERVAL:
                return &p->cpu.sample_interval;
        case PK_PIDS_MAX:
                return &p->pids.max;
        case PK_RESTART_BACKOFF_INITIAL:
                return &p->restart.backoff_initial;
        case PK_RESTART_BACKOFF_MAX:
                return &p->restart.backoff_max;
        case PK_RESTART_RESET_AFTER:
                return &p->restart.reset_after;
        case PK_RESTART_MAX_RESTARTS:
                *narrow = true;
                return &p->restart.max_restarts;
        case PK_RESTART_WINDOW:
                return &p->restart.window;
        case PK_RESTART_STOP_GRACE:
                return &p->restart.stop_grace;
        case PK_RESTART_COOLDOWN:
                return &p->restart.cooldown;
        case PK_PRESSURE_ABOVE_FOR:
                return &p->pressure.above_for;
        case PK_HEALTH_REQUEST_TIMEOUT:
                return &p->health.request_timeout;
        case PK_INCIDENTS_KEEP:
                *narrow = true;
                return &p->incidents.keep;
        case PK_INCIDENTS_MAX_SIZE:
                return &p->incidents.max_size;
        case PK_LSP_REPLAY_TIMEOUT:
                return &p->lsp.replay_timeout;
        case PK_SERVE_IDLE_TIMEOUT:
                return &p->serve.idle_timeout;
        default:
                return NULL;
        }
}

static uint64_t num_get(const struct policy *p, enum policy_key k)
{
        bool narrow;
        const void *f = num_field((struct policy *)p, k, &narrow);

        if (!f)
                return 0;
        return narrow ? *(const unsigned *)f : *(const uint64_t *)f;
}

/* Only called with values already checked against keys[k]'s range, so the
 * narrowing to unsigned cannot lose anything. */
static void num_set(struct policy *p, enum policy_key k, uint64_t v)
{
        bool narrow;
        void *f = num_field(p, k, &narrow);

        if (!f)
                return;
        if (narrow)
                *(unsigned *)f = (unsigned)v;
        else
                *(uint64_t *)f = v;
}

/* The value a ceiling is compared with: an unset cpu.weight runs at the
 * kernel's default weight, so that is what a ceiling must bound. */
static uint64_t num_effective(enum policy_key k, uint64_t v)
{
        if (k == PK_CPU_WEIGHT && v == 0)
                return CPU_WEIGHT_KERNEL_DEFAULT;
        return v;
}

/* A numeric value as the policy file would spell it. */
static void format_number(enum policy_key k, uint64_t v, char *buf, size_t len)
{
        switch (keys[k].type) {
        case VT_SIZE:
                format_size(v, buf, len);
                break;
        case VT_DURATION:
                format_duration(v, buf, len);
                break;
        case VT_MEMLIMIT:
                if (v == 0)
                        snprintf(buf, len, "off");
                else
                        snprintf(buf, len, "%" PRIu64 "%%", v);
                break;
        case VT_CPU:
                if (v == POLICY_NO_LIMIT)
                        snprintf(buf, len, "max");
                else
                        snprintf(buf, len, "%" PRIu64 "%%", v);
                break;
        default:
                if (v == POLICY_NO_LIMIT)
                        snprintf(buf, len, "max");
                else if (k == PK_CPU_WEIGHT && v == 0)
                        buf[0] = '\0';
                else
                        snprintf(buf, len, "%" PRIu64, v);
                break;
        }
}

/* ---- words: command and args ---- */

static void strv_free(char **v)
{
        if (!v)
                return;
        for (char **i = v; *i; i++)
                free(*i);
        free(v);
}

/* Split on blanks; "double quotes" group blanks into a word and may be
 * empty ("" is an empty argument).  There is no escape character: a
 * language server's flags never need a literal quote, and without one a
 * backslash is never special, so there are no escaping rules to learn. */
static int split_words(const char *s, char ***ret, size_t *ret_n)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        const char *p = s;

        if (!v)
                return -ENOMEM;
        for (;;) {
                char *word, *w, **nv;
                bool quoted = false;

                while (is_blank(*p))
                        p++;
                if (*p == '\0')
                        break;
                word = malloc(strlen(p) + 1);
                if (!word) {
                        strv_free(v);
                        return -ENOMEM;
                }
                for (w = word; *p != '\0' && (quoted || !is_blank(*p)); p++) {
                        if (*p == '"')
                                quoted = !quoted;
                        else
                                *w++ = *p;
                }
                *w = '\0';
                if (quoted) {
                        free(word);
                        strv_free(v);
                        return -EINVAL;
                }
                nv = realloc(v, (n + 2) * sizeof(char *));
                if (!nv) {
                        free(word);
                        strv_free(v);
                        return -ENOMEM;
                }
                v = nv;
                v[n++] = word;
                v[n] = NULL;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Quote a word when reading it back would otherwise change it: empty,
 * containing blanks, or starting with ';' (which after a blank begins an
 * inline comment for inih). */
static bool word_needs_quotes(const char *w)
{
        if (*w == '\0' || *w == ';')
                return true;
        for (const char *p = w; *p; p++)
                if (is_blank(*p))
                        return true;
        return false;
}

static void print_word(FILE *f, const char *w)
{
        if (!word_needs_quotes(w)) {
                fputs(w, f);
                return;
        }
        /* A blank followed by ';' starts a comment even inside quotes (the
         * line reader cuts comments before words are split), so such a word
         * is closed and reopened between the two: "a "";b" reads as "a ;b". */
        fputc('"', f);
        for (const char *p = w; *p; p++) {
                if (*p == ';' && p > w && is_blank(p[-1]))
                        fputs("\"\"", f);
                fputc(*p, f);
        }
        fputc('"', f);
}

/* ---- env ---- */

/* Length of NAME in "NAME=VALUE", or 0 if it is not one: the POSIX shell
 * name rules, because a name a shell cannot set is almost surely a typo. */
static size_t env_name_len(const char *s)
{
        size_t n = 0;

        if (!((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
                return 0;
        while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') ||
               (s[n] >= '0' && s[n] <= '9') || s[n] == '_')
                n++;
        return s[n] == '=' ? n : 0;
}

static void env_clear(struct policy *p)
{
        for (size_t i = 0; i < p->server.n_env; i++)
                free(p->server.env[i]);
        p->server.n_env = 0;
        if (p->server.env)
                p->server.env[0] = NULL;
}

/* Add NAME=VALUE, replacing an earlier entry for NAME in place: execve()
 * with two entries for one name leaves it to the program which one wins. */
static int env_set(struct policy *p, const char *entry, struct policy_origin origin)
{
        size_t name_len = env_name_len(entry);
        char *copy = strdup(entry);
        char **nv;
        struct policy_origin *no;

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < p->server.n_env; i++) {
                if (strncmp(p->server.env[i], entry, name_len + 1) == 0) {
                        free(p->server.env[i]);
                        p->server.env[i] = copy;
                        p->env_origin[i] = origin;
                        return 0;
                }
        }
        nv = realloc(p->server.env, (p->server.n_env + 2) * sizeof(char *));
        if (!nv) {
                free(copy);
                return -ENOMEM;
        }
        p->server.env = nv;
        no = realloc(p->env_origin, (p->server.n_env + 1) * sizeof(*no));
        if (!no) {
                free(copy);
                return -ENOMEM;
        }
        p->env_origin = no;
        p->env_origin[p->server.n_env] = origin;
        p->server.env[p->server.n_env++] = copy;
        p->server.env[p->server.n_env] = NULL;
        return 0;
}

/* ---- PSI trigger ---- */

/* "some|full STALL WINDOW".  Returns 0, -EINVAL (not that shape), -ERANGE
 * (window outside what the kernel accepts) or -EDOM (stall not inside the
 * window).  The window bounds are the kernel's (WINDOW_MIN_US/MAX_US in
 * kernel/sched/psi.c); it also needs 0 < stall <= window, but a stall equal
 * to the window can only fire on a fully stalled window, which is what
 * "full" is for, so we ask for stall < window. */
static int parse_psi(const char *s, const char **ret_kind, usec_t *ret_stall, usec_t *ret_window)
{
        char buf[128], *words[4], *save = NULL, *w;
        unsigned n = 0;
        usec_t stall, window;
        const char *kind;

        if (strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        for (w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (n == ELEMENTSOF(words))
                        return -EINVAL;
                words[n++] = w;
        }
        if (n != 3)
                return -EINVAL;
        if (streq(words[0], "some"))
                kind = "some";
        else if (streq(words[0], "full"))
                kind = "full";
        else
                return -EINVAL;
        if (parse_duration(words[1], &stall) < 0 || parse_duration(words[2], &window) < 0)
                return -EINVAL;
        if (window < 500 * USEC_PER_MSEC || window > 10 * USEC_PER_SEC)
                return -ERANGE;
        if (stall == 0 || stall >= window)
                return -EDOM;
        *ret_kind = kind;
        *ret_stall = stall;
        *ret_window = window;
        return 0;
}

static int psi_normalize(const char *s, char **ret)
{
        const char *kind;
        usec_t stall, window;
        char a[64], b[64];
        int r;

        r = parse_psi(s, &kind, &stall, &window);
        if (r < 0)
                return r;
        format_duration(stall, a, sizeof(a));
        format_duration(window, b, sizeof(b));
        if (asprintf(ret, "%s %s %s", kind, a, b) < 0)
                return -ENOMEM;
        return 0;
}

int policy_psi_trigger(const struct policy *p, char *buf, size_t len)
{
        const char *kind;
        usec_t stall, window;
        int r, n;

        if (!p->pressure.psi)
                return -EINVAL;
        r = parse_psi(p->pressure.psi, &kind, &stall, &window);
        if (r < 0)
                return -EINVAL;
        n = snprintf(buf, len, "%s %" PRIu64 " %" PRIu64, kind, stall, window);
        if (n < 0 || (size_t)n >= len)
                return -ENOBUFS;
        return 0;
}

/* ---- init / done ---- */

static uint64_t physical_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);

        if (pages <= 0 || page_size <= 0)
                return 0;
        return (uint64_t)pages * (uint64_t)page_size;
}

/* A default share of memory; "max" if the amount of memory is unknown,
 * because a guessed limit could kill the server for no reason. */
static uint64_t default_share(uint64_t mem_total, const char *share)
{
        uint64_t v;

        if (parse_size(share, mem_total, &v) < 0)
                return POLICY_NO_LIMIT;
        /* Never below what the key itself accepts (keys[].min), so that the
         * printed policy loads back even on a machine of a few MiB. */
        return v < MIB ? MIB : v;
}

int policy_init(struct policy *p)
{
        *p = (struct policy){
            .server.go_memlimit = 90,
            .memory.swap_max = 0,
            .memory.oom_group = true,
            .cpu.weight = 0,
            .cpu.max_percent = POLICY_NO_LIMIT,
            .cpu.sample_interval = 5 * USEC_PER_SEC,
            .pids.max = POLICY_NO_LIMIT,
            .restart.on = RESTART_ON_CRASH,
            .restart.backoff_initial = 500 * USEC_PER_MSEC,
            .restart.backoff_factor = 2.0,
            .restart.backoff_max = 30 * USEC_PER_SEC,
            .restart.reset_after = 60 * USEC_PER_SEC,
            .restart.max_restarts = 5,
            .restart.window = 10 * USEC_PER_MIN,
            .restart.stop_grace = 5 * USEC_PER_SEC,
            .restart.after_give_up = AFTER_GIVE_UP_WAIT,
            /* Long enough that a server which cannot start does not churn
             * the machine, short enough that a fixed go.mod or toolchain is
             * picked up before the user gives up on the editor. */
            .restart.cooldown = 5 * USEC_PER_MIN,
            /* The point of [pressure]: replacing a server on the way to
             * memory.max costs a workspace reload, an OOM kill costs the
             * same and what it was doing; the rules only fire above
             * memory.high's reach (see pressure.h). */
            .pressure.proactive = true,
            .pressure.restart_above_percent = DEFAULT_RESTART_ABOVE_PERCENT,
            .pressure.above_for = 10 * USEC_PER_SEC,
            .health.request_timeout = 60 * USEC_PER_SEC,
            .recovery.purge_cache = false,
            .incidents.keep = 10,
            .incidents.max_size = 64 * MIB,
            .incidents.heap_profile = true,
            .cgroup.require = false,
            .cgroup.scope = true,
            .lsp.replay = true,
            .serve.share = true,
            .serve.idle_timeout = 10 * 60 * USEC_PER_SEC,
            .lsp.notify = true,
            /* gopls answers initialize before it loads the workspace (that
             * follows `initialized`); a minute is far beyond a healthy
             * answer even on a loaded machine. */
            .lsp.replay_timeout = 60 * USEC_PER_SEC,
            .log.target = LOG_TARGET_AUTO,
            .log.level = LOG_INFO,
        };
        p->mem_total = physical_memory();
        p->root_only = geteuid() == 0;
        p->memory.high = default_share(p->mem_total, DEFAULT_HIGH);
        p->memory.max = default_share(p->mem_total, DEFAULT_MAX);

        p->server.command = strdup("gopls");
        p->server.args = calloc(1, sizeof(char *));
        p->server.env = calloc(1, sizeof(char *));
        p->recovery.cache_dirs = calloc(1, sizeof(char *));
        p->pressure.psi = strdup("some 150ms 1s");
        if (!p->server.command || !p->server.args || !p->server.env || !p->pressure.psi ||
            !p->recovery.cache_dirs) {
                policy_done(p);
                return -ENOMEM;
        }
        return 0;
}

void policy_done(struct policy *p)
{
        free(p->server.command);
        strv_free(p->server.args);
        strv_free(p->server.env);
        free(p->env_origin);
        free(p->pressure.psi);
        free(p->cgroup.path);
        free(p->cgroup.slice);
        strv_free(p->recovery.cache_dirs);
        free(p->container.user);
        for (size_t i = 0; i < p->n_files; i++)
                free(p->files[i]);
        free(p->files);
        free(p->file_admin);
        *p = (struct policy){0};
}

/* ---- loading ---- */

struct load_ctx {
        struct policy *p;
        const char *file; /* interned in p->files */
        bool admin;
        const char *text; /* the whole input, for quoting a line inih rejected */
        const char *pos;  /* reader position */
        unsigned line;    /* of the line the reader returned last */

        int r;             /* first error, or 0 */
        unsigned err_line; /* its line */
        char *err;

        char where[128]; /* "[section] key", for errors about a value */
};

static int intern_file(struct policy *p, const char *name, bool admin, const char **ret)
{
        char **nf, *copy;
        bool *na;

        for (size_t i = 0; i < p->n_files; i++) {
                if (streq(p->files[i], name)) {
                        /* Read again: a pin must hold against the file as a
                         * user's file if it was ever read as one. */
                        p->file_admin[i] = p->file_admin[i] && admin;
                        *ret = p->files[i];
                        return 0;
                }
        }
        copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        nf = realloc(p->files, (p->n_files + 1) * sizeof(char *));
        if (!nf) {
                free(copy);
                return -ENOMEM;
        }
        p->files = nf;
        na = realloc(p->file_admin, (p->n_files + 1) * sizeof(bool));
        if (!na) {
                free(copy);
                return -ENOMEM;
        }
        p->file_admin = na;
        p->file_admin[p->n_files] = admin;
        p->files[p->n_files++] = copy;
        *ret = copy;
        return 0;
}

/* Whether a value from `o` was set in a non-admin (user) file. */
static bool from_user_file(const struct policy *p, struct policy_origin o)
{
        if (!o.file)
                return false;
        for (size_t i = 0; i < p->n_files; i++)
                if (p->files[i] == o.file)
                        return !p->file_admin[i];
        return false;
}

/* Record the first error as "FILE:LINE: message".  Returns r. */
__attribute__((format(printf, 3, 4))) static int fail(struct load_ctx *c, int r, const char *fmt,
                                                      ...)
{
        va_list ap;
        int n;

        if (c->r < 0)
                return c->r;
        c->r = r;
        c->err_line = c->line;
        n = snprintf(c->err, POLICY_ERR_MAX, "%s:%u: ", c->file, c->line);
        if (n < 0 || n >= POLICY_ERR_MAX)
                return r;
        va_start(ap, fmt);
        vsnprintf(c->err + n, POLICY_ERR_MAX - (size_t)n, fmt, ap);
        va_end(ap);
        return r;
}

/* "(1 to 10000)", "(at least 1M, or max)", "(100ms to 1h)". */
static void describe_range(enum policy_key k, bool ceiling, char *buf, size_t len)
{
        const struct key_info *ki = &keys[k];
        char lo[32], hi[32];

        if (ki->type == VT_SIZE) {
                format_size(ki->min, lo, sizeof(lo));
                snprintf(buf, len, "at least %s, or max", lo);
                return;
        }
        format_number(k, ki->min, lo, sizeof(lo));
        format_number(k, ki->max, hi, sizeof(hi));
        if (ki->type == VT_MEMLIMIT)
                snprintf(buf, len, "0%% to %s, or off", hi);
        else
                snprintf(buf, len, "%s to %s%s%s", lo, hi, ki->unlimited ? ", or max" : "",
                         ki->empty && !ceiling ? ", or empty for the kernel's default" : "");
}

static const char *type_hint(enum value_type t)
{
        switch (t) {
        case VT_SIZE:
                return "is not a size (use a number with K, M, G or T, or a % of memory)";
        case VT_DURATION:
                return "is not a duration (use a number with ms, s, min or h, e.g. 250ms or "
                       "1min30s)";
        case VT_CPU:
                return "is not a CPU share (use a percentage of one CPU, e.g. 200% for two, or "
                       "max)";
        case VT_MEMLIMIT:
                return "is not a percentage (use e.g. 90% of memory.high, or off)";
        default:
                return "is not a whole number";
        }
}

/* Parse a numeric key's value (or its ceiling), check its range, and
 * report the error against c->where. */
static int parse_number(struct load_ctx *c, enum policy_key k, const char *value, bool ceiling,
                        uint64_t *ret)
{
        const struct key_info *ki = &keys[k];
        uint64_t v = 0;
        char range[160];
        int r;

        if (*value == '\0' && ki->empty && !ceiling) {
                *ret = 0;
                return 0;
        }
        if (ki->unlimited && (streq(value, "max") || streq(value, "infinity"))) {
                *ret = POLICY_NO_LIMIT;
                return 0;
        }
        switch (ki->type) {
        case VT_SIZE:
                r = parse_size(value, c->p->mem_total, &v);
                if (r == -ERANGE && strchr(value, '%'))
                        return fail(c, r,
                                    "%s: \"%s\" is out of range (a %% of memory must be 1%% to "
                                    "100%%)",
                                    c->where, value);
                break;
        case VT_DURATION:
                r = parse_duration(value, &v);
                break;
        case VT_MEMLIMIT:
                if (streq(value, "off")) {
                        r = 0;
                        v = 0;
                } else
                        r = parse_percent(value, &v);
                break;
        case VT_CPU:
                r = parse_percent(value, &v);
                break;
        default: {
                /* A count is a percentage without the "%". */
                r = strchr(value, '%') ? -EINVAL : parse_percent(value, &v);
                break;
        }
        }
        describe_range(k, ceiling, range, sizeof(range));
        if (r == -ERANGE || (r == 0 && (v < ki->min || v > ki->max)))
                return fail(c, -ERANGE, "%s: \"%s\" is out of range (%s)", c->where, value, range);
        if (r < 0)
                return fail(c, r, "%s: \"%s\" %s", c->where, value, type_hint(ki->type));
        *ret = v;
        return 0;
}

static void origin_str(struct policy_origin o, char *buf, size_t len)
{
        if (o.file)
                snprintf(buf, len, "%s:%u", o.file, o.line);
        else
                snprintf(buf, len, "the built-in default");
}

static int set_enum(struct load_ctx *c, const char *value, const char *const *names, size_t n,
                    int *ret)
{
        char list[128] = "";

        for (size_t i = 0; i < n; i++) {
                if (streq(value, names[i])) {
                        *ret = (int)i;
                        return 0;
                }
                if (i > 0)
                        strcat(list, i + 1 == n ? " or " : ", ");
                strcat(list, names[i]);
        }
        return fail(c, -EINVAL, "%s: \"%s\" is not one of %s", c->where, value, list);
}

/* split_words() with the error a policy file's author sees. */
static int split_value(struct load_ctx *c, const char *value, char ***ret, size_t *ret_n)
{
        int r = split_words(value, ret, ret_n);
        if (r == -ENOMEM)
                return fail(c, r, "out of memory");
        if (r < 0)
                return fail(c, r, "%s: \"%s\" has a \" without its closing \"", c->where, value);
        return 0;
}

/* A user name as useradd accepts it by default (NAME_REGEX in Debian's
 * adduser.conf: [a-z_][-a-z0-9_]*, an optional trailing $), at most 32
 * characters, or a uid of digits only. */
static bool user_name_valid(const char *s)
{
        size_t n = strlen(s);
        bool digits = n > 0;

        for (size_t i = 0; i < n; i++)
                digits &= s[i] >= '0' && s[i] <= '9';
        if (digits)
                return n <= 10;
        if (n == 0 || n > 32 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z')))
                return false;
        for (size_t i = 1; i < n; i++) {
                char ch = s[i];
                if (ch == '$' && i == n - 1)
                        break;
                if (!(ch == '_' || ch == '-' || (ch >= 'a' && ch <= 'z') ||
                      (ch >= '0' && ch <= '9')))
                        return false;
        }
        return true;
}

/* An optional string key's value, already checked: "" unsets it. */
static int set_optional(struct load_ctx *c, char **slot, const char *value)
{
        char *copy = NULL;

        if (*value != '\0' && !(copy = strdup(value)))
                return fail(c, -ENOMEM, "out of memory");
        free(*slot);
        *slot = copy;
        return 0;
}

static int set_value(struct load_ctx *c, enum policy_key k, const char *value)
{
        struct policy *p = c->p;
        const struct key_info *ki = &keys[k];
        struct policy_origin here = {c->file, c->line};
        int r, e = 0;

        if (!c->admin && p->pinned[k]) {
                char where[POLICY_ERR_MAX / 2];

                origin_str(p->pin_origin[k], where, sizeof(where));
                return fail(c, -EPERM,
                            "%s: pinned by the administrator in %s ([limits] pin = %s), so it "
                            "cannot be set here; remove this line",
                            c->where, where, ki->full);
        }
        if (is_numeric(ki->type)) {
                uint64_t v;
                char ceil[32], where[POLICY_ERR_MAX];

                r = parse_number(c, k, value, false, &v);
                if (r < 0)
                        return r;
                if (p->has_ceiling[k] && num_effective(k, v) > p->ceiling[k]) {
                        char shown[POLICY_ERR_MAX / 2];

                        if (*value)
                                snprintf(shown, sizeof(shown), "\"%s\"", value);
                        else
                                snprintf(shown, sizeof(shown), "the kernel's default (%" PRIu64 ")",
                                         num_effective(k, v));
                        format_number(k, p->ceiling[k], ceil, sizeof(ceil));
                        origin_str(p->ceiling_origin[k], where, sizeof(where));
                        return fail(c, -ERANGE,
                                    "%s: %s is above the ceiling %s set in %s ([limits] %s)",
                                    c->where, shown, ceil, where, ki->full);
                }
                num_set(p, k, v);
                p->origin[k] = here;
                return 0;
        }

        switch (ki->type) {
        case VT_COMMAND: {
                char **words;
                size_t n;

                r = split_value(c, value, &words, &n);
                if (r < 0)
                        return r;
                if (n != 1) {
                        strv_free(words);
                        return fail(c, -EINVAL,
                                    n == 0 ? "%s: \"%s\" is empty (name the server's program)"
                                           : "%s: \"%s\" is more than one word (put the "
                                             "arguments in args, or quote a path with blanks)",
                                    c->where, value);
                }
                free(p->server.command);
                p->server.command = words[0];
                free(words);
                break;
        }
        case VT_ARGS: {
                char **words;
                size_t n;

                r = split_value(c, value, &words, &n);
                if (r < 0)
                        return r;
                strv_free(p->server.args);
                p->server.args = words;
                p->server.n_args = n;
                break;
        }
        case VT_ENV:
                if (*value == '\0') {
                        /* As in systemd's Environment=: an empty assignment
                         * drops what earlier files added. */
                        env_clear(p);
                        break;
                }
                if (env_name_len(value) == 0)
                        return fail(c, -EINVAL,
                                    "%s: \"%s\" is not NAME=VALUE (NAME is letters, digits and _, "
                                    "not starting with a digit)",
                                    c->where, value);
                r = env_set(p, value, here);
                if (r < 0)
                        return fail(c, r, "out of memory");
                break;
        case VT_BOOL: {
                bool b;

                if (parse_bool(value, &b) < 0)
                        return fail(c, -EINVAL, "%s: \"%s\" is not a boolean (use yes or no)",
                                    c->where, value);
                if (k == PK_MEMORY_OOM_GROUP)
                        p->memory.oom_group = b;
                else if (k == PK_PRESSURE_PROACTIVE)
                        p->pressure.proactive = b;
                else if (k == PK_CGROUP_REQUIRE)
                        p->cgroup.require = b;
                else if (k == PK_CGROUP_SCOPE)
                        p->cgroup.scope = b;
                else if (k == PK_LSP_REPLAY)
                        p->lsp.replay = b;
                else if (k == PK_LSP_NOTIFY)
                        p->lsp.notify = b;
                else if (k == PK_SERVE_SHARE)
                        p->serve.share = b;
                else if (k == PK_RECOVERY_PURGE_CACHE)
                        p->recovery.purge_cache = b;
                else if (k == PK_INCIDENTS_HEAP_PROFILE)
                        p->incidents.heap_profile = b;
                break;
        }
        case VT_FACTOR: {
                double f;

                r = parse_factor(value, &f);
                if (r == 0 && (f < 1.0 || f > 10.0))
                        r = -ERANGE;
                if (r == -ERANGE)
                        return fail(c, r, "%s: \"%s\" is out of range (1.0 to 10.0)", c->where,
                                    value);
                if (r < 0)
                        return fail(c, r, "%s: \"%s\" is not a number (use e.g. 2 or 1.5)",
                                    c->where, value);
                p->restart.backoff_factor = f;
                break;
        }
        case VT_RESTART_ON:
                r = set_enum(c, value, restart_on_names, ELEMENTSOF(restart_on_names), &e);
                if (r < 0)
                        return r;
                p->restart.on = (enum restart_on)e;
                break;
        case VT_LOG_TARGET:
                r = set_enum(c, value, log_target_names, ELEMENTSOF(log_target_names), &e);
                if (r < 0)
                        return r;
                p->log.target = (enum log_target)e;
                break;
        case VT_LOG_LEVEL: {
                const char *names[ELEMENTSOF(log_levels)];

                for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
                        names[i] = log_levels[i].name;
                r = set_enum(c, value, names, ELEMENTSOF(names), &e);
                if (r < 0)
                        return r;
                p->log.level = log_levels[e].level;
                break;
        }
        case VT_PSI: {
                char *norm;

                r = psi_normalize(value, &norm);
                if (r == -ENOMEM)
                        return fail(c, r, "out of memory");
                if (r == -ERANGE)
                        return fail(c, r,
                                    "%s: \"%s\": the window is out of range (500ms to 10s, the "
                                    "kernel's limits)",
                                    c->where, value);
                if (r == -EDOM)
                        return fail(c, -EINVAL,
                                    "%s: \"%s\": the stall must be more than 0 and shorter than "
                                    "the window",
                                    c->where, value);
                if (r < 0)
                        return fail(c, r,
                                    "%s: \"%s\" is not a PSI trigger (use \"some STALL WINDOW\" or "
                                    "\"full STALL WINDOW\", e.g. \"some 150ms 1s\")",
                                    c->where, value);
                free(p->pressure.psi);
                p->pressure.psi = norm;
                break;
        }
        case VT_PATH:
                if (*value != '\0' && *value != '/')
                        return fail(c, -EINVAL,
                                    "%s: \"%s\" is not an absolute path (use a cgroup directory "
                                    "such as /sys/fs/cgroup/..., or leave it empty)",
                                    c->where, value);
                r = set_optional(c, &p->cgroup.path, value);
                if (r < 0)
                        return r;
                break;
        case VT_AFTER_GIVE_UP:
                r = set_enum(c, value, after_give_up_names, ELEMENTSOF(after_give_up_names), &e);
                if (r < 0)
                        return r;
                p->restart.after_give_up = (enum after_give_up)e;
                break;
        case VT_THRESHOLD: {
                size_t n = strlen(value);
                uint64_t v;

                if (n > 0 && value[n - 1] == '%') {
                        r = parse_percent(value, &v);
                        if (r == 0 && (v < 1 || v > 100))
                                r = -ERANGE;
                        if (r == -ERANGE)
                                return fail(c, r,
                                            "%s: \"%s\" is out of range (a %% of [memory] max "
                                            "must be 1%% to 100%%)",
                                            c->where, value);
                        if (r < 0)
                                return fail(c, r,
                                            "%s: \"%s\" is not a size or a percentage (use e.g. "
                                            "6G, or 90%% of [memory] max)",
                                            c->where, value);
                        p->pressure.restart_above_percent = (unsigned)v;
                        p->pressure.restart_above = 0;
                        break;
                }
                if (streq(value, "max") || streq(value, "infinity")) {
                        v = POLICY_NO_LIMIT;
                } else {
                        /* A bare size only: a % here is of [memory] max,
                         * never of physical memory. */
                        r = parse_size(value, 0, &v);
                        if (r == 0 && v < MIB)
                                r = -ERANGE;
                        if (r == -ERANGE)
                                return fail(c, r, "%s: \"%s\" is out of range (at least 1M)",
                                            c->where, value);
                        if (r < 0)
                                return fail(c, r,
                                            "%s: \"%s\" is not a size or a percentage (use e.g. "
                                            "6G, or 90%% of [memory] max)",
                                            c->where, value);
                }
                p->pressure.restart_above_percent = 0;
                p->pressure.restart_above = v;
                break;
        }
        case VT_DIRS: {
                char **words;
                size_t n;

                r = split_value(c, value, &words, &n);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < n; i++) {
                        if (words[i][0] != '/') {
                                r = fail(c, -EINVAL,
                                         "%s: \"%s\" is not an absolute path (list absolute "
                                         "directories, or leave it empty for gopls's own cache)",
                                         c->where, words[i]);
                                strv_free(words);
                                return r;
                        }
                }
                strv_free(p->recovery.cache_dirs);
                p->recovery.cache_dirs = words;
                p->recovery.n_cache_dirs = n;
                break;
        }
        case VT_USER:
                if (*value != '\0' && !user_name_valid(value))
                        return fail(c, -EINVAL,
                                    "%s: \"%s\" is not a user name or a numeric uid (use e.g. "
                                    "vscode or 1000, or leave it empty)",
                                    c->where, value);
                r = set_optional(c, &p->container.user, value);
                if (r < 0)
                        return r;
                break;
        case VT_SLICE:
                if (*value != '\0' && !policy_slice_name_valid(value))
                        return fail(c, -EINVAL,
                                    "%s: \"%s\" is not a slice unit name (use a name such as "
                                    "app.slice or gopls.slice: letters, digits, \":-_.\\\", "
                                    "ending in .slice; or leave it empty for the manager's "
                                    "default)",
                                    c->where, value);
                r = set_optional(c, &p->cgroup.slice, value);
                if (r < 0)
                        return r;
                break;
        default:
                break;
        }
        p->origin[k] = here;
        return 0;
}

/* "[limits] pin = memory.max, cgroup.require": keys separated by commas
 * and/or blanks.  Pins add up across lines and files and are never taken
 * back, as ceilings only come down: a drop-in cannot unpin by accident. */
static int set_pins(struct load_ctx *c, const char *value)
{
        struct policy *p = c->p;
        const char *s = value;
        bool any = false;

        while (*s) {
                size_t n;
                int k = -1;

                s += strspn(s, ", \t");
                n = strcspn(s, ", \t");
                if (n == 0)
                        break;
                for (size_t i = 0; i < PK__COUNT; i++)
                        if (strlen(keys[i].full) == n && strncmp(keys[i].full, s, n) == 0)
                                k = (int)i;
                if (k < 0)
                        return fail(c, -EINVAL,
                                    "%s: \"%.*s\" is not a key (name keys as section.key, e.g. "
                                    "memory.max or cgroup.require)",
                                    c->where, (int)n, s);
                if (!p->pinned[k]) {
                        p->pinned[k] = true;
                        p->pin_origin[k] = (struct policy_origin){c->file, c->line};
                }
                any = true;
                s += n;
        }
        if (!any)
                return fail(c, -EINVAL,
                            "%s: names no key (list the keys to pin, e.g. pin = memory.max, "
                            "cgroup.require)",
                            c->where);
        return 0;
}

/* A [limits] line: "section.key = ceiling", or "pin = KEYS". */
static int set_ceiling(struct load_ctx *c, const char *name, const char *value)
{
        struct policy *p = c->p;
        int k = -1;
        uint64_t v;
        int r;

        snprintf(c->where, sizeof(c->where), "[limits] %s", name);
        if (!c->admin)
                return fail(c, -EPERM,
                            "%s: %s can only be set by the administrator (in policy.ini or "
                            "policy.d/*.ini of the system configuration directory)",
                            c->where, streq(name, "pin") ? "pins" : "ceilings");
        if (streq(name, "pin"))
                return set_pins(c, value);
        for (size_t i = 0; i < PK__COUNT; i++)
                if (streq(keys[i].full, name))
                        k = (int)i;
        if (k < 0)
                return fail(c, -EINVAL,
                            "%s: unknown key (a ceiling is named section.key, e.g. memory.max; "
                            "pin = section.key, ... pins keys)",
                            c->where);
        if (!is_numeric(keys[k].type))
                return fail(c, -EINVAL,
                            "%s: cannot have a ceiling (only sizes, counts, percentages and "
                            "durations can); to fix its value for users, pin it: pin = %s",
                            c->where, name);
        r = parse_number(c, (enum policy_key)k, value, true, &v);
        if (r < 0)
                return r;
        /* Within one file the last line wins, as for any key; across files
         * a ceiling only comes down, so that a drop-in cannot undo a
         * stricter one by accident. */
        if (p->has_ceiling[k] && v > p->ceiling[k] && p->ceiling_origin[k].file != c->file) {
                char ceil[32], where[POLICY_ERR_MAX];

                format_number((enum policy_key)k, p->ceiling[k], ceil, sizeof(ceil));
                origin_str(p->ceiling_origin[k], where, sizeof(where));
                return fail(c, -ERANGE,
                            "%s: \"%s\" is above the ceiling %s set in %s (a later file may only "
                            "lower a ceiling)",
                            c->where, value, ceil, where);
        }
        p->has_ceiling[k] = true;
        p->ceiling[k] = v;
        p->ceiling_origin[k] = (struct policy_origin){c->file, c->line};
        return 0;
}

/* Keys that were renamed or replaced: the error names what to write now. */
static const struct {
        const char *section, *old, *hint;
} renamed[] = {
    {"pressure", "above_high_for",
     "was replaced by above_for (how long the server's memory may stay above restart_above, "
     "which is a size or a % of [memory] max, before a proactive restart)"},
};

static int apply(struct load_ctx *c, const char *section, const char *name, const char *value)
{
        char known[160] = "";

        if (*section == '\0')
                return fail(c, -EINVAL,
                            "%s: key outside any section (put it under one, e.g. [memory])", name);
        if (streq(section, "limits"))
                return set_ceiling(c, name, value);
        snprintf(c->where, sizeof(c->where), "[%s] %s", section, name);
        for (size_t k = 0; k < PK__COUNT; k++)
                if (streq(keys[k].section, section) && streq(keys[k].name, name))
                        return set_value(c, (enum policy_key)k, value);
        for (size_t i = 0; i < ELEMENTSOF(renamed); i++)
                if (streq(renamed[i].section, section) && streq(renamed[i].old, name))
                        return fail(c, -EINVAL, "%s: %s", c->where, renamed[i].hint);
        for (size_t k = 0; k < PK__COUNT; k++) {
                if (!streq(keys[k].section, section))
                        continue;
                if (*known)
                        strcat(known, ", ");
                strcat(known, keys[k].name);
        }
        return fail(c, -EINVAL, "%s: unknown key (known in [%s]: %s)", c->where, section, known);
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
        struct load_ctx *c = user;

        if (c->r < 0)
                return 0;
        return apply(c, section, name, value) < 0 ? 0 : 1;
}

/* "[name]" at the start of a line: check the name here, at its own line,
 * rather than at the first key under it. */
static int check_section(struct load_ctx *c, const char *line)
{
        const char *end = strchr(line, ']');
        char list[128] = "";
        size_t len;

        if (!end)
                return 0; /* inih reports the missing ']' */
        len = (size_t)(end - line - 1);
        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                if (strlen(sections[i]) == len && strncmp(line + 1, sections[i], len) == 0)
                        return 0;
                if (i > 0)
                        strcat(list, ", ");
                strcat(list, sections[i]);
        }
        return fail(c, -EINVAL, "unknown section [%.*s] (known: %s)", (int)len, line + 1, list);
}

/* The ini_reader: hands inih one line per call, without its newline and
 * leading blanks. */
static char *read_line(char *buf, int num, void *stream)
{
        struct load_ctx *c = stream;
        const char *start = c->pos, *end, *cut;
        size_t len;

        if (c->r < 0 || *start == '\0')
                return NULL;
        end = strchrnul(start, '\n');
        c->pos = *end ? end + 1 : end;
        c->line++;

        /* Our reader strips the BOM itself: inih skips one only at the very
         * start of its buffer, which after the blanks below it no longer is. */
        if (c->line == 1 && strncmp(start, "\xEF\xBB\xBF", 3) == 0)
                start += 3;
        /* Without leading blanks inih never sees a continuation line, so an
         * indented "key = value" is just a key, and a stray indented word is
         * a syntax error instead of text glued onto the previous value. */
        while (start < end && (*start == ' ' || *start == '\t'))
                start++;
        len = (size_t)(end - start);
        if (len > 0 && start[len - 1] == '\r')
                len--;

        /* inih reads into a fixed buffer of `num` bytes and would cut a
         * longer line in two.  Only what precedes a comment must fit:
         * comment lines, and inline comments (';' after a blank, inih's
         * default rule), are dropped. */
        if (*start == ';' || *start == '#')
                len = 0;
        for (cut = start; cut + 1 < start + len; cut++) {
                if (is_blank(cut[0]) && cut[1] == ';') {
                        len = (size_t)(cut - start);
                        break;
                }
        }
        while (len > 0 && is_blank(start[len - 1]))
                len--;
        if (len > (size_t)num - 1) {
                fail(c, -EINVAL, "line is too long (at most %d characters before a comment)",
                     num - 1);
                return NULL;
        }
        memcpy(buf, start, len);
        buf[len] = '\0';
        if (buf[0] == '[' && check_section(c, buf) < 0)
                return NULL;
        return buf;
}

/* inih rejected line `n` (no '=' or no ']'): say so with the line's text. */
static void fail_syntax(struct load_ctx *c, unsigned n)
{
        const char *s = c->text, *e;
        int len;

        for (unsigned i = 1; i < n && *s; i++) {
                s = strchrnul(s, '\n');
                if (*s)
                        s++;
        }
        while (*s == ' ' || *s == '\t')
                s++;
        e = strchrnul(s, '\n');
        if (e > s && e[-1] == '\r')
                e--;
        len = (int)(e - s > 60 ? 60 : e - s);
        c->line = n;
        if (*s == '[')
                fail(c, -EINVAL, "\"%.*s\" has no closing ] (a section is written [name])", len, s);
        else
                fail(c, -EINVAL, "\"%.*s\" is not \"key = value\", a [section] or a ; comment", len,
                     s);
}

int policy_load_string(struct policy *p, const char *name, const char *text, bool admin,
                       char err[POLICY_ERR_MAX])
{
        struct load_ctx c = {
            .p = p,
            .admin = admin,
            .text = text,
            .pos = text,
            .err = err,
        };
        int r;

        err[0] = '\0';
        r = intern_file(p, name, admin, &c.file);
        if (r < 0) {
                snprintf(err, POLICY_ERR_MAX, "%s: out of memory", name);
                return r;
        }
        r = ini_parse_stream(read_line, &c, handler, &c);
        if (r == -2) {
                snprintf(err, POLICY_ERR_MAX, "%s: out of memory", name);
                return -ENOMEM;
        }
        /* inih goes on after a line it cannot parse (and calls the handler
         * for later lines), so the first error may be either its or ours. */
        if (r > 0 && (c.r == 0 || (unsigned)r < c.err_line)) {
                c.r = 0;
                fail_syntax(&c, (unsigned)r);
        }
        return c.r;
}

int policy_check_owner(const struct stat *st, const char *path, char err[POLICY_ERR_MAX])
{
        const char *what = S_ISDIR(st->st_mode) ? "directory" : "file";

        if (st->st_uid != 0) {
                snprintf(err, POLICY_ERR_MAX,
                         "%s: refusing to read this policy %s as root: it belongs to uid %u, "
                         "who could set the server's command and environment for root; fix: "
                         "chown root:root %s && chmod go-w %s",
                         path, what, (unsigned)st->st_uid, path, path);
                return -EPERM;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(err, POLICY_ERR_MAX,
                         "%s: refusing to read this policy %s as root: group or others may "
                         "write it (mode %04o); fix: chown root:root %s && chmod go-w %s",
                         path, what, (unsigned)(st->st_mode & 07777), path, path);
                return -EPERM;
        }
        return 0;
}

/* Open a directory of policy files and, as root, check it.  -ENOENT when
 * it does not exist (err empty). */
static int open_policy_dir(const struct policy *p, const char *path, char err[POLICY_ERR_MAX])
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0) {
                r = -errno;
                if (r != -ENOENT)
                        snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", path, strerror(-r));
                close(fd);
                return r;
        }
        if (p->root_only && (r = policy_check_owner(&st, path, err)) < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Read all of `fd` (at most `max` bytes) into a NUL-terminated string. */
static int read_all(int fd, size_t max, char **ret)
{
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max) {
                                free(buf);
                                return -EFBIG;
                        }
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        if (len > max) {
                free(buf);
                return -EFBIG;
        }
        buf[len] = '\0';
        *ret = buf;
        return (int)len;
}

int policy_load_file(struct policy *p, const char *path, bool admin, char err[POLICY_ERR_MAX])
{
        _cleanup_free_ char *text = NULL;
        struct stat st;
        int r;

        err[0] = '\0';
        /* Links are followed: /etc files are often links managed by
         * configuration tools.  What is checked is what the link leads to,
         * through the descriptor that is then read, so no one can swap the
         * file between check and read.  O_NONBLOCK: a FIFO must not hang. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", path, strerror(EISDIR));
                return -EISDIR;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: not a regular file", path);
                return -EINVAL;
        }
        if (p->root_only && (r = policy_check_owner(&st, path, err)) < 0)
                return r;
        r = read_all(fd, POLICY_FILE_MAX, &text);
        if (r == -EFBIG) {
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: larger than %d KiB, not a policy",
                         path, POLICY_FILE_MAX / 1024);
                return r;
        }
        if (r < 0) {
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", path, strerror(-r));
                return r;
        }
        if (strlen(text) != (size_t)r) {
                snprintf(err, POLICY_ERR_MAX, "cannot read %s: it contains a NUL byte, not text",
                         path);
                return -EINVAL;
        }
        return policy_load_string(p, path, text, admin, err);
}

static int ini_filter(const struct dirent *d)
{
        size_t n = strlen(d->d_name);

        /* Hidden files are editors' and package managers' leftovers. */
        return d->d_name[0] != '.' && n > 4 && streq(d->d_name + n - 4, ".ini");
}

static int byte_order(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* An optional file: a missing one is fine, an unreadable one is not
 * (silently skipping an administrator's ceilings would be worse). */
static int load_optional(struct policy *p, const char *dir, const char *name, bool admin,
                         char err[POLICY_ERR_MAX])
{
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", dir, name) < 0) {
                snprintf(err, POLICY_ERR_MAX, "out of memory");
                return -ENOMEM;
        }
        r = policy_load_file(p, path, admin, err);
        if (r == -ENOENT) {
                err[0] = '\0';
                return 0;
        }
        return r;
}

int policy_load_all(struct policy *p, const char *etc_dir, const char *user_config_dir,
                    char *const *extra, size_t n_extra, char err[POLICY_ERR_MAX])
{
        int r;

        err[0] = '\0';
        if (etc_dir) {
                _cleanup_free_ char *dropins = NULL;
                struct dirent **list = NULL;
                int n, fd;

                /* As root, the directories count too: whoever may write them
                 * can remove or replace the administrator's files. */
                fd = open_policy_dir(p, etc_dir, err);
                if (fd < 0 && fd != -ENOENT)
                        return fd;
                if (fd >= 0)
                        close(fd);
                r = fd == -ENOENT ? 0 : load_optional(p, etc_dir, "policy.ini", true, err);
                if (r < 0)
                        return r;
                if (asprintf(&dropins, "%s/policy.d", etc_dir) < 0) {
                        snprintf(err, POLICY_ERR_MAX, "out of memory");
                        return -ENOMEM;
                }
                fd = open_policy_dir(p, dropins, err);
                if (fd < 0 && fd != -ENOENT)
                        return fd;
                if (fd >= 0)
                        close(fd);
                n = scandir(dropins, &list, ini_filter, byte_order);
                if (n < 0 && errno != ENOENT) {
                        r = -errno;
                        snprintf(err, POLICY_ERR_MAX, "cannot read %s: %s", dropins, strerror(-r));
                        return r;
                }
                r = 0;
                for (int i = 0; i < n; i++) {
                        if (r == 0)
                                r = load_optional(p, dropins, list[i]->d_name, true, err);
                        free(list[i]);
                }
                free(list);
                if (r < 0)
                        return r;
        }
        if (user_config_dir) {
                r = load_optional(p, user_config_dir, "policy.ini", false, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_extra; i++) {
                r = policy_load_file(p, extra[i], false, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- finish ---- */

__attribute__((format(printf, 3, 4))) static int
finish_fail(char err[POLICY_ERR_MAX], struct policy_origin o, const char *fmt, ...)
{
        va_list ap;
        int n = 0;

        if (o.file)
                n = snprintf(err, POLICY_ERR_MAX, "%s:%u: ", o.file, o.line);
        if (n < 0 || n >= POLICY_ERR_MAX)
                return -EINVAL;
        va_start(ap, fmt);
        vsnprintf(err + n, POLICY_ERR_MAX - (size_t)n, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

static bool is_default(const struct policy *p, enum policy_key k)
{
        return p->origin[k].file == NULL;
}

/* A default that may be derived from another key.  A pinned default stays
 * as it is: the administrator fixed it, so the other key must fit it. */
static bool gives_way(const struct policy *p, enum policy_key k)
{
        return is_default(p, k) && !p->pinned[k];
}

/* A pin in a file read after a user's file that set the key (only in
 * tests, or --policy orders; the standard order reads /etc first). */
static int check_pins(const struct policy *p, char err[POLICY_ERR_MAX])
{
        for (size_t i = 0; i < PK__COUNT; i++) {
                struct policy_origin o = p->origin[i];
                char where[POLICY_ERR_MAX / 2];

                if (!p->pinned[i])
                        continue;
                for (size_t j = 0; i == PK_SERVER_ENV && j < p->server.n_env; j++)
                        if (from_user_file(p, p->env_origin[j]))
                                o = p->env_origin[j];
                if (!from_user_file(p, o))
                        continue;
                origin_str(p->pin_origin[i], where, sizeof(where));
                return finish_fail(err, o,
                                   "[%s] %s: pinned by the administrator in %s ([limits] pin = "
                                   "%s), so it cannot be set here; remove this line",
                                   keys[i].section, keys[i].name, where, keys[i].full);
        }
        return 0;
}

int policy_check_unpinned(const struct policy *p, enum policy_key k, const char *what,
                          char err[POLICY_ERR_MAX])
{
        char where[POLICY_ERR_MAX / 2];

        err[0] = '\0';
        if (!p->pinned[k])
                return 0;
        origin_str(p->pin_origin[k], where, sizeof(where));
        snprintf(err, POLICY_ERR_MAX,
                 "%s: [%s] %s is pinned by the administrator in %s ([limits] pin = %s); run "
                 "without %s",
                 what, keys[k].section, keys[k].name, where, keys[k].full, what);
        return -EPERM;
}

/* Give a default key a value derived from another key (which then is
 * where it "comes from"), but never above its ceiling. */
static void derive(struct policy *p, enum policy_key k, uint64_t v, enum policy_key from)
{
        if (p->has_ceiling[k] && num_effective(k, v) > p->ceiling[k]) {
                num_set(p, k, p->ceiling[k]);
                p->origin[k] = p->ceiling_origin[k];
                return;
        }
        num_set(p, k, v);
        p->origin[k] = p->origin[from];
}

/* "[memory] max = 8G (from FILE:LINE)" or "... (the built-in default)". */
static void describe_key(const struct policy *p, enum policy_key k, char *buf, size_t len)
{
        char v[32], o[POLICY_ERR_MAX / 2];

        format_number(k, num_get(p, k), v, sizeof(v));
        origin_str(p->origin[k], o, sizeof(o));
        snprintf(buf, len, "[%s] %s = %s (from %s)", keys[k].section, keys[k].name, v, o);
}

/* Two keys where `lo` must not exceed `hi`: if one of them is a default,
 * it gives way (derived from the other as `lower_lo`/`raise_hi` say);
 * if both were set on purpose, the conflict is an error naming both. */
static int order_pair(struct policy *p, enum policy_key lo, enum policy_key hi, uint64_t lower_lo,
                      uint64_t raise_hi, const char *why, char err[POLICY_ERR_MAX])
{
        char a[32], other[POLICY_ERR_MAX];

        if (num_get(p, lo) <= num_get(p, hi))
                return 0;
        if (gives_way(p, lo))
                derive(p, lo, lower_lo, hi);
        else if (gives_way(p, hi))
                derive(p, hi, raise_hi, lo);
        if (num_get(p, lo) <= num_get(p, hi))
                return 0;
        if (p->pinned[lo] && !p->pinned[hi]) {
                /* The user's side of the conflict is `hi`: say it there. */
                format_number(hi, num_get(p, hi), a, sizeof(a));
                describe_key(p, lo, other, sizeof(other));
                return finish_fail(err, p->origin[hi], "[%s] %s: %s is below %s, pinned; %s",
                                   keys[hi].section, keys[hi].name, a, other, why);
        }
        format_number(lo, num_get(p, lo), a, sizeof(a));
        describe_key(p, hi, other, sizeof(other));
        return finish_fail(err, p->origin[lo], "[%s] %s: %s is above %s; %s", keys[lo].section,
                           keys[lo].name, a, other, why);
}

int policy_finish(struct policy *p, char err[POLICY_ERR_MAX])
{
        char v[32], c[32], o[POLICY_ERR_MAX];
        int r;

        err[0] = '\0';
        r = check_pins(p, err);
        if (r < 0)
                return r;
        /* Tests (and check-policy on another machine's numbers) set
         * mem_total after policy_init(), so the shares are taken now. */
        if (is_default(p, PK_MEMORY_HIGH))
                p->memory.high = default_share(p->mem_total, DEFAULT_HIGH);
        if (is_default(p, PK_MEMORY_MAX))
                p->memory.max = default_share(p->mem_total, DEFAULT_MAX);

        for (size_t i = 0; i < PK__COUNT; i++) {
                enum policy_key k = (enum policy_key)i;
                uint64_t cur = num_effective(k, num_get(p, k));

                if (!p->has_ceiling[k] || cur <= p->ceiling[k])
                        continue;
                if (is_default(p, k)) {
                        num_set(p, k, p->ceiling[k]);
                        p->origin[k] = p->ceiling_origin[k];
                        continue;
                }
                /* Set in a file before the ceiling was (earlier file, or
                 * above [limits] in the same file). */
                format_number(k, num_get(p, k), v, sizeof(v));
                if (*v == '\0')
                        snprintf(v, sizeof(v), "the kernel's default (%d)",
                                 CPU_WEIGHT_KERNEL_DEFAULT);
                format_number(k, p->ceiling[k], c, sizeof(c));
                origin_str(p->ceiling_origin[k], o, sizeof(o));
                return finish_fail(err, p->origin[k],
                                   "[%s] %s: %s is above the ceiling %s set in %s ([limits] %s)",
                                   keys[k].section, keys[k].name, v, c, o, keys[k].full);
        }

        /* memory.high must leave room below memory.max, or the server is
         * OOM-killed without first being throttled; a default high keeps
         * the defaults' 4:5 ratio to a max that was set, rounded to MiB. */
        if (p->memory.high != POLICY_NO_LIMIT && p->memory.max != POLICY_NO_LIMIT) {
                uint64_t lower = p->memory.max / 5 * 4 / MIB * MIB;
                uint64_t raise = p->memory.high / 4 * 5;

                if (lower < MIB)
                        lower = p->memory.max;
                r = order_pair(p, PK_MEMORY_HIGH, PK_MEMORY_MAX, lower, raise,
                               "high must not be above max", err);
                if (r < 0)
                        return r;
        }
        r = order_pair(p, PK_RESTART_BACKOFF_INITIAL, PK_RESTART_BACKOFF_MAX,
                       p->restart.backoff_max, p->restart.backoff_initial,
                       "the first delay must not be longer than the longest", err);
        if (r < 0)
                return r;

        if (p->restart.reset_after == 0)
                return finish_fail(err, p->origin[PK_RESTART_RESET_AFTER],
                                   "[restart] reset_after: must be more than 0 (the time a "
                                   "server must run to count as healthy)");
        if (p->restart.window == 0)
                return finish_fail(err, p->origin[PK_RESTART_WINDOW],
                                   "[restart] window: must be more than 0 (the time over which "
                                   "max_restarts are counted)");
        if (p->pressure.restart_above_percent) {
                uint64_t max = p->memory.max, pct = p->pressure.restart_above_percent;

                /* No ceiling to take a share of: no size trigger (PSI and
                 * the high counter still work). */
                p->pressure.restart_above = max == POLICY_NO_LIMIT
                                                ? POLICY_NO_LIMIT
                                                : max / 100 * pct + max % 100 * pct / 100;
        } else if (p->pressure.restart_above != POLICY_NO_LIMIT &&
                   p->memory.max != POLICY_NO_LIMIT && p->pressure.restart_above > p->memory.max) {
                format_size(p->pressure.restart_above, v, sizeof(v));
                format_size(p->memory.max, c, sizeof(c));
                origin_str(p->origin[PK_MEMORY_MAX], o, sizeof(o));
                return finish_fail(err, p->origin[PK_PRESSURE_RESTART_ABOVE],
                                   "[pressure] restart_above: %s is above [memory] max %s (from "
                                   "%s); the kernel would kill the server first (use a size "
                                   "below max, or a %% of it)",
                                   v, c, o);
        }
        return 0;
}

bool policy_slice_name_valid(const char *name)
{
        static const char suffix[] = ".slice";
        size_t n = strlen(name), m = sizeof suffix - 1;

        if (n <= m || n > 255 || strcmp(name + n - m, suffix) != 0)
                return false;
        if (strcmp(name, "-.slice") == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\",
                            name[i]))
                        return false;
        /* '-' is the slice hierarchy's separator (a-b.slice lives in a.slice). */
        if (name[0] == '-' || name[n - m - 1] == '-' || strstr(name, "--"))
                return false;
        return true;
}

uint64_t policy_go_memlimit(const struct policy *p)
{
        uint64_t base = p->memory.high != POLICY_NO_LIMIT ? p->memory.high : p->memory.max;
        uint64_t pct = p->server.go_memlimit;

        if (pct == 0 || base == POLICY_NO_LIMIT)
                return 0;
        /* Split so that base * pct cannot overflow. */
        return base / 100 * pct + base % 100 * pct / 100;
}

/* ---- print ---- */

static void print_origin(FILE *f, struct policy_origin o)
{
        if (o.file)
                fprintf(f, "  ; from %s:%u\n", o.file, o.line);
        else
                fputs("  ; default\n", f);
}

/* After a key's "from ..." comment (before its newline): the ceiling and
 * the pin that bind it, so that check-policy shows what a user may change
 * next to the value. */
static void print_bounds(FILE *f, const struct policy *p, enum policy_key k)
{
        char buf[64];

        if (p->has_ceiling[k]) {
                format_number(k, p->ceiling[k], buf, sizeof(buf));
                fprintf(f, "; ceiling %s from %s:%u", buf, p->ceiling_origin[k].file,
                        p->ceiling_origin[k].line);
        }
        if (p->pinned[k])
                fprintf(f, "; pinned in %s:%u", p->pin_origin[k].file, p->pin_origin[k].line);
}

/* print_origin() with the bounds of key k. */
static void print_key_origin(FILE *f, const struct policy *p, enum policy_key k,
                             struct policy_origin o)
{
        if (o.file)
                fprintf(f, "  ; from %s:%u", o.file, o.line);
        else
                fputs("  ; default", f);
        print_bounds(f, p, k);
        fputc('\n', f);
}

/* The factor in at most six decimals, by hand: printf's %g would write the
 * locale's decimal point, which parse_factor() rightly does not read. */
static void print_factor(FILE *f, double factor)
{
        uint64_t millionths = (uint64_t)(factor * 1e6 + 0.5);
        char frac[8];
        size_t n;

        if (millionths % 1000000 == 0) {
                fprintf(f, "%" PRIu64, millionths / 1000000);
                return;
        }
        snprintf(frac, sizeof(frac), "%06" PRIu64, millionths % 1000000);
        for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
                frac[n - 1] = '\0';
        fprintf(f, "%" PRIu64 ".%s", millionths / 1000000, frac);
}

static void print_key(FILE *f, const struct policy *p, enum policy_key k)
{
        const struct key_info *ki = &keys[k];
        char buf[64];

        if (ki->type == VT_ENV) {
                if (p->server.n_env == 0) {
                        fprintf(f, "%s =", ki->name);
                        print_key_origin(f, p, k, p->origin[k]);
                }
                for (size_t i = 0; i < p->server.n_env; i++) {
                        fprintf(f, "%s = %s", ki->name, p->server.env[i]);
                        print_key_origin(f, p, k, p->env_origin[i]);
                }
                return;
        }
        fprintf(f, "%s =", ki->name);
        if (is_numeric(ki->type)) {
                format_number(k, num_get(p, k), buf, sizeof(buf));
                if (*buf)
                        fprintf(f, " %s", buf);
                /* A share of memory resolves to an odd byte count: say it
                 * the way a person reads it too. */
                char human[32];
                if (ki->type == VT_SIZE &&
                    format_size_human(num_get(p, k), human, sizeof human) >= 0 &&
                    strcmp(human, buf) != 0) {
                        fprintf(f, "  ; %s", human);
                        if (p->origin[k].file)
                                fprintf(f, ", from %s:%u", p->origin[k].file, p->origin[k].line);
                        else
                                fputs(", default", f);
                        print_bounds(f, p, k);
                        fputc('\n', f);
                        return;
                }
        } else {
                switch (ki->type) {
                case VT_COMMAND:
                        fputc(' ', f);
                        print_word(f, p->server.command);
                        break;
                case VT_ARGS:
                        for (size_t i = 0; i < p->server.n_args; i++) {
                                fputc(' ', f);
                                print_word(f, p->server.args[i]);
                        }
                        break;
                case VT_BOOL: {
                        bool b = k == PK_MEMORY_OOM_GROUP         ? p->memory.oom_group
                                 : k == PK_PRESSURE_PROACTIVE     ? p->pressure.proactive
                                 : k == PK_CGROUP_REQUIRE         ? p->cgroup.require
                                 : k == PK_CGROUP_SCOPE           ? p->cgroup.scope
                                 : k == PK_LSP_REPLAY             ? p->lsp.replay
                                 : k == PK_SERVE_SHARE            ? p->serve.share
                                 : k == PK_RECOVERY_PURGE_CACHE   ? p->recovery.purge_cache
                                 : k == PK_INCIDENTS_HEAP_PROFILE ? p->incidents.heap_profile
                                                                  : p->lsp.notify;
                        fprintf(f, " %s", b ? "yes" : "no");
                        break;
                }
                case VT_FACTOR:
                        fputc(' ', f);
                        print_factor(f, p->restart.backoff_factor);
                        break;
                case VT_RESTART_ON:
                        fprintf(f, " %s", restart_on_names[p->restart.on]);
                        break;
                case VT_LOG_TARGET:
                        fprintf(f, " %s", log_target_names[p->log.target]);
                        break;
                case VT_LOG_LEVEL:
                        for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
                                if (log_levels[i].level == p->log.level)
                                        fprintf(f, " %s", log_levels[i].name);
                        break;
                case VT_PSI:
                        fprintf(f, " %s", p->pressure.psi);
                        break;
                case VT_PATH:
                        if (p->cgroup.path)
                                fprintf(f, " %s", p->cgroup.path);
                        break;
                case VT_SLICE:
                        if (p->cgroup.slice)
                                fprintf(f, " %s", p->cgroup.slice);
                        break;
                case VT_AFTER_GIVE_UP:
                        fprintf(f, " %s", after_give_up_names[p->restart.after_give_up]);
                        break;
                case VT_THRESHOLD: {
                        char human[32];

                        if (p->pressure.restart_above_percent) {
                                fprintf(f, " %u%%", p->pressure.restart_above_percent);
                                if (p->pressure.restart_above &&
                                    p->pressure.restart_above != POLICY_NO_LIMIT &&
                                    format_size_human(p->pressure.restart_above, human,
                                                      sizeof human) >= 0) {
                                        fprintf(f, "  ; %s of max, ", human);
                                        if (p->origin[k].file)
                                                fprintf(f, "from %s:%u", p->origin[k].file,
                                                        p->origin[k].line);
                                        else
                                                fputs("default", f);
                                        print_bounds(f, p, k);
                                        fputc('\n', f);
                                        return;
                                }
                        } else {
                                format_size(p->pressure.restart_above, buf, sizeof buf);
                                fprintf(f, " %s", buf);
                        }
                        break;
                }
                case VT_DIRS:
                        for (size_t i = 0; i < p->recovery.n_cache_dirs; i++) {
                                fputc(' ', f);
                                print_word(f, p->recovery.cache_dirs[i]);
                        }
                        break;
                case VT_USER:
                        if (p->container.user)
                                fprintf(f, " %s", p->container.user);
                        break;
                default:
                        break;
                }
        }
        print_key_origin(f, p, k, p->origin[k]);
}

int policy_print(const struct policy *p, FILE *f)
{
        const char *section = NULL;
        bool any_ceiling = false, any_pin = false;

        for (size_t i = 0; i < PK__COUNT; i++) {
                enum policy_key k = (enum policy_key)i;

                if (!section || !streq(section, keys[k].section)) {
                        fprintf(f, "%s[%s]\n", section ? "\n" : "", keys[k].section);
                        section = keys[k].section;
                }
                print_key(f, p, k);
                any_ceiling |= p->has_ceiling[k];
                any_pin |= p->pinned[k];
        }
        if (any_ceiling || any_pin)
                fputs("\n[limits]\n", f);
        if (any_ceiling) {
                for (size_t i = 0; i < PK__COUNT; i++) {
                        enum policy_key k = (enum policy_key)i;
                        char buf[64];

                        if (!p->has_ceiling[k])
                                continue;
                        format_number(k, p->ceiling[k], buf, sizeof(buf));
                        fprintf(f, "%s = %s", keys[k].full, buf);
                        print_origin(f, p->ceiling_origin[k]);
                }
        }
        /* One line per pin, each with its own origin; pins add up, so the
         * lines read back to the same set. */
        for (size_t i = 0; i < PK__COUNT; i++) {
                if (!p->pinned[i])
                        continue;
                fprintf(f, "pin = %s", keys[i].full);
                print_origin(f, p->pin_origin[i]);
        }
        fflush(f);
        return ferror(f) ? -EIO : 0;
}

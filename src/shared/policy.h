/* policy.h — the INI policy: its keys, defaults, checks and origins.
 *
 * A policy is built in layers: policy_init() sets the built-in defaults,
 * then each file (or string, in tests) is applied on top with
 * policy_load_file()/policy_load_string(), later ones overriding earlier
 * ones, and finally policy_finish() resolves derived values, applies the
 * administrator's ceilings and cross-checks the result.
 *
 * Values:
 *   sizes      "512M", "2G", "1.5G", "1048576" (bytes), K/M/G/T are powers of
 *              1024; "40%" is a share of physical memory (policy->mem_total);
 *              "max" (or "infinity") means no limit and is stored as
 *              POLICY_NO_LIMIT.
 *   durations  "250ms", "5s", "2min", "1h", combinations "1min30s"; a bare
 *              number is seconds.  Stored in microseconds (usec).
 *   booleans   yes/no, true/false, on/off, 1/0.
 *
 * Errors: every function that reads input returns a negative errno
 * (-EINVAL for bad content, -ENOENT/-EACCES/... for files) and fills
 * `err` with one line that names the file and line, the section and key,
 * and what is wrong, e.g.
 *   "/etc/gopls-guard/policy.ini:12: [memory] high: \"12Q\" is not a size
 *    (use a number with K, M, G or T, or a % of memory)"
 * Nothing here logs or exits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define POLICY_NO_LIMIT UINT64_MAX
#define POLICY_ERR_MAX 512
#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC UINT64_C(1000000)

typedef uint64_t usec_t;

enum restart_on {
        RESTART_ON_OOM,    /* only after the kernel OOM-killed the server */
        RESTART_ON_CRASH,  /* OOM kills and any abnormal end (signal, status != 0) */
        RESTART_ON_ALWAYS, /* any end the editor did not ask for */
        RESTART_ON_NEVER,
};

enum log_target { LOG_TARGET_AUTO, LOG_TARGET_JOURNAL, LOG_TARGET_STDERR };

/* What the guard does once a crash loop has used up max_restarts. */
enum after_give_up {
        AFTER_GIVE_UP_WAIT, /* keep the editor connected, answer with errors, retry after cooldown
                             */
        AFTER_GIVE_UP_EXIT, /* exit 4: the editor sees its server end */
};

/* Where a value came from, for check-policy. file == NULL: built-in default
 * (or derived, see policy_origin()). */
struct policy_origin {
        const char *file; /* points into policy->files (owned by the policy) */
        unsigned line;
};

/* Every key, in the order check-policy prints them.  Also indexes the
 * origin and ceiling arrays. */
enum policy_key {
        PK_SERVER_COMMAND,
        PK_SERVER_ARGS,
        PK_SERVER_ENV,
        PK_SERVER_GO_MEMLIMIT,
        PK_MEMORY_HIGH,
        PK_MEMORY_MAX,
        PK_MEMORY_SWAP_MAX,
        PK_MEMORY_OOM_GROUP,
        PK_CPU_WEIGHT,
        PK_CPU_MAX,
        PK_CPU_SAMPLE_INTERVAL,
        PK_PIDS_MAX,
        PK_RESTART_ON,
        PK_RESTART_BACKOFF_INITIAL,
        PK_RESTART_BACKOFF_FACTOR,
        PK_RESTART_BACKOFF_MAX,
        PK_RESTART_RESET_AFTER,
        PK_RESTART_MAX_RESTARTS,
        PK_RESTART_WINDOW,
        PK_RESTART_STOP_GRACE,
        PK_RESTART_AFTER_GIVE_UP,
        PK_RESTART_COOLDOWN,
        PK_PRESSURE_PROACTIVE,
        PK_PRESSURE_RESTART_ABOVE,
        PK_PRESSURE_ABOVE_FOR,
        PK_PRESSURE_PSI,
        PK_HEALTH_REQUEST_TIMEOUT,
        PK_RECOVERY_PURGE_CACHE,
        PK_RECOVERY_CACHE_DIRS,
        PK_INCIDENTS_KEEP,
        PK_INCIDENTS_MAX_SIZE,
        PK_INCIDENTS_HEAP_PROFILE,
        PK_SERVE_SHARE,
        PK_SERVE_IDLE_TIMEOUT,
        PK_CGROUP_PATH,
        PK_CGROUP_REQUIRE,
        PK_CGROUP_SLICE,
        PK_CGROUP_SCOPE,
        PK_CONTAINER_USER,
        PK_LSP_REPLAY,
        PK_LSP_NOTIFY,
        PK_LSP_REPLAY_TIMEOUT,
        PK_LOG_TARGET,
        PK_LOG_LEVEL,
        PK__COUNT,
};

struct policy {
        struct {
                char *command; /* default "gopls" */
                char **args;   /* NULL-terminated; split on whitespace, "..." quoting */
                size_t n_args;
                char **env; /* NULL-terminated "NAME=VALUE"; each `env =` line adds one */
                size_t n_env;
                unsigned go_memlimit; /* percent of memory.high, 0 = off; default 90 */
        } server;
        struct {
                uint64_t high;     /* bytes or POLICY_NO_LIMIT; default 40% */
                uint64_t max;      /* default 50% */
                uint64_t swap_max; /* default 0 */
                bool oom_group;    /* default yes */
        } memory;
        struct {
                uint64_t weight;        /* 1..10000; 0 = leave the kernel default */
                uint64_t max_percent;   /* "200%" = two CPUs; POLICY_NO_LIMIT = none (default) */
                usec_t sample_interval; /* default 5s, 100ms..1h */
        } cpu;
        struct {
                uint64_t max; /* default POLICY_NO_LIMIT */
        } pids;
        struct {
                enum restart_on on;               /* default crash */
                usec_t backoff_initial;           /* default 500ms */
                double backoff_factor;            /* default 2.0, 1.0..10 */
                usec_t backoff_max;               /* default 30s, >= backoff_initial */
                usec_t reset_after;               /* default 60s */
                unsigned max_restarts;            /* default 5 */
                usec_t window;                    /* default 10min */
                usec_t stop_grace;                /* default 5s */
                enum after_give_up after_give_up; /* default wait */
                usec_t cooldown;                  /* default 5min: the wait before trying again */
        } restart;
        struct {
                bool proactive; /* default no */
                /* Bytes, or POLICY_NO_LIMIT for none.  Resolved by
                 * policy_finish(): "N%" is a share of [memory] max (none
                 * when max is "max"); default 90%. */
                uint64_t restart_above;
                unsigned restart_above_percent; /* as written; 0 = written as a size */
                usec_t above_for;               /* default 10s; 0 = at once */
                char *psi;                      /* default "some 150ms 1s"; validated */
        } pressure;
        struct {
                usec_t request_timeout; /* default 60s; 0 = no hang detection */
        } health;
        struct {
                bool purge_cache;  /* default no */
                char **cache_dirs; /* NULL-terminated absolute paths; empty = gopls's own */
                size_t n_cache_dirs;
        } recovery;
        struct {
                unsigned keep;     /* default 10; 0 = capture none */
                uint64_t max_size; /* bytes, all kept incidents together; default 64M */
                bool heap_profile; /* default yes */
        } incidents;
        struct {
                char *user; /* a user name or numeric uid; NULL = not set */
        } container;
        struct {
                bool share;          /* default yes: one server for every connection */
                usec_t idle_timeout; /* default 10min; 0 = never */
        } serve;
        struct {
                char *path;   /* NULL = find one (see DESIGN.md) */
                bool require; /* default no */
                char *slice;  /* for the transient scope; NULL = the manager's default */
                bool scope;   /* ask systemd for a transient scope; default yes */
        } cgroup;
        struct {
                bool replay;           /* default yes */
                bool notify;           /* default yes */
                usec_t replay_timeout; /* default 60s */
        } lsp;
        struct {
                enum log_target target; /* default auto */
                int level;              /* syslog LOG_ERR..LOG_DEBUG; default LOG_INFO */
        } log;

        /* Physical memory in bytes, for "%" sizes.  Set by policy_init() from
         * sysconf(); tests overwrite it before loading anything. */
        uint64_t mem_total;

        /* Read only files and directories that root owns and that group and
         * others cannot write (policy_check_owner()).  Set by policy_init()
         * when running as root (a root guard takes [server] command and env
         * from these files); tests may change it before loading anything. */
        bool root_only;

        struct policy_origin origin[PK__COUNT];

        /* Ceilings from [limits] in administrator files (see
         * policy_load_file()).  has_ceiling[k] says whether one was set;
         * ceiling[k] is in the key's own unit (bytes, percent, count, usec). */
        bool has_ceiling[PK__COUNT];
        uint64_t ceiling[PK__COUNT];
        struct policy_origin ceiling_origin[PK__COUNT];

        /* Pins from "[limits] pin = section.key, ..." in administrator
         * files: a pinned key keeps the value the administrator's files (or
         * the built-in default) give it; a user's file that sets it is an
         * error naming both places.  pin_origin[k] is the [limits] line that
         * first pinned k. */
        bool pinned[PK__COUNT];
        struct policy_origin pin_origin[PK__COUNT];

        /* private: the file names origins point to, and whether each was
         * read as an administrator's file */
        char **files;
        bool *file_admin;
        size_t n_files;
        /* private: where each server.env entry came from (n_env entries) */
        struct policy_origin *env_origin;
};

/* Built-in defaults; mem_total from the running machine.  Never fails
 * except -ENOMEM. */
int policy_init(struct policy *p);
void policy_done(struct policy *p);

/* Apply one INI file.  `admin` files may contain a [limits] section, whose
 * keys are "section.key" (e.g. "memory.max = 8G") and set ceilings: a later
 * (user) file that sets a value above a ceiling is an error naming both
 * places; built-in defaults above a ceiling are lowered to it.  Its `pin`
 * key names keys ("pin = memory.max, cgroup.require"; any key, repeated
 * lines add up) that non-admin files may not set at all: doing so is an
 * error naming both places; later admin files may still change them.
 * [limits] in a non-admin file is an error.  A missing file is -ENOENT (callers decide
 * whether that matters: the standard locations are optional, --policy files
 * are not).  Only regular files are read (a FIFO is -EINVAL, not a hang);
 * with p->root_only a file failing policy_check_owner() is -EPERM. */
int policy_load_file(struct policy *p, const char *path, bool admin, char err[POLICY_ERR_MAX]);

/* For a policy file or directory read as root: 0 if root owns it and group
 * and others cannot write it, else -EPERM with `err` naming `path` and the
 * fix ("chown root:root PATH && chmod go-w PATH"). */
struct stat;
int policy_check_owner(const struct stat *st, const char *path, char err[POLICY_ERR_MAX]);

/* Same, from memory; `name` is used as the file name in origins and errors. */
int policy_load_string(struct policy *p, const char *name, const char *text, bool admin,
                       char err[POLICY_ERR_MAX]);

/* Load the standard locations in DESIGN.md's order, then each of
 * `extra` (the --policy files, which must exist).  `etc_dir` is normally
 * GUARD_SYSCONFDIR "/gopls-guard" and `user_config_dir` is
 * $XDG_CONFIG_HOME/gopls-guard (or ~/.config/gopls-guard); either may be
 * NULL to skip it.  policy.d/ entries are read in strcmp() order and only
 * names ending in ".ini".  Files under etc_dir are admin files.  With
 * root_only, etc_dir and etc_dir/policy.d must pass policy_check_owner()
 * too, and so must every file (through a link: what it leads to). */
int policy_load_all(struct policy *p, const char *etc_dir, const char *user_config_dir,
                    char *const *extra, size_t n_extra, char err[POLICY_ERR_MAX]);

/* Cross-checks and derived values, after all files: high <= max (unless
 * either is "max"), backoff_initial <= backoff_max, reset_after and window
 * non-zero, restart_above resolved (a % of memory.max) and not above max;
 * ceilings applied to defaults.
 * Errors name the places of the conflicting values. */
int policy_finish(struct policy *p, char err[POLICY_ERR_MAX]);

/* GOMEMLIMIT value in bytes, or 0 when it should not be set
 * (go_memlimit = 0, or memory.high and memory.max are both "max"; if high
 * is "max" the share is taken of memory.max). */
uint64_t policy_go_memlimit(const struct policy *p);

/* Whether `name` is a slice unit name systemd accepts for a unit's Slice=
 * (systemd's unit_name_is_valid + slice_name_is_valid): at most 255
 * characters of [A-Za-z0-9:_.\\-], ending in ".slice", the part before it
 * non-empty with no leading, trailing or doubled '-' ("-.slice", the root
 * slice, is the exception). */
bool policy_slice_name_valid(const char *name);

/* Print the effective policy as INI that policy_load_string() accepts back
 * (except that a value written within a few characters of the 199-character
 * line limit may print a little longer, e.g. "command=x" as "command = x"),
 * each line followed by "  ; from FILE:LINE" or "  ; default" (and, where
 * the administrator set them, "; ceiling 8G from FILE:LINE" and
 * "; pinned in FILE:LINE"), and the ceilings and pins as a [limits]
 * section.  Sizes print in the largest exact unit
 * (e.g. "12G", "1536M"), durations likewise ("1min30s", "250ms"). */
int policy_print(const struct policy *p, FILE *f);

/* 0 if key `k` may be set from outside the administrator's files (the
 * command line's --cgroup, a COMMAND), else -EPERM with `err` naming the
 * pin ("[cgroup] path is pinned by the administrator in FILE:LINE").
 * `what` says what tried, e.g. "--cgroup". */
int policy_check_unpinned(const struct policy *p, enum policy_key k, const char *what,
                          char err[POLICY_ERR_MAX]);

/* "wait" or "exit", as the policy file spells it. */
const char *policy_after_give_up_name(enum after_give_up a);

/* "oom", "crash", "always" or "never", as the policy file spells it. */
const char *policy_restart_on_name(enum restart_on on);

/* The name of a key as "section.key" (e.g. "memory.high"). */
const char *policy_key_name(enum policy_key k);

/* Parsers for single values, exported for the tests and the command line.
 * Return 0 or -EINVAL/-ERANGE; outputs untouched on failure. */
int parse_size(const char *s, uint64_t mem_total, uint64_t *ret_bytes);
int parse_duration(const char *s, usec_t *ret_usec);
int parse_bool(const char *s, bool *ret);
int parse_percent(const char *s, uint64_t *ret_percent); /* "200%" or "200" */
int format_size(uint64_t bytes, char *buf, size_t len);  /* "max" for POLICY_NO_LIMIT */
int format_duration(usec_t usec, char *buf, size_t len);
/* For people, not for reading back: "9.4G", "512M", "1.5K", "812" (bytes),
 * "max"; one decimal, rounded down. */
int format_size_human(uint64_t bytes, char *buf, size_t len);
/* For people: "471ms" below a second (rounded), "1.5s" below a minute (one
 * decimal, rounded down), else as format_duration() at whole seconds. */
int format_duration_human(usec_t usec, char *buf, size_t len);
/* "2", "1.5": a non-negative decimal number, read without the locale's
 * decimal point (strtod() would want "1,5" under a German locale). */
int parse_factor(const char *s, double *ret);

/* [pressure] psi in the form memory.pressure takes: "some 150000 1000000"
 * (kind, stall and window in usec).  0, -EINVAL if psi is unset or
 * invalid, -ENOBUFS if it does not fit in `len`. */
int policy_psi_trigger(const struct policy *p, char *buf, size_t len);

/* test-policy.c — loading, ceilings, cross-checks and printing of the
 * policy, and every error message a user can see from it. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "check.h"
#include "policy.h"
#include "supervisor.h"

#define K UINT64_C(1024)
#define M (K * K)
#define G (M * K)
#define MS USEC_PER_MSEC
#define S USEC_PER_SEC

/* A fixed machine: "%" sizes never depend on the one running the tests. */
#define MEM_TOTAL (16 * G)
#define DEFAULT_HIGH UINT64_C(6871947673) /* 40% of 16G, rounded down */

static void init(struct policy *p)
{
        CHECK_INT(policy_init(p), 0);
        p->mem_total = MEM_TOTAL;
        /* The same results as root or not; test_owner_checks covers root's. */
        p->root_only = false;
}

/* Load `text` as file `name` and finish; returns the first error. */
static int load_finish(struct policy *p, const char *name, const char *text, bool admin,
                       char err[POLICY_ERR_MAX])
{
        int r = policy_load_string(p, name, text, admin, err);

        if (r < 0)
                return r;
        return policy_finish(p, err);
}

static char *print_policy(const struct policy *p)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        CHECK(f != NULL);
        if (!f)
                return NULL;
        CHECK_INT(policy_print(p, f), 0);
        fclose(f);
        return buf;
}

/* The printed policy without its "  ; from/default" comments, to compare
 * two policies' values regardless of where they came from. */
static char *strip_comments(const char *s)
{
        char *out = malloc(strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        while (*s) {
                const char *eol = strchrnul(s, '\n'), *c = strstr(s, "  ; ");
                const char *end = c && c < eol ? c : eol;

                memcpy(o, s, (size_t)(end - s));
                o += end - s;
                if (*eol)
                        *o++ = '\n';
                s = *eol ? eol + 1 : eol;
        }
        *o = '\0';
        return out;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void test_key_names(void)
{
        CHECK_STR(policy_key_name(PK_MEMORY_HIGH), "memory.high");
        CHECK_STR(policy_key_name(PK_SERVER_GO_MEMLIMIT), "server.go_memlimit");
        CHECK_STR(policy_key_name(PK_RESTART_MAX_RESTARTS), "restart.max_restarts");
        CHECK_STR(policy_key_name(PK_LOG_LEVEL), "log.level");
        CHECK_STR(policy_restart_on_name(RESTART_ON_ALWAYS), "always");
        CHECK_STR(policy_restart_on_name(RESTART_ON_OOM), "oom");
        for (int k = 0; k < PK__COUNT; k++)
                CHECK(policy_key_name((enum policy_key)k) != NULL);
        CHECK(policy_key_name(PK__COUNT) == NULL);
}

static void test_defaults(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_STR(err, "");
        CHECK_STR(p.server.command, "gopls");
        CHECK(p.server.args && p.server.args[0] == NULL);
        CHECK_INT(p.server.n_args, 0);
        CHECK(p.server.env && p.server.env[0] == NULL);
        CHECK_INT(p.server.n_env, 0);
        CHECK_INT(p.server.go_memlimit, 90);
        CHECK_U64(p.memory.high, DEFAULT_HIGH);
        CHECK_U64(p.memory.max, 8 * G);
        CHECK_U64(p.memory.swap_max, 0);
        CHECK(p.memory.oom_group);
        CHECK_U64(p.cpu.weight, 0);
        CHECK_U64(p.cpu.max_percent, POLICY_NO_LIMIT);
        CHECK_U64(p.cpu.sample_interval, 5 * S);
        CHECK_U64(p.pids.max, POLICY_NO_LIMIT);
        CHECK_INT(p.restart.on, RESTART_ON_CRASH);
        CHECK_U64(p.restart.backoff_initial, 500 * MS);
        CHECK(p.restart.backoff_factor == 2.0);
        CHECK_U64(p.restart.backoff_max, 30 * S);
        CHECK_U64(p.restart.reset_after, 60 * S);
        CHECK_INT(p.restart.max_restarts, 5);
        CHECK_U64(p.restart.window, 600 * S);
        CHECK_U64(p.restart.stop_grace, 5 * S);
        CHECK_INT(p.restart.after_give_up, AFTER_GIVE_UP_WAIT);
        CHECK_U64(p.restart.cooldown, 300 * S);
        CHECK(p.pressure.proactive);
        CHECK_INT(p.pressure.restart_above_percent, 90);
        CHECK_U64(p.pressure.above_for, 10 * S);
        CHECK_STR(p.pressure.psi, "some 150ms 1s");
        CHECK_U64(p.health.request_timeout, 60 * S);
        CHECK(!p.recovery.purge_cache);
        CHECK_INT(p.recovery.n_cache_dirs, 0);
        CHECK(p.recovery.cache_dirs && p.recovery.cache_dirs[0] == NULL);
        CHECK_INT(p.incidents.keep, 10);
        CHECK_U64(p.incidents.max_size, 64 * M);
        CHECK(p.incidents.heap_profile);
        CHECK(p.container.user == NULL);
        CHECK(p.cgroup.path == NULL);
        CHECK(!p.cgroup.require);
        CHECK(p.cgroup.scope);
        CHECK(p.lsp.replay);
        CHECK(p.lsp.notify);
        CHECK_INT(p.log.target, LOG_TARGET_AUTO);
        CHECK_INT(p.log.level, LOG_INFO);
        for (int k = 0; k < PK__COUNT; k++) {
                CHECK(p.origin[k].file == NULL);
                CHECK(!p.has_ceiling[k]);
        }
        policy_done(&p);
        policy_done(&p); /* twice is harmless */
}

/* The shares of memory follow mem_total even when it is set after
 * policy_init(), as the tests (and check-policy) do. */
static void test_defaults_follow_mem_total(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        p.mem_total = 10 * G;
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_U64(p.memory.high, 4 * G);
        CHECK_U64(p.memory.max, 5 * G);
        policy_done(&p);

        /* unknown memory: no guessed limits */
        init(&p);
        p.mem_total = 0;
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_U64(p.memory.high, POLICY_NO_LIMIT);
        CHECK_U64(p.memory.max, POLICY_NO_LIMIT);
        CHECK_U64(policy_go_memlimit(&p), 0);
        policy_done(&p);
}

static void test_every_key(void)
{
        static const char text[] = "[server]\n"
                                   "command = /usr/local/bin/gopls\n"
                                   "args = -remote=auto -rpc.trace\n"
                                   "env = GOFLAGS=-mod=mod\n"
                                   "go_memlimit = 80%\n"
                                   "[memory]\n"
                                   "high = 6G\n"
                                   "max = 7.5G\n"
                                   "swap_max = 1G\n"
                                   "oom_group = no\n"
                                   "[cpu]\n"
                                   "weight = 50\n"
                                   "max = 200%\n"
                                   "sample_interval = 250ms\n"
                                   "[pids]\n"
                                   "max = 4096\n"
                                   "[restart]\n"
                                   "on = oom\n"
                                   "backoff_initial = 1s\n"
                                   "backoff_factor = 1.5\n"
                                   "backoff_max = 1min30s\n"
                                   "reset_after = 2min\n"
                                   "max_restarts = 10\n"
                                   "window = 1h\n"
                                   "stop_grace = 0\n"
                                   "after_give_up = exit\n"
                                   "cooldown = 2min\n"
                                   "[pressure]\n"
                                   "proactive = no\n"
                                   "restart_above = 7G\n"
                                   "above_for = 3s\n"
                                   "psi = full 0.5s 2s\n"
                                   "[health]\n"
                                   "request_timeout = 0\n"
                                   "[recovery]\n"
                                   "purge_cache = yes\n"
                                   "cache_dirs = /home/a/.cache/gopls \"/srv/go cache\"\n"
                                   "[incidents]\n"
                                   "keep = 3\n"
                                   "max_size = 8M\n"
                                   "heap_profile = no\n"
                                   "[container]\n"
                                   "user = vscode\n"
                                   "[cgroup]\n"
                                   "path = /sys/fs/cgroup/gopls.slice\n"
                                   "require = yes\n"
                                   "slice = gopls-heavy.slice\n"
                                   "scope = no\n"
                                   "[lsp]\n"
                                   "replay = no\n"
                                   "notify = off\n"
                                   "replay_timeout = 90s\n"
                                   "[log]\n"
                                   "target = journal\n"
                                   "level = debug\n"
                                   "[serve]\n"
                                   "share = no\n"
                                   "idle_timeout = 0\n";
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "every.ini", text, false, err), 0);
        CHECK_STR(err, "");
        CHECK_STR(p.server.command, "/usr/local/bin/gopls");
        CHECK_INT(p.server.n_args, 2);
        CHECK_STR(p.server.args[0], "-remote=auto");
        CHECK_STR(p.server.args[1], "-rpc.trace");
        CHECK(p.server.args[2] == NULL);
        CHECK_INT(p.server.n_env, 1);
        CHECK_STR(p.server.env[0], "GOFLAGS=-mod=mod");
        CHECK_INT(p.server.go_memlimit, 80);
        CHECK_U64(p.memory.high, 6 * G);
        CHECK_U64(p.memory.max, 7 * G + 512 * M);
        CHECK_U64(p.memory.swap_max, G);
        CHECK(!p.memory.oom_group);
        CHECK_U64(p.cpu.weight, 50);
        CHECK_U64(p.cpu.max_percent, 200);
        CHECK_U64(p.cpu.sample_interval, 250 * MS);
        CHECK_U64(p.pids.max, 4096);
        CHECK_INT(p.restart.on, RESTART_ON_OOM);
        CHECK_U64(p.restart.backoff_initial, S);
        CHECK(p.restart.backoff_factor == 1.5);
        CHECK_U64(p.restart.backoff_max, 90 * S);
        CHECK_U64(p.restart.reset_after, 120 * S);
        CHECK_INT(p.restart.max_restarts, 10);
        CHECK_U64(p.restart.window, 3600 * S);
        CHECK_U64(p.restart.stop_grace, 0);
        CHECK_INT(p.restart.after_give_up, AFTER_GIVE_UP_EXIT);
        CHECK_U64(p.restart.cooldown, 120 * S);
        CHECK(!p.pressure.proactive);
        CHECK_U64(p.pressure.restart_above, 7 * G);
        CHECK_INT(p.pressure.restart_above_percent, 0);
        CHECK_U64(p.pressure.above_for, 3 * S);
        CHECK_U64(p.health.request_timeout, 0);
        CHECK(p.recovery.purge_cache);
        CHECK_INT(p.recovery.n_cache_dirs, 2);
        CHECK_STR(p.recovery.cache_dirs[0], "/home/a/.cache/gopls");
        CHECK_STR(p.recovery.cache_dirs[1], "/srv/go cache");
        CHECK_INT(p.incidents.keep, 3);
        CHECK_U64(p.incidents.max_size, 8 * M);
        CHECK(!p.incidents.heap_profile);
        CHECK_STR(p.container.user, "vscode");
        CHECK_STR(p.pressure.psi, "full 500ms 2s"); /* normalized */
        CHECK_STR(p.cgroup.path, "/sys/fs/cgroup/gopls.slice");
        CHECK(p.cgroup.require);
        CHECK_STR(p.cgroup.slice, "gopls-heavy.slice");
        CHECK(!p.cgroup.scope);
        CHECK(!p.lsp.replay);
        CHECK(!p.lsp.notify);
        CHECK_U64(p.lsp.replay_timeout, 90 * S);
        CHECK_INT(p.log.target, LOG_TARGET_JOURNAL);
        CHECK_INT(p.log.level, LOG_DEBUG);
        CHECK(!p.serve.share);
        CHECK_U64(p.serve.idle_timeout, 0);

        /* every key came from the file, at its own line */
        for (int k = 0; k < PK__COUNT; k++)
                CHECK_STR(p.origin[k].file, "every.ini");
        CHECK_INT(p.origin[PK_SERVER_COMMAND].line, 2);
        CHECK_INT(p.origin[PK_MEMORY_HIGH].line, 7);
        CHECK_INT(p.origin[PK_RESTART_WINDOW].line, 24);
        CHECK_INT(p.origin[PK_CGROUP_SLICE].line, 47);
        CHECK_INT(p.origin[PK_CONTAINER_USER].line, 43);
        CHECK_INT(p.origin[PK_LOG_LEVEL].line, 55);
        policy_done(&p);
}

/* The exact message DESIGN.md and policy.h promise. */
static void test_error_example(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "policy.ini", "[memory]\nmax = 8G\n\n; c\nhigh = 12Q\n",
                                     false, err),
                  -EINVAL);
        CHECK_STR(err, "policy.ini:5: [memory] high: \"12Q\" is not a size (use a number with K, "
                       "M, G or T, or a % of memory)");
        policy_done(&p);
}

static const struct bad_case {
        const char *text;
        bool admin;
        int r;
        const char *want;  /* the message starts with this (file:line: [section] key) */
        const char *want2; /* and contains this (what is wrong, what is allowed) */
} bad_cases[] = {
    /* sizes */
    {"[memory]\nmax = 512K", false, -ERANGE, "t.ini:2: [memory] max: \"512K\"",
     "is out of range (at least 1M, or max)"},
    {"[memory]\nhigh = 0", false, -ERANGE, "t.ini:2: [memory] high: \"0\"", "at least 1M"},
    {"[memory]\nhigh = 150%", false, -ERANGE, "t.ini:2: [memory] high: \"150%\"",
     "out of range (a % of memory must be 1% to 100%)"},
    {"[memory]\nhigh = 0%", false, -ERANGE, "t.ini:2: [memory] high:", "1% to 100%"},
    {"[memory]\nmax = 99999999999T", false, -ERANGE, "t.ini:2: [memory] max: \"99999999999T\"",
     "out of range"},
    {"[memory]\nswap_max = -1G", false, -ERANGE,
     "t.ini:2: [memory] swap_max:", "out of range (at least 0, or max)"},
    {"[memory]\nmax = 2GB", false, -EINVAL, "t.ini:2: [memory] max: \"2GB\"", "is not a size"},
    {"[memory]\nmax =", false, -EINVAL, "t.ini:2: [memory] max: \"\"", "is not a size"},
    {"[memory]\noom_group = maybe", false, -EINVAL, "t.ini:2: [memory] oom_group: \"maybe\"",
     "is not a boolean (use yes or no)"},
    /* cpu */
    {"[cpu]\nweight = 0", false, -ERANGE, "t.ini:2: [cpu] weight: \"0\"",
     "out of range (1 to 10000, or empty for the kernel's default)"},
    {"[cpu]\nweight = 10001", false, -ERANGE, "t.ini:2: [cpu] weight:", "1 to 10000"},
    {"[cpu]\nweight = max", false, -EINVAL, "t.ini:2: [cpu] weight: \"max\"",
     "is not a whole number"},
    {"[cpu]\nmax = 0%", false, -ERANGE, "t.ini:2: [cpu] max: \"0%\"",
     "out of range (1% to 102400%, or max)"},
    {"[cpu]\nmax = 102401%", false, -ERANGE, "t.ini:2: [cpu] max:", "1% to 102400%"},
    {"[cpu]\nmax = two", false, -EINVAL, "t.ini:2: [cpu] max: \"two\"",
     "is not a CPU share (use a percentage of one CPU"},
    {"[cpu]\nsample_interval = 50ms", false, -ERANGE,
     "t.ini:2: [cpu] sample_interval:", "out of range (100ms to 1h)"},
    {"[cpu]\nsample_interval = 2h", false, -ERANGE,
     "t.ini:2: [cpu] sample_interval:", "100ms to 1h"},
    /* pids */
    {"[pids]\nmax = 0", false, -ERANGE, "t.ini:2: [pids] max: \"0\"",
     "out of range (1 to 4194304, or max)"},
    {"[pids]\nmax = 4194305", false, -ERANGE, "t.ini:2: [pids] max:", "1 to 4194304"},
    {"[pids]\nmax = 1.5", false, -EINVAL, "t.ini:2: [pids] max:", "is not a whole number"},
    {"[pids]\nmax = 10%", false, -EINVAL, "t.ini:2: [pids] max:", "is not a whole number"},
    /* restart */
    {"[restart]\non = sometimes", false, -EINVAL, "t.ini:2: [restart] on: \"sometimes\"",
     "is not one of oom, crash, always or never"},
    {"[restart]\nmax_restarts = 1001", false, -ERANGE,
     "t.ini:2: [restart] max_restarts:", "out of range (0 to 1000)"},
    {"[restart]\nmax_restarts = -1", false, -ERANGE,
     "t.ini:2: [restart] max_restarts:", "0 to 1000"},
    {"[restart]\nbackoff_factor = 0.5", false, -ERANGE,
     "t.ini:2: [restart] backoff_factor:", "out of range (1.0 to 10.0)"},
    {"[restart]\nbackoff_factor = 10.5", false, -ERANGE,
     "t.ini:2: [restart] backoff_factor:", "1.0 to 10.0"},
    {"[restart]\nbackoff_factor = fast", false, -EINVAL,
     "t.ini:2: [restart] backoff_factor: \"fast\"", "is not a number"},
    {"[restart]\nbackoff_initial = -1s", false, -ERANGE,
     "t.ini:2: [restart] backoff_initial: \"-1s\"", "out of range (100ms to 24h)"},
    /* The floor: a server that dies at once must not be restarted in a hot loop. */
    {"[restart]\nbackoff_initial = 0", false, -ERANGE,
     "t.ini:2: [restart] backoff_initial: \"0\"", "out of range (100ms to 24h)"},
    {"[restart]\nbackoff_initial = 99ms", false, -ERANGE,
     "t.ini:2: [restart] backoff_initial: \"99ms\"", "out of range (100ms to 24h)"},
    {"[restart]\nbackoff_max = 0", false, -ERANGE, "t.ini:2: [restart] backoff_max: \"0\"",
     "out of range (100ms to 24h)"},
    {"[limits]\nrestart.backoff_max = 10ms", true, -ERANGE,
     "t.ini:2: [limits] restart.backoff_max: \"10ms\"", "out of range (100ms to 24h)"},
    {"[restart]\nbackoff_max = 25h", false, -ERANGE, "t.ini:2: [restart] backoff_max:",
     "100ms to 24h"},
    {"[restart]\nwindow = 169h", false, -ERANGE,
     "t.ini:2: [restart] window:", "out of range (0 to 168h)"},
    {"[restart]\nwindow = 5m", false, -EINVAL, "t.ini:2: [restart] window: \"5m\"",
     "is not a duration (use a number with ms, s, min or h"},
    {"[restart]\nstop_grace = soon", false, -EINVAL,
     "t.ini:2: [restart] stop_grace:", "is not a duration"},
    {"[restart]\nreset_after = 1d", false, -EINVAL,
     "t.ini:2: [restart] reset_after:", "is not a duration"},
    /* pressure */
    {"[pressure]\nproactive = 2", false, -EINVAL,
     "t.ini:2: [pressure] proactive:", "is not a boolean"},
    {"[pressure]\nabove_for = forever", false, -EINVAL,
     "t.ini:2: [pressure] above_for:", "is not a duration"},
    /* the key it replaced is named with its successor, not as unknown */
    {"[pressure]\nabove_high_for = 30s", false, -EINVAL, "t.ini:2: [pressure] above_high_for:",
     "was replaced by above_for"},
    {"[pressure]\nrestart_above = 101%", false, -ERANGE, "t.ini:2: [pressure] restart_above:",
     "a % of [memory] max must be 1% to 100%"},
    {"[pressure]\nrestart_above = 0%", false, -ERANGE, "t.ini:2: [pressure] restart_above:",
     "1% to 100%"},
    {"[pressure]\nrestart_above = 512K", false, -ERANGE, "t.ini:2: [pressure] restart_above:",
     "out of range (at least 1M)"},
    {"[pressure]\nrestart_above = lots", false, -EINVAL, "t.ini:2: [pressure] restart_above:",
     "is not a size or a percentage (use e.g. 6G, or 90% of [memory] max)"},
    {"[limits]\npressure.restart_above = 6G", true, -EINVAL,
     "t.ini:2: [limits] pressure.restart_above:", "cannot have a ceiling"},
    /* restart: what happens after a crash loop */
    {"[restart]\nafter_give_up = retry", false, -EINVAL,
     "t.ini:2: [restart] after_give_up: \"retry\"", "is not one of wait or exit"},
    {"[restart]\ncooldown = 500ms", false, -ERANGE, "t.ini:2: [restart] cooldown:",
     "out of range (1s to 24h)"},
    /* health */
    {"[health]\nrequest_timeout = 25h", false, -ERANGE, "t.ini:2: [health] request_timeout:",
     "out of range (0 to 24h)"},
    {"[health]\ntimeout = 5s", false, -EINVAL, "t.ini:2: [health] timeout:",
     "unknown key (known in [health]: request_timeout)"},
    /* recovery */
    {"[recovery]\ncache_dirs = .cache/gopls", false, -EINVAL, "t.ini:2: [recovery] cache_dirs:",
     "\".cache/gopls\" is not an absolute path"},
    {"[recovery]\npurge_cache = sometimes", false, -EINVAL, "t.ini:2: [recovery] purge_cache:",
     "is not a boolean"},
    /* incidents */
    {"[incidents]\nkeep = 1001", false, -ERANGE, "t.ini:2: [incidents] keep:",
     "out of range (0 to 1000)"},
    {"[incidents]\nmax_size = big", false, -EINVAL, "t.ini:2: [incidents] max_size:",
     "is not a size"},
    /* container */
    {"[container]\nuser = Root;rm", false, -EINVAL, "t.ini:2: [container] user:",
     "is not a user name or a numeric uid"},
    {"[container]\nuser = 12345678901", false, -EINVAL, "t.ini:2: [container] user:",
     "is not a user name or a numeric uid"},
    {"[pressure]\npsi = some 150ms", false, -EINVAL, "t.ini:2: [pressure] psi: \"some 150ms\"",
     "is not a PSI trigger (use \"some STALL WINDOW\" or \"full STALL WINDOW\""},
    {"[pressure]\npsi = partial 150ms 1s", false, -EINVAL,
     "t.ini:2: [pressure] psi:", "is not a PSI trigger"},
    {"[pressure]\npsi = some 150ms 1s 2s", false, -EINVAL,
     "t.ini:2: [pressure] psi:", "is not a PSI trigger"},
    {"[pressure]\npsi = some 150ms 20s", false, -ERANGE,
     "t.ini:2: [pressure] psi:", "the window is out of range (500ms to 10s"},
    {"[pressure]\npsi = some 100ms 400ms", false, -ERANGE,
     "t.ini:2: [pressure] psi:", "500ms to 10s"},
    {"[pressure]\npsi = some 1s 1s", false, -EINVAL,
     "t.ini:2: [pressure] psi:", "the stall must be more than 0 and shorter than the window"},
    {"[pressure]\npsi = full 0 1s", false, -EINVAL,
     "t.ini:2: [pressure] psi:", "the stall must be more than 0"},
    /* server */
    {"[server]\ngo_memlimit = 101%", false, -ERANGE,
     "t.ini:2: [server] go_memlimit:", "out of range (0% to 100%, or off)"},
    {"[server]\ngo_memlimit = lots", false, -EINVAL,
     "t.ini:2: [server] go_memlimit:", "is not a percentage"},
    {"[server]\ncommand =", false, -EINVAL, "t.ini:2: [server] command: \"\"", "is empty"},
    {"[server]\ncommand = gopls serve", false, -EINVAL,
     "t.ini:2: [server] command:", "is more than one word (put the arguments in args"},
    {"[server]\nargs = -logfile \"/tmp/x", false, -EINVAL,
     "t.ini:2: [server] args:", "without its closing \""},
    {"[server]\nenv = GOFLAGS", false, -EINVAL, "t.ini:2: [server] env: \"GOFLAGS\"",
     "is not NAME=VALUE"},
    {"[server]\nenv = 1X=2", false, -EINVAL, "t.ini:2: [server] env: \"1X=2\"",
     "not starting with a digit"},
    {"[server]\nenv = =x", false, -EINVAL, "t.ini:2: [server] env:", "is not NAME=VALUE"},
    {"[server]\nenv = A-B=1", false, -EINVAL, "t.ini:2: [server] env:", "is not NAME=VALUE"},
    /* cgroup, lsp, log */
    {"[cgroup]\npath = relative/dir", false, -EINVAL,
     "t.ini:2: [cgroup] path:", "is not an absolute path"},
    {"[cgroup]\nrequire = 2", false, -EINVAL, "t.ini:2: [cgroup] require:", "is not a boolean"},
    {"[serve]\nshare = both", false, -EINVAL, "t.ini:2: [serve] share:", "is not a boolean"},
    {"[serve]\nidle_timeout = 200h", false, -ERANGE, "t.ini:2: [serve] idle_timeout: \"200h\"",
     "is out of range"},
    {"[cgroup]\nslice = gopls", false, -EINVAL, "t.ini:2: [cgroup] slice: \"gopls\"",
     "is not a slice unit name"},
    {"[cgroup]\nslice = a/b.slice", false, -EINVAL, "t.ini:2: [cgroup] slice:",
     "ending in .slice"},
    {"[lsp]\nreplay = sure", false, -EINVAL, "t.ini:2: [lsp] replay:", "is not a boolean"},
    {"[lsp]\nnotify = ", false, -EINVAL, "t.ini:2: [lsp] notify:", "is not a boolean"},
    {"[log]\ntarget = syslog", false, -EINVAL, "t.ini:2: [log] target: \"syslog\"",
     "is not one of auto, journal or stderr"},
    {"[log]\nlevel = verbose", false, -EINVAL, "t.ini:2: [log] level: \"verbose\"",
     "is not one of err, warning, notice, info or debug"},
    /* structure */
    {"[memory]\nhgih = 1G", false, -EINVAL, "t.ini:2: [memory] hgih: unknown key",
     "(known in [memory]: high, max, swap_max, oom_group)"},
    {"[Memory]\nhigh = 1G", false, -EINVAL, "t.ini:1: unknown section [Memory]",
     "(known: server, memory, cpu, pids, restart, pressure, health, recovery, incidents, "
     "serve, cgroup, container, lsp, log, limits)"},
    {"; x\n[memroy]\n", false, -EINVAL, "t.ini:2: unknown section [memroy]", "known:"},
    {"high = 1G", false, -EINVAL, "t.ini:1: high: key outside any section", "[memory]"},
    {"[memory]\nhigh 1G", false, -EINVAL, "t.ini:2: \"high 1G\"",
     "is not \"key = value\", a [section] or a ; comment"},
    {"[memory\nhigh = 1G", false, -EINVAL, "t.ini:1: \"[memory\"", "has no closing ]"},
    {"[memory]\nhigh = 1G\n  more\n", false, -EINVAL, "t.ini:3: \"more\"",
     "is not \"key = value\""},
    /* [limits] */
    {"[limits]\nmemory.max = 8G", false, -EPERM,
     "t.ini:2: [limits] memory.max:", "ceilings can only be set by the administrator"},
    {"[limits]\nmemory.hgih = 8G", true, -EINVAL, "t.ini:2: [limits] memory.hgih: unknown key",
     "section.key, e.g. memory.max"},
    {"[limits]\nmax = 8G", true, -EINVAL, "t.ini:2: [limits] max: unknown key", "section.key"},
    {"[limits]\nserver.command = x", true, -EINVAL, "t.ini:2: [limits] server.command:",
     "cannot have a ceiling (only sizes, counts, percentages and durations can)"},
    {"[limits]\nrestart.backoff_factor = 2", true, -EINVAL,
     "t.ini:2: [limits] restart.backoff_factor:", "cannot have a ceiling"},
    {"[limits]\nmemory.max = 12Q", true, -EINVAL, "t.ini:2: [limits] memory.max: \"12Q\"",
     "is not a size"},
    {"[limits]\npids.max = 0", true, -ERANGE, "t.ini:2: [limits] pids.max: \"0\"",
     "out of range (1 to 4194304, or max)"},
    {"[limits]\ncpu.weight =", true, -EINVAL, "t.ini:2: [limits] cpu.weight: \"\"",
     "is not a whole number"},
    {"[limits]\ncpu.weight = 0", true, -ERANGE, "t.ini:2: [limits] cpu.weight: \"0\"",
     "is out of range (1 to 10000)"},
    /* where the line counter must stay right */
    {"; comment\n\n[memory]\n  # indented comment\nmax = 8G\n\thigh = x\n", false, -EINVAL,
     "t.ini:6: [memory] high: \"x\"", "is not a size"},
    {"[memory]\r\nmax = 8G\r\nhigh = x\r\n", false, -EINVAL, "t.ini:3: [memory] high: \"x\"",
     "is not a size"},
    {"\xEF\xBB\xBF[memory]\nhigh = x\n", false, -EINVAL, "t.ini:2: [memory] high: \"x\"",
     "is not a size"},
    {"[memory]\nhigh = x ; a comment\n", false, -EINVAL, "t.ini:2: [memory] high: \"x\"",
     "is not a size"},
    /* the first error is reported, whether inih's or ours */
    {"[memory]\nhigh 1G\nmax = x\n", false, -EINVAL, "t.ini:2: \"high 1G\"", "key = value"},
    {"[memory]\nmax = x\nhigh 1G\n", false, -EINVAL, "t.ini:2: [memory] max:", "not a size"},
};

static void test_bad_values(void)
{
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct policy p;
                char err[POLICY_ERR_MAX] = "";
                int r;

                init(&p);
                r = policy_load_string(&p, "t.ini", c->text, c->admin, err);
                if (r != c->r || strncmp(err, c->want, strlen(c->want)) != 0 ||
                    !strstr(err, c->want2))
                        fprintf(stderr, "case %zu: r=%d err=%s\n", i, r, err);
                CHECK_INT(r, c->r);
                CHECK(strncmp(err, c->want, strlen(c->want)) == 0);
                CHECK_CONTAINS(err, c->want2);
                CHECK(strchr(err, '\n') == NULL); /* one line */
                policy_done(&p);
        }
}

static void test_long_lines(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX], text[1024], comment[400];

        memset(comment, 'x', sizeof(comment) - 1);
        comment[sizeof(comment) - 1] = '\0';

        /* Long comments, whole-line or inline, are fine ... */
        init(&p);
        snprintf(text, sizeof(text), "; %s\n[memory]\nmax = 4G ; %s\nhigh = 2G\n", comment,
                 comment);
        CHECK_INT(policy_load_string(&p, "t.ini", text, false, err), 0);
        CHECK_U64(p.memory.max, 4 * G);
        CHECK_INT(p.origin[PK_MEMORY_HIGH].line, 4);
        policy_done(&p);

        /* ... a long value is not: inih would cut it in two. */
        init(&p);
        snprintf(text, sizeof(text), "[server]\nargs = %.200s\n[memory]\nhigh = 2G\n", comment);
        CHECK_INT(policy_load_string(&p, "t.ini", text, false, err), -EINVAL);
        CHECK_STR(err, "t.ini:2: line is too long (at most 199 characters before a comment)");
        CHECK_INT(p.server.n_args, 0);
        policy_done(&p);

        /* 199 characters still fit */
        init(&p);
        snprintf(text, sizeof(text), "[server]\nargs = %.192s\n", comment);
        CHECK_INT(policy_load_string(&p, "t.ini", text, false, err), 0);
        CHECK_INT(p.server.n_args, 1);
        CHECK_INT(strlen(p.server.args[0]), 192);
        policy_done(&p);
}

/* After the first error nothing more of the file is applied. */
static void test_stops_at_first_error(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "t.ini", "[memory]\nmax = x\nswap_max = 1G\n", false, err),
                  -EINVAL);
        CHECK_U64(p.memory.swap_max, 0);
        CHECK(p.origin[PK_MEMORY_SWAP_MAX].file == NULL);
        policy_done(&p);
}

static void test_layout_freedom(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "t.ini",
                                     "  [memory]\n"
                                     "\thigh=2G\n"
                                     "    max   =   4G   ; why\n"
                                     "[cpu]\n"
                                     "weight = 20\n"
                                     "[memory]\n" /* a section may come back */
                                     "swap_max = 0\n",
                                     false, err),
                  0);
        CHECK_U64(p.memory.high, 2 * G);
        CHECK_U64(p.memory.max, 4 * G);
        CHECK_U64(p.cpu.weight, 20);
        CHECK_INT(p.origin[PK_MEMORY_SWAP_MAX].line, 7);
        policy_done(&p);
}

static void test_duplicates_last_wins(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "t.ini",
                              "[memory]\nmax = 4G\nmax = 6G\n[cpu]\nweight = 5\n"
                              "weight =\n",
                              false, err),
                  0);
        CHECK_U64(p.memory.max, 6 * G);
        CHECK_INT(p.origin[PK_MEMORY_MAX].line, 3);
        CHECK_U64(p.cpu.weight, 0); /* empty: back to the kernel's default */
        CHECK_INT(p.origin[PK_CPU_WEIGHT].line, 6);
        policy_done(&p);
}

static void test_later_files_override(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[memory]\nmax = 4G\nhigh = 3G\n", true, err), 0);
        CHECK_INT(policy_load_string(&p, "b.ini", "[memory]\nmax = 6G\n", false, err), 0);
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_U64(p.memory.max, 6 * G);
        CHECK_STR(p.origin[PK_MEMORY_MAX].file, "b.ini");
        CHECK_U64(p.memory.high, 3 * G);
        CHECK_STR(p.origin[PK_MEMORY_HIGH].file, "a.ini");
        CHECK_INT(p.origin[PK_MEMORY_HIGH].line, 3);
        policy_done(&p);
}

static void test_args_and_command(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "t.ini",
                                     "[server]\n"
                                     "command = \"/opt/My Tools/gopls\"\n"
                                     "args = -remote=auto  \"-logfile\"\t\"/tmp/a b.log\" \"\" "
                                     "x\"y z\"w C:\\path\n",
                                     false, err),
                  0);
        CHECK_STR(p.server.command, "/opt/My Tools/gopls");
        CHECK_INT(p.server.n_args, 6);
        CHECK_STR(p.server.args[0], "-remote=auto");
        CHECK_STR(p.server.args[1], "-logfile");
        CHECK_STR(p.server.args[2], "/tmp/a b.log");
        CHECK_STR(p.server.args[3], "");
        CHECK_STR(p.server.args[4], "xy zw");
        CHECK_STR(p.server.args[5], "C:\\path");
        CHECK(p.server.args[6] == NULL);

        CHECK_INT(policy_load_string(&p, "u.ini", "[server]\nargs =\n", false, err), 0);
        CHECK_INT(p.server.n_args, 0);
        CHECK(p.server.args[0] == NULL);
        CHECK_STR(p.origin[PK_SERVER_ARGS].file, "u.ini");
        policy_done(&p);
}

static void test_env(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];
        char *out;

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini",
                                     "[server]\nenv = GOFLAGS=-mod=mod\nenv = GOPROXY=off\n"
                                     "env = EMPTY=\n",
                                     true, err),
                  0);
        CHECK_INT(policy_load_string(&p, "u.ini",
                                     "[server]\nenv = GOPROXY=https://proxy.golang.org\n"
                                     "env = _X1=a b  c\n",
                                     false, err),
                  0);
        CHECK_INT(p.server.n_env, 4);
        CHECK_STR(p.server.env[0], "GOFLAGS=-mod=mod");
        CHECK_STR(p.server.env[1], "GOPROXY=https://proxy.golang.org"); /* replaced in place */
        CHECK_STR(p.server.env[2], "EMPTY=");
        CHECK_STR(p.server.env[3], "_X1=a b  c"); /* the value is not split */
        CHECK(p.server.env[4] == NULL);

        out = print_policy(&p);
        CHECK_CONTAINS(out, "env = GOFLAGS=-mod=mod  ; from a.ini:2\n");
        CHECK_CONTAINS(out, "env = GOPROXY=https://proxy.golang.org  ; from u.ini:2\n");
        CHECK_CONTAINS(out, "env = EMPTY=  ; from a.ini:4\n");
        free(out);

        /* "env =" drops what came before */
        CHECK_INT(policy_load_string(&p, "v.ini", "[server]\nenv =\nenv = A=1\n", false, err), 0);
        CHECK_INT(p.server.n_env, 1);
        CHECK_STR(p.server.env[0], "A=1");
        CHECK(p.server.env[1] == NULL);
        CHECK_INT(policy_load_string(&p, "w.ini", "[server]\nenv =\n", false, err), 0);
        CHECK_INT(p.server.n_env, 0);
        CHECK(p.server.env[0] == NULL);
        out = print_policy(&p);
        CHECK_CONTAINS(out, "env =  ; from w.ini:2\n");
        free(out);
        policy_done(&p);
}

static void test_ceiling_blocks_user_value(void)
{
        static const struct {
                const char *limits, *user, *want;
        } cases[] = {
            {"memory.max = 8G", "[memory]\nmax = 12G",
             "u.ini:2: [memory] max: \"12G\" is above the ceiling 8G set in a.ini:2 "
             "([limits] memory.max)"},
            {"memory.max = 8G", "[memory]\nmax = max",
             "u.ini:2: [memory] max: \"max\" is above the ceiling 8G set in a.ini:2"},
            {"memory.high = 25%", "[memory]\nhigh = 30%",
             "u.ini:2: [memory] high: \"30%\" is above the ceiling 4G set in a.ini:2"},
            {"memory.swap_max = 0", "[memory]\nswap_max = 1M",
             "u.ini:2: [memory] swap_max: \"1M\" is above the ceiling 0 set in a.ini:2"},
            {"cpu.max = 200%", "[cpu]\nmax = 300%",
             "u.ini:2: [cpu] max: \"300%\" is above the ceiling 200% set in a.ini:2"},
            {"cpu.weight = 50", "[cpu]\nweight =",
             "u.ini:2: [cpu] weight: the kernel's default (100) is above the ceiling 50 set "
             "in a.ini:2"},
            {"pids.max = 4096", "[pids]\nmax = max",
             "u.ini:2: [pids] max: \"max\" is above the ceiling 4096 set in a.ini:2"},
            {"restart.max_restarts = 3", "[restart]\nmax_restarts = 5",
             "u.ini:2: [restart] max_restarts: \"5\" is above the ceiling 3 set in a.ini:2"},
            {"restart.window = 1h", "[restart]\nwindow = 90min",
             "u.ini:2: [restart] window: \"90min\" is above the ceiling 1h set in a.ini:2"},
            {"server.go_memlimit = 80", "[server]\ngo_memlimit = 95%",
             "u.ini:2: [server] go_memlimit: \"95%\" is above the ceiling 80% set in "
             "a.ini:2"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct policy p;
                char err[POLICY_ERR_MAX], admin[128];

                init(&p);
                snprintf(admin, sizeof(admin), "[limits]\n%s\n", cases[i].limits);
                CHECK_INT(policy_load_string(&p, "a.ini", admin, true, err), 0);
                CHECK_INT(policy_load_string(&p, "u.ini", cases[i].user, false, err), -ERANGE);
                if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
                        fprintf(stderr, "got: %s\n", err);
                CHECK(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0);
                policy_done(&p);
        }
}

static void test_ceiling_allows_lower(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini",
                                     "[limits]\nmemory.max = 8G\npids.max = 4096\n"
                                     "server.go_memlimit = 80\n",
                                     true, err),
                  0);
        CHECK_INT(load_finish(&p, "u.ini",
                              "[memory]\nmax = 8G\nhigh = 2G\n[pids]\nmax = 100\n"
                              "[server]\ngo_memlimit = off\n",
                              false, err),
                  0);
        CHECK_U64(p.memory.max, 8 * G);
        CHECK_U64(p.pids.max, 100);
        CHECK_INT(p.server.go_memlimit, 0);
        CHECK(p.has_ceiling[PK_MEMORY_MAX]);
        CHECK_U64(p.ceiling[PK_MEMORY_MAX], 8 * G);
        CHECK_STR(p.ceiling_origin[PK_MEMORY_MAX].file, "a.ini");
        CHECK_INT(p.ceiling_origin[PK_MEMORY_MAX].line, 2);
        CHECK(!p.has_ceiling[PK_MEMORY_HIGH]);
        policy_done(&p);
}

/* Built-in defaults above a ceiling come down to it, and say so. */
static void test_ceiling_lowers_defaults(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "a.ini",
                              "[limits]\nmemory.max = 4G\npids.max = 4096\ncpu.weight = 50\n"
                              "server.go_memlimit = 80\nrestart.backoff_max = 10s\n"
                              "cpu.max = 400%\n",
                              true, err),
                  0);
        CHECK_STR(err, "");
        CHECK_U64(p.memory.max, 4 * G);
        CHECK_STR(p.origin[PK_MEMORY_MAX].file, "a.ini");
        CHECK_INT(p.origin[PK_MEMORY_MAX].line, 2);
        /* the default high (40% = 6.4G) then follows max at 4:5 */
        CHECK_U64(p.memory.high, 3276 * M);
        CHECK_INT(p.origin[PK_MEMORY_HIGH].line, 2);
        CHECK_U64(p.pids.max, 4096);
        CHECK_INT(p.origin[PK_PIDS_MAX].line, 3);
        CHECK_U64(p.cpu.weight, 50); /* the kernel's 100 is above 50 */
        CHECK_INT(p.server.go_memlimit, 80);
        CHECK_U64(p.restart.backoff_max, 10 * S);
        CHECK_U64(p.cpu.max_percent, 400);
        /* defaults below their ceiling stay defaults */
        CHECK_U64(p.restart.backoff_initial, 500 * MS);
        CHECK(p.origin[PK_RESTART_BACKOFF_INITIAL].file == NULL);
        policy_done(&p);

        /* a ceiling above the default changes nothing */
        init(&p);
        CHECK_INT(load_finish(&p, "a.ini", "[limits]\ncpu.weight = 200\n", true, err), 0);
        CHECK_U64(p.cpu.weight, 0);
        CHECK(p.origin[PK_CPU_WEIGHT].file == NULL);
        policy_done(&p);
}

static void test_ceiling_only_comes_down(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "/etc/gopls-guard/policy.ini",
                                     "[limits]\nmemory.max = 8G\n", true, err),
                  0);
        CHECK_INT(policy_load_string(&p, "/etc/gopls-guard/policy.d/10-lower.ini",
                                     "[limits]\nmemory.max = 6G\n", true, err),
                  0);
        CHECK_U64(p.ceiling[PK_MEMORY_MAX], 6 * G);
        CHECK_STR(p.ceiling_origin[PK_MEMORY_MAX].file, "/etc/gopls-guard/policy.d/10-lower.ini");
        CHECK_INT(policy_load_string(&p, "/etc/gopls-guard/policy.d/20-raise.ini",
                                     "[limits]\nmemory.max = 10G\n", true, err),
                  -ERANGE);
        CHECK_STR(err, "/etc/gopls-guard/policy.d/20-raise.ini:2: [limits] memory.max: \"10G\" is "
                       "above the ceiling 6G set in /etc/gopls-guard/policy.d/10-lower.ini:2 (a "
                       "later file may only lower a ceiling)");
        CHECK_U64(p.ceiling[PK_MEMORY_MAX], 6 * G);
        policy_done(&p);

        /* within one file the last line wins, as for any key */
        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\nmemory.max = 6G\nmemory.max = 8G\n",
                                     true, err),
                  0);
        CHECK_U64(p.ceiling[PK_MEMORY_MAX], 8 * G);
        CHECK_INT(p.ceiling_origin[PK_MEMORY_MAX].line, 3);
        policy_done(&p);
}

/* A value set before its ceiling (earlier in the same admin file, or in
 * an earlier file) is caught by policy_finish(), naming both places. */
static void test_ceiling_after_value(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini",
                                     "[memory]\nmax = 12G\n[limits]\nmemory.max = 8G\n", true, err),
                  0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_STR(err, "a.ini:2: [memory] max: 12G is above the ceiling 8G set in a.ini:4 "
                       "([limits] memory.max)");
        policy_done(&p);

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[cpu]\nweight =\n[limits]\ncpu.weight = 50\n",
                                     true, err),
                  0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_STR(err, "a.ini:2: [cpu] weight: the kernel's default (100) is above the ceiling 50 "
                       "set in a.ini:4 ([limits] cpu.weight)");
        policy_done(&p);

        init(&p);
        CHECK_INT(policy_load_string(&p, "u.ini", "[memory]\nhigh = 7G\n", false, err), 0);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\nmemory.high = 6G\n", true, err), 0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_STR(err, "u.ini:2: [memory] high: 7G is above the ceiling 6G set in a.ini:2 "
                       "([limits] memory.high)");
        policy_done(&p);
}

static void test_high_and_max(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        /* both set, in conflict: an error naming both */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 10G\nmax = 8G\n", false, err),
                  -EINVAL);
        CHECK_STR(err, "u.ini:2: [memory] high: 10G is above [memory] max = 8G (from u.ini:3); "
                       "high must not be above max");
        policy_done(&p);

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[memory]\nmax = 8G\n", true, err), 0);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 9G\n", false, err), -EINVAL);
        CHECK_CONTAINS(err, "u.ini:2: [memory] high: 9G is above [memory] max = 8G (from a.ini:2)");
        policy_done(&p);

        /* equal is fine; "max" on either side is never a conflict */
        static const char *const fine[] = {
            "[memory]\nhigh = 8G\nmax = 8G\n",
            "[memory]\nhigh = max\nmax = 8G\n",
            "[memory]\nhigh = 8G\nmax = max\n",
        };
        for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
                init(&p);
                CHECK_INT(load_finish(&p, "u.ini", fine[i], false, err), 0);
                policy_done(&p);
        }

        /* only max set, below the default high: high follows at 4:5 */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nmax = 4G\n", false, err), 0);
        CHECK_U64(p.memory.high, 3276 * M);
        CHECK_STR(p.origin[PK_MEMORY_HIGH].file, "u.ini");
        CHECK_INT(p.origin[PK_MEMORY_HIGH].line, 2);
        policy_done(&p);

        /* only max set, above the default high: high stays the default */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nmax = 12G\n", false, err), 0);
        CHECK_U64(p.memory.high, DEFAULT_HIGH);
        CHECK(p.origin[PK_MEMORY_HIGH].file == NULL);
        policy_done(&p);

        /* only high set, above the default max: max follows at 5:4 */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 12G\n", false, err), 0);
        CHECK_U64(p.memory.max, 15 * G);
        CHECK_STR(p.origin[PK_MEMORY_MAX].file, "u.ini");
        policy_done(&p);

        /* ... but not past a ceiling on max, which then is the conflict */
        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\nmemory.max = 14G\n", true, err), 0);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 12G\n", false, err), 0);
        CHECK_U64(p.memory.max, 14 * G);
        CHECK_STR(p.origin[PK_MEMORY_MAX].file, "a.ini");
        policy_done(&p);

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\nmemory.max = 10G\n", true, err), 0);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 12G\n", false, err), -EINVAL);
        CHECK_STR(err, "u.ini:2: [memory] high: 12G is above [memory] max = 10G (from a.ini:2); "
                       "high must not be above max");
        policy_done(&p);
}

static void test_backoff_order(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[restart]\nbackoff_initial = 1min\nbackoff_max = 30s\n",
                              false, err),
                  -EINVAL);
        CHECK_STR(err, "u.ini:2: [restart] backoff_initial: 1min is above [restart] backoff_max = "
                       "30s (from u.ini:3); the first delay must not be longer than the longest");
        policy_done(&p);

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[restart]\nbackoff_initial = 1min\n", false, err), 0);
        CHECK_U64(p.restart.backoff_max, 60 * S);
        CHECK_STR(p.origin[PK_RESTART_BACKOFF_MAX].file, "u.ini");
        policy_done(&p);

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[restart]\nbackoff_max = 100ms\n", false, err), 0);
        CHECK_U64(p.restart.backoff_initial, 100 * MS);
        policy_done(&p);
}

static void test_other_cross_checks(void)
{
        static const struct {
                const char *text, *want;
        } cases[] = {
            {"[restart]\nreset_after = 0\n", "u.ini:2: [restart] reset_after: must be more than 0"},
            {"[restart]\nwindow = 0ms\n", "u.ini:2: [restart] window: must be more than 0"},
            {"[memory]\nmax = 4G\n[pressure]\nrestart_above = 5G\n",
             "u.ini:4: [pressure] restart_above: 5G is above [memory] max 4G (from u.ini:2); "
             "the kernel would kill the server first"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct policy p;
                char err[POLICY_ERR_MAX];

                init(&p);
                CHECK_INT(load_finish(&p, "u.ini", cases[i].text, false, err), -EINVAL);
                CHECK(strncmp(err, cases[i].want, strlen(cases[i].want)) == 0);
                if (strncmp(err, cases[i].want, strlen(cases[i].want)) != 0)
                        fprintf(stderr, "got: %s\n", err);
                policy_done(&p);
        }

        /* above_for = 0 means at once */
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[pressure]\nabove_for = 0\n", false, err), 0);
        CHECK_U64(p.pressure.above_for, 0);
        policy_done(&p);
}

/* restart_above as a % is a share of [memory] max, resolved after every
 * file (a later file may change max); with max = max there is no size
 * trigger at all. */
static void test_restart_above(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = 3G\nmax = 4G\n", false, err), 0);
        CHECK_U64(p.pressure.restart_above, 4 * G / 10 * 9 + 4 * G % 10 * 9 / 10);
        policy_done(&p);

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini",
                              "[pressure]\nrestart_above = 50%\n[memory]\nhigh = 1G\nmax = 2G\n",
                              false, err),
                  0);
        CHECK_U64(p.pressure.restart_above, G);
        policy_done(&p);

        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[memory]\nhigh = max\nmax = max\n", false, err), 0);
        CHECK_U64(p.pressure.restart_above, POLICY_NO_LIMIT);
        policy_done(&p);

        /* a size with an unlimited max is taken as written */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini",
                              "[memory]\nhigh = max\nmax = max\n[pressure]\nrestart_above = 6G\n",
                              false, err),
                  0);
        CHECK_U64(p.pressure.restart_above, 6 * G);
        policy_done(&p);
}

static void test_max_restarts_limit(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX], text[64];

        /* the supervisor sizes its ring of restart times by this */
        CHECK_INT(SV_MAX_RESTARTS_LIMIT, 1000);
        init(&p);
        snprintf(text, sizeof(text), "[restart]\nmax_restarts = %d\n", SV_MAX_RESTARTS_LIMIT);
        CHECK_INT(policy_load_string(&p, "t.ini", text, false, err), 0);
        CHECK_INT(p.restart.max_restarts, SV_MAX_RESTARTS_LIMIT);
        snprintf(text, sizeof(text), "[restart]\nmax_restarts = %d\n", SV_MAX_RESTARTS_LIMIT + 1);
        CHECK_INT(policy_load_string(&p, "t.ini", text, false, err), -ERANGE);
        CHECK_INT(policy_load_string(&p, "t.ini", "[restart]\nmax_restarts = 0\n", false, err), 0);
        CHECK_INT(p.restart.max_restarts, 0);
        policy_done(&p);
}

static void test_go_memlimit(void)
{
        static const struct {
                const char *text;
                uint64_t want;
        } cases[] = {
            {"", DEFAULT_HIGH / 100 * 90 + DEFAULT_HIGH % 100 * 90 / 100},
            {"[memory]\nhigh = 10G\nmax = 12G\n", 9 * G},
            {"[memory]\nhigh = max\nmax = 10G\n", 9 * G}, /* a share of max then */
            {"[memory]\nhigh = max\nmax = max\n", 0},
            {"[memory]\nhigh = 10G\nmax = max\n", 9 * G},
            {"[server]\ngo_memlimit = off\n", 0},
            {"[server]\ngo_memlimit = 0\n", 0},
            {"[server]\ngo_memlimit = 100\n[memory]\nhigh=4G\n", 4 * G},
            {"[server]\ngo_memlimit = 50%\n[memory]\nhigh=4G\n", 2 * G},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct policy p;
                char err[POLICY_ERR_MAX];

                init(&p);
                CHECK_INT(load_finish(&p, "t.ini", cases[i].text, false, err), 0);
                CHECK_U64(policy_go_memlimit(&p), cases[i].want);
                policy_done(&p);
        }
}

static void test_psi(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX], buf[64];

        init(&p);
        CHECK_INT(policy_psi_trigger(&p, buf, sizeof(buf)), 0);
        CHECK_STR(buf, "some 150000 1000000");
        CHECK_INT(
            policy_load_string(&p, "t.ini", "[pressure]\npsi = full   0.5s\t2000ms\n", false, err),
            0);
        CHECK_STR(p.pressure.psi, "full 500ms 2s");
        CHECK_INT(policy_psi_trigger(&p, buf, sizeof(buf)), 0);
        CHECK_STR(buf, "full 500000 2000000");
        CHECK_INT(policy_psi_trigger(&p, buf, 8), -ENOBUFS);
        CHECK_INT(policy_load_string(&p, "t.ini", "[pressure]\npsi = some 10s 10s\n", false, err),
                  -EINVAL);
        CHECK_INT(
            policy_load_string(&p, "t.ini", "[pressure]\npsi = some 9.999s 10s\n", false, err), 0);
        CHECK_STR(p.pressure.psi, "some 9s999ms 10s");
        policy_done(&p);
}

static void test_print_format(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX];
        char *out;

        init(&p);
        CHECK_INT(policy_load_string(&p, "u.ini",
                                     "[memory]\nmax = 12G\n[restart]\nbackoff_factor = 1.25\n"
                                     "backoff_max = 90s\n[cpu]\nmax = 150%\n",
                                     false, err),
                  0);
        CHECK_INT(policy_finish(&p, err), 0);
        out = print_policy(&p);
        CHECK(strncmp(out, "[server]\ncommand = gopls  ; default\nargs =  ; default\n", 54) == 0);
        CHECK_CONTAINS(out, "\n\n[memory]\nhigh = 6871947673  ; 6.4G, default\n"
                            "max = 12G  ; from u.ini:2\nswap_max = 0  ; default\n"
                            "oom_group = yes  ; default\n");
        CHECK_CONTAINS(out, "[cpu]\nweight =  ; default\nmax = 150%  ; from u.ini:7\n"
                            "sample_interval = 5s  ; default\n");
        CHECK_CONTAINS(out, "[pids]\nmax = max  ; default\n");
        CHECK_CONTAINS(out, "backoff_factor = 1.25  ; from u.ini:4\n");
        CHECK_CONTAINS(out, "backoff_max = 1min30s  ; from u.ini:5\n");
        CHECK_CONTAINS(out, "go_memlimit = 90%  ; default\n");
        CHECK_CONTAINS(out, "window = 10min  ; default\n");
        CHECK_CONTAINS(out, "psi = some 150ms 1s  ; default\n");
        CHECK_CONTAINS(out, "[cgroup]\npath =  ; default\nrequire = no  ; default\nslice =  ; default\nscope = yes  ; default\n");
        CHECK_CONTAINS(out, "[log]\ntarget = auto  ; default\nlevel = info  ; default\n");
        CHECK(strstr(out, "[limits]") == NULL);
        free(out);
        policy_done(&p);
}

/* What policy_print() writes, policy_load_string() reads back to the same
 * policy. */
static void test_print_round_trip(void)
{
        static const char admin[] = "[memory]\nmax = 10G\n"
                                    "[limits]\nmemory.max = 12G\ncpu.weight = 500\n"
                                    "restart.window = 2h\npids.max = max\n";
        static const char user[] =
            "[server]\ncommand = \"/opt/go tools/gopls\"\n"
            "args = -remote=auto \"-logfile=/tmp/a b\" \"\" \";semi\"\n"
            "env = GOFLAGS=-mod=mod -tags=a;b\nenv = X=\n"
            "go_memlimit = off\n"
            "[memory]\nhigh = 37.5%\nswap_max = 1.5G\n"
            "[cpu]\nweight = 300\nsample_interval = 1.5s\n"
            "[restart]\non = always\nbackoff_factor = 1.123456\nwindow = 1h30min\n"
            "stop_grace = 1.5ms\n"
            "[pressure]\nproactive = yes\npsi = full 333ms 3s\n"
            "[cgroup]\npath = /sys/fs/cgroup/a b\n"
            "[log]\nlevel = err\ntarget = stderr\n";
        struct policy p, q;
        char err[POLICY_ERR_MAX];
        char *first, *second, *a, *b;

        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", admin, true, err), 0);
        CHECK_INT(policy_load_string(&p, "u.ini", user, false, err), 0);
        CHECK_STR(err, "");
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_STR(err, "");
        first = print_policy(&p);
        CHECK_CONTAINS(first, "command = \"/opt/go tools/gopls\"  ; from u.ini:2\n");
        CHECK_CONTAINS(first, "args = -remote=auto \"-logfile=/tmp/a b\" \"\" \";semi\"");
        CHECK_CONTAINS(first, "[limits]\nmemory.max = 12G  ; from a.ini:4\n"
                              "cpu.weight = 500  ; from a.ini:5\npids.max = max  ; from a.ini:7\n"
                              "restart.window = 2h  ; from a.ini:6\n");

        init(&q);
        CHECK_INT(policy_load_string(&q, "printed", first, true, err), 0);
        CHECK_STR(err, "");
        CHECK_INT(policy_finish(&q, err), 0);
        second = print_policy(&q);
        a = strip_comments(first);
        b = strip_comments(second);
        CHECK_STR(a, b);
        CHECK_STR(q.server.command, "/opt/go tools/gopls");
        CHECK_INT(q.server.n_args, 4);
        CHECK_STR(q.server.args[1], "-logfile=/tmp/a b");
        CHECK_STR(q.server.args[2], "");
        CHECK_STR(q.server.args[3], ";semi");
        CHECK_INT(q.server.n_env, 2);
        CHECK_STR(q.server.env[0], "GOFLAGS=-mod=mod -tags=a;b");
        CHECK_U64(q.memory.high, p.memory.high);
        CHECK_U64(q.memory.max, 10 * G);
        CHECK_U64(q.memory.swap_max, 3 * G / 2);
        CHECK_U64(q.cpu.sample_interval, 1500 * MS);
        CHECK_U64(q.restart.stop_grace, 1500);
        CHECK(q.restart.backoff_factor == p.restart.backoff_factor);
        CHECK_U64(q.restart.window, 5400 * S);
        CHECK_STR(q.cgroup.path, "/sys/fs/cgroup/a b");
        CHECK_INT(q.log.level, LOG_ERR);
        for (int k = 0; k < PK__COUNT; k++) {
                CHECK_INT(q.has_ceiling[k], p.has_ceiling[k]);
                CHECK_U64(q.ceiling[k], p.ceiling[k]);
        }
        free(a);
        free(b);
        free(first);
        free(second);
        policy_done(&q);
        policy_done(&p);

        /* the defaults round-trip too */
        init(&p);
        CHECK_INT(policy_finish(&p, err), 0);
        first = print_policy(&p);
        init(&q);
        CHECK_INT(load_finish(&q, "printed", first, false, err), 0);
        second = print_policy(&q);
        a = strip_comments(first);
        b = strip_comments(second);
        CHECK_STR(a, b);
        free(a);
        free(b);
        free(first);
        free(second);
        policy_done(&q);
        policy_done(&p);
}

/* ---- files ---- */

static char tmpdir[64];

static void write_text(const char *rel, const char *text)
{
        char path[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
        f = fopen(path, "w");
        CHECK(f != NULL);
        if (!f)
                return;
        fputs(text, f);
        fclose(f);
}

static void test_load_file_errors(void)
{
        struct policy p;
        char err[POLICY_ERR_MAX], path[256], want[POLICY_ERR_MAX];

        init(&p);
        snprintf(path, sizeof(path), "%s/missing.ini", tmpdir);
        CHECK_INT(policy_load_file(&p, path, false, err), -ENOENT);
        snprintf(want, sizeof(want), "cannot read %s: No such file or directory", path);
        CHECK_STR(err, want);

        CHECK_INT(policy_load_file(&p, tmpdir, false, err), -EISDIR);
        snprintf(want, sizeof(want), "cannot read %s: Is a directory", tmpdir);
        CHECK_STR(err, want);

        /* A FIFO is refused at once, not waited on. */
        snprintf(path, sizeof(path), "%s/fifo.ini", tmpdir);
        CHECK_INT(mkfifo(path, 0600), 0);
        CHECK_INT(policy_load_file(&p, path, false, err), -EINVAL);
        snprintf(want, sizeof(want), "cannot read %s: not a regular file", path);
        CHECK_STR(err, want);
        unlink(path);

        snprintf(path, sizeof(path), "%s/nul.ini", tmpdir);
        {
                FILE *f = fopen(path, "w");

                CHECK(f != NULL);
                if (f) {
                        fwrite("[memory]\n\0max = 1G\n", 1, 19, f);
                        fclose(f);
                }
        }
        CHECK_INT(policy_load_file(&p, path, false, err), -EINVAL);
        CHECK_CONTAINS(err, "contains a NUL byte");

        write_text("bad.ini", "[memory]\n\nmax = lots\n");
        snprintf(path, sizeof(path), "%s/bad.ini", tmpdir);
        CHECK_INT(policy_load_file(&p, path, false, err), -EINVAL);
        snprintf(want, sizeof(want), "%s:3: [memory] max: \"lots\" is not a size", path);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        policy_done(&p);
}

/* What a guard running as root accepts: files and directories of root
 * that group and others cannot write.  Each refusal names the path and the
 * fix. */
static void test_owner_checks(void)
{
        static const struct {
                uid_t uid;
                mode_t mode;
                int want;
                const char *says;
        } cases[] = {
                {0, S_IFREG | 0644, 0, NULL},
                {0, S_IFREG | 0600, 0, NULL},
                {0, S_IFREG | 0444, 0, NULL},
                {0, S_IFDIR | 0755, 0, NULL},
                {0, S_IFREG | 0664, -EPERM, "group or others may write it (mode 0664)"},
                {0, S_IFREG | 0646, -EPERM, "group or others may write it (mode 0646)"},
                {0, S_IFDIR | 0777, -EPERM, "policy directory as root: group or others may write it (mode 0777)"},
                {0, S_IFDIR | 01777, -EPERM, "(mode 1777)"},
                {65534, S_IFREG | 0644, -EPERM, "policy file as root: it belongs to uid 65534"},
                {1000, S_IFREG | 0600, -EPERM, "it belongs to uid 1000"},
                {1000, S_IFDIR | 0700, -EPERM, "policy directory as root: it belongs to uid 1000"},
        };
        char err[POLICY_ERR_MAX];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct stat st = {.st_uid = cases[i].uid, .st_mode = cases[i].mode};
                err[0] = '\0';
                CHECK_INT(policy_check_owner(&st, "/etc/gopls-guard/x", err), cases[i].want);
                if (!cases[i].says)
                        continue;
                CHECK_CONTAINS(err, "/etc/gopls-guard/x: refusing to read this policy");
                CHECK_CONTAINS(err, cases[i].says);
                CHECK_CONTAINS(err, "fix: chown root:root /etc/gopls-guard/x && chmod go-w "
                                    "/etc/gopls-guard/x");
        }
}

/* Found by fuzz-policy: printed policies that did not load back. */
static void test_print_round_trip_fuzz_finds(void)
{
        struct policy p, q;
        char err[POLICY_ERR_MAX];
        char *first, *second;

        /* A word holding a blank before ';': quoting alone does not protect
         * it, since " ;" starts a comment wherever it is on the line. */
        init(&p);
        CHECK_INT(load_finish(&p, "u.ini", "[server]\nargs = \"-lo \";sem x\n", false, err), 0);
        CHECK_STR(p.server.args[0], "-lo ;sem");
        first = print_policy(&p);
        CHECK_CONTAINS(first, "args = \"-lo \"\";sem\" x  ; from u.ini:2\n");
        init(&q);
        CHECK_INT(load_finish(&q, "printed", first, true, err), 0);
        CHECK_STR(err, "");
        CHECK_INT(q.server.n_args, 2);
        CHECK_STR(q.server.args[0], "-lo ;sem");
        free(first);
        policy_done(&p);
        policy_done(&q);

        /* On a machine of a few MiB the default shares fall below the
         * 1M that [memory] high and max accept; they stop at 1M. */
        CHECK_INT(policy_init(&p), 0);
        p.root_only = false;
        p.mem_total = 2 * 1024 * 1024;
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK_U64(p.memory.high, 1024 * 1024);
        CHECK_U64(p.memory.max, 1024 * 1024);
        first = print_policy(&p);
        CHECK_INT(policy_init(&q), 0);
        q.root_only = false;
        q.mem_total = p.mem_total;
        CHECK_INT(load_finish(&q, "printed", first, true, err), 0);
        CHECK_STR(err, "");
        second = print_policy(&q);
        free(first);
        free(second);
        policy_done(&p);
        policy_done(&q);
}

static void test_load_all(void)
{
        char etc[128], dropins[160], user[128], extra[160], missing[160];
        char err[POLICY_ERR_MAX], want[POLICY_ERR_MAX];
        struct policy p;

        snprintf(etc, sizeof(etc), "%s/etc", tmpdir);
        snprintf(dropins, sizeof(dropins), "%s/etc/policy.d", tmpdir);
        snprintf(user, sizeof(user), "%s/user", tmpdir);
        snprintf(extra, sizeof(extra), "%s/extra.ini", tmpdir);
        snprintf(missing, sizeof(missing), "%s/nope.ini", tmpdir);
        CHECK_INT(mkdir(etc, 0755), 0);
        CHECK_INT(mkdir(dropins, 0755), 0);
        CHECK_INT(mkdir(user, 0755), 0);

        write_text("etc/policy.ini", "[restart]\nmax_restarts = 1\n[limits]\nmemory.max = 12G\n");
        /* byte order: "10-a" < "9-b" < "B" */
        write_text("etc/policy.d/9-b.ini", "[restart]\nmax_restarts = 3\n");
        write_text("etc/policy.d/10-a.ini", "[restart]\nmax_restarts = 2\n[cpu]\nweight = 7\n");
        write_text("etc/policy.d/B.ini", "[restart]\nmax_restarts = 4\n[limits]\ncpu.max = 400%\n");
        /* not read: no .ini, hidden, backup */
        write_text("etc/policy.d/README", "not a policy");
        write_text("etc/policy.d/.hidden.ini", "not a policy");
        write_text("etc/policy.d/B.ini~", "not a policy");
        write_text("etc/policy.d/B.ini.bak", "not a policy");
        write_text("user/policy.ini", "[restart]\nmax_restarts = 5\n[memory]\nmax = 6G\n");
        write_text("extra.ini", "[restart]\nmax_restarts = 6\n");

        /* everything, in order */
        init(&p);
        CHECK_INT(policy_load_all(&p, etc, user, (char *[]){extra}, 1, err), 0);
        CHECK_STR(err, "");
        CHECK_INT(p.restart.max_restarts, 6);
        CHECK_STR(p.origin[PK_RESTART_MAX_RESTARTS].file, extra);
        CHECK_U64(p.cpu.weight, 7);
        CHECK_U64(p.memory.max, 6 * G);
        CHECK(p.has_ceiling[PK_MEMORY_MAX]);
        CHECK(p.has_ceiling[PK_CPU_MAX]);
        snprintf(want, sizeof(want), "%s/B.ini", dropins);
        CHECK_STR(p.ceiling_origin[PK_CPU_MAX].file, want);
        policy_done(&p);

        /* the order, seen through which file set max_restarts last */
        static const struct {
                bool with_user, with_extra;
                unsigned want;
        } order[] = {{false, false, 4}, {true, false, 5}, {true, true, 6}};
        for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
                init(&p);
                CHECK_INT(policy_load_all(&p, etc, order[i].with_user ? user : NULL,
                                          (char *[]){extra}, order[i].with_extra ? 1 : 0, err),
                          0);
                CHECK_INT(p.restart.max_restarts, order[i].want);
                policy_done(&p);
        }

        /* missing standard locations are fine */
        init(&p);
        CHECK_INT(policy_load_all(&p, missing, missing, NULL, 0, err), 0);
        CHECK_STR(err, "");
        CHECK(p.origin[PK_RESTART_MAX_RESTARTS].file == NULL);
        policy_done(&p);

        /* a missing --policy file is not */
        init(&p);
        CHECK_INT(policy_load_all(&p, etc, user, (char *[]){extra, missing}, 2, err), -ENOENT);
        snprintf(want, sizeof(want), "cannot read %s: No such file or directory", missing);
        CHECK_STR(err, want);
        policy_done(&p);

        /* the user's file may not set ceilings; the admin's may */
        write_text("user/policy.ini", "[limits]\nmemory.max = 20G\n");
        init(&p);
        CHECK_INT(policy_load_all(&p, etc, user, NULL, 0, err), -EPERM);
        snprintf(want, sizeof(want), "%s/policy.ini:2: [limits] memory.max: ceilings can only be",
                 user);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        policy_done(&p);

        /* the admin's ceiling holds against the user's file, naming both */
        write_text("user/policy.ini", "[memory]\nmax = 13G\n");
        init(&p);
        CHECK_INT(policy_load_all(&p, etc, user, NULL, 0, err), -ERANGE);
        snprintf(want, sizeof(want),
                 "%s/policy.ini:2: [memory] max: \"13G\" is above the ceiling 12G set in "
                 "%s/policy.ini:4",
                 user, etc);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        policy_done(&p);

        /* an error in a drop-in stops there, naming it */
        write_text("etc/policy.d/50-bad.ini", "[cpu]\nweight = heavy\n");
        init(&p);
        CHECK_INT(policy_load_all(&p, etc, NULL, NULL, 0, err), -EINVAL);
        snprintf(want, sizeof(want), "%s/50-bad.ini:2: [cpu] weight: \"heavy\"", dropins);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        policy_done(&p);
}

/* config/gopls-guard.ini documents the defaults: it must load, set every
 * key, and change nothing. */
/* What systemd itself accepts as Slice= (unit-name.c): the table is the
 * contract for [cgroup] slice. */
static void test_slice_names(void)
{
        static const struct {
                const char *name;
                bool ok;
        } t[] = {
            {"app.slice", true},        {"gopls.slice", true},     {"user-1000.slice", true},
            {"a-b-c.slice", true},      {"-.slice", true},         {"x\\x2d.slice", true},
            {"a:b_c.slice", true},      {".slice", false},         {"app", false},
            {"app.service", false},     {"-app.slice", false},     {"app-.slice", false},
            {"a--b.slice", false},      {"a b.slice", false},      {"a/b.slice", false},
            {"", false},                {"app.slice.slice", true}, {"é.slice", false},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                if (policy_slice_name_valid(t[i].name) != t[i].ok)
                        fprintf(stderr, "slice name \"%s\": expected %s\n", t[i].name,
                                t[i].ok ? "valid" : "invalid");
                CHECK(policy_slice_name_valid(t[i].name) == t[i].ok);
        }
        char longname[300];
        memset(longname, 'a', sizeof longname);
        memcpy(longname + 250, ".slice", 7); /* 256 characters */
        CHECK(!policy_slice_name_valid(longname));
        memcpy(longname + 249, ".slice", 7); /* 255 */
        CHECK(policy_slice_name_valid(longname));
}

static void test_documented_config(void)
{
        /* Not found through __FILE__: package builds map the source
         * directory away (-ffile-prefix-map). */
        static const char path[] = GUARD_SOURCE_DIR "/config/gopls-guard.ini";
        char err[POLICY_ERR_MAX];
        struct policy d, c;
        char *want, *got, *a, *b;

        init(&d);
        CHECK_INT(policy_finish(&d, err), 0);
        want = print_policy(&d);

        for (int admin = 0; admin <= 1; admin++) {
                init(&c);
                CHECK_INT(policy_load_file(&c, path, admin, err), 0);
                CHECK_STR(err, "");
                CHECK_INT(policy_finish(&c, err), 0);
                for (int k = 0; k < PK__COUNT; k++) {
                        if (!c.origin[k].file)
                                fprintf(stderr, "%s does not set %s\n", path,
                                        policy_key_name((enum policy_key)k));
                        CHECK(c.origin[k].file != NULL);
                        CHECK(!c.has_ceiling[k]);
                }
                got = print_policy(&c);
                a = strip_comments(want);
                b = strip_comments(got);
                CHECK_STR(b, a);
                free(a);
                free(b);
                free(got);
                policy_done(&c);
        }
        free(want);
        policy_done(&d);
}

int main(void)
{
        char tmpl[] = "/tmp/test-policy-XXXXXX";

        RUN(test_key_names);
        RUN(test_defaults);
        RUN(test_defaults_follow_mem_total);
        RUN(test_every_key);
        RUN(test_error_example);
        RUN(test_bad_values);
        RUN(test_long_lines);
        RUN(test_stops_at_first_error);
        RUN(test_layout_freedom);
        RUN(test_duplicates_last_wins);
        RUN(test_later_files_override);
        RUN(test_args_and_command);
        RUN(test_env);
        RUN(test_ceiling_blocks_user_value);
        RUN(test_ceiling_allows_lower);
        RUN(test_ceiling_lowers_defaults);
        RUN(test_ceiling_only_comes_down);
        RUN(test_ceiling_after_value);
        RUN(test_high_and_max);
        RUN(test_backoff_order);
        RUN(test_other_cross_checks);
        RUN(test_restart_above);
        RUN(test_max_restarts_limit);
        RUN(test_go_memlimit);
        RUN(test_psi);
        RUN(test_print_format);
        RUN(test_print_round_trip);
        RUN(test_slice_names);
        RUN(test_documented_config);
        RUN(test_print_round_trip_fuzz_finds);

        if (!mkdtemp(tmpl)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
        RUN(test_owner_checks);
        RUN(test_load_file_errors);
        RUN(test_load_all);
        if (nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
                fprintf(stderr, "could not remove %s\n", tmpdir);
        return check_summary();
}

/* test-policy-limits.c — the administrator's [limits]: pins (any key, users
 * cannot set it at all), ceilings next to pins, and what check-policy
 * prints for every key (value, origin, ceiling, pin), with the messages a
 * user sees.  Policies are parsed from strings, never from files. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "policy.h"
#include "policy-print.h"

#define K UINT64_C(1024)
#define M (K * K)
#define G (M * K)

/* A fixed machine: "%" sizes never depend on the one running the tests. */
#define MEM_TOTAL (16 * G)

static void init(struct policy *p)
{
        CHECK_INT(policy_init(p), 0);
        p->mem_total = MEM_TOTAL;
        p->root_only = false;
}

/* The admin file a.ini, then the user file u.ini, then finish.  Returns
 * the first error; `err` holds its message. */
static int admin_then_user(struct policy *p, const char *admin, const char *user,
                           char err[POLICY_ERR_MAX])
{
        int r;

        init(p);
        r = policy_load_string(p, "a.ini", admin, true, err);
        if (r == 0 && user)
                r = policy_load_string(p, "u.ini", user, false, err);
        if (r == 0)
                r = policy_finish(p, err);
        return r;
}

/* An administrator's file and a user's that must be refused (-EPERM), and
 * what the error must say. */
struct refusal {
        const char *admin, *user, *want;
};

static void check_refusals(const struct refusal *cases, size_t n)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        for (size_t i = 0; i < n; i++) {
                int r = admin_then_user(&p, cases[i].admin, cases[i].user, err);

                if (r != -EPERM || !strstr(err, cases[i].want))
                        fprintf(stderr, "case %zu: r=%d err=%s\n", i, r, err);
                CHECK_INT(r, -EPERM);
                CHECK_CONTAINS(err, cases[i].want);
                policy_done(&p);
        }
}

/* A user's file that sets a pinned key, for keys of every kind: the error
 * names the user's line, the key, and the administrator's pin line. */
static void test_pin_refuses_user_value(void)
{
        static const struct refusal cases[] = {
            {"[limits]\npin = memory.max\n", "[memory]\nmax = 4G\n",
             "u.ini:2: [memory] max: pinned by the administrator in a.ini:2 ([limits] pin = "
             "memory.max), so it cannot be set here; remove this line"},
            /* lower than the administrator's value is refused too: pinned
             * means fixed, not capped */
            {"[memory]\nmax = 8G\n[limits]\npin = memory.max\n", "[memory]\nmax = 1G\n",
             "u.ini:2: [memory] max: pinned by the administrator in a.ini:4"},
            {"[limits]\npin = server.command\n", "[server]\ncommand = /home/u/bin/gopls\n",
             "u.ini:2: [server] command: pinned by the administrator in a.ini:2 ([limits] pin = "
             "server.command)"},
            {"[limits]\npin = server.args\n", "[server]\nargs = -rpc.trace\n",
             "u.ini:2: [server] args: pinned by the administrator in a.ini:2"},
            /* env accumulates: neither adding nor clearing is allowed */
            {"[server]\nenv = GOFLAGS=-mod=mod\n[limits]\npin = server.env\n",
             "[server]\nenv = LD_PRELOAD=/tmp/x.so\n",
             "u.ini:2: [server] env: pinned by the administrator in a.ini:4"},
            {"[limits]\npin = server.env\n", "[server]\nenv =\n",
             "u.ini:2: [server] env: pinned by the administrator in a.ini:2"},
            {"[cgroup]\nrequire = yes\n[limits]\npin = cgroup.require\n",
             "[cgroup]\nrequire = no\n",
             "u.ini:2: [cgroup] require: pinned by the administrator in a.ini:4 ([limits] pin = "
             "cgroup.require)"},
            {"[limits]\npin = cgroup.slice\n", "[cgroup]\nslice =\n",
             "u.ini:2: [cgroup] slice: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = cgroup.path\n", "[cgroup]\npath = /sys/fs/cgroup/x\n",
             "u.ini:2: [cgroup] path: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = log.target\n", "[log]\ntarget = stderr\n",
             "u.ini:2: [log] target: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = restart.on\n", "[restart]\non = never\n",
             "u.ini:2: [restart] on: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = restart.backoff_factor\n", "[restart]\nbackoff_factor = 3\n",
             "u.ini:2: [restart] backoff_factor: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = pressure.psi\n", "[pressure]\npsi = some 1s 2s\n",
             "u.ini:2: [pressure] psi: pinned by the administrator in a.ini:2"},
            /* a bad value for a pinned key: the pin is what the user must
             * hear about (fixing the value would not help) */
            {"[limits]\npin = memory.max\n", "[memory]\nmax = 12Q\n",
             "u.ini:2: [memory] max: pinned by the administrator"},
            /* several keys on one line, commas and blanks */
            {"[limits]\npin = memory.max,cgroup.require  log.level\n", "[log]\nlevel = debug\n",
             "u.ini:2: [log] level: pinned by the administrator in a.ini:2 ([limits] pin = "
             "log.level)"},
            /* repeated pin lines add up: the first still holds */
            {"[limits]\npin = memory.high\npin = memory.max\n", "[memory]\nhigh = 1G\n",
             "u.ini:2: [memory] high: pinned by the administrator in a.ini:2"},
            /* the same key pinned twice: the first line is the one named */
            {"[limits]\npin = memory.max\npin = memory.max\n", "[memory]\nmax = 2G\n",
             "u.ini:2: [memory] max: pinned by the administrator in a.ini:2"},
        };
        check_refusals(cases, sizeof(cases) / sizeof(cases[0]));
}

/* What a pin must not block. */
static void test_pin_allows(void)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        /* the user's file leaves the pinned key alone: other keys are theirs */
        CHECK_INT(admin_then_user(&p, "[memory]\nmax = 8G\n[limits]\npin = memory.max\n",
                                  "[memory]\nhigh = 2G\n[log]\nlevel = debug\n", err),
                  0);
        CHECK_STR(err, "");
        CHECK_U64(p.memory.max, 8 * G);
        CHECK_U64(p.memory.high, 2 * G);
        CHECK(p.pinned[PK_MEMORY_MAX]);
        CHECK(!p.pinned[PK_MEMORY_HIGH]);
        CHECK_STR(p.pin_origin[PK_MEMORY_MAX].file, "a.ini");
        CHECK_INT(p.pin_origin[PK_MEMORY_MAX].line, 4);
        policy_done(&p);

        /* a later administrator's file may still change a pinned key */
        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\npin = cgroup.require\n", true, err),
                  0);
        CHECK_INT(policy_load_string(&p, "b.ini", "[cgroup]\nrequire = yes\n", true, err), 0);
        CHECK_INT(policy_finish(&p, err), 0);
        CHECK(p.cgroup.require);
        CHECK_STR(p.origin[PK_CGROUP_REQUIRE].file, "b.ini");
        policy_done(&p);

        /* the administrator's value may come before or after the pin, in
         * the same file */
        CHECK_INT(admin_then_user(
                      &p, "[limits]\npin = server.command\n[server]\ncommand = /usr/bin/gopls\n",
                      NULL, err),
                  0);
        CHECK_STR(p.server.command, "/usr/bin/gopls");
        policy_done(&p);

        /* a pinned built-in default stays the default */
        CHECK_INT(admin_then_user(&p, "[limits]\npin = restart.on\n", "[memory]\nmax = 2G\n", err),
                  0);
        CHECK_INT(p.restart.on, RESTART_ON_CRASH);
        CHECK(p.origin[PK_RESTART_ON].file == NULL);
        policy_done(&p);
}

/* Bad [limits] pin lines, and pins where only the administrator may put
 * them. */
static void test_pin_errors(void)
{
        static const struct {
                const char *text;
                bool admin;
                int r;
                const char *want;
        } cases[] = {
            {"[limits]\npin = memory.max\n", false, -EPERM,
             "t.ini:2: [limits] pin: pins can only be set by the administrator (in policy.ini or "
             "policy.d/*.ini of the system configuration directory)"},
            {"[limits]\npin = memory.hgih\n", true, -EINVAL,
             "t.ini:2: [limits] pin: \"memory.hgih\" is not a key (name keys as section.key, e.g. "
             "memory.max or cgroup.require)"},
            {"[limits]\npin = memory.max, max\n", true, -EINVAL,
             "t.ini:2: [limits] pin: \"max\" is not a key"},
            {"[limits]\npin = limits.pin\n", true, -EINVAL,
             "t.ini:2: [limits] pin: \"limits.pin\" is not a key"},
            {"[limits]\npin =\n", true, -EINVAL,
             "t.ini:2: [limits] pin: names no key (list the keys to pin, e.g. pin = memory.max, "
             "cgroup.require)"},
            {"[limits]\npin = , ,\n", true, -EINVAL, "t.ini:2: [limits] pin: names no key"},
            /* a key that cannot have a ceiling points at pin */
            {"[limits]\nserver.command = /usr/bin/gopls\n", true, -EINVAL,
             "t.ini:2: [limits] server.command: cannot have a ceiling (only sizes, counts, "
             "percentages and durations can); to fix its value for users, pin it: pin = "
             "server.command"},
            {"[limits]\nmemory.hgih = 1G\n", true, -EINVAL,
             "t.ini:2: [limits] memory.hgih: unknown key (a ceiling is named section.key, e.g. "
             "memory.max; pin = section.key, ... pins keys)"},
        };
        char err[POLICY_ERR_MAX];
        struct policy p;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int r;

                init(&p);
                r = policy_load_string(&p, "t.ini", cases[i].text, cases[i].admin, err);
                if (r != cases[i].r || !strstr(err, cases[i].want))
                        fprintf(stderr, "case %zu: r=%d err=%s\n", i, r, err);
                CHECK_INT(r, cases[i].r);
                CHECK_CONTAINS(err, cases[i].want);
                policy_done(&p);
        }
}

/* A user's file read before the administrator's pin (only possible out of
 * the standard order): policy_finish() still refuses it, at the user's
 * line. */
static void test_pin_after_user_value(void)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        init(&p);
        CHECK_INT(policy_load_string(&p, "u.ini", "[log]\n\ntarget = stderr\n", false, err), 0);
        CHECK_INT(policy_load_string(&p, "a.ini", "[limits]\npin = log.target\n", true, err), 0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_STR(err, "u.ini:3: [log] target: pinned by the administrator in a.ini:2 ([limits] "
                       "pin = log.target), so it cannot be set here; remove this line");
        policy_done(&p);

        /* env: any one user entry among the administrator's */
        init(&p);
        CHECK_INT(policy_load_string(&p, "a.ini", "[server]\nenv = A=1\n", true, err), 0);
        CHECK_INT(policy_load_string(&p, "u.ini", "[server]\nenv = B=2\n", false, err), 0);
        CHECK_INT(policy_load_string(&p, "b.ini", "[limits]\npin = server.env\n", true, err), 0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_CONTAINS(err, "u.ini:2: [server] env: pinned by the administrator in b.ini:2");
        policy_done(&p);

        /* a file read as a user's once counts as one, even if read again
         * as an administrator's */
        init(&p);
        CHECK_INT(policy_load_string(&p, "x.ini", "[log]\nlevel = debug\n", false, err), 0);
        CHECK_INT(policy_load_string(&p, "x.ini", "[limits]\npin = log.level\n", true, err), 0);
        CHECK_INT(policy_finish(&p, err), -EINVAL);
        CHECK_CONTAINS(err, "x.ini:2: [log] level: pinned by the administrator in x.ini:2");
        policy_done(&p);
}

/* A pinned memory.high never gives way to a user's lower memory.max (an
 * unpinned default high would be lowered to fit): the conflict is the
 * user's max, said at its line. */
static void test_pin_holds_in_cross_checks(void)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        CHECK_INT(admin_then_user(&p, "[memory]\nhigh = 6G\n[limits]\npin = memory.high\n",
                                  "[memory]\nmax = 4G\n", err),
                  -EINVAL);
        CHECK_STR(err, "u.ini:2: [memory] max: 4G is below [memory] high = 6G (from a.ini:2), "
                       "pinned; high must not be above max");
        policy_done(&p);

        /* not pinned: the default high gives way as before */
        CHECK_INT(admin_then_user(&p, "[limits]\npin = memory.max\n", "[memory]\nhigh = 1G\n", err),
                  0);
        CHECK_U64(p.memory.high, 1 * G);
        policy_done(&p);
        CHECK_INT(
            admin_then_user(&p, "[limits]\npin = memory.swap_max\n", "[memory]\nmax = 2G\n", err),
            0);
        CHECK_U64(p.memory.high, 2 * G / 5 * 4 / M * M);
        policy_done(&p);
}

/* A ceiling and a pin on the same key: the pin speaks first to a user. */
static void test_ceiling_and_pin(void)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        CHECK_INT(admin_then_user(&p, "[limits]\nmemory.max = 8G\npin = memory.max\n",
                                  "[memory]\nmax = 16G\n", err),
                  -EPERM);
        CHECK_CONTAINS(err, "u.ini:2: [memory] max: pinned by the administrator in a.ini:3");
        policy_done(&p);

        /* without the pin, the ceiling's message */
        CHECK_INT(admin_then_user(&p, "[limits]\nmemory.max = 8G\n", "[memory]\nmax = 16G\n", err),
                  -ERANGE);
        CHECK_STR(err, "u.ini:2: [memory] max: \"16G\" is above the ceiling 8G set in a.ini:2 "
                       "([limits] memory.max)");
        policy_done(&p);

        /* a pinned default above a ceiling is lowered to it, as any default */
        CHECK_INT(admin_then_user(&p, "[limits]\nmemory.max = 2G\npin = memory.max\n", NULL, err),
                  0);
        CHECK_U64(p.memory.max, 2 * G);
        policy_done(&p);
}

/* The keys of prevention, recovery and containers pin like the others, and
 * check-policy shows their pins on every way of printing them. */
static void test_pin_newer_keys(void)
{
        static const struct refusal cases[] = {
            {"[limits]\npin = container.user\n", "[container]\nuser = root\n",
             "u.ini:2: [container] user: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = restart.after_give_up\n", "[restart]\nafter_give_up = exit\n",
             "u.ini:2: [restart] after_give_up: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = pressure.restart_above\n", "[pressure]\nrestart_above = 50%\n",
             "u.ini:2: [pressure] restart_above: pinned by the administrator in a.ini:2"},
            {"[limits]\npin = recovery.cache_dirs\n", "[recovery]\ncache_dirs = /tmp/x\n",
             "u.ini:2: [recovery] cache_dirs: pinned by the administrator in a.ini:2"},
        };
        char err[POLICY_ERR_MAX];
        struct policy p;
        char *out;

        check_refusals(cases, sizeof(cases) / sizeof(cases[0]));

        /* restart_above as a % of max prints the bytes it stands for in its
         * comment; the pin follows the origin there too */
        CHECK_INT(admin_then_user(&p,
                                  "[memory]\nmax = 8G\n[pressure]\nrestart_above = 75%\n"
                                  "[limits]\npin = pressure.restart_above, container.user\n",
                                  NULL, err),
                  0);
        out = print_policy(&p);
        CHECK_CONTAINS(out,
                       "\nrestart_above = 75%  ; 6G of max, from a.ini:4; pinned in a.ini:6\n");
        CHECK_CONTAINS(out, "\nuser =  ; default; pinned in a.ini:6\n");
        free(out);
        policy_done(&p);
}

/* For the command line: --cgroup and a COMMAND against pins. */
static void test_check_unpinned(void)
{
        char err[POLICY_ERR_MAX];
        struct policy p;

        CHECK_INT(admin_then_user(&p, "[limits]\npin = cgroup.path, server.command\n", NULL, err),
                  0);
        CHECK_INT(policy_check_unpinned(&p, PK_CGROUP_PATH, "--cgroup", err), -EPERM);
        CHECK_STR(err, "--cgroup: [cgroup] path is pinned by the administrator in a.ini:2 "
                       "([limits] pin = cgroup.path); run without --cgroup");
        CHECK_INT(policy_check_unpinned(&p, PK_SERVER_COMMAND, "a COMMAND", err), -EPERM);
        CHECK_CONTAINS(err,
                       "a COMMAND: [server] command is pinned by the administrator in a.ini:2");
        CHECK_INT(policy_check_unpinned(&p, PK_SERVER_ARGS, "a COMMAND", err), 0);
        CHECK_STR(err, "");
        policy_done(&p);
}

/* check-policy: every key has its origin; ceilings and pins are shown on
 * the key's own line and again as a [limits] section that loads back. */
static void test_print_bounds(void)
{
        static const char admin[] = "[memory]\nmax = 8G\n"
                                    "[cgroup]\nrequire = yes\n"
                                    "[limits]\nmemory.max = 12G\nmemory.high = 6G\n"
                                    "pin = cgroup.require, memory.max\n"
                                    "pin = server.env\n";
        static const char user[] = "[memory]\nhigh = 5G\n[log]\nlevel = debug\n";
        char err[POLICY_ERR_MAX];
        struct policy p, q;
        char *out, *again;
        unsigned lines = 0, with_origin = 0;

        CHECK_INT(admin_then_user(&p, admin, user, err), 0);
        CHECK_STR(err, "");
        out = print_policy(&p);
        CHECK_CONTAINS(out, "\nhigh = 5G  ; from u.ini:2; ceiling 6G from a.ini:7\n");
        CHECK_CONTAINS(out, "\nmax = 8G  ; from a.ini:2; ceiling 12G from a.ini:6; pinned in "
                            "a.ini:8\n");
        CHECK_CONTAINS(out, "\nrequire = yes  ; from a.ini:4; pinned in a.ini:8\n");
        CHECK_CONTAINS(out, "\nenv =  ; default; pinned in a.ini:9\n");
        CHECK_CONTAINS(out, "\nlevel = debug  ; from u.ini:4\n");
        CHECK_CONTAINS(out, "\ncommand = gopls  ; default\n");
        CHECK_CONTAINS(out, "\n[limits]\nmemory.high = 6G  ; from a.ini:7\n"
                            "memory.max = 12G  ; from a.ini:6\n"
                            "pin = server.env  ; from a.ini:9\n"
                            "pin = memory.max  ; from a.ini:8\n"
                            "pin = cgroup.require  ; from a.ini:8\n");

        /* every key line says where its value came from */
        for (const char *s = out; *s;) {
                const char *eol = strchrnul(s, '\n');

                if (*s != '[' && eol > s) {
                        const char *c = strstr(s, "  ; ");

                        lines++;
                        if (c && c < eol &&
                            (strncmp(c, "  ; from ", 9) == 0 ||
                             strncmp(c, "  ; default", 11) == 0 || strstr(c, ", from ") ||
                             strstr(c, ", default")))
                                with_origin++;
                }
                s = *eol ? eol + 1 : eol;
        }
        CHECK_INT(with_origin, lines);
        CHECK_INT(lines, PK__COUNT + 2 + 3); /* keys, two ceilings, three pins */

        /* read back as an administrator's file: same values, ceilings, pins */
        init(&q);
        CHECK_INT(policy_load_string(&q, "printed", out, true, err), 0);
        CHECK_STR(err, "");
        CHECK_INT(policy_finish(&q, err), 0);
        for (int k = 0; k < PK__COUNT; k++) {
                CHECK_INT(q.pinned[k], p.pinned[k]);
                CHECK_INT(q.has_ceiling[k], p.has_ceiling[k]);
        }
        CHECK(q.pinned[PK_CGROUP_REQUIRE] && q.pinned[PK_MEMORY_MAX] && q.pinned[PK_SERVER_ENV]);
        CHECK(q.cgroup.require);
        again = print_policy(&q);
        CHECK_CONTAINS(again, "\nmax = 8G  ; from printed:");
        CHECK_CONTAINS(again, "; pinned in printed:");
        free(again);
        policy_done(&q);

        /* and as a user's file it is refused: [limits] is the administrator's */
        init(&q);
        CHECK_INT(policy_load_string(&q, "printed", out, false, err), -EPERM);
        CHECK_CONTAINS(err, "[limits] memory.high: ceilings can only be set by the administrator");
        policy_done(&q);

        free(out);
        policy_done(&p);
}

int main(void)
{
        RUN(test_pin_refuses_user_value);
        RUN(test_pin_allows);
        RUN(test_pin_errors);
        RUN(test_pin_after_user_value);
        RUN(test_pin_holds_in_cross_checks);
        RUN(test_ceiling_and_pin);
        RUN(test_pin_newer_keys);
        RUN(test_check_unpinned);
        RUN(test_print_bounds);
        return check_summary();
}

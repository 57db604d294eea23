/* test-exit-class.c — what an end of the server counts as, one table row
 * per case a user would notice (a restart, "ran out of memory", the exit
 * code the editor sees). */
#include <signal.h>

#include "check.h"
#include "exit-class.h"

#define EV(kill, group) ((struct cg_memory_events){.oom = (kill), .oom_kill = (kill), .oom_group_kill = (group)})

static void test_classify(void)
{
        static const struct {
                const char *name;
                struct ec_end in;
                bool oom;
                enum sv_end_kind kind;
        } rows[] = {
                {"cgroup: SIGKILL and oom_kill rose", {.signal = SIGKILL, .cgroup = true, .base = EV(0, 0), .now = EV(1, 0)}, true, SV_END_OOM},
                {"cgroup: group kill (oom_group_kill rose, 6.1 double count)", {.signal = SIGKILL, .cgroup = true, .base = EV(2, 0), .now = EV(4, 1)}, true, SV_END_OOM},
                {"cgroup: SIGKILL, no OOM since the baseline (a user's kill -9)", {.signal = SIGKILL, .cgroup = true, .base = EV(3, 0), .now = EV(3, 0)}, false, SV_END_SIGNAL},
                /* defect 7: a child was OOM-killed earlier, the server then
                 * exits on its own: never an OOM end */
                {"cgroup: clean exit after a child's OOM kill", {.status = 0, .cgroup = true, .base = EV(0, 0), .now = EV(1, 0)}, false, SV_END_CLEAN},
                {"cgroup: exit 1 after a child's OOM kill", {.status = 1, .cgroup = true, .base = EV(0, 0), .now = EV(1, 0)}, false, SV_END_FAILURE},
                {"cgroup: SIGSEGV after a child's OOM kill", {.signal = SIGSEGV, .cgroup = true, .base = EV(0, 0), .now = EV(1, 0)}, false, SV_END_SIGNAL},
                {"cgroup: SIGTERM after a child's OOM kill", {.signal = SIGTERM, .cgroup = true, .base = EV(0, 0), .now = EV(2, 0)}, false, SV_END_SIGNAL},
                {"degraded: killed at the limit", {.signal = SIGKILL, .killed_at_limit = true}, true, SV_END_OOM},
                {"degraded: kill -9 by someone else", {.signal = SIGKILL}, false, SV_END_SIGNAL},
                {"degraded: exited before the guard's kill landed", {.status = 0, .killed_at_limit = true}, false, SV_END_CLEAN},
                {"degraded: counters are not looked at", {.signal = SIGKILL, .base = EV(0, 0), .now = EV(5, 0)}, false, SV_END_SIGNAL},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct sv_exit x = ec_classify(&rows[i].in);
                if (x.oom != rows[i].oom || sv_classify(&x) != rows[i].kind) {
                        fprintf(stderr, "row \"%s\": oom %d kind %s, expected oom %d kind %s\n",
                                rows[i].name, x.oom, sv_end_kind_name(sv_classify(&x)), rows[i].oom,
                                sv_end_kind_name(rows[i].kind));
                        CHECK(false);
                }
                CHECK_INT(x.signal, rows[i].in.signal);
        }
}

static void test_baseline(void)
{
        struct cg_memory_events base = EV(0, 0), seen = EV(1, 0), later = EV(2, 0);

        /* A child died and the server lives on: that kill is spent, so a
         * later SIGKILL of the server without a new OOM kill is no OOM. */
        struct cg_memory_events b = ec_baseline_after_check(&base, &seen, true);
        CHECK_U64(b.oom_kill, 1);
        struct ec_end kill9 = {.signal = SIGKILL, .cgroup = true, .base = b, .now = seen};
        CHECK(!ec_classify(&kill9).oom);
        /* ... but a second OOM kill that takes the server is one. */
        struct ec_end oom = {.signal = SIGKILL, .cgroup = true, .base = b, .now = later};
        CHECK(ec_classify(&oom).oom);
        /* The server was gone by the check: its own kill, baseline kept. */
        b = ec_baseline_after_check(&base, &seen, false);
        CHECK_U64(b.oom_kill, 0);
        /* A group kill takes the server even if it still runs at the check
         * (a slow exit): the baseline stays, and its SIGKILL end is OOM. */
        struct cg_memory_events group = seen;
        group.oom_group_kill = base.oom_group_kill + 1;
        b = ec_baseline_after_check(&base, &group, true);
        CHECK_U64(b.oom_kill, base.oom_kill);
        struct ec_end gk = {.signal = SIGKILL, .cgroup = true, .base = b, .now = group};
        CHECK(ec_classify(&gk).oom);
}

static void test_asked_for_and_exit_code(void)
{
        CHECK(!ec_end_asked_for(false, false));
        CHECK(ec_end_asked_for(true, false));
        CHECK(ec_end_asked_for(false, true));
        CHECK(ec_end_asked_for(true, true));

        static const struct {
                int decided;
                bool gave_up, exit_requested;
                int session, want;
        } rows[] = {
                {0, false, false, 1, 0},     /* editor went away: what the supervisor said */
                {137, false, false, 0, 137}, /* not restarted: the server's status */
                {0, false, true, 0, 0},      /* shutdown, then exit */
                {0, false, true, 1, 1},      /* exit without shutdown */
                {4, true, true, 0, 4},       /* a crash loop is never hidden */
                {4, true, false, 1, 4},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
                CHECK_INT(ec_guard_exit_code(rows[i].decided, rows[i].gave_up,
                                             rows[i].exit_requested, rows[i].session),
                          rows[i].want);
}

static void test_over_limit(void)
{
        CHECK(ec_over_limit(101, 100, false));
        CHECK(!ec_over_limit(100, 100, false)); /* at the limit is allowed, as memory.max */
        CHECK(!ec_over_limit(101, 100, true));  /* once per generation */
        CHECK(!ec_over_limit(UINT64_MAX - 1, POLICY_NO_LIMIT, false));
}

int main(void)
{
        RUN(test_classify);
        RUN(test_baseline);
        RUN(test_asked_for_and_exit_code);
        RUN(test_over_limit);
        return check_summary();
}

/* test-supervisor.c — restart, backoff, give-up and stop decisions.
 *
 * Time is a plain usec counter the tests advance by hand; every expected
 * delay is a literal, so a change in the user-visible restart rhythm shows
 * up as a failing number here. */
#include <signal.h>
#include <string.h>

#include "check.h"
#include "supervisor.h"

#define MS(x) ((usec_t)(x)*USEC_PER_MSEC)
#define S(x) ((usec_t)(x)*USEC_PER_SEC)
#define MIN(x) (S(x) * 60)

#define NO_JITTER 0.5

/* The built-in [restart] defaults from policy.h, written out by hand
 * because policy.c is not part of this test. */
static struct policy default_policy(void)
{
        struct policy p;

        memset(&p, 0, sizeof(p));
        p.restart.on = RESTART_ON_CRASH;
        p.restart.backoff_initial = MS(500);
        p.restart.backoff_factor = 2.0;
        p.restart.backoff_max = S(30);
        p.restart.reset_after = S(60);
        p.restart.max_restarts = 5;
        p.restart.window = MIN(10);
        p.restart.stop_grace = S(5);
        /* What most tests here are about; the wait has its own test. */
        p.restart.after_give_up = AFTER_GIVE_UP_EXIT;
        p.restart.cooldown = MIN(5);
        return p;
}

static const struct sv_exit crash = {.signal = SIGSEGV};
static const struct sv_exit oom_kill = {.signal = SIGKILL, .oom = true};
static const struct sv_exit clean_exit = {.status = 0};

/* Start the guard at `now`: SPAWN, then the caller reports the exec. */
static void start_at(struct supervisor *sv, usec_t now)
{
        struct sv_action a = sv_start(sv, now);

        CHECK_INT(a.kind, SV_ACT_SPAWN);
        CHECK_INT(sv->state, SV_RUNNING);
        sv_spawned(sv, now);
}

/* The backoff timer fires at `now`: SPAWN, then the exec. */
static void respawn_at(struct supervisor *sv, usec_t now)
{
        struct sv_action a = sv_timer(sv, now);

        CHECK_INT(a.kind, SV_ACT_SPAWN);
        CHECK_INT(sv->state, SV_RUNNING);
        sv_spawned(sv, now);
}

static void test_crash_loop_delays_double_up_to_max(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        static const usec_t want[] = {
            MS(500), S(1), S(2), S(4), S(8), S(16), S(30), S(30), S(30),
        };
        usec_t now = S(1000);

        p.restart.max_restarts = 20; /* this test is about delays, not giving up */
        sv_init(&sv, &p);
        start_at(&sv, now);
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                struct sv_action a;

                now += S(1); /* each server dies one second after it started */
                a = sv_exited(&sv, now, &crash, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_WAIT);
                CHECK_U64(a.delay, want[i]);
                CHECK_INT(sv.state, SV_BACKOFF);
                now += a.delay;
                respawn_at(&sv, now);
        }
        CHECK_INT(sv.generation, 10);
        CHECK_INT(sv.total_restarts, 9);
}

static void test_backoff_formula(void)
{
        struct policy p = default_policy();
        struct supervisor sv;

        sv_init(&sv, &p);
        CHECK_U64(sv_backoff_delay(&sv, 0, NO_JITTER), MS(500));
        CHECK_U64(sv_backoff_delay(&sv, 5, NO_JITTER), S(16));
        CHECK_U64(sv_backoff_delay(&sv, 6, NO_JITTER), S(30));
        CHECK_U64(sv_backoff_delay(&sv, 1000, NO_JITTER), S(30));
        CHECK_U64(sv_backoff_delay(&sv, 4000000000u, NO_JITTER), S(30));

        /* factor 10, n = 1000 is 10^1000 times the initial delay: must be
         * the cap, even when the cap is the largest usec_t. */
        p.restart.backoff_factor = 10.0;
        p.restart.backoff_max = UINT64_MAX;
        sv_init(&sv, &p);
        CHECK_U64(sv_backoff_delay(&sv, 1000, NO_JITTER), UINT64_MAX);
        CHECK_U64(sv_backoff_delay(&sv, 1000, 0.999), UINT64_MAX);
        CHECK_U64(sv_backoff_delay(&sv, 2, NO_JITTER), S(50));

        /* factor 1: a constant delay, whatever n. */
        p.restart.backoff_factor = 1.0;
        p.restart.backoff_max = S(30);
        sv_init(&sv, &p);
        CHECK_U64(sv_backoff_delay(&sv, 1000, NO_JITTER), MS(500));

        /* A non-integral factor still lands on whole microseconds. */
        p.restart.backoff_factor = 1.5;
        sv_init(&sv, &p);
        CHECK_U64(sv_backoff_delay(&sv, 2, NO_JITTER), MS(1125));

        /* initial == max: every delay is that value. */
        p.restart.backoff_initial = S(30);
        sv_init(&sv, &p);
        CHECK_U64(sv_backoff_delay(&sv, 0, NO_JITTER), S(30));
        CHECK_U64(sv_backoff_delay(&sv, 7, NO_JITTER), S(30));
}

static void test_jitter_stays_within_ten_percent(void)
{
        struct policy p = default_policy();
        struct supervisor sv;

        sv_init(&sv, &p);
        /* 4s step: jitter 0 gives the floor, just under 1 the ceiling. */
        CHECK_U64(sv_backoff_delay(&sv, 3, 0.0), MS(3600));
        CHECK(sv_backoff_delay(&sv, 3, 0.9999) <= MS(4400));
        CHECK(sv_backoff_delay(&sv, 3, 0.9999) >= MS(4399));
        CHECK_U64(sv_backoff_delay(&sv, 3, 0.25), MS(3800));
        CHECK_U64(sv_backoff_delay(&sv, 3, 0.75), MS(4200));

        for (int i = 0; i < 1000; i++) {
                double j = i / 1000.0;
                usec_t d = sv_backoff_delay(&sv, 3, j);

                CHECK(d >= MS(3600));
                CHECK(d <= MS(4400));
        }

        /* At the cap, jitter can shorten the delay but never exceed the
         * maximum the user configured. */
        CHECK_U64(sv_backoff_delay(&sv, 10, 0.9999), S(30));
        CHECK_U64(sv_backoff_delay(&sv, 10, 0.0), S(27));

        /* Out-of-range jitter from a sloppy caller is clamped, not amplified. */
        CHECK_U64(sv_backoff_delay(&sv, 3, -5.0), MS(3600));
        CHECK_U64(sv_backoff_delay(&sv, 3, 7.0), MS(4400));
}

static void test_healthy_run_resets_backoff(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t now = S(1000);

        p.restart.max_restarts = 20; /* about the delays, not giving up */
        sv_init(&sv, &p);
        start_at(&sv, now);
        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
        CHECK_U64(a.delay, MS(500));
        respawn_at(&sv, now += a.delay);
        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
        CHECK_U64(a.delay, S(1));
        respawn_at(&sv, now += a.delay);
        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
        CHECK_U64(a.delay, S(2));
        respawn_at(&sv, now += a.delay);

        /* Just short of reset_after: still a crash loop, keep backing off. */
        a = sv_exited(&sv, now += S(60) - 1, &crash, NO_JITTER);
        CHECK_U64(a.delay, S(4));
        respawn_at(&sv, now += a.delay);

        /* Exactly reset_after: healthy, the next restart is quick again. */
        a = sv_exited(&sv, now += S(60), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        CHECK_U64(a.delay, MS(500));
        respawn_at(&sv, now += a.delay);

        /* ...and a crash right after that escalates from the start. */
        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
        CHECK_U64(a.delay, S(1));
}

static void test_gives_up_after_max_restarts_within_window(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t now = S(1000);
        unsigned starts = 0;

        sv_init(&sv, &p);
        start_at(&sv, now);
        starts++;
        for (;;) {
                a = sv_exited(&sv, now += S(2), &crash, NO_JITTER);
                if (a.kind != SV_ACT_WAIT)
                        break;
                respawn_at(&sv, now += a.delay);
                starts++;
        }
        /* max_restarts = 5: five restarts, six servers, the sixth end gives up. */
        CHECK_INT(starts, 6);
        CHECK_INT(sv.generation, 6);
        CHECK_INT(sv.total_restarts, 5);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
        CHECK_INT(sv.state, SV_DONE);
        CHECK_INT(sv.last_end, SV_END_SIGNAL);

        /* Once given up, nothing brings it back. */
        CHECK_INT(sv_timer(&sv, now + S(100)).kind, SV_ACT_NONE);
        CHECK_INT(sv_start(&sv, now + S(100)).kind, SV_ACT_NONE);
        CHECK_INT(sv_exited(&sv, now + S(100), &crash, NO_JITTER).kind, SV_ACT_NONE);
        CHECK_INT(sv_stop(&sv, now + S(100)).kind, SV_ACT_NONE);
}

static void test_gave_up_exit_code_ignores_server_status(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        const struct sv_exit failed = {.status = 1};

        p.restart.max_restarts = 1;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(11), &failed, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        respawn_at(&sv, S(12));
        a = sv_exited(&sv, S(13), &failed, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
}

static void test_max_restarts_zero(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;

        p.restart.max_restarts = 0;

        /* An end the policy would restart: give up at once. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(20), &oom_kill, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
        CHECK_INT(sv.generation, 1);

        /* An end it would not restart is not a crash loop: the server's code. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(20), &clean_exit, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK(!a.gave_up);

        p.restart.on = RESTART_ON_OOM;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(20), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 128 + SIGSEGV);
        CHECK(!a.gave_up);
}

static void test_slow_crash_loop_never_gives_up(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t now = S(1000);

        /* One crash every 2.5 minutes: at most 4 fit in a 10-minute window,
         * under max_restarts = 5.  Enough rounds to wrap the ring of times. */
        sv_init(&sv, &p);
        start_at(&sv, now);
        for (int i = 0; i < 3 * (SV_MAX_RESTARTS_LIMIT + 1); i++) {
                a = sv_exited(&sv, now += S(150) - MS(500), &crash, NO_JITTER);
                if (a.kind != SV_ACT_WAIT) {
                        CHECK_INT(i, -1); /* gave up in round i */
                        break;
                }
                /* each run exceeds reset_after, so no escalation either */
                CHECK_U64(a.delay, MS(500));
                respawn_at(&sv, now += a.delay);
        }
        CHECK_INT(sv.state, SV_RUNNING);
        CHECK(sv.n_restarts_at <= 5);
}

static void test_window_slides(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t t0 = S(1000), now;

        p.restart.max_restarts = 3;
        sv_init(&sv, &p);
        start_at(&sv, t0);

        /* Restarts at t0+1s, t0+3s, t0+5s: the window is now full. */
        now = t0;
        for (int i = 0; i < 3; i++) {
                a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_WAIT);
                respawn_at(&sv, now += S(1));
        }
        CHECK_U64(now, t0 + S(6));

        /* The server then runs until the first restart is exactly `window`
         * old: it still counts, so this end gives up... */
        {
                struct supervisor copy = sv;

                a = sv_exited(&copy, t0 + S(1) + MIN(10), &crash, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_EXIT);
                CHECK(a.gave_up);
        }
        /* ...one microsecond later it has slid out and the server restarts. */
        now = t0 + S(1) + MIN(10) + 1;
        a = sv_exited(&sv, now, &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        /* It ran for 10 minutes, past reset_after: the quick delay again. */
        CHECK_U64(a.delay, MS(500));
        respawn_at(&sv, now += a.delay);

        /* The window holds t0+3s, t0+5s and this restart: full again. */
        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
}

static void test_limit_of_max_restarts(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t now = S(1000);
        unsigned restarts = 0;

        /* A value past the ring's capacity is held at the limit. */
        p.restart.max_restarts = SV_MAX_RESTARTS_LIMIT * 5;
        p.restart.window = MIN(60 * 24 * 365);
        sv_init(&sv, &p);
        CHECK_INT(sv.max_restarts, SV_MAX_RESTARTS_LIMIT);
        start_at(&sv, now);
        for (;;) {
                a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
                if (a.kind != SV_ACT_WAIT)
                        break;
                restarts++;
                respawn_at(&sv, now += a.delay);
        }
        CHECK_INT(restarts, SV_MAX_RESTARTS_LIMIT);
        CHECK(a.gave_up);
}

static void test_restart_on_table(void)
{
        static const struct sv_exit ends[] = {
            [SV_END_OOM] = {.signal = SIGKILL, .oom = true},
            [SV_END_SIGNAL] = {.signal = SIGABRT},
            [SV_END_FAILURE] = {.status = 2},
            [SV_END_CLEAN] = {.status = 0},
        };
        static const int expect_code[] = {
            [SV_END_OOM] = 128 + SIGKILL,
            [SV_END_SIGNAL] = 128 + SIGABRT,
            [SV_END_FAILURE] = 2,
            [SV_END_CLEAN] = 0,
        };
        static const struct {
                enum restart_on on;
                bool restarts[4]; /* indexed by enum sv_end_kind */
        } table[] = {
            {RESTART_ON_OOM, {true, false, false, false}},
            {RESTART_ON_CRASH, {true, true, true, false}},
            {RESTART_ON_ALWAYS, {true, true, true, true}},
            {RESTART_ON_NEVER, {false, false, false, false}},
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                for (int k = SV_END_OOM; k <= SV_END_CLEAN; k++) {
                        struct policy p = default_policy();
                        struct supervisor sv;
                        struct sv_action a;
                        bool want = table[i].restarts[k];

                        CHECK_INT(sv_classify(&ends[k]), k);
                        CHECK_INT(sv_restarts_after(table[i].on, (enum sv_end_kind)k), want);

                        p.restart.on = table[i].on;
                        sv_init(&sv, &p);
                        start_at(&sv, S(10));
                        a = sv_exited(&sv, S(20), &ends[k], NO_JITTER);
                        CHECK_INT(sv.last_end, k);
                        if (want) {
                                CHECK_INT(a.kind, SV_ACT_WAIT);
                                CHECK_U64(a.delay, MS(500));
                                CHECK_INT(sv.state, SV_BACKOFF);
                        } else {
                                CHECK_INT(a.kind, SV_ACT_EXIT);
                                CHECK_INT(a.exit_code, expect_code[k]);
                                CHECK(!a.gave_up);
                                CHECK_INT(sv.state, SV_DONE);
                        }
                        if (check_test_failed_) {
                                fprintf(stderr, "  at on=%d end=%s\n", (int)table[i].on,
                                        sv_end_kind_name((enum sv_end_kind)k));
                                return;
                        }
                }
        }
}

static void test_classify(void)
{
        /* The OOM killer's SIGKILL and a user's `kill -9` look the same in
         * the wait status; only the oom flag tells them apart. */
        CHECK_INT(sv_classify(&(struct sv_exit){.signal = SIGKILL, .oom = true}), SV_END_OOM);
        CHECK_INT(sv_classify(&(struct sv_exit){.signal = SIGKILL}), SV_END_SIGNAL);
        /* The degraded-mode poller's kill, or gopls exiting on its own after
         * an allocation failure, still counts as OOM. */
        CHECK_INT(sv_classify(&(struct sv_exit){.status = 2, .oom = true}), SV_END_OOM);
        CHECK_INT(sv_classify(&(struct sv_exit){.status = 0, .oom = true}), SV_END_OOM);
        CHECK_INT(sv_classify(&(struct sv_exit){.signal = SIGTERM}), SV_END_SIGNAL);
        CHECK_INT(sv_classify(&(struct sv_exit){.status = 127}), SV_END_FAILURE);
        CHECK_INT(sv_classify(&(struct sv_exit){.status = 0}), SV_END_CLEAN);
}

static void test_exit_codes(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;

        CHECK_INT(sv_exit_code(&(struct sv_exit){.status = 0}), 0);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.status = 3}), 3);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.status = 255}), 255);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.signal = SIGKILL}), 137);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.signal = SIGTERM}), 143);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.signal = SIGSEGV}), 139);
        CHECK_INT(sv_exit_code(&(struct sv_exit){.signal = SIGKILL, .oom = true}), 137);

        /* on = never: the guard is transparent, the editor sees gopls's code. */
        p.restart.on = RESTART_ON_NEVER;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(20), &(struct sv_exit){.status = 2}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 2);

        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_exited(&sv, S(20), &oom_kill, NO_JITTER);
        CHECK_INT(a.exit_code, 137);
        CHECK(!a.gave_up);
}

static void test_spawn_failure(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        const struct sv_exit not_found = {.status = 127};
        usec_t now = S(1000);

        /* on = crash: a missing binary is retried with growing delays and
         * then given up on, even though sv_spawned() is never called after
         * the first (healthy, long) run. */
        sv_init(&sv, &p);
        start_at(&sv, now);
        a = sv_exited(&sv, now += MIN(30), &crash, NO_JITTER);
        CHECK_U64(a.delay, MS(500));
        a = sv_timer(&sv, now += a.delay);
        CHECK_INT(a.kind, SV_ACT_SPAWN);
        a = sv_exited(&sv, now, &not_found, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        CHECK_U64(a.delay, S(1));
        a = sv_timer(&sv, now += a.delay);
        a = sv_exited(&sv, now, &not_found, NO_JITTER);
        CHECK_U64(a.delay, S(2));
        a = sv_timer(&sv, now += a.delay);
        a = sv_exited(&sv, now, &not_found, NO_JITTER);
        CHECK_U64(a.delay, S(4));
        a = sv_timer(&sv, now += a.delay);
        a = sv_exited(&sv, now, &not_found, NO_JITTER);
        CHECK_U64(a.delay, S(8));
        a = sv_timer(&sv, now += a.delay);
        a = sv_exited(&sv, now, &not_found, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
        /* only the one real exec counts as a server */
        CHECK_INT(sv.generation, 1);

        /* on = oom: the shell's "command not found" code reaches the editor. */
        p.restart.on = RESTART_ON_OOM;
        sv_init(&sv, &p);
        a = sv_start(&sv, S(10));
        CHECK_INT(a.kind, SV_ACT_SPAWN);
        a = sv_exited(&sv, S(10), &not_found, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 127);
        CHECK_INT(sv.generation, 0);
}

static void test_stop_in_each_state(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;

        /* IDLE: nothing to stop. */
        sv_init(&sv, &p);
        a = sv_stop(&sv, S(10));
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK(!a.gave_up);
        CHECK_INT(sv.state, SV_DONE);
        CHECK_INT(sv_start(&sv, S(11)).kind, SV_ACT_NONE);

        /* RUNNING: SIGTERM with stop_grace to go, the end is not a crash. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        a = sv_stop(&sv, S(20));
        CHECK_INT(a.kind, SV_ACT_TERMINATE);
        CHECK_U64(a.delay, S(5));
        CHECK_INT(sv.state, SV_STOPPING);
        /* STOPPING: a second SIGTERM from the user does nothing new. */
        CHECK_INT(sv_stop(&sv, S(21)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_STOPPING);
        a = sv_exited(&sv, S(22), &(struct sv_exit){.signal = SIGTERM}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK(!a.gave_up);
        CHECK_INT(sv.state, SV_DONE);
        CHECK_INT(sv.total_restarts, 0);

        /* STOPPING, server ignores SIGTERM: KILL when the grace runs out,
         * and still a normal exit once it is reaped. */
        p.restart.on = RESTART_ON_ALWAYS;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        CHECK_INT(sv_stop(&sv, S(20)).kind, SV_ACT_TERMINATE);
        a = sv_timer(&sv, S(25));
        CHECK_INT(a.kind, SV_ACT_KILL);
        CHECK_INT(sv.state, SV_STOPPING);
        a = sv_exited(&sv, S(25), &(struct sv_exit){.signal = SIGKILL}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK_INT(sv.state, SV_DONE);

        /* BACKOFF: no server to terminate, and it must not come back. */
        p.restart.on = RESTART_ON_CRASH;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        CHECK_INT(sv_exited(&sv, S(20), &crash, NO_JITTER).kind, SV_ACT_WAIT);
        a = sv_stop(&sv, S(20));
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK_INT(sv.state, SV_DONE);
        CHECK_INT(sv_timer(&sv, S(21)).kind, SV_ACT_NONE);

        /* DONE: nothing. */
        CHECK_INT(sv_stop(&sv, S(22)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_DONE);
}

static void test_stray_events_do_nothing(void)
{
        struct policy p = default_policy();
        struct supervisor sv;

        sv_init(&sv, &p);
        CHECK_INT(sv.state, SV_IDLE);
        CHECK_INT(sv_timer(&sv, S(1)).kind, SV_ACT_NONE);
        CHECK_INT(sv_exited(&sv, S(1), &crash, NO_JITTER).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_IDLE);

        start_at(&sv, S(10));
        /* A second start or a stale timer must not spawn a second server. */
        CHECK_INT(sv_start(&sv, S(11)).kind, SV_ACT_NONE);
        CHECK_INT(sv_timer(&sv, S(11)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_RUNNING);
        CHECK_INT(sv.generation, 1);

        CHECK_INT(sv_exited(&sv, S(12), &crash, NO_JITTER).kind, SV_ACT_WAIT);
        CHECK_INT(sv_exited(&sv, S(12), &crash, NO_JITTER).kind, SV_ACT_NONE);
        CHECK_INT(sv_start(&sv, S(12)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_BACKOFF);
        CHECK_INT(sv.total_restarts, 1);
}

/* [pressure] proactive: the guard's own restart is never a crash. */
static void test_restart_is_not_a_crash(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;

        p.restart.max_restarts = 1;
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        /* Many more restarts than max_restarts, back to back: each one is
         * SIGTERM with stop_grace, then a new server at once. */
        for (unsigned i = 0; i < 5; i++) {
                a = sv_restart(&sv, S(20 + i));
                CHECK_INT(a.kind, SV_ACT_TERMINATE);
                CHECK_U64(a.delay, S(5));
                CHECK_INT(sv.state, SV_RESTARTING);
                /* A second request while it ends does nothing. */
                CHECK_INT(sv_restart(&sv, S(20 + i)).kind, SV_ACT_NONE);
                a = sv_exited(&sv, S(20 + i), &(struct sv_exit){.signal = SIGTERM}, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_SPAWN);
                CHECK_INT(sv.state, SV_RUNNING);
                sv_spawned(&sv, S(20 + i));
        }
        CHECK_INT(sv.proactive_restarts, 5);
        CHECK_INT(sv.total_restarts, 0);
        CHECK_INT(sv.generation, 6);
        /* The crash-loop budget is untouched: one crash restarts with the
         * first backoff step, the second gives up (max_restarts = 1). */
        a = sv_exited(&sv, S(30), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        CHECK_U64(a.delay, MS(500));
        respawn_at(&sv, S(31));
        a = sv_exited(&sv, S(32), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK(a.gave_up);

        /* It ignores SIGTERM: KILL after stop_grace, then the new server. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        CHECK_INT(sv_restart(&sv, S(20)).kind, SV_ACT_TERMINATE);
        CHECK_INT(sv_timer(&sv, S(25)).kind, SV_ACT_KILL);
        CHECK_INT(sv.state, SV_RESTARTING);
        CHECK_INT(sv_exited(&sv, S(25), &(struct sv_exit){.signal = SIGKILL}, NO_JITTER).kind,
                  SV_ACT_SPAWN);

        /* The kernel won the race: an OOM kill during the restart is an
         * OOM kill, with its backoff and its place in the window. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        CHECK_INT(sv_restart(&sv, S(20)).kind, SV_ACT_TERMINATE);
        a = sv_exited(&sv, S(20), &oom_kill, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        CHECK_INT(sv.last_end, SV_END_OOM);
        CHECK_INT(sv.total_restarts, 1);
        CHECK_INT(sv.proactive_restarts, 0);

        /* A stop while restarting: the server is not started again. */
        sv_init(&sv, &p);
        start_at(&sv, S(10));
        CHECK_INT(sv_restart(&sv, S(20)).kind, SV_ACT_TERMINATE);
        CHECK_INT(sv_stop(&sv, S(21)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_STOPPING);
        a = sv_exited(&sv, S(21), &(struct sv_exit){.signal = SIGTERM}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);

        /* Only a running server is restarted. */
        sv_init(&sv, &p);
        CHECK_INT(sv_restart(&sv, S(1)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_IDLE);
        start_at(&sv, S(10));
        CHECK_INT(sv_exited(&sv, S(11), &crash, NO_JITTER).kind, SV_ACT_WAIT);
        CHECK_INT(sv_restart(&sv, S(11)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_BACKOFF);
}

static void test_names(void)
{
        CHECK_STR(sv_state_name(SV_RESTARTING), "restarting");
        CHECK_STR(sv_state_name(SV_IDLE), "idle");
        CHECK_STR(sv_state_name(SV_RUNNING), "running");
        CHECK_STR(sv_state_name(SV_BACKOFF), "backoff");
        CHECK_STR(sv_state_name(SV_STOPPING), "stopping");
        CHECK_STR(sv_state_name(SV_DONE), "done");
        CHECK_STR(sv_end_kind_name(SV_END_OOM), "oom");
        CHECK_STR(sv_end_kind_name(SV_END_SIGNAL), "signal");
        CHECK_STR(sv_end_kind_name(SV_END_FAILURE), "failure");
        CHECK_STR(sv_end_kind_name(SV_END_CLEAN), "clean");
}

/* `gopls-guard restart` in each state: a running server is stopped
 * gracefully and replaced at once, uncounted; a backoff is cut short. */
static void test_requested_restart(void)
{
        struct policy p = default_policy();
        struct supervisor sv;
        struct sv_action a;
        usec_t now = S(100);

        p.restart.max_restarts = 1;
        sv_init(&sv, &p);
        CHECK_INT(sv_restart_requested(&sv, now).kind, SV_ACT_NONE); /* IDLE */
        start_at(&sv, now);

        /* RUNNING: TERMINATE with stop_grace, then the end spawns at once. */
        a = sv_restart_requested(&sv, now);
        CHECK_INT(a.kind, SV_ACT_TERMINATE);
        CHECK_U64(a.delay, S(5));
        CHECK_INT(sv.state, SV_RESTARTING);
        CHECK_STR(sv_state_name(sv.state), "restarting");
        CHECK_INT(sv_restart_requested(&sv, now).kind, SV_ACT_NONE); /* asked twice: once */
        a = sv_exited(&sv, now + S(1), &(struct sv_exit){.signal = SIGTERM}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_SPAWN);
        CHECK_INT(sv.state, SV_RUNNING);
        sv_spawned(&sv, now + S(1));
        CHECK_INT(sv.total_restarts, 0);
        CHECK_INT(sv.requested_restarts, 1);
        CHECK_INT(sv.n_restarts_at, 0);

        /* Not counted: max_restarts = 1 still allows one crash restart. */
        now += S(2);
        a = sv_exited(&sv, now, &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_WAIT);
        CHECK_INT(sv.consecutive, 1);
        /* BACKOFF: SPAWN now, and the backoff step starts over. */
        a = sv_restart_requested(&sv, now + MS(10));
        CHECK_INT(a.kind, SV_ACT_SPAWN);
        CHECK_INT(sv.state, SV_RUNNING);
        CHECK_INT(sv.consecutive, 0);
        CHECK_INT(sv.requested_restarts, 2);
        sv_spawned(&sv, now + MS(10));
        /* The late backoff timer does nothing now. */
        CHECK_INT(sv_timer(&sv, now + S(1)).kind, SV_ACT_NONE);

        /* RESTARTING: stop_grace runs out -> KILL; the end still spawns. */
        CHECK_INT(sv_restart_requested(&sv, now + S(3)).kind, SV_ACT_TERMINATE);
        CHECK_INT(sv_timer(&sv, now + S(8)).kind, SV_ACT_KILL);
        CHECK_INT(sv.state, SV_RESTARTING);
        a = sv_exited(&sv, now + S(8), &(struct sv_exit){.signal = SIGKILL}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_SPAWN);
        sv_spawned(&sv, now + S(8));

        /* A stop while restarting: the guard ends with 0 once it is gone. */
        CHECK_INT(sv_restart_requested(&sv, now + S(9)).kind, SV_ACT_TERMINATE);
        CHECK_INT(sv_stop(&sv, now + S(9)).kind, SV_ACT_NONE);
        CHECK_INT(sv.state, SV_STOPPING);
        a = sv_exited(&sv, now + S(10), &(struct sv_exit){.signal = SIGTERM}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 0);
        CHECK_INT(sv_restart_requested(&sv, now + S(11)).kind, SV_ACT_NONE); /* DONE */
}

/* A hung server is killed; its end counts like a crash, as a hang. */
static void test_hang(void)
{
        static const struct {
                enum restart_on on;
                bool killed_by_oom; /* the OOM killer got there first */
                enum sv_action_kind act, after;
                enum sv_end_kind end;
        } t[] = {
            {RESTART_ON_CRASH, false, SV_ACT_KILL, SV_ACT_WAIT, SV_END_HANG},
            {RESTART_ON_ALWAYS, false, SV_ACT_KILL, SV_ACT_WAIT, SV_END_HANG},
            {RESTART_ON_OOM, false, SV_ACT_KILL, SV_ACT_WAIT, SV_END_HANG},
            {RESTART_ON_CRASH, true, SV_ACT_KILL, SV_ACT_WAIT, SV_END_OOM},
            {RESTART_ON_NEVER, false, SV_ACT_NONE, SV_ACT_EXIT, SV_END_SIGNAL},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct policy p = default_policy();
                struct supervisor sv;
                usec_t now = S(10);

                p.restart.on = t[i].on;
                sv_init(&sv, &p);
                CHECK_INT(sv_hung(&sv, now).kind, SV_ACT_NONE); /* IDLE */
                start_at(&sv, now);
                CHECK_INT(sv_hung(&sv, now + S(60)).kind, t[i].act);
                /* Found hung again before the kill is reaped: one kill. */
                CHECK_INT(sv_hung(&sv, now + S(61)).kind, SV_ACT_NONE);
                struct sv_exit e = {.signal = SIGKILL, .oom = t[i].killed_by_oom};
                struct sv_action a = sv_exited(&sv, now + S(61), &e, NO_JITTER);
                CHECK_INT(a.kind, t[i].after);
                CHECK_INT(sv.last_end, t[i].end);
                CHECK_INT(sv.hangs, t[i].act == SV_ACT_KILL ? 1 : 0);
                if (a.kind != SV_ACT_WAIT)
                        continue;
                CHECK_INT(sv.total_restarts, 1); /* counted toward giving up */
                CHECK_U64(a.delay, MS(500));
                /* The next server's crash is a crash again. */
                respawn_at(&sv, now + S(62));
                a = sv_exited(&sv, now + S(63), &crash, NO_JITTER);
                CHECK_INT(sv.last_end, SV_END_SIGNAL);
                CHECK_INT(sv.hangs, 1);
        }
        CHECK_STR(sv_end_kind_name(SV_END_HANG), "hang");

        /* Hangs count toward giving up: max_restarts = 1, two hangs. */
        struct policy p = default_policy();
        struct supervisor sv;
        p.restart.max_restarts = 1;
        sv_init(&sv, &p);
        start_at(&sv, S(1));
        CHECK_INT(sv_hung(&sv, S(2)).kind, SV_ACT_KILL);
        CHECK_INT(sv_exited(&sv, S(2), &(struct sv_exit){.signal = SIGKILL}, NO_JITTER).kind,
                  SV_ACT_WAIT);
        respawn_at(&sv, S(3));
        CHECK_INT(sv_hung(&sv, S(4)).kind, SV_ACT_KILL);
        struct sv_action a = sv_exited(&sv, S(4), &(struct sv_exit){.signal = SIGKILL}, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK(a.gave_up);
        CHECK_INT(sv.hangs, 2);
}

/* [restart] after_give_up = wait: the crash-loop limit leads to a
 * cooldown, not an exit; after it (or a restart asked for) the server gets
 * a fresh window; a stop during it ends the guard normally. */
static void test_after_give_up_wait(void)
{
        /* Each row: the event in COOLDOWN, the action, the state after. */
        static const struct {
                const char *event;
                enum sv_action_kind act;
                enum sv_state after;
                int exit_code;
        } t[] = {
            {"timer", SV_ACT_SPAWN, SV_RUNNING, 0},  {"restart", SV_ACT_SPAWN, SV_RUNNING, 0},
            {"stop", SV_ACT_EXIT, SV_DONE, 0},       {"hung", SV_ACT_NONE, SV_COOLDOWN, 0},
            {"exited", SV_ACT_NONE, SV_COOLDOWN, 0}, {"start", SV_ACT_NONE, SV_COOLDOWN, 0},
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                struct policy p = default_policy();
                struct supervisor sv;
                struct sv_action a;
                usec_t now = S(10);

                p.restart.max_restarts = 2;
                p.restart.after_give_up = AFTER_GIVE_UP_WAIT;
                sv_init(&sv, &p);
                start_at(&sv, now);
                for (int n = 0; n < 2; n++) {
                        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
                        CHECK_INT(a.kind, SV_ACT_WAIT);
                        CHECK(!a.gave_up);
                        respawn_at(&sv, now += a.delay);
                }
                /* The third end in the window: give up, wait the cooldown. */
                a = sv_exited(&sv, now += S(1), &oom_kill, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_WAIT);
                CHECK(a.gave_up);
                CHECK_U64(a.delay, MIN(5));
                CHECK_INT(sv.state, SV_COOLDOWN);
                CHECK_STR(sv_state_name(sv.state), "cooldown");
                CHECK_INT(sv.give_ups, 1);
                CHECK_INT(sv.total_restarts, 2);

                now += MIN(5);
                if (!strcmp(t[i].event, "timer"))
                        a = sv_timer(&sv, now);
                else if (!strcmp(t[i].event, "restart"))
                        a = sv_restart_requested(&sv, now);
                else if (!strcmp(t[i].event, "stop"))
                        a = sv_stop(&sv, now);
                else if (!strcmp(t[i].event, "hung"))
                        a = sv_hung(&sv, now);
                else if (!strcmp(t[i].event, "exited"))
                        a = sv_exited(&sv, now, &crash, NO_JITTER);
                else
                        a = sv_start(&sv, now);
                CHECK_INT(a.kind, t[i].act);
                CHECK_INT(sv.state, t[i].after);
                if (a.kind == SV_ACT_EXIT) {
                        CHECK_INT(a.exit_code, t[i].exit_code);
                        CHECK(!a.gave_up);
                }
                if (a.kind != SV_ACT_SPAWN)
                        continue;
                /* A fresh window: max_restarts (2) restarts again, with
                 * the backoff from its first step, before the next give-up. */
                sv_spawned(&sv, now);
                CHECK_INT(sv.requested_restarts, !strcmp(t[i].event, "restart") ? 1 : 0);
                for (int n = 0; n < 2; n++) {
                        a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
                        CHECK_INT(a.kind, SV_ACT_WAIT);
                        CHECK(!a.gave_up);
                        if (n == 0)
                                CHECK_U64(a.delay, MS(500));
                        respawn_at(&sv, now += a.delay);
                }
                a = sv_exited(&sv, now += S(1), &crash, NO_JITTER);
                CHECK_INT(a.kind, SV_ACT_WAIT);
                CHECK(a.gave_up);
                CHECK_INT(sv.give_ups, 2);
        }

        /* after_give_up = exit: exit 4, as before the key existed. */
        struct policy p = default_policy();
        struct supervisor sv;
        p.restart.max_restarts = 0;
        sv_init(&sv, &p);
        start_at(&sv, S(1));
        struct sv_action a = sv_exited(&sv, S(2), &crash, NO_JITTER);
        CHECK_INT(a.kind, SV_ACT_EXIT);
        CHECK_INT(a.exit_code, 4);
        CHECK(a.gave_up);
        CHECK_INT(sv.give_ups, 1);
}

int main(void)
{
        RUN(test_crash_loop_delays_double_up_to_max);
        RUN(test_backoff_formula);
        RUN(test_jitter_stays_within_ten_percent);
        RUN(test_healthy_run_resets_backoff);
        RUN(test_gives_up_after_max_restarts_within_window);
        RUN(test_gave_up_exit_code_ignores_server_status);
        RUN(test_max_restarts_zero);
        RUN(test_slow_crash_loop_never_gives_up);
        RUN(test_window_slides);
        RUN(test_limit_of_max_restarts);
        RUN(test_restart_on_table);
        RUN(test_classify);
        RUN(test_exit_codes);
        RUN(test_spawn_failure);
        RUN(test_stop_in_each_state);
        RUN(test_stray_events_do_nothing);
        RUN(test_restart_is_not_a_crash);
        RUN(test_names);
        RUN(test_requested_restart);
        RUN(test_hang);
        RUN(test_after_give_up_wait);
        return check_summary();
}

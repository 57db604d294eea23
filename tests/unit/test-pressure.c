/* test-pressure.c — when the guard restarts the server before the kernel
 * kills it: each table row is a sequence of observations (memory samples,
 * memory.events high counts, PSI triggers, re-checks) with the time and
 * whether a request is in flight, and the verdict expected after each one. */
#include "check.h"
#include "pressure.h"

#define MIB (1024ULL * 1024ULL)
#define MS USEC_PER_MSEC

enum op { SAMPLE, HIGH, PSI, CHECK_ };

struct step {
        enum op op;
        usec_t t_ms;
        uint64_t value; /* SAMPLE: MiB; HIGH: counter */
        bool busy;
        enum pressure_verdict want;
};

/* max 100M, restart above 80M for 1 s, a quiet moment awaited for 500 ms,
 * urgent when max is 200 ms away. */
static const struct pressure_config CFG = {
        .enabled = true,
        .restart_above = 80 * MIB,
        .max = 100 * MIB,
        .high = 60 * MIB,
        .above_for = 1000 * MS,
        .quiet_wait = 500 * MS,
        .urgent_within = 200 * MS,
        .fast_interval = 50 * MS,
        .healthy_after = 10000 * MS,
};

#define K PRESSURE_KEEP
#define Q PRESSURE_WHEN_QUIET
#define NOW PRESSURE_RESTART_NOW
#define END {.op = CHECK_, .t_ms = UINT64_MAX}

static const struct {
        const char *name;
        struct pressure_config cfg;
        enum pressure_reason reason; /* at the last step */
        struct step steps[12];
} rows[] = {
        {"below restart_above: never", CFG, PRESSURE_NONE,
         {{SAMPLE, 1000, 10, false, K}, {SAMPLE, 2000, 70, false, K}, {SAMPLE, 9000, 79, false, K}, END}},
        {"above for above_for, idle: restart at once", CFG, PRESSURE_ABOVE,
         {{SAMPLE, 1000, 85, false, K}, {SAMPLE, 1500, 85, false, K}, {SAMPLE, 2000, 85, false, NOW}, END}},
        {"above but dips below: the clock starts over", CFG, PRESSURE_NONE,
         {{SAMPLE, 1000, 85, false, K}, {SAMPLE, 1800, 79, false, K}, {SAMPLE, 2200, 81, false, K},
          {SAMPLE, 3000, 81, false, K}, END}},
        {"due while busy: waits for quiet, then restarts", CFG, PRESSURE_ABOVE,
         {{SAMPLE, 1000, 85, true, K}, {SAMPLE, 2000, 85, true, Q}, {SAMPLE, 2100, 85, true, Q},
          {CHECK_, 2200, 0, false, NOW}, END}},
        {"due while busy: the wait is bounded by quiet_wait", CFG, PRESSURE_ABOVE,
         {{SAMPLE, 1000, 85, true, K}, {SAMPLE, 2000, 85, true, Q}, {SAMPLE, 2400, 85, true, Q},
          {SAMPLE, 2500, 85, true, NOW}, END}},
        /* 30 MiB/s: at 80M, max is 0.67 s away, above_for 1 s: waiting
         * would hand the server to the OOM killer. */
        {"forecast: reaches max before above_for, restart now even when busy", CFG, PRESSURE_FORECAST,
         {{SAMPLE, 1000, 50, true, K}, {SAMPLE, 1100, 53, true, K}, {SAMPLE, 2000, 80, true, NOW}, END}},
        /* 100 MiB/s: at 80M, max is 0.2 s away (urgent_within). */
        {"forecast: max within urgent_within", CFG, PRESSURE_FORECAST,
         {{SAMPLE, 1000, 60, true, K}, {SAMPLE, 1100, 70, true, K}, {SAMPLE, 1200, 80, true, NOW}, END}},
        {"forecast: slow growth waits for above_for", CFG, PRESSURE_ABOVE,
         {{SAMPLE, 1000, 81, false, K}, {SAMPLE, 1500, 81, false, K}, {SAMPLE, 2000, 82, false, NOW}, END}},
        {"at max: urgent", CFG, PRESSURE_FORECAST,
         {{SAMPLE, 1000, 100, true, NOW}, END}},
        {"high counter climbing steadily for above_for, usage over high", CFG, PRESSURE_HIGH,
         {{SAMPLE, 0, 65, false, K}, {HIGH, 0, 5, false, K}, {HIGH, 100, 9, false, K},
          {HIGH, 600, 20, false, K}, {SAMPLE, 1000, 66, false, K}, {HIGH, 1100, 30, false, NOW}, END}},
        /* The kernel reclaims page cache at high: events all the time, the
         * usage held at high (within the charge batches). */
        {"high counter climbing, reclaim holds the usage at high: keep", CFG, PRESSURE_NONE,
         {{SAMPLE, 0, 60, false, K}, {HIGH, 0, 5, false, K}, {HIGH, 100, 9, false, K},
          {HIGH, 600, 20, false, K}, {SAMPLE, 1000, 60, false, K}, {HIGH, 1100, 30, false, K},
          {HIGH, 1900, 40, false, K}, END}},
        {"high counter with no memory.high set: no high rule",
         {.enabled = true, .restart_above = POLICY_NO_LIMIT, .max = 100 * MIB, .high = POLICY_NO_LIMIT,
          .above_for = 1000 * MS, .quiet_wait = 500 * MS},
         PRESSURE_NONE,
         {{SAMPLE, 0, 70, false, K}, {HIGH, 0, 5, false, K}, {HIGH, 500, 9, false, K}, {HIGH, 1100, 30, false, K}, END}},
        {"high counter with a pause longer than the gap: starts over", CFG, PRESSURE_NONE,
         {{SAMPLE, 0, 70, false, K}, {HIGH, 0, 5, false, K}, {HIGH, 100, 9, false, K}, {HIGH, 1500, 20, false, K},
          {HIGH, 2000, 30, false, K}, END}},
        {"high counter baseline only: no streak", CFG, PRESSURE_NONE,
         {{HIGH, 0, 500, false, K}, {HIGH, 2000, 500, false, K}, END}},
        {"PSI with the usage over high: restart when quiet", CFG, PRESSURE_PSI,
         {{SAMPLE, 900, 62, true, K}, {PSI, 1000, 0, true, Q}, {CHECK_, 1200, 0, false, NOW}, END}},
        /* The stall of reclaim holding the page cache at high. */
        {"PSI with the usage held at high: keep", CFG, PRESSURE_NONE,
         {{SAMPLE, 900, 60, false, K}, {PSI, 1000, 0, false, K}, {SAMPLE, 1900, 60, false, K},
          {PSI, 2000, 0, false, K}, END}},
        {"PSI with high equal to max: restart", {.enabled = true, .restart_above = 80 * MIB, .max = 100 * MIB,
                                                  .high = 100 * MIB, .above_for = 1000 * MS, .quiet_wait = 500 * MS},
         PRESSURE_PSI,
         {{SAMPLE, 900, 50, false, K}, {PSI, 1000, 0, false, NOW}, END}},
        {"disabled: nothing", {.enabled = false, .restart_above = 80 * MIB, .max = 100 * MIB}, PRESSURE_NONE,
         {{SAMPLE, 1000, 100, false, K}, {PSI, 1100, 0, false, K}, END}},
        {"no restart_above: PSI only", {.enabled = true, .restart_above = POLICY_NO_LIMIT, .max = 100 * MIB, .high = POLICY_NO_LIMIT,
                                        .above_for = 1000 * MS, .quiet_wait = 500 * MS},
         PRESSURE_PSI,
         {{SAMPLE, 1000, 100, false, K}, {SAMPLE, 5000, 100, false, K}, {PSI, 5100, 0, false, NOW}, END}},
        {"max unlimited: no forecast, above_for rules", {.enabled = true, .restart_above = 80 * MIB,
                                                         .max = POLICY_NO_LIMIT, .above_for = 1000 * MS,
                                                         .quiet_wait = 500 * MS, .urgent_within = 200 * MS},
         PRESSURE_ABOVE,
         {{SAMPLE, 1000, 80, false, K}, {SAMPLE, 1100, 500, false, K}, {SAMPLE, 2000, 900, false, NOW}, END}},
};

static void test_table(void)
{
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct pressure ps = {0};
                const struct pressure_config *c = &rows[i].cfg;
                pressure_spawned(&ps, c, 1);
                for (size_t j = 0; rows[i].steps[j].t_ms != UINT64_MAX; j++) {
                        const struct step *s = &rows[i].steps[j];
                        usec_t now = s->t_ms * MS + 1;
                        enum pressure_verdict v = K;
                        switch (s->op) {
                        case SAMPLE:
                                v = pressure_sample(&ps, c, now, s->value * MIB, s->busy);
                                break;
                        case HIGH:
                                v = pressure_high(&ps, c, now, s->value, s->busy);
                                break;
                        case PSI:
                                v = pressure_psi(&ps, c, now, s->busy);
                                break;
                        case CHECK_:
                                v = pressure_check(&ps, c, now, s->busy);
                                break;
                        }
                        if (v != s->want) {
                                fprintf(stderr, "row \"%s\" step %zu: verdict %d, expected %d\n",
                                        rows[i].name, j, (int)v, (int)s->want);
                                CHECK(false);
                        }
                }
                if (ps.due != rows[i].reason) {
                        fprintf(stderr, "row \"%s\": reason %s, expected %s\n", rows[i].name,
                                pressure_reason_name(ps.due), pressure_reason_name(rows[i].reason));
                        CHECK(false);
                }
        }
}

/* A first sample above restart_above gives no rate: no forecast; memory
 * that shrinks gives a rate of 0, never a negative time to max. */
static void test_first_sample_no_rate(void)
{
        struct pressure ps = {0};
        pressure_spawned(&ps, &CFG, 1);
        /* One sample: no rate, not at max: keep. */
        CHECK_INT(pressure_sample(&ps, &CFG, 1000 * MS, 95 * MIB, false), K);
        CHECK_U64(pressure_eta(&ps, &CFG), UINT64_MAX);
        /* Shrinking: the rate is 0, not negative; no restart before above_for. */
        CHECK_INT(pressure_sample(&ps, &CFG, 1100 * MS, 90 * MIB, false), K);
        CHECK_U64(pressure_eta(&ps, &CFG), UINT64_MAX);
        CHECK_INT(pressure_sample(&ps, &CFG, 2000 * MS, 90 * MIB, false), NOW);
        CHECK_INT(ps.due, PRESSURE_ABOVE);
}

static void test_next_sample(void)
{
        struct pressure ps = {0};
        usec_t slow = 5000 * MS;
        pressure_spawned(&ps, &CFG, 1);
        /* Nothing known yet: the slow interval. */
        CHECK_U64(pressure_next_sample(&ps, &CFG, 1, slow), slow);
        /* 10M, not growing: slow. */
        (void)pressure_sample(&ps, &CFG, 1000 * MS, 10 * MIB, false);
        (void)pressure_sample(&ps, &CFG, 2000 * MS, 10 * MIB, false);
        CHECK_U64(pressure_next_sample(&ps, &CFG, 2000 * MS, slow), slow);
        /* Growing 10 MiB/s from 20M: the watermark (60M) in 4 s, sampled
         * again in half of that. */
        (void)pressure_sample(&ps, &CFG, 3000 * MS, 20 * MIB, false);
        usec_t n = pressure_next_sample(&ps, &CFG, 3000 * MS, slow);
        CHECK(n < slow);
        CHECK(n >= 50 * MS);
        /* At the watermark: fast. */
        (void)pressure_sample(&ps, &CFG, 4000 * MS, 61 * MIB, false);
        CHECK_U64(pressure_next_sample(&ps, &CFG, 4000 * MS, slow), 50 * MS);
        /* fast never exceeds slow. */
        CHECK_U64(pressure_next_sample(&ps, &CFG, 4000 * MS, 20 * MS), 20 * MS);
        /* A high streak: fast, whatever the level. */
        struct pressure h = {0};
        pressure_spawned(&h, &CFG, 1);
        (void)pressure_high(&h, &CFG, 1000 * MS, 1, false);
        (void)pressure_high(&h, &CFG, 1010 * MS, 2, false);
        CHECK_U64(pressure_next_sample(&h, &CFG, 1010 * MS, slow), 50 * MS);
}

static void test_quick_restarts_suspend(void)
{
        /* memory.high = max: PSI alone restarts. */
        struct pressure_config QC = CFG;
        QC.high = QC.max;
        struct pressure ps = {0};
        usec_t t = 1;
        pressure_spawned(&ps, &QC, t);
        /* Three servers in a row restarted within a second of their start. */
        for (int i = 0; i < PRESSURE_MAX_QUICK; i++) {
                CHECK(!ps.suspended);
                CHECK_INT(pressure_psi(&ps, &QC, t + 100 * MS, false), NOW);
                pressure_restarting(&ps, t + 100 * MS);
                /* Once restarting, nothing more for this generation. */
                CHECK_INT(pressure_psi(&ps, &QC, t + 150 * MS, false), K);
                t += 1000 * MS;
                pressure_spawned(&ps, &QC, t);
        }
        CHECK(ps.suspended);
        CHECK_INT(pressure_psi(&ps, &QC, t + 100 * MS, false), K);
        CHECK_INT(pressure_sample(&ps, &QC, t + 200 * MS, 100 * MIB, false), K);
        CHECK_U64(pressure_next_sample(&ps, &QC, t + 200 * MS, 5000 * MS), 5000 * MS);
        /* This one runs healthy_after: watched again. */
        CHECK_INT(pressure_sample(&ps, &QC, t + QC.healthy_after, 10 * MIB, false), K);
        CHECK(!ps.suspended);
        CHECK_INT(pressure_psi(&ps, &QC, t + QC.healthy_after + 1, false), NOW);

        /* A long run between proactive restarts resets the count. */
        struct pressure q = {0};
        t = 1;
        pressure_spawned(&q, &QC, t);
        for (int i = 0; i < 2 * PRESSURE_MAX_QUICK; i++) {
                (void)pressure_psi(&q, &QC, t + 100 * MS, false);
                pressure_restarting(&q, t + 100 * MS);
                t += (i % 2 ? 1000 * MS : QC.healthy_after + 1);
                pressure_spawned(&q, &QC, t);
        }
        CHECK(!q.suspended);
}

static void test_names(void)
{
        CHECK_STR(pressure_reason_name(PRESSURE_ABOVE), "above");
        CHECK_STR(pressure_reason_name(PRESSURE_FORECAST), "forecast");
        CHECK_STR(pressure_reason_name(PRESSURE_HIGH), "high");
        CHECK_STR(pressure_reason_name(PRESSURE_PSI), "psi");
}

int main(void)
{
        RUN(test_table);
        RUN(test_first_sample_no_rate);
        RUN(test_next_sample);
        RUN(test_quick_restarts_suspend);
        RUN(test_names);
        return check_summary();
}

/* test-hang.c — the hang decision, as tables of samples.
 *
 * Each row is one sample (time, request in flight, CPU time) and whether
 * the server counts as hung after it; timeout 60 s unless a case says. */
#include <stdint.h>

#include "check.h"
#include "hang.h"

#define S(x) ((usec_t)(x)*USEC_PER_SEC)
#define MS(x) ((usec_t)(x)*USEC_PER_MSEC)

struct row {
        usec_t at;
        uint64_t request;
        uint64_t cpu; /* usec; UINT64_MAX: unknown */
        bool hung;
};

static void run(const char *name, usec_t timeout, const struct row *rows, size_t n)
{
        struct hang_watch w;
        hang_init(&w, timeout);
        for (size_t i = 0; i < n; i++) {
                struct hang_sample s = {.request = rows[i].request,
                                        .cpu_known = rows[i].cpu != UINT64_MAX,
                                        .cpu_usec = rows[i].cpu};
                bool hung = hang_check(&w, rows[i].at, &s);
                if (hung != rows[i].hung)
                        fprintf(stderr, "%s: row %zu (t=%llus): hung=%d, want %d\n", name, i,
                                (unsigned long long)(rows[i].at / USEC_PER_SEC), hung,
                                rows[i].hung);
                CHECK(hung == rows[i].hung);
        }
}
#define RUN_TABLE(name, timeout, ...)                                                              \
        do {                                                                                       \
                static const struct row rows_[] = {__VA_ARGS__};                                   \
                run(name, timeout, rows_, sizeof(rows_) / sizeof(rows_[0]));                       \
        } while (0)

static void test_table(void)
{
        /* One request, no CPU at all: hung once 60 s have passed. */
        RUN_TABLE("silent", S(60), {S(0), 7, 1000, false}, {S(30), 7, 1000, false},
                  {S(59), 7, 1000, false}, {S(60), 7, 1000, true});
        /* Busy all along (a big load): never hung, however long. */
        RUN_TABLE("busy", S(60), {S(0), 7, 0, false}, {S(30), 7, S(20), false},
                  {S(60), 7, S(40), false}, {S(90), 7, S(70), false}, {S(300), 7, S(250), false});
        /* Busy, then stuck: hung 60 s after the work stopped. */
        RUN_TABLE("busy-then-stuck", S(60), {S(0), 7, 0, false}, {S(30), 7, S(25), false},
                  {S(60), 7, S(25), false}, {S(89), 7, S(25), false}, {S(90), 7, S(25), true});
        /* A trickle below 0.1% (5 ms per 10 s: the runtime idling) is no
         * progress; one at 1% is. */
        RUN_TABLE("trickle", S(60), {S(0), 7, 0, false}, {S(10), 7, MS(5), false},
                  {S(20), 7, MS(10), false}, {S(40), 7, MS(20), false}, {S(60), 7, MS(30), true});
        RUN_TABLE("one-percent", S(60), {S(0), 7, 0, false}, {S(10), 7, MS(100), false},
                  {S(20), 7, MS(200), false}, {S(60), 7, MS(600), false},
                  {S(120), 7, MS(1200), false});
        /* A blip late in a long idle stretch does not reset it. */
        RUN_TABLE("late-blip", S(60), {S(0), 7, 0, false}, {S(50), 7, MS(30), false},
                  {S(60), 7, MS(30), true});
        /* The request was answered and another came: the server is alive,
         * the stretch starts over with the new one. */
        RUN_TABLE("answered", S(60), {S(0), 7, 0, false}, {S(50), 7, 0, false},
                  {S(55), 8, 0, false}, {S(100), 8, 0, false}, {S(115), 8, 0, true});
        /* Nothing in flight: an idle server is not hung. */
        RUN_TABLE("idle", S(60), {S(0), 0, 0, false}, {S(100), 0, 0, false}, {S(200), 0, 0, false},
                  {S(210), 9, 0, false}, {S(269), 9, 0, false}, {S(270), 9, 0, true});
        /* A gap with nothing in flight resets, even for the same number. */
        RUN_TABLE("gap", S(60), {S(0), 7, 0, false}, {S(40), 0, 0, false}, {S(50), 7, 0, false},
                  {S(100), 7, 0, false}, {S(110), 7, 0, true});
        /* CPU unknown (cpu.stat unreadable): never decided. */
        RUN_TABLE("unknown", S(60), {S(0), 7, UINT64_MAX, false}, {S(100), 7, UINT64_MAX, false},
                  {S(200), 7, UINT64_MAX, false}, {S(210), 7, 0, false}, {S(270), 7, 0, true});
        /* The CPU counter went back (a new generation): a new stretch. */
        RUN_TABLE("counter-back", S(60), {S(0), 7, S(50), false}, {S(40), 7, S(50), false},
                  {S(50), 7, MS(5), false}, {S(100), 7, MS(5), false}, {S(110), 7, MS(5), true});
        /* Off: timeout 0. */
        RUN_TABLE("off", 0, {S(0), 7, 0, false}, {S(1000), 7, 0, false}, {S(100000), 7, 0, false});
        /* A short timeout, sampled every 500 ms (degraded mode). */
        RUN_TABLE("short", S(2), {MS(0), 3, 10, false}, {MS(500), 3, 10, false},
                  {MS(1500), 3, 10, false}, {MS(2000), 3, 10, true});
}

static void test_reset_and_stretch(void)
{
        struct hang_watch w;
        struct hang_sample s = {.request = 4, .cpu_known = true, .cpu_usec = 0};
        hang_init(&w, S(10));
        CHECK(!hang_check(&w, S(100), &s));
        CHECK_U64(hang_stretch(&w, S(105)), S(5));
        CHECK(hang_check(&w, S(110), &s));
        /* After acting the guard resets: the next check starts over. */
        hang_reset(&w);
        CHECK_U64(hang_stretch(&w, S(111)), 0);
        CHECK(!hang_check(&w, S(111), &s));
        CHECK(!hang_check(&w, S(120), &s));
        CHECK(hang_check(&w, S(121), &s));
        /* A clock going back (caller misuse) starts over rather than wrap. */
        CHECK(!hang_check(&w, S(50), &s));
        CHECK_U64(w.since, S(50));
        /* Huge times do not overflow the allowance. */
        hang_init(&w, UINT64_MAX / 2);
        s.cpu_usec = 0;
        CHECK(!hang_check(&w, 0, &s));
        s.cpu_usec = UINT64_MAX / 4;
        CHECK(!hang_check(&w, UINT64_MAX - 1, &s)); /* 25% of the time: progress */
        CHECK_U64(w.since, UINT64_MAX - 1);
}

int main(void)
{
        RUN(test_table);
        RUN(test_reset_and_stretch);
        return check_summary();
}

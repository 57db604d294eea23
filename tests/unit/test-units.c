/* test-units.c — the value parsers and formatters behind every policy key. */
#include <errno.h>

#include "check.h"
#include "policy.h"

#define K UINT64_C(1024)
#define M (K * K)
#define G (M * K)
#define T (G * K)
#define MS USEC_PER_MSEC
#define S USEC_PER_SEC

/* A fixed machine: "%" sizes never depend on the one running the tests. */
#define MEM_TOTAL (16 * G)

/* Sentinel for "output untouched on failure". */
#define UNTOUCHED UINT64_C(4242)

static const struct size_case {
        const char *in;
        int r;
        uint64_t bytes;
} size_cases[] = {
    {"0", 0, 0},
    {"1", 0, 1},
    {"1048576", 0, M},
    {"1K", 0, K},
    {"1k", 0, K},
    {"512M", 0, 512 * M},
    {"2G", 0, 2 * G},
    {"1.5G", 0, 3 * G / 2},
    {"0.5M", 0, 512 * K},
    {"1T", 0, T},
    {"16777215T", 0, 16777215 * T},
    {"max", 0, POLICY_NO_LIMIT},
    {"infinity", 0, POLICY_NO_LIMIT},
    {"50%", 0, 8 * G},
    {"100%", 0, 16 * G},
    {"12.5%", 0, 2 * G},
    {"40%", 0, 6871947673},  /* 16G * 0.4 = 6871947673.6, rounded down */
    {"1.0000000001G", 0, G}, /* digits past the ninth are dropped */
    /* out of range */
    {"0%", -ERANGE, 0},
    {"0.5%", -ERANGE, 0},
    {"101%", -ERANGE, 0},
    {"100.5%", -ERANGE, 0},
    {"-1G", -ERANGE, 0},
    {"-0", -ERANGE, 0},
    {"99999999999T", -ERANGE, 0},
    {"16777216T", -ERANGE, 0},            /* exactly 2^64 */
    {"18446744073709551615", -ERANGE, 0}, /* would alias POLICY_NO_LIMIT */
    {"18446744073709551616", -ERANGE, 0},
    {"99999999999999999999999", -ERANGE, 0},
    /* not a size */
    {"12Q", -EINVAL, 0},
    {"", -EINVAL, 0},
    {"G", -EINVAL, 0},
    {"1.5", -EINVAL, 0}, /* a forgotten suffix, not 1.5 bytes */
    {"1.", -EINVAL, 0},
    {".5G", -EINVAL, 0},
    {"1GB", -EINVAL, 0},
    {"1GiB", -EINVAL, 0},
    {"1 G", -EINVAL, 0},
    {" 1G", -EINVAL, 0},
    {"1G ", -EINVAL, 0},
    {"+1G", -EINVAL, 0},
    {"1e9", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {"1P", -EINVAL, 0},
    {"Max", -EINVAL, 0},
    {"50%%", -EINVAL, 0},
    {"%", -EINVAL, 0},
};

static void test_parse_size(void)
{
        for (size_t i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
                const struct size_case *c = &size_cases[i];
                uint64_t v = UNTOUCHED;
                int r = parse_size(c->in, MEM_TOTAL, &v);

                if (r != c->r || (r == 0 && v != c->bytes) || (r < 0 && v != UNTOUCHED))
                        fprintf(stderr, "parse_size(\"%s\"): r=%d v=%" PRIu64 "\n", c->in, r, v);
                CHECK_INT(r, c->r);
                CHECK_U64(v, r == 0 ? c->bytes : UNTOUCHED);
        }
}

static void test_parse_size_needs_mem_total(void)
{
        uint64_t v = UNTOUCHED;

        CHECK_INT(parse_size("40%", 0, &v), -EINVAL);
        CHECK_U64(v, UNTOUCHED);
        CHECK_INT(parse_size("1G", 0, &v), 0);
        CHECK_U64(v, G);
        CHECK_INT(parse_size("1%", 100 * G, &v), 0);
        CHECK_U64(v, G);
}

static const struct duration_case {
        const char *in;
        int r;
        usec_t usec;
} duration_cases[] = {
    {"0", 0, 0},
    {"250ms", 0, 250 * MS},
    {"5s", 0, 5 * S},
    {"5", 0, 5 * S}, /* a bare number is seconds */
    {"0.5", 0, 500 * MS},
    {"2min", 0, 120 * S},
    {"1h", 0, 3600 * S},
    {"1min30s", 0, 90 * S},
    {"1h 30min", 0, 5400 * S},
    {"1h30min15s250ms", 0, 5415 * S + 250 * MS},
    {"30s1min", 0, 90 * S},
    {"1.5s", 0, 1500 * MS},
    {"1.5ms", 0, 1500},
    {"0.001ms", 0, 1},
    {"1.5h", 0, 5400 * S},
    {"168h", 0, 168 * 3600 * S},
    {"0ms", 0, 0},
    /* out of range */
    {"-1s", -ERANGE, 0},
    {"-1", -ERANGE, 0},
    {"1min-1s", -ERANGE, 0},
    {"99999999999999h", -ERANGE, 0},
    {"18446744073709551616", -ERANGE, 0},
    {"5124095576h 1h", -ERANGE, 0}, /* each part fits, the sum does not */
    /* not a duration */
    {"", -EINVAL, 0},
    {"5m", -EINVAL, 0}, /* minutes or milliseconds?  neither */
    {"5S", -EINVAL, 0},
    {"5 s", -EINVAL, 0},
    {"1min 30", -EINVAL, 0},
    {"30 1min", -EINVAL, 0},
    {"1x", -EINVAL, 0},
    {"ms", -EINVAL, 0},
    {"1.s", -EINVAL, 0},
    {"1us", -EINVAL, 0},
    {"1d", -EINVAL, 0},
    {"1h,30min", -EINVAL, 0},
    {" 1s", -EINVAL, 0},
};

static void test_parse_duration(void)
{
        for (size_t i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
                const struct duration_case *c = &duration_cases[i];
                usec_t v = UNTOUCHED;
                int r = parse_duration(c->in, &v);

                if (r != c->r || (r == 0 && v != c->usec) || (r < 0 && v != UNTOUCHED))
                        fprintf(stderr, "parse_duration(\"%s\"): r=%d v=%" PRIu64 "\n", c->in, r,
                                v);
                CHECK_INT(r, c->r);
                CHECK_U64(v, r == 0 ? c->usec : UNTOUCHED);
        }
}

static void test_parse_bool(void)
{
        static const char *const yes[] = {"yes", "true", "on", "1", "YES", "True"};
        static const char *const no[] = {"no", "false", "off", "0", "NO", "Off"};
        static const char *const bad[] = {"", "y", "n", "2", "yess", "enabled", " yes"};
        bool b;

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                b = false;
                CHECK_INT(parse_bool(yes[i], &b), 0);
                CHECK(b);
        }
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
                b = true;
                CHECK_INT(parse_bool(no[i], &b), 0);
                CHECK(!b);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                b = true;
                CHECK_INT(parse_bool(bad[i], &b), -EINVAL);
                CHECK(b);
        }
}

static void test_parse_percent(void)
{
        static const struct {
                const char *in;
                int r;
                uint64_t v;
        } cases[] = {
            {"200%", 0, 200},
            {"200", 0, 200},
            {"0", 0, 0},
            {"90%", 0, 90},
            {"102400%", 0, 102400},
            {"1.5%", -EINVAL, 0},
            {"%", -EINVAL, 0},
            {"", -EINVAL, 0},
            {"200%%", -EINVAL, 0},
            {"200 %", -EINVAL, 0},
            {"two", -EINVAL, 0},
            {"-5%", -ERANGE, 0},
            {"18446744073709551616", -ERANGE, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t v = UNTOUCHED;

                CHECK_INT(parse_percent(cases[i].in, &v), cases[i].r);
                CHECK_U64(v, cases[i].r == 0 ? cases[i].v : UNTOUCHED);
        }
}

static void test_parse_factor(void)
{
        double f = 0;

        CHECK_INT(parse_factor("2", &f), 0);
        CHECK(f == 2.0);
        CHECK_INT(parse_factor("1.5", &f), 0);
        CHECK(f == 1.5);
        CHECK_INT(parse_factor("10.0", &f), 0);
        CHECK(f == 10.0);
        CHECK_INT(parse_factor("0.25", &f), 0);
        CHECK(f == 0.25);
        f = 7;
        CHECK_INT(parse_factor("1,5", &f), -EINVAL);
        CHECK_INT(parse_factor("1.", &f), -EINVAL);
        CHECK_INT(parse_factor("", &f), -EINVAL);
        CHECK_INT(parse_factor("2x", &f), -EINVAL);
        CHECK_INT(parse_factor("-1", &f), -ERANGE);
        CHECK(f == 7);
}

static void test_format_size(void)
{
        static const struct {
                uint64_t v;
                const char *out;
        } cases[] = {
            {0, "0"},
            {1, "1"},
            {1000, "1000"},
            {1025, "1025"},
            {K, "1K"},
            {M, "1M"},
            {3 * G / 2, "1536M"},
            {12 * G, "12G"},
            {T, "1T"},
            {2048 * T, "2048T"},
            {6871947673, "6871947673"},
            {POLICY_NO_LIMIT, "max"},
        };
        char buf[32];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t back = 0;

                CHECK_INT(format_size(cases[i].v, buf, sizeof(buf)), 0);
                CHECK_STR(buf, cases[i].out);
                /* what is printed reads back as the same number */
                CHECK_INT(parse_size(buf, MEM_TOTAL, &back), 0);
                CHECK_U64(back, cases[i].v);
        }
        CHECK_INT(format_size(12 * G, buf, 3), -ENOBUFS);
        CHECK_INT(format_size(12 * G, buf, 4), 0);
}

static void test_format_duration(void)
{
        static const struct {
                usec_t v;
                const char *out;
        } cases[] = {
            {0, "0"},
            {1, "0.001ms"},
            {1500, "1.5ms"},
            {1230, "1.23ms"},
            {250 * MS, "250ms"},
            {S, "1s"},
            {1500 * MS, "1s500ms"},
            {90 * S, "1min30s"},
            {600 * S, "10min"},
            {3600 * S, "1h"},
            {5400 * S, "1h30min"},
            {3723 * S + 500 * MS, "1h2min3s500ms"},
            {3723 * S + 1, "1h2min3s0.001ms"},
            {25 * 3600 * S, "25h"},
            {168 * 3600 * S, "168h"},
        };
        char buf[64];

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                usec_t back = 0;

                CHECK_INT(format_duration(cases[i].v, buf, sizeof(buf)), 0);
                CHECK_STR(buf, cases[i].out);
                CHECK_INT(parse_duration(buf, &back), 0);
                CHECK_U64(back, cases[i].v);
        }
        CHECK_INT(format_duration(90 * S, buf, 4), -ENOBUFS);
        CHECK_INT(format_duration(90 * S, buf, 8), 0);
        CHECK_STR(buf, "1min30s");
        CHECK_INT(format_duration(1500, buf, 5), -ENOBUFS);
        CHECK_INT(format_duration(0, buf, 0), -ENOBUFS);
}

/* Every duration from 0 to a bit over an hour in odd steps prints as
 * something that parses back to itself. */
static void test_duration_round_trip(void)
{
        unsigned bad = 0;

        for (usec_t v = 0; v < 3700 * S; v += 7919 * 13 + 1) {
                char buf[64];
                usec_t back = 0;

                if (format_duration(v, buf, sizeof(buf)) < 0 || parse_duration(buf, &back) < 0 ||
                    back != v)
                        bad++;
        }
        CHECK_INT(bad, 0);
}

static void test_format_size_human(void)
{
        static const struct {
                uint64_t bytes;
                const char *want;
        } cases[] = {
                {0, "0"},
                {1023, "1023"},
                {1024, "1K"},
                {1536, "1.5K"},
                {52428800, "50M"},
                {52367360, "49.9M"},             /* rounded down, never up to the limit */
                {UINT64_C(10110605721), "9.4G"}, /* 40% of 23.5G */
                {UINT64_C(3) << 40, "3T"},
                {POLICY_NO_LIMIT, "max"},
        };
        char buf[32];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                CHECK_INT(format_size_human(cases[i].bytes, buf, sizeof buf), 0);
                CHECK_STR(buf, cases[i].want);
        }
        CHECK(format_size_human(UINT64_C(10110605721), buf, 3) < 0); /* too small a buffer */
}

static void test_format_duration_human(void)
{
        static const struct {
                usec_t usec;
                const char *want;
        } cases[] = {
                {0, "0ms"},
                {470758, "471ms"}, /* a jittered 500ms backoff */
                {999400, "999ms"},
                {USEC_PER_SEC, "1s"},
                {1549000, "1.5s"},
                {59 * USEC_PER_SEC + 990000, "59.9s"},
                {90 * USEC_PER_SEC + 400000, "1min30s"},
                {3600 * USEC_PER_SEC, "1h"},
        };
        char buf[32];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                CHECK_INT(format_duration_human(cases[i].usec, buf, sizeof buf), 0);
                CHECK_STR(buf, cases[i].want);
        }
}

int main(void)
{
        RUN(test_parse_size);
        RUN(test_parse_size_needs_mem_total);
        RUN(test_parse_duration);
        RUN(test_parse_bool);
        RUN(test_parse_percent);
        RUN(test_parse_factor);
        RUN(test_format_size);
        RUN(test_format_duration);
        RUN(test_format_size_human);
        RUN(test_format_duration_human);
        RUN(test_duration_round_trip);
        return check_summary();
}

/* test-openmetrics.c — `status --openmetrics` as text: the exact lines
 * of a family, the escaping of label values, +Inf for limits not set,
 * seconds from microseconds, and the whole output through om-check.h's
 * OpenMetrics rules (which are themselves shown to reject what they
 * should).  integration/openmetrics checks the output of running guards,
 * and node_exporter's textfile collector reads it in
 * integration/openmetrics-node-exporter. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "om-check.h"
#include "openmetrics.h"

static char *render(const struct om_guard *g, size_t n)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        CHECK_INT(om_write(f, g, n), 0);
        fclose(f);
        return out;
}

static void test_two_guards(void)
{
        const struct om_guard g[] = {
            {.workspace = "/src/k8s",
             .user = "alice",
             .pid = 4242,
             .memory_current = 123456789,
             .memory_peak = 6442450944ULL,
             .memory_high = UINT64_MAX,
             .memory_max = 8589934592ULL,
             .restarts = 3,
             .oom_kills = 2,
             .cpu_usage_usec = 1500001,
             .cpu_throttled_usec = 7,
             .generation = 4},
            {.workspace = "/w/a \"b\"\\c\nd", .user = "1001", .pid = 7, .degraded = true},
        };
        char *out = render(g, 2);
        char err[256] = "";

        CHECK_CONTAINS(out, "# TYPE gopls_guard_memory_current_bytes gauge\n"
                            "# UNIT gopls_guard_memory_current_bytes bytes\n"
                            "# HELP gopls_guard_memory_current_bytes ");
        CHECK_CONTAINS(out,
                       "gopls_guard_memory_current_bytes{workspace=\"/src/k8s\",user=\"alice\","
                       "pid=\"4242\"} 123456789\n");
        CHECK_CONTAINS(out, "gopls_guard_memory_high_bytes{workspace=\"/src/k8s\",user=\"alice\","
                            "pid=\"4242\"} +Inf\n");
        CHECK_CONTAINS(out, "gopls_guard_memory_max_bytes{workspace=\"/src/k8s\",user=\"alice\","
                            "pid=\"4242\"} 8589934592\n");
        CHECK_CONTAINS(out, "# TYPE gopls_guard_restarts counter\n");
        CHECK_CONTAINS(out, "gopls_guard_restarts_total{workspace=\"/src/k8s\",user=\"alice\","
                            "pid=\"4242\"} 3\n");
        CHECK_CONTAINS(out, "gopls_guard_oom_kills_total{workspace=\"/src/k8s\",user=\"alice\","
                            "pid=\"4242\"} 2\n");
        CHECK_CONTAINS(out, "gopls_guard_proactive_restarts_total{workspace=\"/src/k8s\","
                            "user=\"alice\",pid=\"4242\"} 0\n");
        CHECK_CONTAINS(out, "# UNIT gopls_guard_cpu_usage_seconds seconds\n");
        CHECK_CONTAINS(out, "gopls_guard_cpu_usage_seconds_total{workspace=\"/src/k8s\","
                            "user=\"alice\",pid=\"4242\"} 1.500001\n");
        CHECK_CONTAINS(out, "gopls_guard_cpu_throttled_seconds_total{workspace=\"/src/k8s\","
                            "user=\"alice\",pid=\"4242\"} 0.000007\n");
        CHECK_CONTAINS(out, "gopls_guard_generation{workspace=\"/src/k8s\",user=\"alice\","
                            "pid=\"4242\"} 4\n");
        /* escaped: backslash, quote, newline */
        CHECK_CONTAINS(out, "gopls_guard_degraded{workspace=\"/w/a \\\"b\\\"\\\\c\\nd\","
                            "user=\"1001\",pid=\"7\"} 1\n");
        size_t len = strlen(out);
        CHECK(len > 6 && strcmp(out + len - 6, "# EOF\n") == 0);
        CHECK_INT(om_check(out, err, sizeof err), 0);
        CHECK_STR(err, "");
        free(out);
}

/* No guard running: metadata only, still valid, still "# EOF". */
static void test_none(void)
{
        char err[256] = "";
        char *out = render(NULL, 0);
        CHECK_INT(om_check(out, err, sizeof err), 0);
        CHECK_STR(err, "");
        CHECK(strstr(out, "{") == NULL);
        CHECK_CONTAINS(out, "# TYPE gopls_guard_oom_kills counter\n");
        free(out);
}

/* The checker catches each rule it claims (else the tests above could
 * pass on anything). */
static void test_checker_bites(void)
{
        static const struct {
                const char *text, *why;
        } bad[] = {
            {"# TYPE a gauge\na 1\n", "no # EOF"},
            {"# TYPE a gauge\na 1\n# EOF", "end with a newline"},
            {"# TYPE a gauge\n\na 1\n# EOF\n", "empty line"},
            {"# TYPE a gauge\na 1\n# EOF\nb 1\n", "after # EOF"},
            {"a 1\n# EOF\n", "before its family's TYPE"},
            {"# TYPE a gauge\n# TYPE a gauge\n# EOF\n", "a second TYPE"},
            {"# TYPE a gauge\na 1\n# HELP a x\n# EOF\n", "after the family's samples"},
            {"# TYPE a gauge\n# TYPE b gauge\n# HELP a x\n# EOF\n", "after other families"},
            {"# TYPE a counter\na 1\n# EOF\n", "FAMILY_total"},
            {"# TYPE a_total counter\n# EOF\n", "named *_total"},
            {"# TYPE a counter\na_total -1\n# EOF\n", "not a counter value"},
            {"# TYPE a gauge\na inf\n# EOF\n", "not a value"},
            {"# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n# EOF\n", "a label twice"},
            {"# TYPE a gauge\na{x=\"\\t\"} 1\n# EOF\n", "bad escape"},
            {"# TYPE a gauge\na{x=\"1\"} 1\na{x=\"1\"} 2\n# EOF\n", "the same label set twice"},
            {"# TYPE a_bytes gauge\n# UNIT a_bytes seconds\n# EOF\n", "suffix"},
            {"# TYPE a gauge\n# FOO a x\n# EOF\n", "unknown metadata"},
            {"# TYPE a gauge\na  1\n# EOF\n", "not a value"},
            {"# TYPE 1a gauge\n# EOF\n", "bad family name"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char err[256] = "";
                int r = om_check(bad[i].text, err, sizeof err);
                if (r == 0 || !strstr(err, bad[i].why))
                        fprintf(stderr, "case %zu: got %d \"%s\", want \"%s\"\n", i, r, err,
                                bad[i].why);
                CHECK_INT(r, -1);
                CHECK_CONTAINS(err, bad[i].why);
        }
        char err[256] = "";
        CHECK_INT(om_check("# TYPE a gauge\n# UNIT a a\n# EOF\n", err, sizeof err), -1);
        err[0] = '\0';
        CHECK_INT(om_check("# TYPE a_x gauge\n# UNIT a_x x\n# HELP a_x h\na_x{l=\"\\\\\\\"\\n\"} "
                           "+Inf\n# TYPE c counter\nc_total 0.5\n# EOF\n",
                           err, sizeof err),
                  0);
        CHECK_STR(err, "");
}

int main(void)
{
        RUN(test_two_guards);
        RUN(test_none);
        RUN(test_checker_bites);
        return check_summary();
}

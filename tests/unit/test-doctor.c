/* test-doctor.c — doctor's pure parts: version parsing, the gopls/Go
 * support table, GOFLAGS. */
#include <errno.h>

#include "check.h"
#include "doctor.h"

static void test_versions(void)
{
        int a, b, c;
        CHECK_INT(doctor_parse_gopls_version("golang.org/x/tools/gopls v0.16.1\n", &a, &b, &c), 0);
        CHECK(a == 0 && b == 16 && c == 1);
        CHECK_INT(
            doctor_parse_gopls_version("golang.org/x/tools/gopls v0.17.0-pre.2\n", &a, &b, &c), 0);
        CHECK(a == 0 && b == 17 && c == 0);
        CHECK_INT(doctor_parse_gopls_version("v1.2.3", &a, &b, &c), 0);
        CHECK(a == 1 && b == 2 && c == 3);
        /* Debian 12's gopls 0.5.0 */
        CHECK_INT(
            doctor_parse_gopls_version("golang.org/x/tools/gopls master\n    @\n", &a, &b, &c),
            -EINVAL);
        CHECK_INT(doctor_parse_gopls_version("", &a, &b, &c), -EINVAL);

        CHECK_INT(doctor_parse_go_version("go version go1.24.1 linux/amd64\n", &a, &b, &c), 0);
        CHECK(a == 1 && b == 24 && c == 1);
        CHECK_INT(doctor_parse_go_version("go version go1.22 linux/amd64", &a, &b, &c), 0);
        CHECK(a == 1 && b == 22 && c == 0);
        CHECK_INT(doctor_parse_go_version("go version go1.23rc1 linux/amd64", &a, &b, &c), 0);
        CHECK(a == 1 && b == 23);
        CHECK_INT(doctor_parse_go_version("1.19.8", &a, &b, &c), 0);
        CHECK_INT(doctor_parse_go_version("go version devel +abc", &a, &b, &c), -EINVAL);
}

static void test_pair_table(void)
{
        static const struct {
                int gopls_major, gopls_minor, go_minor;
                enum doctor_status want;
        } t[] = {
            {0, 16, 24, DOCTOR_OK},      {0, 16, 21, DOCTOR_OK},
            {0, 16, 20, DOCTOR_WARNING}, {0, 16, 19, DOCTOR_WARNING},
            {0, 16, 18, DOCTOR_FAILURE}, {0, 16, 12, DOCTOR_FAILURE},
            {0, 15, 19, DOCTOR_OK},      {0, 15, 18, DOCTOR_WARNING},
            {0, 15, 17, DOCTOR_FAILURE}, {0, 17, 21, DOCTOR_OK},
            {0, 17, 20, DOCTOR_FAILURE}, {0, 5, 19, DOCTOR_WARNING}, /* older than the table */
            {0, 14, 22, DOCTOR_WARNING}, {0, 20, 25, DOCTOR_OK},     /* newer: gopls says */
            {1, 0, 26, DOCTOR_OK},
        };
        char why[512];
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                enum doctor_status got = doctor_pair_support(t[i].gopls_major, t[i].gopls_minor,
                                                             t[i].go_minor, why, sizeof why);
                if (got != t[i].want)
                        fprintf(stderr, "gopls v%d.%d with Go 1.%d: %s\n", t[i].gopls_major,
                                t[i].gopls_minor, t[i].go_minor, why);
                CHECK_INT(got, t[i].want);
                CHECK(why[0] != '\0');
        }
}

static void test_goflags(void)
{
        char why[256];
        CHECK_INT(doctor_goflags(NULL, why, sizeof why), DOCTOR_OK);
        CHECK_INT(doctor_goflags("", why, sizeof why), DOCTOR_OK);
        CHECK_INT(doctor_goflags("-tags=integration -trimpath", why, sizeof why), DOCTOR_OK);
        CHECK_INT(doctor_goflags("-mod=mod", why, sizeof why), DOCTOR_WARNING);
        CHECK(strstr(why, "-mod=mod") != NULL);
        CHECK_INT(doctor_goflags("-mod=modx", why, sizeof why), DOCTOR_OK);
        CHECK_INT(doctor_goflags("-mod=vendor", why, sizeof why), DOCTOR_OK);
        CHECK_INT(doctor_goflags("  --modfile=alt.mod", why, sizeof why), DOCTOR_WARNING);
        CHECK_INT(doctor_goflags("-tags=x vendor", why, sizeof why), DOCTOR_FAILURE);
        CHECK(strstr(why, "'vendor'") != NULL);
}

int main(void)
{
        RUN(test_versions);
        RUN(test_pair_table);
        RUN(test_goflags);
        return check_summary();
}

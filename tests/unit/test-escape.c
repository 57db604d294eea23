/* test-escape.c — escape_path() against what `systemd-escape --path`
 * (systemd 252, Debian 12) printed for each input. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "escape.h"

static void test_table(void)
{
        static const struct {
                const char *in, *out;
        } rows[] = {
                {"/", "-"},
                {"/home/user/src/my-project", "home-user-src-my\\x2dproject"},
                {"/tmp/a b", "tmp-a\\x20b"},
                {"/tmp//x/", "tmp-x"},
                {"/tmp/.hidden", "tmp-.hidden"},
                {"/.a/b.c", "\\x2ea-b.c"},
                {"/tmp/\xc3\xbc", "tmp-\\xc3\\xbc"},
                {"/tmp/a:b_c", "tmp-a:b_c"},
                {"/tmp/a\\b", "tmp-a\\x5cb"},
                {"/tmp/./x", "tmp-x"},
                {"/-x", "\\x2dx"},
                {"/tmp/x@y", "tmp-x\\x40y"},
                {"/tmp/-", "tmp-\\x2d"},
                {"/srv/Go/k8s.io/kubernetes", "srv-Go-k8s.io-kubernetes"},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                char *s = NULL;
                CHECK_INT(escape_path(rows[i].in, &s), 0);
                CHECK_STR(s, rows[i].out);
                free(s);
        }
}

static void test_refused(void)
{
        /* systemd-escape: "not a normalized file system path" / "not an
         * absolute file system path". */
        static const char *const bad[] = {"/tmp/../x", "relative/x", "", "/a/..", NULL};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char *s = NULL;
                CHECK_INT(escape_path(bad[i], &s), -EINVAL);
                CHECK(s == NULL);
        }
}

int main(void)
{
        RUN(test_table);
        RUN(test_refused);
        return check_summary();
}

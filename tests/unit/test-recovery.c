/* test-recovery.c — [recovery] purge_cache: when (a table), where gopls's
 * cache is, the names, and moving aside in a scratch directory. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "recovery.h"

static void test_when(void)
{
        static const struct {
                bool enabled;
                unsigned ends;
                bool already, want;
        } t[] = {
            {false, 5, false, false},                          /* purge_cache = no */
            {true, 0, false, false},  {true, 1, false, false}, /* one crash is no streak */
            {true, 2, false, true},   {true, 3, false, true},
            {true, 2, true, false}, /* once per streak */
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
                CHECK_INT(recovery_should_purge(t[i].enabled, t[i].ends, t[i].already), t[i].want);
}

static void test_cache_dir(void)
{
        char b[256];
        CHECK_INT(recovery_gopls_cache_dir("/c/g", "/x", "/h", b, sizeof b), 0);
        CHECK_STR(b, "/c/g");
        CHECK_INT(recovery_gopls_cache_dir(NULL, "/x", "/h", b, sizeof b), 0);
        CHECK_STR(b, "/x/gopls");
        CHECK_INT(recovery_gopls_cache_dir("", "relative", "/h", b, sizeof b), 0);
        CHECK_STR(b, "/h/.cache/gopls");
        CHECK_INT(recovery_gopls_cache_dir(NULL, NULL, NULL, b, sizeof b), -ENOENT);
}

static void test_names(void)
{
        char b[256];
        recovery_aside_name("/h/.cache/gopls/", 1764679200, 1, b, sizeof b);
        CHECK_STR(b, "/h/.cache/gopls.gopls-guard-20251202T124000Z");
        recovery_aside_name("/h/.cache/gopls", 1764679200, 2, b, sizeof b);
        CHECK_STR(b, "/h/.cache/gopls.gopls-guard-20251202T124000Z-2");
}

static void test_move(void)
{
        char tmpl[] = "/tmp/test-recovery-XXXXXX";
        char *d = mkdtemp(tmpl);
        CHECK(d != NULL);
        if (!d)
                return;
        char dir[512], file[600], got[600], got2[600], link[512];
        snprintf(dir, sizeof dir, "%s/gopls", d);
        CHECK_INT(recovery_move_aside(dir, 1764679200, got, sizeof got), 0); /* none yet */
        mkdir(dir, 0700);
        snprintf(file, sizeof file, "%s/entry", dir);
        FILE *f = fopen(file, "w");
        fputs("kept", f);
        fclose(f);
        CHECK_INT(recovery_move_aside(dir, 1764679200, got, sizeof got), 1);
        CHECK(access(dir, F_OK) < 0);
        snprintf(file, sizeof file, "%s/entry", got);
        CHECK(access(file, R_OK) == 0); /* moved, not deleted */
        /* The same second again: a second name, the first one untouched. */
        mkdir(dir, 0700);
        CHECK_INT(recovery_move_aside(dir, 1764679200, got2, sizeof got2), 1);
        CHECK(strcmp(got, got2) != 0);
        CHECK(access(file, R_OK) == 0);
        /* A link is not followed or moved. */
        snprintf(link, sizeof link, "%s/link", d);
        CHECK(symlink(got, link) == 0);
        CHECK_INT(recovery_move_aside(link, 1764679200, got2, sizeof got2), -ELOOP);
        /* A file is not a cache directory. */
        CHECK_INT(recovery_move_aside(file, 1764679200, got2, sizeof got2), -ENOTDIR);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
        CHECK(system(cmd) == 0);
}

int main(void)
{
        RUN(test_when);
        RUN(test_cache_dir);
        RUN(test_names);
        RUN(test_move);
        return check_summary();
}

/* test-incident.c — incidents: the capping decision (a table), the names,
 * the stderr tail's line cut, and a capture + prune in a scratch
 * directory (no cgroup: a fixture leaf of regular files). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "incident.h"
#include "policy.h"
#include "stderr-tail.h"
#include "util.h"

#define M ((uint64_t)1 << 20)

static void test_prune_table(void)
{
        static const struct {
                const char *what;
                uint64_t sizes[8];
                size_t n;
                unsigned keep;
                uint64_t max;
                size_t drop;
        } t[] = {
            {"nothing kept yet", {0}, 0, 10, 64 * M, 0},
            {"under both caps", {M, M, M}, 3, 10, 64 * M, 0},
            {"one over keep: the oldest goes", {M, M, M, M}, 4, 3, 64 * M, 1},
            {"keep 1 leaves the newest", {M, M, M}, 3, 1, 64 * M, 2},
            {"keep 0 counts as 1", {M, M}, 2, 0, 64 * M, 1},
            {"over max_size: oldest go until it fits", {4 * M, 4 * M, 4 * M}, 3, 10, 9 * M, 1},
            {"exactly max_size stays", {3 * M, 3 * M, 3 * M}, 3, 10, 9 * M, 0},
            {"a big old one goes, small new ones stay", {60 * M, M, M}, 3, 10, 61 * M, 1},
            {"the newest stays even alone over max_size", {M, 100 * M}, 2, 10, 64 * M, 1},
            {"the only one stays over max_size", {100 * M}, 1, 10, 64 * M, 0},
            {"keep and size together", {M, 10 * M, 10 * M, M, M}, 5, 4, 12 * M, 2},
            {"max_size 0 keeps only the newest", {1, 1, 1}, 3, 10, 0, 2},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                size_t got = incident_prune_count(t[i].sizes, t[i].n, t[i].keep, t[i].max);
                if (got != t[i].drop)
                        fprintf(stderr, "case '%s'\n", t[i].what);
                CHECK_INT(got, t[i].drop);
        }
}

static void test_name(void)
{
        struct incident_facts f = {.kind = "oom-kill",
                                   .guard_pid = 42,
                                   .generation = 3,
                                   .realtime_usec = 1764679200ULL * 1000000}; /* 2025-12-02 12:40 */
        char n[INCIDENT_NAME_MAX];
        incident_name(&f, n);
        CHECK_STR(n, "20251202T124000Z-42-3-oom-kill");
}

static void test_tail_lines(void)
{
        const char *b = "a\nb\nc\n";
        CHECK_INT(stderr_tail_lines_start(b, strlen(b), 2), 2); /* "b\nc\n" */
        CHECK_INT(stderr_tail_lines_start(b, strlen(b), 3), 0);
        CHECK_INT(stderr_tail_lines_start(b, strlen(b), 10), 0);
        const char *p = "a\nb\nc"; /* a partial last line counts as one */
        CHECK_INT(stderr_tail_lines_start(p, strlen(p), 1), 4);
        CHECK_INT(stderr_tail_lines_start("", 0, 5), 0);
}

/* A capture into a scratch directory, with a fixture leaf; then pruning. */
static void test_capture_and_prune(void)
{
        char tmpl[] = "/tmp/test-incident-XXXXXX";
        char *dir = mkdtemp(tmpl);
        CHECK(dir != NULL);
        if (!dir)
                return;
        char path[512], why[INCIDENT_WHY_MAX];
        snprintf(path, sizeof path, "%s/leaf", dir);
        mkdir(path, 0700);
        int leaf = open(path, O_RDONLY | O_DIRECTORY);
        snprintf(path, sizeof path, "%s/leaf/memory.events", dir);
        FILE *f = fopen(path, "w");
        fputs("low 0\nhigh 12\nmax 7\noom 1\noom_kill 1\noom_group_kill 0\n", f);
        fclose(f);
        snprintf(path, sizeof path, "%s/leaf/memory.stat", dir);
        f = fopen(path, "w");
        fputs("anon 1048576\nfile 4096\n", f);
        fclose(f);

        struct incident_places pl = {.xdg_state_home = dir};
        char *inc_path = NULL;
        int dfd = incident_dir_open(&pl, false, &inc_path, why);
        CHECK_INT(dfd, -ENOENT); /* not created when asked not to */
        dfd = incident_dir_open(&pl, true, &inc_path, why);
        CHECK(dfd >= 0);
        if (dfd < 0) {
                fprintf(stderr, "%s\n", why);
                return;
        }
        const char *methods[] = {"textDocument/hover", "textDocument/definition"};
        struct incident_facts fa = {
            .kind = "oom-kill",
            .workspace = "/w",
            .command = "gopls",
            .cgroup = "/cg",
            .guard_pid = 7,
            .generation = 1,
            .signal = 9,
            .oom = true,
            .peak = 5 * M,
            .memory_high = POLICY_NO_LIMIT,
            .memory_max = 8 * M,
            .realtime_usec = 1764679200ULL * 1000000,
            .leaf_fd = leaf,
            .stderr_tail = "one\ntwo\n",
            .methods = methods,
            .n_methods = 2,
            .heap_note = "an OOM-killed server writes no heap profile",
        };
        char name[INCIDENT_NAME_MAX];
        CHECK_INT(incident_capture(dfd, &fa, name), 0);
        json_t *o = NULL;
        char *text = NULL;
        snprintf(path, sizeof path, "%s/%s/%s", inc_path, name, INCIDENT_JSON);
        if (read_file_at(AT_FDCWD, path, &text, 1 << 20) >= 0)
                o = json_loads(text, 0, NULL);
        CHECK(o != NULL);
        CHECK_INT(
            json_integer_value(json_object_get(json_object_get(o, "memory_events"), "oom_kill")),
            1);
        CHECK_INT(json_integer_value(json_object_get(json_object_get(o, "memory_stat"), "anon")),
                  1048576);
        CHECK(json_is_null(json_object_get(json_object_get(o, "memory"), "high")));
        CHECK_INT(json_array_size(json_object_get(o, "methods_in_flight")), 2);
        CHECK_STR(json_string_value(json_array_get(json_object_get(o, "stderr_tail"), 1)), "two");
        CHECK_INT(json_integer_value(json_object_get(o, "signal")), 9);
        json_decref(o);
        free(text);
        struct stat st;
        CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);

        /* Four more, a second apart: with keep 3, the two oldest go. */
        for (int i = 1; i <= 4; i++) {
                fa.generation = (unsigned)i + 1;
                fa.realtime_usec += 1000000;
                CHECK_INT(incident_capture(dfd, &fa, name), 0);
        }
        CHECK_INT(incident_prune(dfd, 3, 64 * M), 2);
        char last[INCIDENT_NAME_MAX];
        CHECK_INT(incident_last(dfd, NULL, last), 1);
        CHECK_STR(last, name);
        CHECK_INT(incident_last(dfd, "/other", last), 0);
        /* max_size below one incident: only the newest is left. */
        CHECK_INT(incident_prune(dfd, 10, 1), 2);
        CHECK_INT(incident_last(dfd, "/w", last), 1);
        CHECK_STR(last, name);

        close(dfd);
        close(leaf);
        free(inc_path);
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        CHECK(system(cmd) == 0);
}

int main(void)
{
        RUN(test_prune_table);
        RUN(test_name);
        RUN(test_tail_lines);
        RUN(test_capture_and_prune);
        return check_summary();
}

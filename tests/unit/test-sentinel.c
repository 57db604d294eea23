/* The sentinel: the environ marker match as a table, and for real (on this
 * machine's /proc, with processes this test starts and only those: their
 * marker is random) what it kills when its pipe ends and what it spares. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "sentinel.h"

#define M "GOPLS_GUARD_TREE=ab12"

static void test_match_table(void)
{
        static const struct {
                const char *text;
                size_t len; /* the image includes NULs */
                bool found;
        } cases[] = {
#define C(s, f) {s, sizeof s - 1, f}
            C("A=1\0" M "\0B=2\0", true),
            C(M "\0", true),
            C("A=1\0" M, true),                 /* the last entry without its NUL */
            C(M "3\0", false),                  /* a longer value */
            C("GOPLS_GUARD_TREE=ab1\0", false), /* a shorter one */
            C("X" M "\0", false),               /* not at an entry's start */
            C("A=" M "\0", false),
            C("GOPLS_GUARD_TREE=ab13\0" M "\0", true),
            C("", false),
            C("\0\0\0", false),
#undef C
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                /* Whole, and split at every byte (reads come in chunks). */
                for (size_t cut = 0; cut <= cases[i].len; cut++) {
                        struct sentinel_match m = {0};
                        sentinel_match_feed(&m, M, cases[i].text, cut);
                        sentinel_match_feed(&m, M, cases[i].text + cut, cases[i].len - cut);
                        if (sentinel_match_found(&m, M) != cases[i].found) {
                                fprintf(stderr, "case %zu cut at %zu: expected %s\n", i, cut,
                                        cases[i].found ? "found" : "not found");
                                CHECK(false);
                        }
                }
        }
}

static void test_marker(void)
{
        char a[SENTINEL_MARKER_MAX], b[SENTINEL_MARKER_MAX];
        sentinel_make_marker(a);
        sentinel_make_marker(b);
        CHECK(strncmp(a, SENTINEL_ENV "=", strlen(SENTINEL_ENV) + 1) == 0);
        CHECK_INT(strlen(a), strlen(SENTINEL_ENV) + 1 + 32);
        CHECK(strspn(a + strlen(SENTINEL_ENV) + 1, "0123456789abcdef") == 32);
        CHECK(strcmp(a, b) != 0);
}

/* A "sleep" of ours: with `marker` in its environment (or none), in its own
 * session when `setsid_too` (so that only the marker can find it). */
static pid_t start_sleeper(const char *marker, bool setsid_too)
{
        pid_t pid = fork();
        if (pid == 0) {
                char *argv[] = {"sleep", "1000", NULL};
                char *env[] = {(char *)marker, NULL};
                if (setsid_too)
                        (void)setsid();
                else
                        (void)setpgid(0, 0);
                execve("/bin/sleep", argv, marker ? env : env + 1);
                _exit(127);
        }
        return pid;
}

/* How our child `pid` ended: 1 if by the sentinel's SIGKILL (any signal
 * it sent is pending by the time the sentinel is reaped), 0 if it was
 * still running (this test then ends it with SIGTERM, and sees that end:
 * no waiting for a kill that may yet come). */
static int killed(pid_t pid)
{
        int st = 0;
        (void)kill(pid, SIGTERM);
        if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st))
                return -1;
        return WTERMSIG(st) == SIGKILL ? 1 : WTERMSIG(st) == SIGTERM ? 0 : -1;
}

static void wait_exec(pid_t pid)
{
        /* Until /proc shows the exec'd environment (a fork's is the parent's). */
        char path[64], buf[256];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        for (int i = 0; i < 200; i++) {
                int fd = open(path, O_RDONLY);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
                if (fd >= 0)
                        close(fd);
                if (n > 0 && strncmp(buf, "sleep", 5) == 0)
                        return;
                usleep(5 * 1000);
        }
}

/* The guard dies (the pipe's write end goes without a word): the sentinel
 * kills the server's group and every marked process, spares the rest. */
static void test_guard_gone(void)
{
        char marker[SENTINEL_MARKER_MAX];
        struct sentinel s;
        sentinel_make_marker(marker);
        const struct sentinel_spec spec = {
            .kill_fd = -1, .procs_fd = -1, .proc_root = "/proc", .marker = marker};
        if (access("/bin/sleep", X_OK) < 0 || access("/proc/self/environ", R_OK) < 0) {
                fprintf(stderr, "skip: no /bin/sleep or /proc\n");
                return;
        }
        CHECK_INT(sentinel_start(&spec, &s), 0);
        pid_t group = start_sleeper(NULL, false);    /* the "server": found by its group */
        pid_t escaped = start_sleeper(marker, true); /* a double-forked go list */
        pid_t other = start_sleeper(NULL, true);     /* not the server's */
        pid_t stranger = start_sleeper("GOPLS_GUARD_TREE=someone-else", true);
        wait_exec(group);
        wait_exec(escaped);
        wait_exec(other);
        wait_exec(stranger);
        CHECK_INT(sentinel_tell_server(&s, group), 0);

        pid_t spid = s.pid;
        sentinel_forget(&s); /* the guard's side closes: as if it died */
        int st = 0;
        CHECK_INT(waitpid(spid, &st, 0), spid);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK_INT(killed(group), 1);
        CHECK_INT(killed(escaped), 1);
        CHECK_INT(killed(other), 0);
        CHECK_INT(killed(stranger), 0);
}

/* A normal end: told to quit, it kills nothing. */
static void test_quit_kills_nothing(void)
{
        char marker[SENTINEL_MARKER_MAX];
        struct sentinel s;
        sentinel_make_marker(marker);
        const struct sentinel_spec spec = {
            .kill_fd = -1, .procs_fd = -1, .proc_root = "/proc", .marker = marker};
        if (access("/bin/sleep", X_OK) < 0)
                return;
        CHECK_INT(sentinel_start(&spec, &s), 0);
        pid_t marked = start_sleeper(marker, false);
        wait_exec(marked);
        CHECK_INT(sentinel_tell_server(&s, marked), 0);
        sentinel_stop(&s);
        CHECK_INT(s.pid, 0);
        CHECK_INT(killed(marked), 0);
}

/* Before 5.14 (no cgroup.kill): each pid cgroup.procs lists is killed; here
 * a regular file stands in for it. */
static void test_procs_fallback(void)
{
        char *root = fake_dir();
        char text[64], path[1100];
        if (access("/bin/sleep", X_OK) < 0 || !root)
                return;
        pid_t a = start_sleeper(NULL, true), b = start_sleeper(NULL, true);
        snprintf(text, sizeof text, "%d\n%d\n", (int)a, (int)b);
        fake_write(root, "cgroup.procs", text);
        snprintf(path, sizeof path, "%s/cgroup.procs", root);
        int fd = open(path, O_RDONLY);
        const struct sentinel_spec spec = {.kill_fd = -1, .procs_fd = fd};
        /* The file never empties: the rounds end at their bound. */
        CHECK(sentinel_kill_all(&spec, 0) >= 2);
        CHECK_INT(killed(a), 1);
        CHECK_INT(killed(b), 1);
        close(fd);
        fake_rm_rf(root);
        free(root);
}

int main(void)
{
        RUN(test_match_table);
        RUN(test_marker);
        RUN(test_guard_gone);
        RUN(test_quit_kills_nothing);
        RUN(test_procs_fallback);
        return check_summary();
}

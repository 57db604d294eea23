/* bench-restart — how fast the guard replaces a killed server, natively.
 *
 * The VM tier measures the same on a real cgroup v2 kernel, but under TCG
 * emulation, where every exec costs tens of milliseconds.  This runs on the
 * host, in the guard's degraded mode (no cgroup: GOPLS_GUARD_CGROUP_ROOT
 * points at an empty directory, so nothing of the host's hierarchy is
 * touched), so it shows the guard's own share: SIGKILL of the server ->
 * exit reaped -> replacement exec'd and running its first instruction.
 *
 *   bench-restart GOPLS_GUARD_TEST LEAKER [ROUNDS]
 *
 * GOPLS_GUARD_TEST is the gopls-guard-test executable: only it takes the
 * roots from the GOPLS_GUARD_* variables.
 *
 * The server is tests/helpers/leaker --mark FILE --sleep: each start appends
 * "start PID MONOTONIC_USEC".  Each round kills the newest server and waits
 * for the next line.  Prints p50/p99/max and "BENCH" lines; asserts nothing. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The n-th start line (1-based): pid and time; 0 if not there yet. */
static int mark_line(const char *path, int n, long *ret_pid, uint64_t *ret_usec)
{
        FILE *f = fopen(path, "r");
        char line[256];
        int i = 0;

        if (!f)
                return 0;
        while (fgets(line, sizeof line, f)) {
                long pid;
                unsigned long long t;
                if (sscanf(line, "start %ld %llu", &pid, &t) == 2 && ++i == n) {
                        *ret_pid = pid;
                        *ret_usec = t;
                        fclose(f);
                        return 1;
                }
        }
        fclose(f);
        return 0;
}

static int wait_line(const char *path, int n, long *pid, uint64_t *usec)
{
        uint64_t deadline = mono_usec() + 10 * 1000000u;
        while (!mark_line(path, n, pid, usec)) {
                if (mono_usec() > deadline)
                        return -ETIMEDOUT;
                struct timespec ts = {0, 50 * 1000};
                nanosleep(&ts, NULL);
        }
        return 0;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        char dir[] = "/tmp/bench-restart-XXXXXX";
        char mark[300], policy[300], nocg[300], run[300];
        int rounds = argc > 3 ? atoi(argv[3]) : 50;
        int in[2];

        if (argc < 3 || rounds < 1 || rounds > 900) {
                fprintf(stderr, "usage: bench-restart GOPLS_GUARD LEAKER [ROUNDS (1-900)]\n");
                return 2;
        }
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        snprintf(mark, sizeof mark, "%s/mark", dir);
        snprintf(policy, sizeof policy, "%s/policy.ini", dir);
        snprintf(nocg, sizeof nocg, "%s/no-cgroup", dir);
        snprintf(run, sizeof run, "%s/run", dir);
        mkdir(nocg, 0755);
        mkdir(run, 0700); /* a status directory must be private */
        FILE *pf = fopen(policy, "w");
        if (!pf) {
                perror(policy);
                return 1;
        }
        /* restart after the shortest backoff the policy allows (100ms,
         * 90-100ms with jitter), never give up within the run, stay quiet */
        fprintf(pf, "[restart]\non = always\nbackoff_initial = 100ms\nbackoff_max = 100ms\n"
                    "max_restarts = 1000\n"
                    "window = 1min\n[lsp]\nnotify = no\n[log]\nlevel = err\n");
        fclose(pf);
        if (pipe(in) < 0) {
                perror("pipe");
                return 1;
        }

        pid_t guard = fork();
        if (guard == 0) {
                dup2(in[0], STDIN_FILENO);
                close(in[1]);
                setenv("GOPLS_GUARD_CGROUP_ROOT", nocg, 1);
                setenv("GOPLS_GUARD_RUNTIME_DIR", run, 1);
                setenv("XDG_CONFIG_HOME", dir, 1);
                execl(argv[1], argv[1], "--policy", policy, "--", argv[2], "--mark", mark,
                      "--sleep", (char *)NULL);
                perror(argv[1]);
                _exit(127);
        }
        close(in[0]);

        uint64_t *lat = calloc((size_t)rounds, sizeof *lat);
        long pid;
        uint64_t t;
        int done = 0;
        if (!lat || wait_line(mark, 1, &pid, &t) < 0) {
                fprintf(stderr, "bench-restart: the first server did not start\n");
                goto out;
        }
        for (int i = 0; i < rounds; i++) {
                uint64_t killed = mono_usec();
                if (kill((pid_t)pid, SIGKILL) < 0) {
                        perror("kill");
                        break;
                }
                if (wait_line(mark, i + 2, &pid, &t) < 0) {
                        fprintf(stderr, "bench-restart: no replacement after round %d\n", i);
                        break;
                }
                lat[done++] = t > killed ? t - killed : 0;
        }
out:
        close(in[1]); /* the editor goes away: the guard stops */
        int status = 0;
        waitpid(guard, &status, 0);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "bench-restart: could not remove %s\n", dir);
        if (done == 0)
                return 1;
        qsort(lat, (size_t)done, sizeof *lat, cmp_u64);
        uint64_t p50 = lat[done / 2], p99 = lat[(size_t)done * 99 / 100], max = lat[done - 1];
        printf("kill -> replacement running (native, degraded mode, with the 100ms minimum "
               "backoff), %d rounds:\n"
               "  p50 %.2f ms   p99 %.2f ms   max %.2f ms\n",
               done, (double)p50 / 1000, (double)p99 / 1000, (double)max / 1000);
        printf("BENCH restart_native_p50_ms=%.2f\nBENCH restart_native_p99_ms=%.2f\n",
               (double)p50 / 1000, (double)p99 / 1000);
        free(lat);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

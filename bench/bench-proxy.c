/* bench-proxy — what the guard costs an editor (not a test: it prints figures).
 *
 *   bench-proxy [-n REQUESTS] [-k BIG] [-b BYTES] [-w WARMUP] [-t SECONDS]
 *               [-m MODES] GOPLS_GUARD LSP_ECHO PLAIN_RELAY
 *
 * The same client talks to tests/helpers/lsp-echo in three ways:
 *   direct   lsp-echo on the bench's own pipes
 *   relay    plain-relay -- lsp-echo   (a poll() byte pump: the floor)
 *   guard    gopls-guard --policy P -- lsp-echo
 * and, after initialize/initialized, measures
 *   latency     REQUESTS sequential bench/echo requests (a hover-like body
 *               of about 300 bytes), each timed from write() to the last
 *               byte of its answer; p50, p99 and mean in microseconds;
 *   throughput  BIG sequential bench/big requests answered with a JSON
 *               string of BYTES bytes (default 10 MB); the sum of their
 *               round trips gives MB/s of payload (1 MB = 10^6 bytes).
 * Each phase starts with warm-up requests that are not counted.  Answers are
 * checked (id, echoed params byte for byte, string length) after the clock
 * is read, so checking costs no measured time; a mismatch is counted and
 * reported, not fatal.
 *
 * Unsolicited messages are tolerated: notifications are counted and
 * ignored, requests are answered with a null result.
 *
 * GOPLS_GUARD is the gopls-guard-test executable (only it takes the roots
 * from the GOPLS_GUARD_* variables).
 * The guard runs with GOPLS_GUARD_RUNTIME_DIR and XDG_CONFIG_HOME in a
 * temporary directory (so no user policy applies), a policy file with
 * [log] level = warning and [lsp] notify = no, and GOPLS_GUARD_CGROUP_ROOT
 * set to an empty directory unless the environment sets it, so that it
 * runs degraded without looking at /sys/fs/cgroup.  Each server's stderr
 * goes to a file that is shown (first lines) when it is not empty.
 *
 * Output: a table, then one "BENCH name=value" line per figure.  No figure
 * is judged.  Exit status 0, or 1 when a mode failed to run (the others
 * are still measured), 2 for a usage error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "json-top.h"

#define HEADER_MAX 4096

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- per-phase watchdog ---------------------------------------------- */

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
        (void)sig;
        timed_out = 1;
}

/* A blocked read() or write() returns EINTR when the phase's time is up. */
static void watchdog(unsigned seconds)
{
        timed_out = 0;
        alarm(seconds);
}

static bool span_is(const struct span *s, const char *text, size_t len)
{
        return s->p && s->len == len && memcmp(s->p, text, len) == 0;
}

/* ---- a connection to one server ------------------------------------ */

struct conn {
        const char *mode;
        pid_t pid;
        int to, from; /* the server's stdin and stdout */
        char *buf;
        size_t cap, pos, len; /* unread bytes are [pos, len) */
        unsigned next_id;
        /* Unsolicited traffic, and answers that were not as expected. */
        unsigned notifications, requests, stray, bad;
        char first_notification[160];
        char first_bad[160];
        char err[256]; /* why the mode failed */
};

static bool failf(struct conn *c, const char *fmt, ...)
{
        va_list ap;

        if (c->err[0])
                return false;
        va_start(ap, fmt);
        vsnprintf(c->err, sizeof(c->err), fmt, ap);
        va_end(ap);
        return false;
}

static void excerpt(char *dst, size_t size, const char *body, size_t len)
{
        size_t n = len < size - 1 ? len : size - 1;

        memcpy(dst, body, n);
        dst[n] = '\0';
        for (size_t i = 0; i < n; i++)
                if (dst[i] == '\n' || dst[i] == '\r')
                        dst[i] = ' ';
}

static bool write_all(struct conn *c, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(c->to, p, n);
                if (w > 0) {
                        p += w;
                        n -= (size_t)w;
                } else if (w < 0 && errno == EINTR && !timed_out) {
                        continue;
                } else {
                        return failf(c, "%s writing to the server",
                                     timed_out ? "timed out" : strerror(errno));
                }
        }
        return true;
}

static bool send_body(struct conn *c, const char *body, size_t len)
{
        char hdr[64];
        int hl = snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", len);

        /* Two writes would let a fast reader see the header alone; one copy
         * of a small body is cheaper than a second wake-up. */
        if (len <= 4096) {
                char msg[4096 + 64];
                memcpy(msg, hdr, (size_t)hl);
                memcpy(msg + hl, body, len);
                return write_all(c, msg, (size_t)hl + len);
        }
        return write_all(c, hdr, (size_t)hl) && write_all(c, body, len);
}

/* Make `need` unread bytes available in one piece. */
static bool fill(struct conn *c, size_t need)
{
        while (c->len - c->pos < need) {
                if (c->pos > 0) {
                        memmove(c->buf, c->buf + c->pos, c->len - c->pos);
                        c->len -= c->pos;
                        c->pos = 0;
                }
                if (need > c->cap) {
                        size_t cap = c->cap ? c->cap : 1 << 20;
                        while (cap < need)
                                cap *= 2;
                        char *p = realloc(c->buf, cap);
                        if (!p)
                                return failf(c, "out of memory");
                        c->buf = p;
                        c->cap = cap;
                }
                ssize_t r = read(c->from, c->buf + c->len, c->cap - c->len);
                if (r > 0)
                        c->len += (size_t)r;
                else if (r == 0)
                        return failf(c, "the server closed its stdout");
                else if (errno != EINTR || timed_out)
                        return failf(c, "%s reading from the server",
                                     timed_out ? "timed out" : strerror(errno));
        }
        return true;
}

/* The next message body; valid until the next call. */
static bool read_body(struct conn *c, const char **ret, size_t *ret_len)
{
        size_t scanned = 0, end = 0, content_length = SIZE_MAX;

        for (;;) {
                const char *h = c->buf + c->pos;
                size_t avail = c->len - c->pos;
                bool found = false;

                for (size_t i = scanned; i + 3 < avail; i++)
                        if (h[i] == '\r' && h[i + 1] == '\n' && h[i + 2] == '\r' &&
                            h[i + 3] == '\n') {
                                end = i;
                                found = true;
                                break;
                        }
                if (found)
                        break;
                if (avail > HEADER_MAX)
                        return failf(c, "a header longer than %d bytes", HEADER_MAX);
                scanned = avail > 3 ? avail - 3 : 0;
                if (!fill(c, avail + 1))
                        return false;
        }
        for (size_t i = 0; i < end;) {
                const char *line = c->buf + c->pos + i;
                const char *cr = memchr(line, '\r', end - i);
                size_t len = cr ? (size_t)(cr - line) : end - i;
                static const char name[] = "Content-Length:";

                if (len > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
                        char num[32];
                        size_t nl = len - (sizeof(name) - 1);
                        char *e;

                        if (nl >= sizeof(num))
                                return failf(c, "a bad Content-Length");
                        memcpy(num, line + sizeof(name) - 1, nl);
                        num[nl] = '\0';
                        errno = 0;
                        unsigned long long v = strtoull(num, &e, 10);
                        while (*e == ' ' || *e == '\t')
                                e++;
                        if (errno || *e || e == num)
                                return failf(c, "a bad Content-Length");
                        content_length = (size_t)v;
                }
                i += len + 2;
        }
        if (content_length == SIZE_MAX)
                return failf(c, "a message without Content-Length");
        size_t header = end + 4;
        if (!fill(c, header + content_length))
                return false;
        *ret = c->buf + c->pos + header;
        *ret_len = content_length;
        c->pos += header + content_length;
        return true;
}

/* Wait for the answer to request `id`; `t_done` is when its last byte was
 * read.  Requests and notifications on the way are dealt with. */
static bool await(struct conn *c, unsigned id, struct message *m, uint64_t *t_done)
{
        char want[16];
        int wl = snprintf(want, sizeof(want), "%u", id);

        for (;;) {
                const char *body = NULL;
                size_t len = 0;

                if (!read_body(c, &body, &len))
                        return false;
                uint64_t t = now_ns();
                if (!parse_top(body, len, m)) {
                        if (!c->bad++)
                                excerpt(c->first_bad, sizeof(c->first_bad), body, len);
                        continue;
                }
                if (m->method.p && m->id.p) {
                        /* A request to the editor: answer it with null. */
                        char reply[512];
                        int n = snprintf(reply, sizeof(reply),
                                         "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"result\":null}",
                                         (int)m->id.len, m->id.p);
                        c->requests++;
                        if (n < 0 || (size_t)n >= sizeof(reply))
                                return failf(c, "a request id too long to answer");
                        if (!send_body(c, reply, (size_t)n))
                                return false;
                        continue;
                }
                if (m->method.p) {
                        if (!c->notifications++)
                                excerpt(c->first_notification, sizeof(c->first_notification), body,
                                        len);
                        continue;
                }
                if (!span_is(&m->id, want, (size_t)wl)) {
                        c->stray++;
                        continue;
                }
                if (m->error.p) {
                        char e[160];
                        excerpt(e, sizeof(e), m->error.p, m->error.len);
                        return failf(c, "request %u failed: %s", id, e);
                }
                if (t_done)
                        *t_done = t;
                return true;
        }
}

static bool request(struct conn *c, const char *method, const char *params, struct message *m)
{
        char body[1024];
        unsigned id = c->next_id++;
        int n = snprintf(body, sizeof(body),
                         "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"%s\",\"params\":%s}", id,
                         method, params);

        return send_body(c, body, (size_t)n) && await(c, id, m, NULL);
}

static bool notify(struct conn *c, const char *method, const char *params)
{
        char body[512];
        int n = snprintf(body, sizeof(body), "{\"jsonrpc\":\"2.0\",\"method\":\"%s\"%s%s}", method,
                         params ? ",\"params\":" : "", params ? params : "");

        return send_body(c, body, (size_t)n);
}

/* ---- modes ------------------------------------------------------------ */

struct config {
        unsigned requests, big, warmup_requests, warmup_big, timeout;
        size_t big_bytes;
        const char *guard, *echo, *relay;
        char tmp[256];
        char policy[300];
};

struct result {
        bool ran, ok;
        double init_ms;
        double p50_us, p99_us, mean_us, max_us;
        double mbps;
        int status; /* the server side's exit status, -1 unknown */
};

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest sample that at least p of all are <=. */
static double percentile_us(const uint64_t *sorted, size_t n, double p)
{
        size_t rank = (size_t)(p * (double)n + 0.999999);

        if (rank < 1)
                rank = 1;
        if (rank > n)
                rank = n;
        return (double)sorted[rank - 1] / 1e3;
}

static pid_t spawn(const struct config *cfg, const char *mode, int *to, int *from)
{
        int in[2], out[2];
        char errlog[300];
        const char *argv[8];
        int a = 0;

        if (strcmp(mode, "direct") == 0) {
                argv[a++] = cfg->echo;
        } else if (strcmp(mode, "relay") == 0) {
                argv[a++] = cfg->relay;
                argv[a++] = "--";
                argv[a++] = cfg->echo;
        } else {
                argv[a++] = cfg->guard;
                argv[a++] = "--policy";
                argv[a++] = cfg->policy;
                argv[a++] = "--";
                argv[a++] = cfg->echo;
        }
        argv[a] = NULL;
        snprintf(errlog, sizeof(errlog), "%s/%s.stderr", cfg->tmp, mode);

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(in[0], STDIN_FILENO) < 0 ||
                    dup2(out[1], STDOUT_FILENO) < 0)
                        _exit(127);
                signal(SIGPIPE, SIG_DFL);
                if (strcmp(mode, "guard") == 0) {
                        char dir[300];
                        snprintf(dir, sizeof(dir), "%s/run", cfg->tmp);
                        setenv("GOPLS_GUARD_RUNTIME_DIR", dir, 1);
                        snprintf(dir, sizeof(dir), "%s/config", cfg->tmp);
                        setenv("XDG_CONFIG_HOME", dir, 1);
                        snprintf(dir, sizeof(dir), "%s/no-cgroup", cfg->tmp);
                        setenv("GOPLS_GUARD_CGROUP_ROOT", dir, 0);
                }
                execv(argv[0], (char **)argv);
                fprintf(stderr, "bench-proxy: cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        *to = in[1];
        *from = out[0];
        return pid;
}

/* Wait up to `ms` for the child, then kill it.  Returns its exit status,
 * 128+N for signal N, or -1. */
static int reap(pid_t pid, unsigned ms)
{
        int st;

        for (unsigned waited = 0;; waited += 10) {
                pid_t r = waitpid(pid, &st, WNOHANG);
                if (r == pid)
                        break;
                if (r < 0 && errno != EINTR)
                        return -1;
                if (waited >= ms) {
                        kill(pid, SIGKILL);
                        if (waitpid(pid, &st, 0) != pid)
                                return -1;
                        break;
                }
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void show_stderr(const struct config *cfg, const char *mode)
{
        char path[300], line[512];
        unsigned n = 0;

        snprintf(path, sizeof(path), "%s/%s.stderr", cfg->tmp, mode);
        FILE *f = fopen(path, "r");
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                if (n++ == 0)
                        printf("  stderr of %s:\n", mode);
                if (n > 8) {
                        printf("    ...\n");
                        break;
                }
                printf("    %s%s", line, strchr(line, '\n') ? "" : "\n");
        }
        fclose(f);
}

static int echo_body(char *buf, size_t size, unsigned id)
{
        /* A textDocument/hover as VS Code sends it, padded to ~300 bytes. */
        return snprintf(
            buf, size,
            "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"bench/echo\",\"params\":"
            "{\"textDocument\":{\"uri\":\"file:///home/user/src/example.com/org/service/"
            "internal/handlers/sessions/session_manager.go\"},\"position\":{\"line\":%u,"
            "\"character\":%u},\"workDoneToken\":\"bench-%08u\",\"context\":"
            "{\"triggerKind\":1,\"includeDeclaration\":true}}}",
            id, 100 + id % 4000, id % 80, id);
}

static bool run_latency(const struct config *cfg, struct conn *c, struct result *res)
{
        unsigned total = cfg->warmup_requests + cfg->requests;
        uint64_t *rtt = malloc(sizeof(*rtt) * (cfg->requests ? cfg->requests : 1));
        char body[1024];
        double sum = 0;

        if (!rtt)
                return failf(c, "out of memory");
        watchdog(cfg->timeout);
        for (unsigned i = 0; i < total; i++) {
                unsigned id = c->next_id++;
                int n = echo_body(body, sizeof(body), id);
                struct message req, m;
                uint64_t t0, t1;

                t0 = now_ns();
                if (!send_body(c, body, (size_t)n) || !await(c, id, &m, &t1)) {
                        free(rtt);
                        return false;
                }
                if (i >= cfg->warmup_requests)
                        rtt[i - cfg->warmup_requests] = t1 - t0;
                /* Checked after the clock: the params must come back as sent. */
                if (!parse_top(body, (size_t)n, &req) ||
                    !span_is(&m.result, req.params.p, req.params.len)) {
                        if (!c->bad++)
                                excerpt(c->first_bad, sizeof(c->first_bad),
                                        m.result.p ? m.result.p : "(no result)",
                                        m.result.p ? m.result.len : 11);
                }
        }
        alarm(0);
        if (cfg->requests) {
                for (unsigned i = 0; i < cfg->requests; i++)
                        sum += (double)rtt[i];
                qsort(rtt, cfg->requests, sizeof(*rtt), cmp_u64);
                res->p50_us = percentile_us(rtt, cfg->requests, 0.50);
                res->p99_us = percentile_us(rtt, cfg->requests, 0.99);
                res->max_us = (double)rtt[cfg->requests - 1] / 1e3;
                res->mean_us = sum / cfg->requests / 1e3;
        }
        free(rtt);
        return true;
}

static bool run_throughput(const struct config *cfg, struct conn *c, struct result *res)
{
        unsigned total = cfg->warmup_big + cfg->big;
        uint64_t busy = 0;
        char body[256];

        watchdog(cfg->timeout);
        for (unsigned i = 0; i < total; i++) {
                unsigned id = c->next_id++;
                int n = snprintf(body, sizeof(body),
                                 "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"bench/big\","
                                 "\"params\":{\"bytes\":%zu}}",
                                 id, cfg->big_bytes);
                struct message m;
                uint64_t t0, t1;

                t0 = now_ns();
                if (!send_body(c, body, (size_t)n) || !await(c, id, &m, &t1))
                        return false;
                if (i >= cfg->warmup_big)
                        busy += t1 - t0;
                if (!m.result.p || m.result.len != cfg->big_bytes + 2 || m.result.p[0] != '"') {
                        if (!c->bad++)
                                snprintf(c->first_bad, sizeof(c->first_bad),
                                         "bench/big answered with a %zu-byte result, not %zu",
                                         m.result.p ? m.result.len : 0, cfg->big_bytes + 2);
                }
        }
        alarm(0);
        if (busy)
                res->mbps = (double)cfg->big_bytes * cfg->big / ((double)busy / 1e9) / 1e6;
        return true;
}

static void run_mode(const struct config *cfg, const char *mode, struct result *res)
{
        struct conn c = {.mode = mode, .next_id = 1, .to = -1, .from = -1};
        struct message m;
        char params[512];
        bool ok;

        memset(res, 0, sizeof(*res));
        res->ran = true;
        res->status = -1;

        uint64_t t0 = now_ns();
        c.pid = spawn(cfg, mode, &c.to, &c.from);
        if (c.pid < 0) {
                printf("%-7s cannot start: %s\n", mode, strerror(errno));
                return;
        }
        snprintf(params, sizeof(params),
                 "{\"processId\":%d,\"clientInfo\":{\"name\":\"bench-proxy\"},"
                 "\"rootUri\":\"file://%s\",\"capabilities\":{}}",
                 (int)getpid(), cfg->tmp);
        watchdog(cfg->timeout);
        ok = request(&c, "initialize", params, &m);
        res->init_ms = (double)(now_ns() - t0) / 1e6;
        ok = ok && notify(&c, "initialized", "{}");
        alarm(0);
        ok = ok && run_latency(cfg, &c, res);
        ok = ok && run_throughput(cfg, &c, res);

        /* An orderly end, as an editor does it. */
        if (ok) {
                watchdog(cfg->timeout);
                ok = request(&c, "shutdown", "null", &m) && notify(&c, "exit", NULL);
                alarm(0);
        }
        close(c.to);
        res->status = reap(c.pid, ok ? 5000 : 0);
        close(c.from);
        free(c.buf);
        res->ok = ok;

        if (!ok)
                printf("%-7s FAILED: %s\n", mode, c.err);
        else if (res->status != 0)
                printf("%-7s note: exited with status %d after shutdown/exit\n", mode, res->status);
        if (c.notifications)
                printf("%-7s note: %u unsolicited notification(s), first: %s\n", mode,
                       c.notifications, c.first_notification);
        if (c.requests)
                printf("%-7s note: %u request(s) from the server side, answered with null\n", mode,
                       c.requests);
        if (c.stray)
                printf("%-7s note: %u answer(s) with an unexpected id\n", mode, c.stray);
        if (c.bad)
                printf("%-7s note: %u answer(s) not as sent, first: %s\n", mode, c.bad,
                       c.first_bad);
        if (!ok || strcmp(mode, "guard") == 0 || res->status != 0)
                show_stderr(cfg, mode);
}

/* ---- main ------------------------------------------------------------- */

static void usage(FILE *f)
{
        fprintf(f, "usage: bench-proxy [-n REQUESTS] [-k BIG] [-b BYTES] [-w WARMUP] [-t SECONDS]\n"
                   "                   [-m MODES] GOPLS_GUARD LSP_ECHO PLAIN_RELAY\n"
                   "  -n  timed echo requests (default 2000)\n"
                   "  -k  timed big responses (default 20)\n"
                   "  -b  bytes per big response (default 10000000)\n"
                   "  -w  warm-up echo requests (default 200; big responses: 2)\n"
                   "  -t  time limit per phase, in seconds (default 30)\n"
                   "  -m  modes to run, comma-separated (default direct,relay,guard)\n");
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
        char *e;

        errno = 0;
        unsigned long long v = strtoull(s, &e, 10);
        if (errno || e == s || *e || v > max || s[0] == '-')
                return false;
        *ret = v;
        return true;
}

/* The absolute path of an executable (symlinks resolved), in `out` of
 * PATH_MAX bytes. */
static bool absolute(const char *in, char *out)
{
        return realpath(in, out) && access(out, X_OK) == 0;
}

static void rmtree_tmp(const struct config *cfg)
{
        /* Only what this program created, by name, and whatever the guard
         * left in its runtime directory (its status file). */
        static const char *files[] = {"direct.stderr", "relay.stderr", "guard.stderr", "policy.ini",
                                      NULL};
        static const char *dirs[] = {"run", "config", "no-cgroup", NULL};
        char p[400];

        snprintf(p, sizeof(p), "%s/run", cfg->tmp);
        DIR *d = opendir(p);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)))
                        if (e->d_name[0] != '.')
                                unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        for (int i = 0; files[i]; i++) {
                snprintf(p, sizeof(p), "%s/%s", cfg->tmp, files[i]);
                unlink(p);
        }
        for (int i = 0; dirs[i]; i++) {
                snprintf(p, sizeof(p), "%s/%s", cfg->tmp, dirs[i]);
                if (rmdir(p) < 0 && errno != ENOENT)
                        fprintf(stderr, "bench-proxy: %s left behind: %s\n", p, strerror(errno));
        }
        if (rmdir(cfg->tmp) < 0)
                fprintf(stderr, "bench-proxy: %s left behind: %s\n", cfg->tmp, strerror(errno));
}

int main(int argc, char **argv)
{
        static const char *all_modes[] = {"direct", "relay", "guard"};
        struct config cfg = {.requests = 2000,
                             .big = 20,
                             .warmup_requests = 200,
                             .warmup_big = 2,
                             .timeout = 30,
                             .big_bytes = 10 * 1000 * 1000};
        char guard[PATH_MAX], echo[PATH_MAX], relay[PATH_MAX];
        struct result res[3] = {{0}};
        bool want[3] = {true, true, true};
        unsigned long long v;
        int opt, status = 0;

        while ((opt = getopt(argc, argv, "n:k:b:w:t:m:h")) != -1) {
                switch (opt) {
                case 'n':
                case 'k':
                case 'w':
                case 't':
                        if (!parse_uint(optarg, 10000000, &v) || (opt == 't' && v == 0)) {
                                fprintf(stderr, "bench-proxy: bad -%c %s\n", opt, optarg);
                                return 2;
                        }
                        *(opt == 'n'   ? &cfg.requests
                          : opt == 'k' ? &cfg.big
                          : opt == 'w' ? &cfg.warmup_requests
                                       : &cfg.timeout) = (unsigned)v;
                        break;
                case 'b':
                        if (!parse_uint(optarg, (unsigned long long)1 << 30, &v) || v == 0) {
                                fprintf(stderr, "bench-proxy: bad -b %s\n", optarg);
                                return 2;
                        }
                        cfg.big_bytes = (size_t)v;
                        break;
                case 'm': {
                        char *list = strdup(optarg), *save = NULL;
                        memset(want, 0, sizeof(want));
                        for (char *t = strtok_r(list, ",", &save); t;
                             t = strtok_r(NULL, ",", &save)) {
                                int i = 0;
                                while (i < 3 && strcmp(t, all_modes[i]) != 0)
                                        i++;
                                if (i == 3) {
                                        fprintf(stderr, "bench-proxy: unknown mode %s\n", t);
                                        return 2;
                                }
                                want[i] = true;
                        }
                        free(list);
                        break;
                }
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (argc - optind != 3) {
                usage(stderr);
                return 2;
        }
        const char *names[3] = {"gopls-guard", "lsp-echo", "plain-relay"};
        char *paths[3] = {guard, echo, relay};
        for (int i = 0; i < 3; i++)
                if (!absolute(argv[optind + i], paths[i]) && (i != 0 || want[2]) &&
                    (i != 2 || want[1])) {
                        fprintf(stderr, "bench-proxy: %s %s is not executable\n", names[i],
                                argv[optind + i]);
                        return 2;
                }
        cfg.guard = guard;
        cfg.echo = echo;
        cfg.relay = relay;

        const char *tmpdir = getenv("TMPDIR");
        snprintf(cfg.tmp, sizeof(cfg.tmp), "%s/bench-proxy.XXXXXX",
                 tmpdir && *tmpdir ? tmpdir : "/tmp");
        if (!mkdtemp(cfg.tmp)) {
                perror("bench-proxy: mkdtemp");
                return 1;
        }
        char d[400];
        for (int i = 0; i < 3; i++) {
                static const char *sub[] = {"run", "config", "no-cgroup"};
                snprintf(d, sizeof(d), "%s/%s", cfg.tmp, sub[i]);
                mkdir(d, 0700);
        }
        snprintf(cfg.policy, sizeof(cfg.policy), "%s/policy.ini", cfg.tmp);
        FILE *pf = fopen(cfg.policy, "w");
        if (!pf) {
                perror("bench-proxy: policy file");
                return 1;
        }
        fputs("; bench-proxy: keep the guard's log quiet during the measurement\n"
              "[log]\nlevel = warning\n\n[lsp]\nnotify = no\n",
              pf);
        fclose(pf);

        struct sigaction sa = {.sa_handler = on_alarm};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART: reads end with EINTR */
        signal(SIGPIPE, SIG_IGN);

        printf("bench-proxy: %u echo requests of ~%d bytes (+%u warm-up), %u responses of "
               "%.1f MB (+%u warm-up)\n",
               cfg.requests, echo_body(d, sizeof(d), 1), cfg.warmup_requests, cfg.big,
               (double)cfg.big_bytes / 1e6, cfg.warmup_big);
        for (int i = 0; i < 3; i++) {
                if (!want[i])
                        continue;
                run_mode(&cfg, all_modes[i], &res[i]);
                if (!res[i].ok)
                        status = 1;
        }

        printf("\n%-7s %9s %9s %9s %9s %9s %10s\n", "mode", "init ms", "p50 us", "p99 us",
               "mean us", "max us", "MB/s");
        for (int i = 0; i < 3; i++) {
                const struct result *r = &res[i];
                if (!r->ran)
                        continue;
                if (!r->ok) {
                        printf("%-7s %9s\n", all_modes[i], "failed");
                        continue;
                }
                printf("%-7s %9.2f %9.1f %9.1f %9.1f %9.1f %10.1f\n", all_modes[i], r->init_ms,
                       r->p50_us, r->p99_us, r->mean_us, r->max_us, r->mbps);
        }
        const struct result *dr = &res[0], *rr = &res[1], *gr = &res[2];
        if (dr->ok && rr->ok)
                printf("relay - direct:  %+.1f us p50, %+.1f us p99\n", rr->p50_us - dr->p50_us,
                       rr->p99_us - dr->p99_us);
        if (dr->ok && gr->ok)
                printf("guard - direct:  %+.1f us p50, %+.1f us p99\n", gr->p50_us - dr->p50_us,
                       gr->p99_us - dr->p99_us);
        if (rr->ok && gr->ok && rr->mbps > 0)
                printf("guard / relay throughput: %.2f\n", gr->mbps / rr->mbps);
        printf("\n");
        for (int i = 0; i < 3; i++) {
                const struct result *r = &res[i];
                const char *n = all_modes[i];
                if (!r->ok)
                        continue;
                printf("BENCH proxy_%s_init_ms=%.2f\n", n, r->init_ms);
                printf("BENCH proxy_%s_p50_us=%.1f\n", n, r->p50_us);
                printf("BENCH proxy_%s_p99_us=%.1f\n", n, r->p99_us);
                printf("BENCH proxy_%s_mean_us=%.1f\n", n, r->mean_us);
                printf("BENCH proxy_%s_mbps=%.1f\n", n, r->mbps);
        }
        if (dr->ok && rr->ok) {
                printf("BENCH proxy_relay_added_p50_us=%.1f\n", rr->p50_us - dr->p50_us);
                printf("BENCH proxy_relay_added_p99_us=%.1f\n", rr->p99_us - dr->p99_us);
        }
        if (dr->ok && gr->ok) {
                printf("BENCH proxy_guard_added_p50_us=%.1f\n", gr->p50_us - dr->p50_us);
                printf("BENCH proxy_guard_added_p99_us=%.1f\n", gr->p99_us - dr->p99_us);
        }
        if (rr->ok && gr->ok && rr->mbps > 0)
                printf("BENCH proxy_guard_relay_ratio=%.3f\n", gr->mbps / rr->mbps);
        fflush(stdout);
        rmtree_tmp(&cfg);
        return status;
}

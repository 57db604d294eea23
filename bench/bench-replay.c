/* bench-replay — opening many documents through the guard, and replaying
 * them after a restart (not a test: it prints figures).
 *
 *   bench-replay [-d DOCS] [-s MB] [-r ROUNDS] GOPLS_GUARD LSP_ECHO [PLAIN_RELAY]
 *
 * LSP_ECHO may be any stdio LSP server.  gopls (e.g. /usr/bin/gopls)
 * answers the final request after every didOpen too, with an error as it
 * knows no such method: the figures are then the guard's in front of a
 * real server.
 * One client opens DOCS documents (default 1000) totalling MB megabytes of
 * unsaved text (default 50; 1 MB = 10^6 bytes of decoded text) with
 * textDocument/didOpen, then sends one request and waits for its answer:
 * the server handles messages in order, so the answer means every
 * document reached it.  Two ways:
 *   direct   tests/helpers/lsp-echo on the bench's own pipes;
 *   guard    gopls-guard --policy P -- lsp-echo;
 *   pump     (with PLAIN_RELAY) bench/plain-relay -- lsp-echo, a byte pump
 *            that parses nothing: the least any process in between costs;
 *   keep     (with PLAIN_RELAY) plain-relay --keep -- lsp-echo, the same
 *            pump keeping a copy of all it reads in fresh memory, as the
 *            guard must to replay the documents: the floor for the guard's
 *            open on this machine (where first touching memory is costly,
 *            it is well above the pump).
 * For the guard it then reads the guard's anonymous memory (RssAnon in
 * /proc/PID/status), SIGKILLs the server and sends a hover at once; the
 * hover is answered by the new server after the replayed initialize and
 * every replayed didOpen, so kill -> answer is the replay (less the
 * configured backoff of 100ms, the policy's floor, which is subtracted;
 * the spawn is included).
 *
 * The text is Go-like: tabs, quotes, backslashes and some non-ASCII (é,
 * an emoji), so JSON escapes and UTF-8 are exercised, with lines of 20 to
 * 60 bytes.  Every round uses the same documents.  The best of ROUNDS
 * (default 3) is reported for each time, as the least disturbed by other
 * load on the machine, and beside it the spread: "_spread" lines give the
 * worst round as a percentage above the best.
 *
 * Ratios reported: open via guard / direct (and pump / direct, keep /
 * direct, guard / keep), replay / direct open, guard RssAnon / text size.
 * Also CPU time (user + system, from each process's CPU clock), which other
 * load on the machine disturbs less than wall time: the guard's own for
 * the open and for the replay, and for each way the open's total over the
 * editor, the process in between and the server.  That total divided by
 * the number of cores, over the direct open, is the least ratio the
 * guard's open can reach here while it takes the CPU it takes
 * (ratio_open_guard_cpu_bound); the CPU of the process in between, one
 * thread that every byte goes through, over the direct open is another
 * (ratio_open_*_own_cpu_bound): for the guard, and for the pump that keeps
 * what it forwards, the least any relay that can replay takes here.  The guard
 * (gopls-guard-test) runs degraded with GOPLS_GUARD_CGROUP_ROOT pointing at
 * an empty directory (no cgroup is touched) and its runtime
 * and config directories in a temporary directory, as in bench-proxy.
 * Output: one "BENCH name=value" line per figure.  No figure is judged. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/bench-replay-XXXXXX";

/* The policy's backoff_initial (its floor), subtracted from kill -> answer. */
#define BACKOFF_NS (100u * 1000000u)

/* Best and worst of the rounds of one figure. */
struct range {
        double best, worst;
        bool any;
};

static void range_add(struct range *r, double v)
{
        if (!r->any || v < r->best)
                r->best = v;
        if (!r->any || v > r->worst)
                r->worst = v;
        r->any = true;
}

/* "BENCH name=best" and "BENCH name_spread=P" (worst over best, in %). */
static void range_print(const char *name, const struct range *r)
{
        if (!r->any)
                return;
        printf("BENCH %s=%.1f\n", name, r->best);
        printf("BENCH %s_spread_pct=%.0f\n", name,
               r->best > 0 ? (r->worst / r->best - 1) * 100 : 0);
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- a growable byte buffer ---- */

struct buf {
        char *p;
        size_t len, cap;
};

static void buf_add(struct buf *b, const void *d, size_t n)
{
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 1 << 16;
                while (cap < b->len + n)
                        cap *= 2;
                b->p = realloc(b->p, cap);
                if (!b->p) {
                        perror("bench-replay");
                        exit(1);
                }
                b->cap = cap;
        }
        memcpy(b->p + b->len, d, n);
        b->len += n;
}

static void buf_str(struct buf *b, const char *s)
{
        buf_add(b, s, strlen(s));
}

static void frame(struct buf *out, const char *body, size_t len)
{
        char h[64];
        int n = snprintf(h, sizeof(h), "Content-Length: %zu\r\n\r\n", len);

        buf_add(out, h, (size_t)n);
        buf_add(out, body, len);
}

/* ---- the documents ---- */

static unsigned rnd_state = 1;

static unsigned rnd(void)
{
        rnd_state = rnd_state * 1103515245u + 12345u;
        return (rnd_state >> 16) & 0x7fff;
}

/* One document of about `size` bytes of text, JSON-escaped into `json`. */
static size_t make_text(struct buf *json, size_t size)
{
        static const char *const words[] = {
            "func", "return", "if err != nil {", "}", "x := y + 1", "fmt.Println(\"héllo\")",
            "// 😀 note", "s = \"a\\\\b\"", "for i := range v {", "var n int",
        };
        size_t text = 0;

        while (text < size) {
                unsigned indent = rnd() % 3, w = 1 + rnd() % 4;

                for (unsigned i = 0; i < indent; i++) {
                        buf_str(json, "\\t");
                        text++;
                }
                for (unsigned i = 0; i < w; i++) {
                        const char *word = words[rnd() % (sizeof(words) / sizeof(words[0]))];

                        for (const char *p = word; *p; p++) {
                                if (*p == '"' || *p == '\\')
                                        buf_add(json, "\\", 1);
                                buf_add(json, p, 1);
                                text++;
                        }
                        buf_str(json, " ");
                        text++;
                }
                buf_str(json, "\\n");
                text++;
        }
        return text;
}

/* initialize + initialized, the didOpens, and a request with id "opened". */
static size_t make_session(struct buf *init, struct buf *opens, unsigned docs, size_t total)
{
        static const char initb[] = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                    "\"params\":{\"processId\":null,\"rootUri\":\"file:///w\","
                                    "\"capabilities\":{}}}";
        static const char initd[] = "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}";
        static const char req[] = "{\"jsonrpc\":\"2.0\",\"id\":\"opened\",\"method\":"
                                  "\"bench/echo\",\"params\":[0]}";
        struct buf body = {0};
        size_t text = 0;

        frame(init, initb, sizeof(initb) - 1);
        frame(init, initd, sizeof(initd) - 1);
        rnd_state = 1;
        for (unsigned i = 0; i < docs; i++) {
                char head[256];
                int n = snprintf(head, sizeof(head),
                                 "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\","
                                 "\"params\":{\"textDocument\":{\"uri\":\"file:///w/pkg%u/f%u.go\","
                                 "\"languageId\":\"go\",\"version\":1,\"text\":\"",
                                 i / 50, i);

                body.len = 0;
                buf_add(&body, head, (size_t)n);
                text += make_text(&body, (total - text) / (docs - i));
                buf_str(&body, "\"}}}");
                frame(opens, body.p, body.len);
        }
        frame(opens, req, sizeof(req) - 1);
        free(body.p);
        return text;
}

/* ---- processes ---- */

static pid_t spawn(char *const argv[], bool guard, int *to, int *from)
{
        int in[2], out[2];
        pid_t pid;

        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                char dir[300];

                snprintf(dir, sizeof(dir), "%s/%s.stderr", tmpdir, guard ? "guard" : "direct");
                int fd = open(dir, O_WRONLY | O_CREAT | O_APPEND, 0644);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(in[0], STDIN_FILENO) < 0 ||
                    dup2(out[1], STDOUT_FILENO) < 0)
                        _exit(127);
                signal(SIGPIPE, SIG_DFL);
                if (guard) {
                        snprintf(dir, sizeof(dir), "%s/run", tmpdir);
                        setenv("GOPLS_GUARD_RUNTIME_DIR", dir, 1);
                        setenv("XDG_CONFIG_HOME", tmpdir, 1);
                        snprintf(dir, sizeof(dir), "%s/no-cgroup", tmpdir);
                        setenv("GOPLS_GUARD_CGROUP_ROOT", dir, 0);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        close(in[0]);
        close(out[1]);
        fcntl(in[1], F_SETFL, O_NONBLOCK);
        *to = in[1];
        *from = out[0];
        return pid;
}

/* Where the answer with id `id` (its JSON text: 1, "opened") says so in
 * p[0..n), or NULL.  Servers put the id anywhere in an answer (lsp-echo
 * first, gopls last), so "id":ID is looked for with ',' or '}' after it.
 * A request from the server with the same id would be taken for it: the
 * capabilities sent here ({}) ask none of lsp-echo or gopls. */
static const char *find_answer(const char *p, size_t n, const char *id)
{
        char key[64];
        size_t kl = (size_t)snprintf(key, sizeof(key), "\"id\":%s", id);

        for (const char *q = p, *end = p + n; (q = memmem(q, (size_t)(end - q), key, kl)); q++)
                if (q + kl < end && (q[kl] == ',' || q[kl] == '}'))
                        return q;
        return NULL;
}

/* Whether the message around `at` (in seen) is an error the guard gives
 * a request it does not send again (RequestCancelled, ContentModified):
 * the request was not replayed. */
static bool refused(const struct buf *seen, const char *at)
{
        const char *body = at;

        while (body > seen->p + 4 && memcmp(body - 4, "\r\n\r\n", 4) != 0)
                body--;
        const char *next = memmem(at, (size_t)(seen->p + seen->len - at), "Content-Length:", 15);
        size_t n = (size_t)((next ? next : seen->p + seen->len) - body);
        static const char *const codes[] = {"\"code\":-32800", "\"code\":-32801"};

        for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
                if (memmem(body, n, codes[i], strlen(codes[i])))
                        return true;
        return false;
}

/* Writes `data` while reading everything the other side says, until the
 * output holds the answer with id `want` (see find_answer()).  Returns 0
 * or -1 (EOF). */
static int pump(int to, int from, const char *data, size_t len, struct buf *seen, const char *want)
{
        size_t off = 0, scanned = seen->len;
        char chunk[65536];

        for (;;) {
                struct pollfd p[2] = {{.fd = from, .events = POLLIN},
                                      {.fd = to, .events = off < len ? POLLOUT : 0}};

                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return -1;
                if (p[1].revents & (POLLOUT | POLLERR)) {
                        ssize_t w = write(to, data + off, len - off);
                        if (w < 0 && errno != EAGAIN)
                                return -1;
                        if (w > 0)
                                off += (size_t)w;
                }
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(from, chunk, sizeof(chunk));
                        if (n <= 0)
                                return -1;
                        buf_add(seen, chunk, (size_t)n);
                        /* from before a match the last read cut short */
                        size_t wl = strlen("\"id\":") + strlen(want) + 1,
                               from_off = scanned > wl ? scanned - wl : 0;
                        if (off == len &&
                            find_answer(seen->p + from_off, seen->len - from_off, want))
                                return 0;
                        scanned = seen->len;
                }
        }
}

static long rss_anon_kib(pid_t pid)
{
        char path[64], line[256];
        long kib = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "RssAnon: %ld kB", &kib) == 1)
                        break;
        fclose(f);
        return kib;
}

/* CPU time (user + system) of a process so far, in ms; -1 if unknown.
 * Less disturbed by other load on the machine than wall time.  The
 * process's CPU clock counts in nanoseconds; /proc/PID/stat's clock ticks
 * (10 ms) are the fallback. */
static double cpu_ms(pid_t pid)
{
        char path[64], buf[1024], *p;
        unsigned long ut, st;
        struct timespec ts;
        clockid_t clk;
        FILE *f;
        size_t n;

        if (clock_getcpuclockid(pid, &clk) == 0 && clock_gettime(clk, &ts) == 0)
                return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "r");
        if (!f)
                return -1;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        p = strrchr(buf, ')'); /* the command may hold spaces */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                         &st) != 2)
                return -1;
        return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* cpu_ms() summed over the processes in pids[0..n) (those > 0). */
static double cpu_ms_of(const pid_t *pids, int n)
{
        double ms = 0;

        for (int i = 0; i < n; i++)
                ms += pids[i] > 0 ? cpu_ms(pids[i]) : 0;
        return ms;
}

/* The guard's child running `server` (a path resolved with realpath()):
 * the guard has another child, its sentinel, so the first child is not
 * necessarily the server. */
static pid_t server_of(pid_t guard, const char *server)
{
        char path[64], exe[PATH_MAX];
        long pid = -1, c;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)guard, (int)guard);
        f = fopen(path, "r");
        if (!f)
                return -1;
        while (pid < 0 && fscanf(f, "%ld", &c) == 1) {
                ssize_t n;

                snprintf(path, sizeof(path), "/proc/%ld/exe", c);
                n = readlink(path, exe, sizeof(exe) - 1);
                if (n > 0) {
                        exe[n] = '\0';
                        if (strcmp(exe, server) == 0)
                                pid = c;
                }
        }
        fclose(f);
        return (pid_t)pid;
}

static void finish(pid_t pid, int to, int from)
{
        close(to);
        close(from);
        (void)waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
        unsigned docs = 1000, rounds = 3;
        double mb = 50;
        int c;

        while ((c = getopt(argc, argv, "d:s:r:")) != -1) {
                if (c == 'd')
                        docs = (unsigned)strtoul(optarg, NULL, 10);
                else if (c == 's')
                        mb = strtod(optarg, NULL);
                else if (c == 'r')
                        rounds = (unsigned)strtoul(optarg, NULL, 10);
                else
                        goto usage;
        }
        if (argc - optind < 2 || argc - optind > 3 || !docs || !rounds || mb <= 0) {
        usage:
                fprintf(stderr, "usage: bench-replay [-d DOCS] [-s MB] [-r ROUNDS] GOPLS_GUARD "
                                "LSP_ECHO [PLAIN_RELAY]\n");
                return 2;
        }
        char *guard = argv[optind], *echo = argv[optind + 1], *relay = argv[optind + 2];
        char echo_exe[PATH_MAX];

        if (!realpath(echo, echo_exe)) {
                fprintf(stderr, "bench-replay: %s: %s\n", echo, strerror(errno));
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(tmpdir)) {
                perror("bench-replay: mkdtemp");
                return 1;
        }
        char policy[300], dir[300];
        snprintf(policy, sizeof(policy), "%s/policy.ini", tmpdir);
        FILE *pf = fopen(policy, "w");
        if (!pf)
                return 1;
        fputs("[restart]\nbackoff_initial = 100ms\n[lsp]\nnotify = no\n[log]\nlevel = warning\n"
              "target = stderr\n",
              pf);
        fclose(pf);
        snprintf(dir, sizeof(dir), "%s/run", tmpdir);
        mkdir(dir, 0700);
        snprintf(dir, sizeof(dir), "%s/no-cgroup", tmpdir);
        mkdir(dir, 0700);

        struct buf init = {0}, opens = {0};
        size_t text = make_session(&init, &opens, docs, (size_t)(mb * 1e6));
        static const char hover[] = "{\"jsonrpc\":\"2.0\",\"id\":\"replayed\",\"method\":"
                                    "\"textDocument/hover\",\"params\":{\"textDocument\":{\"uri\":"
                                    "\"file:///w/pkg0/f0.go\"},\"position\":{\"line\":0,"
                                    "\"character\":0}}}";
        struct buf hv = {0};
        frame(&hv, hover, sizeof(hover) - 1);

        struct range direct = {0}, pumped = {0}, kept = {0}, open = {0}, replay = {0},
                     cpu_open = {0}, cpu_replay = {0}, cpu_all[4] = {{0}},
                     cpu_mid[4] = {{0}};
        static const char *const mode_name[] = {"direct", "guard", "pump", "keep"};
        long rss_open = -1, rss_replay = -1;
        int status = 0;

        for (unsigned r = 0; r < rounds; r++) {
                /* mode 0 direct, 1 guard, 2 pump, 3 keep */
                for (int mode = 0; mode < (relay ? 4 : 2); mode++) {
                        char *dargv[] = {echo, NULL};
                        char *gargv[] = {guard, "--policy", policy, "--", echo, NULL};
                        char *pargv[] = {relay, "--", echo, NULL};
                        char *kargv[] = {relay, "--keep", "--", echo, NULL};
                        char **argv_of[] = {dargv, gargv, pargv, kargv};
                        struct buf seen = {0};
                        int to, from;
                        pid_t pid = spawn(argv_of[mode], mode == 1, &to, &from);

                        if (pid < 0 || pump(to, from, init.p, init.len, &seen, "1") < 0) {
                                fprintf(stderr, "bench-replay: %s: no answer to initialize\n",
                                        mode_name[mode]);
                                return 1;
                        }
                        /* Every process's CPU over the open: the editor
                         * (this process), the relay if any, the server. */
                        pid_t procs[3] = {getpid(), mode ? pid : -1,
                                          mode ? server_of(pid, echo_exe) : pid};
                        double all0 = cpu_ms_of(procs, 3), c0 = cpu_ms(pid);
                        uint64_t t0 = now_ns();
                        if (pump(to, from, opens.p, opens.len, &seen, "\"opened\"") < 0) {
                                fprintf(stderr, "bench-replay: %s: the open did not finish\n",
                                        mode_name[mode]);
                                return 1;
                        }
                        uint64_t t = now_ns() - t0;
                        range_add(&cpu_all[mode], cpu_ms_of(procs, 3) - all0);
                        if (mode)
                                range_add(&cpu_mid[mode], cpu_ms(pid) - c0);
                        if (mode != 1) {
                                range_add(mode == 0 ? &direct : mode == 2 ? &pumped : &kept,
                                          (double)t / 1e6);
                                finish(pid, to, from);
                                free(seen.p);
                                continue;
                        }
                        range_add(&open, (double)t / 1e6);
                        double c1 = cpu_ms(pid);
                        range_add(&cpu_open, c1 - c0);
                        long kib = rss_anon_kib(pid);
                        if (kib > rss_open)
                                rss_open = kib;
                        pid_t srv = server_of(pid, echo_exe);
                        if (srv <= 0) {
                                fprintf(stderr, "bench-replay: the guard has no server\n");
                                return 1;
                        }
                        t0 = now_ns();
                        kill(srv, SIGKILL);
                        if (pump(to, from, hv.p, hv.len, &seen, "\"replayed\"") < 0) {
                                fprintf(stderr, "bench-replay: no answer after the restart\n");
                                status = 1;
                        } else if (now_ns() - t0 < BACKOFF_NS) {
                                /* No new server can answer before the
                                 * backoff: the kill missed the server. */
                                fprintf(stderr, "bench-replay: the hover was answered before "
                                                "the backoff ended\n");
                                status = 1;
                        } else {
                                range_add(&cpu_replay, cpu_ms(pid) - c1);
                                range_add(&replay, (double)(now_ns() - t0 - BACKOFF_NS) / 1e6);
                                if (refused(&seen, find_answer(seen.p, seen.len, "\"replayed\""))) {
                                        fprintf(stderr, "bench-replay: the hover was refused\n");
                                        status = 1;
                                }
                        }
                        kib = rss_anon_kib(pid);
                        if (kib > rss_replay)
                                rss_replay = kib;
                        finish(pid, to, from);
                        free(seen.p);
                }
        }

        double text_mb = (double)text / 1e6;
        printf("documents %u, text %.1f MB (JSON %.1f MB), best of %u rounds\n", docs, text_mb,
               (double)opens.len / 1e6, rounds);
        printf("BENCH replay_docs=%u\n", docs);
        printf("BENCH replay_text_mb=%.1f\n", text_mb);
        range_print("open_direct_ms", &direct);
        range_print("open_pump_ms", &pumped);
        range_print("open_keep_ms", &kept);
        range_print("open_guard_ms", &open);
        range_print("replay_ms", &replay);
        range_print("guard_cpu_open_ms", &cpu_open);
        range_print("guard_cpu_replay_ms", &cpu_replay);
        for (int mode = 0; mode < 4; mode++) {
                char name[64];
                snprintf(name, sizeof(name), "cpu_open_all_%s_ms", mode_name[mode]);
                range_print(name, &cpu_all[mode]);
                snprintf(name, sizeof(name), "cpu_open_relay_%s_ms", mode_name[mode]);
                range_print(name, &cpu_mid[mode]);
        }
        printf("BENCH guard_rss_anon_mb=%.1f\n", (double)rss_open * 1024 / 1e6);
        printf("BENCH guard_rss_anon_after_replay_mb=%.1f\n", (double)rss_replay * 1024 / 1e6);
        printf("BENCH ratio_open_guard_direct=%.2f\n", open.best / direct.best);
        /* No open can end before the CPU it takes, spread over every core,
         * is spent: the least ratio the guard's open could reach here with
         * the CPU it takes now. */
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (ncpu > 0)
                printf("BENCH ratio_open_guard_cpu_bound=%.2f\n",
                       cpu_all[1].best / (double)ncpu / direct.best);
        /* Nor before the process in between, one thread through which
         * every byte goes, has spent its own: for the guard, and for the
         * pump that keeps what it forwards (any relay that can replay). */
        printf("BENCH ratio_open_guard_own_cpu_bound=%.2f\n", cpu_mid[1].best / direct.best);
        if (cpu_mid[3].any)
                printf("BENCH ratio_open_keep_own_cpu_bound=%.2f\n",
                       cpu_mid[3].best / direct.best);
        if (pumped.any)
                printf("BENCH ratio_open_pump_direct=%.2f\n", pumped.best / direct.best);
        if (kept.any) {
                printf("BENCH ratio_open_keep_direct=%.2f\n", kept.best / direct.best);
                printf("BENCH ratio_open_guard_keep=%.2f\n", open.best / kept.best);
        }
        if (replay.any)
                printf("BENCH ratio_replay_direct=%.2f\n", replay.best / direct.best);
        printf("BENCH ratio_guard_memory_text=%.2f\n",
               (double)rss_open * 1024 / (double)text);

        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
                fprintf(stderr, "bench-replay: could not remove %s\n", tmpdir);
        free(init.p);
        free(opens.p);
        free(hv.p);
        return status;
}

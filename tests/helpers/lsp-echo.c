/* lsp-echo — a tiny stdio LSP server for benchmarks and tests.
 *
 * It reads Content-Length framed JSON-RPC messages from stdin and answers
 * on stdout:
 *   initialize     {"capabilities":{}}
 *   shutdown       null; a later `exit` ends it with status 0 (status 1
 *                  for an `exit` without `shutdown` first, as LSP says)
 *   bench/echo     the request's params, as the raw text they were sent in
 *   bench/big      params {"bytes":N}: a JSON string of N bytes (letters,
 *                  no escapes; N up to 1 GiB)
 *   bench/crash    no answer: it dies of SIGABRT, as a crashing server would
 *   bench/grow     a notification, params {"mib":M,"mib_per_s":R}: it
 *                  allocates and touches M MiB, 2 MiB at a time, R MiB per
 *                  second (a server growing steadily), keeps them and goes
 *                  on serving; it reads nothing meanwhile
 *   bench/leak     no answer: it allocates and touches 1 MiB after 1 MiB
 *                  until the kernel stops it (a server outgrowing memory.max)
 *   other request  null
 * Notifications and responses (to requests it never sends) are ignored.
 * End of stdin ends it with status 0.  Messages that do not frame, or whose
 * body is not a JSON object, end it with status 1 and a line on stderr.
 * Methods are compared with "\/" and "\u00XX" decoded, as editors such as
 * Neovim escape '/'.
 *
 * Modes for the tests of a guard in front of it, which depend on which
 * start of the server this is (counted in the file given with --state):
 *   --state FILE          count starts in FILE (created when missing)
 *   --silent-init N[+]    start N (and every later one with '+') never
 *                         answers initialize
 *   --stall-first METHOD  the first start never answers METHOD requests,
 *                         so they are in flight when it dies
 *   --crash-on METHOD     every start dies of SIGABRT at a METHOD request
 *                         (a poison request)
 *   --hang-on METHOD      a METHOD request makes it stop for good: it reads
 *                         and answers nothing more and uses no CPU (a
 *                         deadlocked server); with --state, only at start
 *                         N given as --hang-start N (default: every start)
 *   --spin-on METHOD      a METHOD request is answered (null) only after
 *                         SECONDS (--spin-seconds, default 3) of CPU time
 *                         spent on it (a server busy computing an answer)
 *   echo/start            answers which start this is (with --state)
 *
 * Daemon mode, as gopls's (`gopls serve -listen=unix;PATH
 * -listen.timeout=0`): `lsp-echo serve -listen=unix;PATH [...]` listens on
 * PATH and serves each connection as above in a child process of its own
 * (killed with the daemon, as gopls's sessions die with gopls); there
 *   echo/daemon    answers the daemon's pid, so a test sees which server
 *                  (and that only one) answered
 * and, as with gopls (os.Exit(1) in its exit handler), an `exit` without
 * `shutdown` on any connection ends the whole daemon.
 *
 * No JSON library: only the top level of the body is walked (keys, and
 * where each value starts and ends), which is exact for any valid JSON and
 * cheap for large strings (memchr() to the closing quote).  It never sends
 * requests or notifications of its own. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "json-top.h"

#define BIG_MAX ((size_t)1 << 30)
#define HEADER_MAX 4096

static void die(const char *what)
{
        fprintf(stderr, "lsp-echo: %s\n", what);
        exit(1);
}

/* ---- input: one framed message at a time ---------------------------- */

static char *in_buf;
static size_t in_cap, in_len, in_pos; /* unread bytes are [in_pos, in_len) */

/* Make room for `need` unread bytes in one piece; false at end of input. */
static bool fill(size_t need)
{
        while (in_len - in_pos < need) {
                if (in_pos > 0) {
                        memmove(in_buf, in_buf + in_pos, in_len - in_pos);
                        in_len -= in_pos;
                        in_pos = 0;
                }
                if (need > in_cap) {
                        size_t cap = in_cap ? in_cap : 64 * 1024;
                        while (cap < need)
                                cap *= 2;
                        char *p = realloc(in_buf, cap);
                        if (!p)
                                die("out of memory");
                        in_buf = p;
                        in_cap = cap;
                }
                ssize_t n = read(STDIN_FILENO, in_buf + in_len, in_cap - in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        die("cannot read stdin");
                if (n == 0)
                        return false;
                in_len += (size_t)n;
        }
        return true;
}

/* The next body, or NULL at a clean end of input (between messages). */
static const char *next_message(size_t *ret_len)
{
        size_t content_length = SIZE_MAX;
        size_t scanned = 0, end;

        /* Headers end at the first empty line. */
        for (;;) {
                const char *h = in_buf + in_pos;
                size_t avail = in_len - in_pos;
                const char *e = NULL;

                for (size_t i = scanned; i + 3 < avail; i++)
                        if (h[i] == '\r' && h[i + 1] == '\n' && h[i + 2] == '\r' &&
                            h[i + 3] == '\n') {
                                e = h + i;
                                break;
                        }
                if (e) {
                        end = (size_t)(e - h);
                        break;
                }
                scanned = avail > 3 ? avail - 3 : 0;
                if (avail > HEADER_MAX)
                        die("header too long");
                if (!fill(avail + 1)) {
                        if (in_len == in_pos)
                                return NULL;
                        die("end of input inside a header");
                }
        }

        /* Header lines: only Content-Length matters. */
        for (size_t i = 0; i < end;) {
                const char *line = in_buf + in_pos + i;
                const char *nl = memchr(line, '\r', end - i);
                size_t len = nl ? (size_t)(nl - line) : end - i;
                static const char name[] = "Content-Length:";

                if (len > sizeof(name) - 1 && strncasecmp(line, name, sizeof(name) - 1) == 0) {
                        const char *p = line + sizeof(name) - 1;
                        const char *stop = line + len;
                        size_t v = 0;
                        bool digits = false;

                        while (p < stop && (*p == ' ' || *p == '\t'))
                                p++;
                        for (; p < stop && *p >= '0' && *p <= '9'; p++, digits = true) {
                                if (v > (SIZE_MAX - 9) / 10)
                                        die("Content-Length too large");
                                v = v * 10 + (size_t)(*p - '0');
                        }
                        while (p < stop && (*p == ' ' || *p == '\t'))
                                p++;
                        if (!digits || p != stop)
                                die("bad Content-Length");
                        content_length = v;
                }
                i += len + 2;
        }
        if (content_length == SIZE_MAX)
                die("message without Content-Length");

        size_t header = end + 4;
        if (!fill(header + content_length))
                die("end of input inside a body");
        const char *body = in_buf + in_pos + header;
        in_pos += header + content_length;
        *ret_len = content_length;
        return body;
}

/* ---- the top level of a JSON object --------------------------------- */

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The method string (with its quotes) equals the ASCII `name`, decoding
 * "\/", "\\", "\"" and "\u00XX" on the way. */
static bool method_is(const struct span *m, const char *name)
{
        const char *p, *end;

        if (!m->p || m->len < 2)
                return false;
        p = m->p + 1;
        end = m->p + m->len - 1;
        for (; *name; name++) {
                char c;

                if (p >= end)
                        return false;
                c = *p++;
                if (c == '\\') {
                        if (p >= end)
                                return false;
                        c = *p++;
                        if (c == 'u') {
                                if (end - p < 4 || p[0] != '0' || p[1] != '0' || hexval(p[2]) < 0 ||
                                    hexval(p[3]) < 0)
                                        return false;
                                c = (char)(hexval(p[2]) * 16 + hexval(p[3]));
                                p += 4;
                        } else if (c != '/' && c != '\\' && c != '"')
                                return false;
                }
                if (c != *name)
                        return false;
        }
        return p == end;
}

/* ---- output ---------------------------------------------------------- */

static void write_all(struct iovec *iov, int n)
{
        while (n > 0) {
                ssize_t w = writev(STDOUT_FILENO, iov, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        exit(errno == EPIPE ? 0 : 1); /* the client went away */
                size_t done = (size_t)w;
                while (n > 0 && done >= iov->iov_len) {
                        done -= iov->iov_len;
                        iov++;
                        n--;
                }
                if (n > 0) {
                        iov->iov_base = (char *)iov->iov_base + done;
                        iov->iov_len -= done;
                }
        }
}

/* {"jsonrpc":"2.0","id":ID,"result":<pre><mid><post>} with its header. */
static void respond(const struct span *id, const char *pre, size_t pre_len, const char *mid,
                    size_t mid_len, const char *post, size_t post_len)
{
        static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
        static const char res[] = ",\"result\":";
        static const char tail[] = "}";
        size_t body = sizeof(head) - 1 + id->len + sizeof(res) - 1 + pre_len + mid_len + post_len +
                      sizeof(tail) - 1;
        char hdr[64];
        int hl = snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", body);
        struct iovec iov[] = {
            {hdr, (size_t)hl},        {(void *)head, sizeof(head) - 1},
            {(void *)id->p, id->len}, {(void *)res, sizeof(res) - 1},
            {(void *)pre, pre_len},   {(void *)mid, mid_len},
            {(void *)post, post_len}, {(void *)tail, sizeof(tail) - 1},
        };

        write_all(iov, (int)(sizeof(iov) / sizeof(iov[0])));
}

static void respond_text(const struct span *id, const char *text)
{
        respond(id, text, strlen(text), NULL, 0, NULL, 0);
}

/* N from {"KEY":N} (key given with its quotes); SIZE_MAX when missing or
 * out of range. */
static size_t num_param(const struct span *params, const char *key)
{
        size_t klen = strlen(key);
        const char *end = params->p + params->len;
        const char *k = params->p ? memmem(params->p, params->len, key, klen) : NULL;
        size_t v = 0;
        bool digits = false;

        if (!k)
                return SIZE_MAX;
        const char *p = skip_ws(k + klen, end);
        if (p == end || *p != ':')
                return SIZE_MAX;
        for (p = skip_ws(p + 1, end); p < end && *p >= '0' && *p <= '9'; p++, digits = true) {
                v = v * 10 + (size_t)(*p - '0');
                if (v > BIG_MAX)
                        return SIZE_MAX;
        }
        return digits ? v : SIZE_MAX;
}

static size_t big_size(const struct span *params)
{
        return num_param(params, "\"bytes\"");
}

/* bench/grow: M MiB at R MiB/s, paced against CLOCK_MONOTONIC so that a
 * slow page fault does not slow the average down.  2 MiB at a time, in
 * 2 MiB-aligned regions marked for transparent huge pages, one byte
 * touched per 4 KiB page: every page is charged, with as few faults and
 * as little copying as the kernel allows, so that even an emulated CPU
 * (the VM tests run under TCG) keeps up with tens of MiB/s. */
#define GROW_STEP (2UL << 20)
static void grow(const struct span *params)
{
        size_t mib = num_param(params, "\"mib\""), rate = num_param(params, "\"mib_per_s\"");
        struct timespec t0;

        if (mib == SIZE_MAX || rate == SIZE_MAX || rate == 0)
                die("bench/grow needs {\"mib\":M,\"mib_per_s\":R}");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (size_t done = 0; done < mib; done += 2) {
                char *m = mmap(NULL, 2 * GROW_STEP, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m != MAP_FAILED) {
                        char *a = (char *)(((uintptr_t)m + GROW_STEP - 1) & ~(GROW_STEP - 1));
                        (void)madvise(a, GROW_STEP, MADV_HUGEPAGE);
                        for (size_t off = 0; off < GROW_STEP; off += 4096)
                                a[off] = 1;
                }
                uint64_t ns = (uint64_t)t0.tv_nsec + (done + 2) * 1000000000ULL / rate;
                struct timespec at = {.tv_sec = t0.tv_sec + (time_t)(ns / 1000000000ULL),
                                      .tv_nsec = (long)(ns % 1000000000ULL)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
                        ;
        }
}

static void respond_big(const struct span *id, size_t n)
{
        static char *fill_buf;
        static size_t fill_len;

        if (n > fill_len) {
                char *p = realloc(fill_buf, n);
                if (!p)
                        die("out of memory");
                for (size_t i = fill_len; i < n; i++)
                        p[i] = (char)('a' + i % 26);
                fill_buf = p;
                fill_len = n;
        }
        respond(id, "\"", 1, fill_buf, n, "\"", 1);
}

/* This start's number (1 for the first), counted in `path`. */
static unsigned count_start(const char *path)
{
        unsigned n = 0;
        FILE *f = fopen(path, "r");

        if (f) {
                if (fscanf(f, "%u", &n) != 1)
                        n = 0;
                fclose(f);
        }
        n++;
        f = fopen(path, "w");
        if (!f || fprintf(f, "%u\n", n) < 0 || fclose(f) != 0)
                die("cannot write the --state file");
        return n;
}

static pid_t daemon_pid;

/* Accept connections on PATH forever; returns in a child, with the
 * connection as its stdin and stdout. */
static void serve_socket(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || strlen(path) >= sizeof sa.sun_path)
                die("cannot make a socket");
        strcpy(sa.sun_path, path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 16) < 0)
                die("cannot listen on the socket");
        daemon_pid = getpid();
        signal(SIGCHLD, SIG_IGN); /* no zombies */
        for (;;) {
                int c = accept(fd, NULL, NULL);
                if (c < 0)
                        continue;
                pid_t pid = fork();
                if (pid == 0) {
                        (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                        if (getppid() != daemon_pid)
                                _exit(1);
                        close(fd);
                        if (dup2(c, STDIN_FILENO) < 0 || dup2(c, STDOUT_FILENO) < 0)
                                _exit(1);
                        close(c);
                        return;
                }
                close(c);
        }
}

int main(int argc, char **argv)
{
        bool shut_down = false, silent_later = false;
        const char *body, *state = NULL, *stall = NULL, *listen_path = NULL;
        const char *crash_on = NULL, *hang_on = NULL, *spin_on = NULL;
        double spin_seconds = 3;
        unsigned start = 1, silent_init = 0, hang_start = 0;
        size_t len;

        for (int i = 1; i < argc; i++) {
                if (i == 1 && !strcmp(argv[i], "serve"))
                        continue;
                if (!strncmp(argv[i], "-listen=unix;", 13))
                        listen_path = argv[i] + 13;
                else if (!strncmp(argv[i], "-listen.timeout=", 16))
                        continue;
                else if (!strcmp(argv[i], "--state") && i + 1 < argc)
                        state = argv[++i];
                else if (!strcmp(argv[i], "--silent-init") && i + 1 < argc) {
                        char *e;
                        silent_init = (unsigned)strtoul(argv[++i], &e, 10);
                        silent_later = *e == '+';
                } else if (!strcmp(argv[i], "--stall-first") && i + 1 < argc)
                        stall = argv[++i];
                else if (!strcmp(argv[i], "--crash-on") && i + 1 < argc)
                        crash_on = argv[++i];
                else if (!strcmp(argv[i], "--hang-on") && i + 1 < argc)
                        hang_on = argv[++i];
                else if (!strcmp(argv[i], "--spin-on") && i + 1 < argc)
                        spin_on = argv[++i];
                else if (!strcmp(argv[i], "--spin-seconds") && i + 1 < argc)
                        spin_seconds = strtod(argv[++i], NULL);
                else if (!strcmp(argv[i], "--hang-start") && i + 1 < argc)
                        hang_start = (unsigned)strtoul(argv[++i], NULL, 10);
                else
                        die("usage: lsp-echo [--state FILE] [--silent-init N[+]] "
                            "[--stall-first METHOD] [--crash-on METHOD] [--hang-on METHOD "
                            "[--hang-start N]] [--spin-on METHOD [--spin-seconds S]]");
        }
        if (state)
                start = count_start(state);
        if (listen_path)
                serve_socket(listen_path);
        bool mute_init = silent_init && (start == silent_init ||
                                         (silent_later && start > silent_init));

        while ((body = next_message(&len))) {
                struct message m;

                if (!parse_top(body, len, &m))
                        die("a message body is not a JSON object");
                if (!m.method.p)
                        continue; /* a response: we send no requests */
                if (method_is(&m.method, "exit")) {
                        if (!shut_down && daemon_pid)
                                kill(daemon_pid, SIGTERM);
                        return shut_down ? 0 : 1;
                }
                if (!m.id.p && method_is(&m.method, "bench/grow"))
                        grow(&m.params);
                if (!m.id.p)
                        continue; /* other notifications */
                if (stall && start == 1 && method_is(&m.method, stall))
                        continue;
                if (crash_on && method_is(&m.method, crash_on)) {
                        /* As gopls: a panic in a handler ends the whole
                         * process, the daemon with its connections. */
                        if (daemon_pid > 0 && daemon_pid != getpid())
                                kill(daemon_pid, SIGABRT);
                        abort();
                }
                if (spin_on && method_is(&m.method, spin_on)) {
                        /* CPU time, not wall time: the point is to use it. */
                        volatile unsigned long sink = 0;
                        while ((double)clock() / CLOCKS_PER_SEC < spin_seconds)
                                for (int k = 0; k < 100000; k++)
                                        sink += (unsigned long)k;
                        respond_text(&m.id, "null");
                        continue;
                }
                if (hang_on && (!hang_start || hang_start == start) &&
                    method_is(&m.method, hang_on)) {
                        /* said, so that a test knows the request got here */
                        fprintf(stderr, "lsp-echo: hanging at %s\n", hang_on);
                        fflush(stderr);
                        for (;;)
                                pause(); /* no CPU, no answers: only a signal ends it */
                }
                if (method_is(&m.method, "initialize")) {
                        if (mute_init)
                                continue;
                        respond_text(&m.id, "{\"capabilities\":{}}");
                } else if (method_is(&m.method, "shutdown")) {
                        shut_down = true;
                        respond_text(&m.id, "null");
                } else if (method_is(&m.method, "bench/echo")) {
                        if (m.params.p)
                                respond(&m.id, m.params.p, m.params.len, NULL, 0, NULL, 0);
                        else
                                respond_text(&m.id, "null");
                } else if (method_is(&m.method, "echo/start")) {
                        char n[32];
                        snprintf(n, sizeof n, "%u", start);
                        respond_text(&m.id, n);
                } else if (method_is(&m.method, "echo/daemon")) {
                        char pid[32];
                        snprintf(pid, sizeof pid, "%d", (int)daemon_pid);
                        respond_text(&m.id, pid);
                } else if (method_is(&m.method, "bench/leak")) {
                        for (;;) {
                                char *p = malloc(1 << 20);
                                if (p)
                                        memset(p, 1, 1 << 20);
                        }
                } else if (method_is(&m.method, "bench/crash")) {
                        abort();
                } else if (method_is(&m.method, "bench/big")) {
                        size_t n = big_size(&m.params);
                        if (n == SIZE_MAX)
                                respond_text(&m.id, "null");
                        else
                                respond_big(&m.id, n);
                } else {
                        respond_text(&m.id, "null");
                }
        }
        return 0;
}

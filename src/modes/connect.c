#include "connect.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "escape.h"
#include "serve.h"
#include "util.h"

#define SYSTEM_SOCKET_DIR "/run/gopls-guard"
#define PUMP_BUF (64 * 1024)

struct pipe_buf {
        char data[PUMP_BUF];
        size_t start, end;
        bool eof; /* the reading side ended; nothing more comes */
};

/* 1 connected, 0 nobody listens there, negative errno otherwise. */
static int try_connect(const char *path, int *ret_fd)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                return e == ENOENT || e == ECONNREFUSED ? 0 : -e;
        }
        *ret_fd = fd;
        return 1;
}

/* Read into b from fd: false when fd is done (EOF or error). */
static bool pump_in(struct pipe_buf *b, int fd)
{
        if (b->start == b->end)
                b->start = b->end = 0;
        ssize_t n = read(fd, b->data + b->end, sizeof b->data - b->end);
        if (n > 0) {
                b->end += (size_t)n;
                return true;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return true;
        b->eof = true;
        return false;
}

/* Write what b holds to fd: negative errno on failure. */
static int pump_out(struct pipe_buf *b, int fd)
{
        ssize_t n = write(fd, b->data + b->start, b->end - b->start);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        b->start += (size_t)n;
        return 0;
}

static int pump(int sock)
{
        static struct pipe_buf up, down; /* editor → guard, guard → editor */
        bool shut_wr = false;
        int in_flags = fcntl(STDIN_FILENO, F_GETFL), out_flags = fcntl(STDOUT_FILENO, F_GETFL);
        int code = 0;

        /* Non-blocking, so that neither direction can stall the other;
         * the flags go back as they were (the files are the editor's). */
        if (in_flags >= 0)
                (void)fcntl(STDIN_FILENO, F_SETFL, in_flags | O_NONBLOCK);
        if (out_flags >= 0)
                (void)fcntl(STDOUT_FILENO, F_SETFL, out_flags | O_NONBLOCK);
        (void)fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK);

        for (;;) {
                short sock_events =
                    (short)((!down.eof && down.end < sizeof down.data ? POLLIN : 0) |
                            (up.end > up.start ? POLLOUT : 0));
                struct pollfd p[3] = {
                    {.fd = up.eof || up.end == sizeof up.data ? -1 : STDIN_FILENO,
                     .events = POLLIN},
                    /* Nothing wanted: not polled, or a hung-up socket would spin. */
                    {.fd = sock_events ? sock : -1, .events = sock_events},
                    {.fd = down.end > down.start ? STDOUT_FILENO : -1, .events = POLLOUT},
                };
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        code = 1;
                        break;
                }
                if (p[0].revents)
                        (void)pump_in(&up, STDIN_FILENO);
                if (p[1].revents & (POLLIN | POLLHUP | POLLERR) && !down.eof)
                        (void)pump_in(&down, sock);
                if (p[1].revents & POLLOUT && pump_out(&up, sock) < 0) {
                        /* The guard closed the connection. */
                        up.start = up.end = 0;
                        up.eof = true;
                }
                if (p[2].revents && pump_out(&down, STDOUT_FILENO) < 0)
                        break; /* the editor is gone */
                if (up.eof && up.start == up.end && !shut_wr) {
                        /* The editor is done: the guard gets EOF, its
                         * last answers still come back. */
                        (void)shutdown(sock, SHUT_WR);
                        shut_wr = true;
                }
                if (down.eof && down.start == down.end)
                        break;
        }
        if (in_flags >= 0)
                (void)fcntl(STDIN_FILENO, F_SETFL, in_flags);
        if (out_flags >= 0)
                (void)fcntl(STDOUT_FILENO, F_SETFL, out_flags);
        return code;
}

int connect_run(const char *dir, const struct guard_roots *roots)
{
        char real[PATH_MAX], why[512];
        _cleanup_free_ char *esc = NULL, *user_dir = NULL, *user_sock = NULL, *system_sock = NULL;
        int fd = -1, r, err = 0;
        const char *err_path = NULL;

        if (!realpath(dir, real)) {
                fprintf(stderr, "gopls-guard: connect %s: %s\n", dir, strerror(errno));
                return CONNECT_EXIT_NO_GUARD;
        }
        r = escape_path(real, &esc);
        if (r < 0) {
                fprintf(stderr, "gopls-guard: connect %s: cannot name its socket: %s\n", real,
                        strerror(-r));
                return CONNECT_EXIT_NO_GUARD;
        }
        if (serve_socket_dir(roots->runtime_dir, false, &user_dir, why) >= 0)
                (void)serve_socket_path(user_dir, real, &user_sock);
        if (asprintf(&system_sock, SYSTEM_SOCKET_DIR "/%s.sock", esc) < 0)
                system_sock = NULL;

        const char *places[] = {user_sock, system_sock};
        for (size_t i = 0; i < 2 && fd < 0; i++) {
                if (!places[i] || (i == 1 && user_sock && strcmp(places[0], places[1]) == 0))
                        continue;
                r = try_connect(places[i], &fd);
                if (r < 0 && !err) {
                        err = -r;
                        err_path = places[i];
                }
        }
        if (fd < 0) {
                bool quote = strchr(esc, '\\') != NULL;
                if (err)
                        fprintf(stderr, "gopls-guard: cannot connect to %s: %s\n", err_path,
                                strerror(err));
                fprintf(stderr,
                        "gopls-guard: no gopls-guard serves %s (looked for %s%s%s).\n"
                        "Start one for your user with:\n"
                        "  systemctl --user enable --now %sgopls-guard@%s.socket%s\n"
                        "or run one yourself:\n"
                        "  gopls-guard serve --workspace %s\n",
                        real, user_sock ? user_sock : "", user_sock ? " and " : "",
                        system_sock ? system_sock : SYSTEM_SOCKET_DIR, quote ? "'" : "", esc,
                        quote ? "'" : "", real);
                return CONNECT_EXIT_NO_GUARD;
        }
        signal(SIGPIPE, SIG_IGN);
        r = pump(fd);
        close(fd);
        return r;
}

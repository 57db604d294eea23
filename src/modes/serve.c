#include "serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "cgroup.h"
#include "escape.h"
#include "guard.h"
#include "log.h"
#include "notify.h"
#include "placement.h"
#include "relay.h"
#include "status.h"
#include "util.h"

/* The private server's socket appears a moment after it starts (gopls
 * loads nothing before it listens, ~0.1 s); nothing notifies listen(),
 * so connecting is retried, from 5 ms doubling to 200 ms. */
#define CONNECT_RETRY_FIRST_USEC (5 * USEC_PER_MSEC)
#define CONNECT_RETRY_MAX_USEC (200 * USEC_PER_MSEC)
/* conn-N/ numbers that exist already, skipped before a connection is refused. */
#define CONN_SKIP_MAX 64u

struct serve;

/* One editor connection and its session. */
struct conn {
        struct serve *sv;
        struct conn *prev, *next;
        unsigned id;
        int fd, fd2; /* the accepted socket and a dup (the relay watches both ways) */
        struct relay *relay;
        bool attached; /* connected to the current server */
        bool leaving;  /* the editor is gone; waiting for the session's shutdown answer */
        bool dead;     /* to be freed outside the relay's and session's callbacks */
        sd_event_source *leave_timer;
};

struct serve {
        const struct serve_options *o;
        const struct policy *p;
        sd_event *event;
        struct guard *guard;

        int listen_fd;
        bool activated;  /* the socket came from systemd: leave it to systemd */
        char *sock_path; /* ours to remove when !activated */
        dev_t sock_dev;
        ino_t sock_ino;
        char *priv_path; /* the private server's socket */
        sd_event_source *listen_src, *idle_timer, *retry_timer, *reap_src;
        usec_t retry_delay;

        /* the current server generation */
        bool server_up;
        char *refusal;       /* after giving up: every request's answer until a server runs */
        int srv_in, srv_out; /* its stdio pipes: unused for LSP, stdout drained */
        sd_event_source *srv_out_src;

        struct conn *conns;
        unsigned nconns, next_id;
        unsigned poisoned_gone; /* requests dropped as poison in connections since closed */
        bool finishing; /* the guard ends: no timers any more */
};

/* ---- paths ----------------------------------------------------------- */

int serve_socket_dir(const char *override, bool create, char **ret, char why[512])
{
        struct status_places pl = status_places_default;

        pl.xdg = getenv("XDG_RUNTIME_DIR");
        if (!override && geteuid() == 0 && !(pl.xdg && *pl.xdg))
                /* The system's sockets: %t of the system manager (root in
                 * a session of its own has XDG_RUNTIME_DIR, as %t of its
                 * user manager). */
                return status_dir_at(&pl, "/run/gopls-guard", 0, create, ret, why);
        return status_dir_at(&pl, override, geteuid(), create, ret, why);
}

int serve_socket_path(const char *dir, const char *workspace, char **ret)
{
        _cleanup_free_ char *esc = NULL;
        char *path;
        int r = escape_path(workspace, &esc);

        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s.sock", dir, esc) < 0)
                return -ENOMEM;
        if (strlen(path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
                free(path);
                return -ENAMETOOLONG;
        }
        *ret = path;
        return 0;
}

static int make_addr(const char *path, struct sockaddr_un *sa)
{
        *sa = (struct sockaddr_un){.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa->sun_path)
                return -ENAMETOOLONG;
        strcpy(sa->sun_path, path);
        return 0;
}

/* Connect a non-blocking stream socket to `path`: 0 with the fd, or a
 * negative errno (-ENOENT / -ECONNREFUSED: nobody listens). */
static int connect_unix(const char *path, int *ret_fd)
{
        struct sockaddr_un sa;
        int r = make_addr(path, &sa);
        if (r < 0)
                return r;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- connections ----------------------------------------------------- */

static void arm_idle(struct serve *sv);
static void arm_retry(struct serve *sv, bool now);

static void conn_free(struct conn *c)
{
        struct serve *sv = c->sv;

        c->leave_timer = sd_event_source_disable_unref(c->leave_timer);
        if (c->relay) {
                struct lsp_session_stats st;
                session_stats(relay_session(c->relay), &st);
                sv->poisoned_gone += st.poisoned;
        }
        relay_free(c->relay);
        if (c->fd >= 0)
                close(c->fd);
        if (c->fd2 >= 0)
                close(c->fd2);
        if (c->prev)
                c->prev->next = c->next;
        else
                sv->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        sv->nconns--;
        log_info("Editor connection %u closed; %u left.", c->id, sv->nconns);
        free(c);
        if (sv->nconns == 0 && !sv->finishing)
                arm_idle(sv);
}

/* Close `c` once the current callback has returned: the relay and its
 * session may be in the middle of the call that reported the end. */
static void conn_close(struct conn *c)
{
        c->dead = true;
        if (c->sv->reap_src && sd_event_source_set_enabled(c->sv->reap_src, SD_EVENT_ONESHOT) >= 0)
                return;
        log_warning("Cannot defer closing editor connection %u; it stays open until the "
                    "guard ends.",
                    c->id);
}

static int on_reap(sd_event_source *s, void *userdata)
{
        struct serve *sv = userdata;
        (void)s;
        for (struct conn *c = sv->conns, *next; c; c = next) {
                next = c->next;
                if (c->dead)
                        conn_free(c);
        }
        return 0;
}

/* Give the connection the current server: replay if it had one before. */
static int conn_attach(struct conn *c)
{
        int fd, fd2, r;

        r = connect_unix(c->sv->priv_path, &fd);
        if (r < 0)
                return r;
        fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (fd2 < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        r = relay_attach_server(c->relay, fd, fd2);
        if (r < 0) {
                /* The relay owns them now and closes them at the detach. */
                relay_detach_server(c->relay);
                return r;
        }
        c->attached = true;
        log_debug("Editor connection %u attached to the server.", c->id);
        return 0;
}

static int on_leave_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct conn *c = userdata;
        (void)s;
        (void)usec;
        log_debug("Editor connection %u: the server did not answer the session's shutdown "
                  "in time; closing it anyway.",
                  c->id);
        conn_close(c);
        return 0;
}

/* The editor is gone (EOF, a broken pipe, or its exit). */
static void on_editor_done(void *userdata)
{
        struct conn *c = userdata;
        struct lsp_session *session = relay_session(c->relay);

        if (c->leaving || c->dead)
                return;
        c->leaving = true;
        int r = c->attached ? session_leave(session) : 0;
        log_info("Editor connection %u ended%s.", c->id,
                 r > 0 ? "; ending its session on the server" : "");
        if (r <= 0) {
                /* What is queued for the server (the didClose notes) has
                 * mostly gone out already: a socket takes it at once. */
                relay_end_server_input(c->relay);
                conn_close(c);
                return;
        }
        r = sd_event_add_time_relative(c->sv->event, &c->leave_timer, CLOCK_MONOTONIC,
                                       c->sv->p->restart.stop_grace, 0, on_leave_timer, c);
        if (r < 0)
                conn_close(c);
}

static void on_server_read(void *userdata)
{
        struct conn *c = userdata;

        if (c->dead)
                return;
        if (c->leaving && !session_leaving(relay_session(c->relay))) {
                conn_close(c);
                return;
        }
        if (c->attached && relay_server_eof(c->relay)) {
                /* The server closed this editor's connection but runs on
                 * (when it ends, its exit comes through the pidfd as well):
                 * a new connection, and the session replayed onto it. */
                log_notice("The server closed editor connection %u; reconnecting.", c->id);
                relay_detach_server(c->relay);
                c->attached = false;
                if (c->leaving)
                        conn_close(c);
                else
                        arm_retry(c->sv, false);
        }
}

static void on_conn_replay_timed_out(void *userdata)
{
        struct conn *c = userdata;
        guard_replay_timed_out(c->sv->guard);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct serve *sv = userdata;
        (void)s;
        (void)revents;

        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0) {
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_warning_errno(errno, "Cannot accept an editor on %s: %m",
                                          sv->sock_path ? sv->sock_path : "the socket");
                return 0;
        }
        struct conn *c = calloc(1, sizeof *c);
        if (!c) {
                close(cfd);
                return 0;
        }
        c->sv = sv;
        c->fd = cfd;
        c->fd2 = fcntl(cfd, F_DUPFD_CLOEXEC, 3);
        c->id = ++sv->next_id;
        const struct lsp_session_config scfg = {
            .replay = sv->p->lsp.replay, .notify = sv->p->lsp.notify, .shared_server = true};
        const struct relay_events rev = {.editor_done = on_editor_done,
                                         .replay_timed_out = on_conn_replay_timed_out,
                                         .replay_timeout_usec = sv->p->lsp.replay_timeout,
                                         .server_read = on_server_read,
                                         .shared = true,
                                         .userdata = c};
        int r =
            c->fd2 < 0 ? -errno : relay_new_fds(sv->event, &scfg, &rev, c->fd, c->fd2, &c->relay);
        if (r < 0) {
                log_warning_errno(r, "Cannot take an editor connection: %m");
                if (c->fd2 >= 0)
                        close(c->fd2);
                close(cfd);
                free(c);
                return 0;
        }
        struct ucred cred;
        socklen_t len = sizeof cred;
        if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                log_info("Editor connection %u (pid %d, uid %u).", c->id, (int)cred.pid,
                         (unsigned)cred.uid);
        c->next = sv->conns;
        if (sv->conns)
                sv->conns->prev = c;
        sv->conns = c;
        sv->nconns++;
        (void)sd_event_source_set_enabled(sv->idle_timer, SD_EVENT_OFF);
        /* Told at start to the editors then connected, i.e. none. */
        const char *notice = guard_degraded_notice(sv->guard);
        if (notice)
                session_show_message(relay_session(c->relay), 2, notice);
        /* The guard gave up for now: this editor is answered, not held. */
        if (sv->refusal && !sv->server_up &&
            session_refuse_requests(relay_session(c->relay), sv->refusal) < 0)
                log_warning_errno(ENOMEM, "Out of memory");
        if (sv->server_up) {
                r = conn_attach(c);
                if (r < 0)
                        arm_retry(sv, false);
        }
        return 0;
}

/* ---- the server's private socket ------------------------------------ */

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct serve *sv = userdata;
        int last = 0;
        bool pending = false;
        (void)s;
        (void)usec;

        if (!sv->server_up)
                return 0;
        for (struct conn *c = sv->conns, *next; c; c = next) {
                next = c->next;
                if (c->attached || c->leaving || c->dead)
                        continue;
                int r = conn_attach(c);
                if (r < 0) {
                        last = r;
                        pending = true;
                        /* Nobody listens yet: the others would fail alike. */
                        if (r == -ENOENT || r == -ECONNREFUSED || r == -EAGAIN)
                                break;
                }
        }
        if (pending) {
                log_debug_errno(last,
                                "The server's socket %s does not take connections yet "
                                "(%m); trying again.",
                                sv->priv_path);
                arm_retry(sv, false);
        } else
                sv->retry_delay = CONNECT_RETRY_FIRST_USEC;
        return 0;
}

static void arm_retry(struct serve *sv, bool now)
{
        usec_t delay = now ? 0 : sv->retry_delay;
        int r;

        if (!now) {
                sv->retry_delay *= 2;
                if (sv->retry_delay > CONNECT_RETRY_MAX_USEC)
                        sv->retry_delay = CONNECT_RETRY_MAX_USEC;
        }
        r = sd_event_source_set_time_relative(sv->retry_timer, delay);
        if (r >= 0)
                r = sd_event_source_set_enabled(sv->retry_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot arm a timer; editors wait for the next server: %m");
}

static int on_server_stdout(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct serve *sv = userdata;
        char buf[4096];
        (void)revents;

        /* The server talks LSP on its socket; whatever it prints goes. */
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                sv->srv_out_src = sd_event_source_disable_unref(s);
        else if (n > 0)
                log_debug("The server wrote %zd bytes to its stdout (ignored).", n);
        return 0;
}

static void close_server_pipes(struct serve *sv)
{
        sv->srv_out_src = sd_event_source_disable_unref(sv->srv_out_src);
        if (sv->srv_in >= 0)
                close(sv->srv_in);
        if (sv->srv_out >= 0)
                close(sv->srv_out);
        sv->srv_in = sv->srv_out = -1;
}

/* ---- the guard's front ---------------------------------------------- */

static int front_attach(void *userdata, int stdin_fd, int stdout_fd)
{
        struct serve *sv = userdata;

        close_server_pipes(sv);
        sv->srv_in = stdin_fd;
        sv->srv_out = stdout_fd;
        int r =
            sd_event_add_io(sv->event, &sv->srv_out_src, stdout_fd, EPOLLIN, on_server_stdout, sv);
        if (r < 0)
                return r;
        sv->server_up = true;
        free(sv->refusal);
        sv->refusal = NULL;
        sv->retry_delay = CONNECT_RETRY_FIRST_USEC;
        if (sv->conns)
                arm_retry(sv, true);
        return 0;
}

static void front_detach(void *userdata)
{
        struct serve *sv = userdata;

        sv->server_up = false;
        close_server_pipes(sv);
        (void)sd_event_source_set_enabled(sv->retry_timer, SD_EVENT_OFF);
        for (struct conn *c = sv->conns, *next; c; c = next) {
                next = c->next;
                relay_detach_server(c->relay);
                c->attached = false;
                if (c->leaving)
                        conn_free(c);
                else if (!session_can_restart(relay_session(c->relay))) {
                        /* [lsp] replay = no: a new server would never see
                         * this editor's initialize; it must see the end. */
                        log_notice("Closing editor connection %u: with [lsp] replay = no it "
                                   "cannot be carried over to a new server.",
                                   c->id);
                        conn_free(c);
                }
        }
        /* The next generation listens on the same path. */
        (void)unlink(sv->priv_path);
}

static void front_end_input(void *userdata)
{
        struct serve *sv = userdata;

        /* No new editors while stopping. */
        (void)sd_event_source_set_enabled(sv->listen_src, SD_EVENT_OFF);
        if (sv->srv_in >= 0)
                close(sv->srv_in);
        sv->srv_in = -1;
}

static void front_fail_pending(void *userdata, const char *message)
{
        struct serve *sv = userdata;
        for (struct conn *c = sv->conns; c; c = c->next)
                session_fail_pending(relay_session(c->relay), message);
}

static void front_show_message(void *userdata, int type, const char *message)
{
        struct serve *sv = userdata;
        for (struct conn *c = sv->conns; c; c = c->next)
                session_show_message(relay_session(c->relay), type, message);
}

static void front_refuse_requests(void *userdata, const char *message)
{
        struct serve *sv = userdata;
        free(sv->refusal);
        sv->refusal = message ? strdup(message) : NULL;
        for (struct conn *c = sv->conns; c; c = c->next)
                if (session_refuse_requests(relay_session(c->relay), message) < 0)
                        session_fail_pending(relay_session(c->relay), message);
}

/* One identity for "the oldest watched request" over every editor: the
 * first connection that has one, and its request's number. */
static uint64_t front_watched_request(void *userdata)
{
        struct serve *sv = userdata;
        for (struct conn *c = sv->conns; c; c = c->next) {
                uint64_t seq = session_watched_request(relay_session(c->relay));
                if (seq)
                        return (uint64_t)c->id << 40 | (seq & ((UINT64_C(1) << 40) - 1));
        }
        return 0;
}

static size_t front_pending_methods(void *userdata, const char **ret, size_t max)
{
        struct serve *sv = userdata;
        size_t n = 0;
        for (struct conn *c = sv->conns; c && n < max; c = c->next)
                n += session_pending_methods(relay_session(c->relay), ret + n, max - n);
        return n;
}

static unsigned front_poisoned(void *userdata)
{
        struct serve *sv = userdata;
        unsigned n = sv->poisoned_gone;
        for (struct conn *c = sv->conns; c; c = c->next) {
                struct lsp_session_stats st;
                session_stats(relay_session(c->relay), &st);
                n += st.poisoned;
        }
        return n;
}

static void front_note_crash(void *userdata)
{
        struct serve *sv = userdata;
        for (struct conn *c = sv->conns; c; c = c->next)
                session_note_crash(relay_session(c->relay));
}

static int on_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct serve *sv = userdata;
        char d[32];
        (void)s;
        (void)usec;

        if (sv->nconns > 0)
                return 0;
        format_duration(sv->p->serve.idle_timeout, d, sizeof d);
        log_info("No editor connected for [serve] idle_timeout = %s; stopping.", d);
        guard_request_stop(sv->guard);
        return 0;
}

static void arm_idle(struct serve *sv)
{
        int r;

        if (!sv->idle_timer || sv->p->serve.idle_timeout == 0)
                return;
        r = sd_event_source_set_time_relative(sv->idle_timer, sv->p->serve.idle_timeout);
        if (r >= 0)
                r = sd_event_source_set_enabled(sv->idle_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "Cannot arm the idle timer ([serve] idle_timeout is not "
                                     "enforced): %m");
}

static int front_start(void *userdata, sd_event *e, struct guard *g)
{
        struct serve *sv = userdata;
        int r;

        sv->event = e;
        sv->guard = g;
        r = sd_event_add_io(e, &sv->listen_src, sv->listen_fd, EPOLLIN, on_accept, sv);
        if (r >= 0)
                r = sd_event_add_defer(e, &sv->reap_src, on_reap, sv);
        if (r >= 0)
                r = sd_event_source_set_enabled(sv->reap_src, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &sv->retry_timer, CLOCK_MONOTONIC, 0, 1, on_retry,
                                               sv);
        if (r >= 0)
                r = sd_event_source_set_enabled(sv->retry_timer, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time_relative(e, &sv->idle_timer, CLOCK_MONOTONIC,
                                               sv->p->serve.idle_timeout, USEC_PER_SEC, on_idle,
                                               sv);
        if (r >= 0)
                r = sd_event_source_set_enabled(
                    sv->idle_timer, sv->p->serve.idle_timeout ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the socket %s: %m",
                                       sv->sock_path ? sv->sock_path : "from systemd");
        log_info("Serving %s on %s%s.", sv->o->workspace,
                 sv->sock_path ? sv->sock_path : "the socket from systemd",
                 sv->activated ? " (socket activation)" : "");
        return 0;
}

static void front_finish(void *userdata, uint64_t timeout_usec)
{
        struct serve *sv = userdata;

        sv->finishing = true;
        while (sv->conns) {
                struct conn *c = sv->conns;
                relay_detach_server(c->relay);
                relay_flush_editor(c->relay, timeout_usec / (sv->nconns + 1));
                c->leaving = true;
                conn_free(c);
        }
        sv->idle_timer = sd_event_source_disable_unref(sv->idle_timer);
        sv->reap_src = sd_event_source_disable_unref(sv->reap_src);
        sv->retry_timer = sd_event_source_disable_unref(sv->retry_timer);
        sv->listen_src = sd_event_source_disable_unref(sv->listen_src);
        close_server_pipes(sv);
}

/* ---- listening ------------------------------------------------------- */

/* The socket systemd passed, if any: 1 with the fd, 0 for none, or a
 * negative errno (logged). */
static int take_activated(int *ret_fd)
{
        int n = sd_listen_fds(1);
        if (n < 0)
                return log_error_errno(n, "Cannot read LISTEN_FDS: %m");
        if (n == 0)
                return 0;
        if (n > 1)
                return log_error_errno(EINVAL,
                                       "systemd passed %d sockets (LISTEN_FDS); "
                                       "gopls-guard@.socket must have one "
                                       "ListenStream=",
                                       n);
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0)
                return log_error_errno(EINVAL, "The socket systemd passed is not a listening "
                                               "AF_UNIX stream socket (ListenStream= a path)");
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        *ret_fd = fd;
        return 1;
}

/* Bind `path` 0600.  A socket left there by a guard that died is replaced;
 * one that answers belongs to a running guard: -EADDRINUSE. */
static int listen_at(const char *path, int *ret_fd, dev_t *ret_dev, ino_t *ret_ino)
{
        struct sockaddr_un sa;
        struct stat st;
        int r = make_addr(path, &sa), probe;

        if (r < 0)
                return r;
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                r = connect_unix(path, &probe);
                if (r == 0) {
                        close(probe);
                        return -EADDRINUSE;
                }
                /* The directory is the user's own and 0700: only their own
                 * dead guard can have left it. */
                if (r == -ECONNREFUSED && unlink(path) < 0)
                        return -errno;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ? -errno : 0;
        umask(old);
        if (r == 0 && listen(fd, SOMAXCONN) < 0)
                r = -errno;
        if (r == 0 && lstat(path, &st) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_dev = st.st_dev;
        *ret_ino = st.st_ino;
        return 0;
}

/* ---- share = no: a guard of its own per connection ------------------- */

/* One connection's guard, a child process with the connection as stdio. */
struct solo_child {
        struct solo *sl;
        struct solo_child *next;
        pid_t pid;
        sd_event_source *src;
        char *cg_dir; /* DIR/conn-N, made for it, or NULL (degraded) */
};

struct solo {
        struct serve *sv;
        sd_event *event;
        struct cg_tree cg;
        bool have_cgroup;
        unsigned next_id, nchildren;
        bool stopping;
        struct solo_child *children;
        sd_event_source *listen_src, *idle_timer;
        struct notifier notify; /* READY, STOPPING, WATCHDOG for the unit */
};

/* The subtree the per-connection guards work in, in DESIGN.md's order
 * (--cgroup / [cgroup] path, then the guard's own cgroup when delegated);
 * laid out as in stdio mode, so that this process is in supervisor/ and
 * each child's DIR/conn-N/ gets the controllers.  1 with sl->cg set up, 0
 * for none (why says it). */
static int solo_find_cgroup(struct solo *sl, char why[CG_WHY_MAX])
{
        const struct serve_options *o = sl->sv->o;
        struct placement_request rq =
            placement_request_for(o->cgroup, o->policy, o->roots, o->workspace);

        return placement_open(&rq, o->policy, "the daemon", &sl->cg, why) > 0;
}

static void solo_arm_idle(struct solo *sl)
{
        if (sl->nchildren == 0 && !sl->stopping && sl->sv->p->serve.idle_timeout &&
            (sd_event_source_set_time_relative(sl->idle_timer, sl->sv->p->serve.idle_timeout) < 0 ||
             sd_event_source_set_enabled(sl->idle_timer, SD_EVENT_ONESHOT) < 0))
                log_warning("Cannot arm the idle timer ([serve] idle_timeout is not enforced).");
}

static void solo_reaped(struct solo *sl, struct solo_child *c)
{
        for (struct solo_child **pp = &sl->children; *pp; pp = &(*pp)->next)
                if (*pp == c) {
                        *pp = c->next;
                        break;
                }
        c->src = sd_event_source_disable_unref(c->src);
        /* Its guard removed server/ in it; the directory is ours. */
        if (c->cg_dir && rmdir(c->cg_dir) < 0 && errno != ENOENT)
                log_warning_errno(errno, "Cannot remove %s: %m", c->cg_dir);
        free(c->cg_dir);
        free(c);
        sl->nchildren--;
        if (sl->stopping && sl->nchildren == 0)
                sd_event_exit(sl->event, 0);
        solo_arm_idle(sl);
}

static int on_solo_child(sd_event_source *s, const siginfo_t *si, void *userdata)
{
        struct solo_child *c = userdata;
        (void)s;
        log_info("The guard of an editor connection (pid %d) ended with %s %d.", (int)si->si_pid,
                 si->si_code == CLD_EXITED ? "status" : "signal", si->si_status);
        solo_reaped(c->sl, c);
        return 0;
}

/* In the child: the connection becomes stdio, and a guard serves it as it
 * would an editor that started it.  Never returns. */
__attribute__((noreturn)) static void solo_child_run(struct solo *sl, int cfd, const char *cg_dir)
{
        const struct serve_options *o = sl->sv->o;

        close(sl->sv->listen_fd);
        if (dup2(cfd, STDIN_FILENO) < 0 || dup2(cfd, STDOUT_FILENO) < 0)
                _exit(1);
        if (cfd > STDOUT_FILENO)
                close(cfd);
        /* The unit's main process speaks for the service, not each guard. */
        unsetenv("NOTIFY_SOCKET");
        const struct guard_options go = {
            .policy = o->policy,
            .argv = o->server_argv,
            .workspace = o->workspace,
            .cgroup = cg_dir,
            .proc_root = o->roots->proc,
            .roots = o->roots,
        };
        _exit(guard_run(&go));
}

static int on_solo_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct solo *sl = userdata;
        _cleanup_free_ char *cg_dir = NULL;
        (void)s;
        (void)revents;

        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        unsigned id = ++sl->next_id;
        if (sl->have_cgroup) {
                /* A fresh conn-N/, marked as the daemon's, so that whoever
                 * finds it left behind (cg_sweep_conns()) may remove it.
                 * One that exists already is in use, or was left where it
                 * cannot be removed: its number is skipped, never reused. */
                char name[32], warn[CG_WHY_MAX] = "", why[CG_WHY_MAX] = "";
                int r, conn_fd = -1;
                for (unsigned tries = 0;; tries++, id = ++sl->next_id) {
                        snprintf(name, sizeof name, "conn-%u", id);
                        r = cg_make_child(&sl->cg, name, &conn_fd, warn, why);
                        if (r != -EEXIST || tries == CONN_SKIP_MAX)
                                break;
                }
                if (r < 0) {
                        log_warning("Refusing an editor connection: %s.", why);
                        close(cfd);
                        return 0;
                }
                close(conn_fd);
                if (warn[0])
                        log_debug("%s.", warn);
                if (asprintf(&cg_dir, "%s/%s", sl->cg.path, name) < 0) {
                        (void)unlinkat(sl->cg.dir_fd, name, AT_REMOVEDIR);
                        close(cfd);
                        return 0;
                }
        }
        struct solo_child *c = calloc(1, sizeof *c);
        if (!c) {
                close(cfd);
                return 0;
        }
        pid_t pid = fork();
        if (pid == 0)
                solo_child_run(sl, cfd, cg_dir);
        close(cfd);
        if (pid < 0) {
                log_warning_errno(errno, "Cannot start a guard for an editor connection: %m");
                if (cg_dir)
                        (void)rmdir(cg_dir);
                free(c);
                return 0;
        }
        c->sl = sl;
        c->pid = pid;
        c->cg_dir = cg_dir;
        cg_dir = NULL;
        c->next = sl->children;
        sl->children = c;
        sl->nchildren++;
        (void)sd_event_source_set_enabled(sl->idle_timer, SD_EVENT_OFF);
        if (sd_event_add_child(sl->event, &c->src, pid, WEXITED, on_solo_child, c) < 0)
                log_warning("Cannot watch the guard of editor connection %u (pid %d).", id,
                            (int)pid);
        log_info("Editor connection %u: its own guard and server (pid %d%s%s).", id, (int)pid,
                 c->cg_dir ? ", in " : "", c->cg_dir ? c->cg_dir : "");
        return 0;
}

static int on_solo_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        struct solo *sl = userdata;
        (void)s;
        log_info("Received %s; stopping every connection's guard.", strsignal((int)si->ssi_signo));
        notify_stopping(&sl->notify);
        sl->stopping = true;
        (void)sd_event_source_set_enabled(sl->listen_src, SD_EVENT_OFF);
        (void)sd_event_source_set_enabled(sl->idle_timer, SD_EVENT_OFF);
        for (struct solo_child *c = sl->children; c; c = c->next)
                (void)kill(c->pid, SIGTERM);
        if (sl->nchildren == 0)
                sd_event_exit(sl->event, 0);
        return 0;
}

static int on_solo_idle(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct solo *sl = userdata;
        char d[32];
        (void)s;
        (void)usec;
        if (sl->nchildren > 0)
                return 0;
        format_duration(sl->sv->p->serve.idle_timeout, d, sizeof d);
        log_info("No editor connected for [serve] idle_timeout = %s; exiting.", d);
        notify_stopping(&sl->notify);
        sd_event_exit(sl->event, 0);
        return 0;
}

/* share = no: accept, and fork a guard per connection. */
static int solo_run(struct serve *sv)
{
        struct solo sl = {.sv = sv, .cg = {.dir_fd = -1, .server_fd = -1}};
        char why[CG_WHY_MAX] = "";
        sigset_t mask;
        int r, code = 1;

        if (solo_find_cgroup(&sl, why) > 0) {
                sl.have_cgroup = true;
                /* conn-N/ a daemon killed before us left here: its guards
                 * are gone, or the lock would not be ours. */
                cg_sweep_conns(sl.cg.dir_fd);
                log_info("Each editor connection gets its own server in %s/conn-N/server.",
                         sl.cg.path);
        } else if (sv->p->cgroup.require) {
                log_error("No usable cgroup: %s. [cgroup] require = yes, so nothing is served.",
                          why);
                return 3;
        } else
                log_warning("No usable cgroup: %s. Each connection's guard runs degraded.", why);

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGQUIT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        r = sd_event_new(&sl.event);
        if (r >= 0)
                r = sd_event_add_signal(sl.event, NULL, SIGTERM, on_solo_signal, &sl);
        if (r >= 0)
                r = sd_event_add_signal(sl.event, NULL, SIGINT, on_solo_signal, &sl);
        if (r >= 0)
                r = sd_event_add_signal(sl.event, NULL, SIGHUP, on_solo_signal, &sl);
        if (r >= 0)
                r = sd_event_add_signal(sl.event, NULL, SIGQUIT, on_solo_signal, &sl);
        if (r >= 0)
                r = sd_event_add_io(sl.event, &sl.listen_src, sv->listen_fd, EPOLLIN,
                                    on_solo_accept, &sl);
        if (r >= 0)
                r = sd_event_add_time_relative(sl.event, &sl.idle_timer, CLOCK_MONOTONIC,
                                               sv->p->serve.idle_timeout, USEC_PER_SEC,
                                               on_solo_idle, &sl);
        if (r >= 0)
                r = sd_event_source_set_enabled(
                    sl.idle_timer, sv->p->serve.idle_timeout ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        if (r < 0) {
                log_error_errno(r, "Cannot set up the event loop: %m");
                goto out;
        }
        log_info("Serving %s on %s%s, one server per connection ([serve] share = no).",
                 sv->o->workspace, sv->sock_path ? sv->sock_path : "the socket from systemd",
                 sv->activated ? " (socket activation)" : "");
        if (notify_start(&sl.notify, sl.event) < 0)
                log_warning("Cannot arm the watchdog pings (WatchdogSec=).");
        notify_ready(&sl.notify);
        r = sd_event_loop(sl.event);
        code = r < 0 ? 1 : r;
out:
        sl.listen_src = sd_event_source_disable_unref(sl.listen_src);
        sl.idle_timer = sd_event_source_disable_unref(sl.idle_timer);
        notify_done(&sl.notify);
        /* Only on a failure of the loop itself: no guard outlives this one. */
        while (sl.children) {
                struct solo_child *c = sl.children;
                (void)kill(c->pid, SIGKILL);
                (void)waitpid(c->pid, NULL, 0);
                solo_reaped(&sl, c);
        }
        if (sl.have_cgroup) {
                if (cg_teardown(&sl.cg, 5 * USEC_PER_SEC, why) < 0)
                        log_warning("%s", why);
                cg_close(&sl.cg);
        }
        sd_event_unref(sl.event);
        return code;
}

/* gopls's daemon (both 0.5.0 and 0.16.1), which never exits for lack of
 * clients with a zero timeout. */
char **serve_shared_argv(char *const *argv, const char *priv)
{
        size_t n = 0;
        while (argv[n])
                n++;
        char **a = calloc(n + 4, sizeof *a);
        if (!a)
                return NULL;
        size_t k = 0, i = 1;
        a[k++] = argv[0];
        a[k++] = (char *)"serve";
        if (argv[1] && strcmp(argv[1], "serve") == 0)
                i++;
        if (asprintf(&a[k++], "-listen=unix;%s", priv) < 0) {
                free(a);
                return NULL;
        }
        a[k++] = (char *)"-listen.timeout=0";
        for (; i < n; i++)
                a[k++] = argv[i];
        return a;
}

void serve_shared_argv_free(char **argv)
{
        if (argv) {
                free(argv[2]);
                free(argv);
        }
}

int serve_run(const struct serve_options *o)
{
        struct serve sv = {.o = o,
                           .p = o->policy,
                           .listen_fd = -1,
                           .srv_in = -1,
                           .srv_out = -1,
                           .retry_delay = CONNECT_RETRY_FIRST_USEC};
        _cleanup_free_ char *dir = NULL;
        char why[512] = "";
        char **argv = NULL;
        int r, code = 1;

        r = take_activated(&sv.listen_fd);
        if (r < 0)
                return SERVE_EXIT_SOCKET;
        sv.activated = r > 0;
        r = serve_socket_dir(o->roots->runtime_dir, true, &dir, why);
        if (r < 0) {
                log_error("Cannot use the runtime directory for the sockets: %s",
                          why[0] ? why : strerror(-r));
                code = SERVE_EXIT_SOCKET;
                goto out;
        }
        if (!sv.activated) {
                r = serve_socket_path(dir, o->workspace, &sv.sock_path);
                if (r == -ENAMETOOLONG) {
                        log_error("The socket path for %s in %s is longer than a unix socket "
                                  "address allows (107 bytes); serve a shorter path or set "
                                  "XDG_RUNTIME_DIR to a shorter directory.",
                                  o->workspace, dir);
                        code = SERVE_EXIT_SOCKET;
                        goto out;
                }
                if (r < 0) {
                        log_error_errno(r, "Cannot name the socket for %s: %m", o->workspace);
                        code = SERVE_EXIT_SOCKET;
                        goto out;
                }
                r = listen_at(sv.sock_path, &sv.listen_fd, &sv.sock_dev, &sv.sock_ino);
                if (r < 0) {
                        if (r == -EADDRINUSE)
                                log_error("Another gopls-guard already serves %s on %s; "
                                          "connect to it with: gopls-guard connect %s",
                                          o->workspace, sv.sock_path, o->workspace);
                        else if (r == -EEXIST)
                                log_error("%s exists and is not a socket; not replacing it.",
                                          sv.sock_path);
                        else
                                log_error_errno(r, "Cannot listen on %s: %m", sv.sock_path);
                        free(sv.sock_path);
                        sv.sock_path = NULL;
                        code = SERVE_EXIT_SOCKET;
                        goto out;
                }
        }

        if (!o->policy->serve.share) {
                code = solo_run(&sv);
                goto out;
        }
        if (asprintf(&sv.priv_path, "%s/server-%d.sock", dir, (int)getpid()) < 0 ||
            strlen(sv.priv_path) >= sizeof(((struct sockaddr_un *)NULL)->sun_path)) {
                log_error("The server's socket path %s/server-%d.sock is too long for a unix "
                          "socket address; set XDG_RUNTIME_DIR to a shorter directory.",
                          dir, (int)getpid());
                goto out;
        }
        (void)unlink(sv.priv_path);
        argv = serve_shared_argv(o->server_argv, sv.priv_path);
        if (!argv) {
                log_error_errno(ENOMEM, "Out of memory");
                goto out;
        }
        const struct guard_front front = {
            .start = front_start,
            .attach = front_attach,
            .detach = front_detach,
            .end_input = front_end_input,
            .fail_pending = front_fail_pending,
            .show_message = front_show_message,
            .note_crash = front_note_crash,
            .refuse_requests = front_refuse_requests,
            .watched_request = front_watched_request,
            .pending_methods = front_pending_methods,
            .poisoned = front_poisoned,
            .finish = front_finish,
            .userdata = &sv,
        };
        struct guard_options go = {
            .policy = o->policy,
            .argv = argv,
            .workspace = o->workspace,
            .cgroup = o->cgroup,
            .proc_root = o->roots->proc,
            .roots = o->roots,
            .front = &front,
        };
        code = guard_run(&go);
out:
        if (sv.listen_fd >= 0)
                close(sv.listen_fd);
        if (sv.sock_path) {
                /* Only the socket this guard made: not one a later guard
                 * put there after this one stopped answering. */
                struct stat st;
                if (lstat(sv.sock_path, &st) == 0 && st.st_dev == sv.sock_dev &&
                    st.st_ino == sv.sock_ino)
                        (void)unlink(sv.sock_path);
                free(sv.sock_path);
        }
        if (sv.priv_path) {
                (void)unlink(sv.priv_path);
                free(sv.priv_path);
        }
        free(sv.refusal);
        serve_shared_argv_free(argv);
        return code;
}

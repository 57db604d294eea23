#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "lsp-framing.h"
#include "util.h"

struct relay {
        sd_event *event;
        struct relay_events ev;
        struct lsp_session *session;

        /* editor side */
        struct lsp_decoder from_editor;
        struct lsp_outq to_editor;
        int ed_in, ed_out; /* stdin/stdout, or an editor's socket (not owned) */
        sd_event_source *stdin_src, *stdout_src;
        bool stdin_closed, stdout_broken, stdout_pollable, done_reported;

        /* server side, per generation */
        struct lsp_decoder from_server;
        struct lsp_outq to_server;
        sd_event_source *srv_in_src, *srv_out_src;
        sd_event_source *replay_timer; /* armed while a new server is replayed to */
        int srv_in, srv_out;
        bool end_input; /* close srv_in once to_server is empty */

        size_t queued_peak; /* the most both queues held since they were last empty */
};

/* Queued messages are malloc()ed a message at a time, most below glibc's
 * mmap threshold: a server slower than the editor (gopls reading a burst
 * of didOpen, or a replay of every document) leaves megabytes of freed
 * heap behind that glibc keeps.  Once the queues empty after holding at
 * least this much, the free pages go back to the kernel. */
#define RELAY_TRIM_AFTER ((size_t)1 << 20)

static void trim_after_drain(struct relay *r)
{
        size_t q = lsp_outq_queued(&r->to_server) + lsp_outq_queued(&r->to_editor);

        if (q > r->queued_peak)
                r->queued_peak = q;
        if (q == 0) {
                if (r->queued_peak >= RELAY_TRIM_AFTER)
                        (void)malloc_trim(0);
                r->queued_peak = 0;
        }
}

static void report_done(struct relay *r)
{
        if (r->done_reported)
                return;
        r->done_reported = true;
        if (r->ev.editor_done)
                r->ev.editor_done(r->ev.userdata);
}

static void update_io(struct relay *r)
{
        trim_after_drain(r);
        /* The editor's messages feed the server's queue, and the session's
         * own answers to them (refusals, cancels) feed the editor's: an
         * editor that sends without reading is paused by either. */
        if (r->stdin_src)
                (void)sd_event_source_set_enabled(r->stdin_src, lsp_outq_full(&r->to_server) ||
                                                                        lsp_outq_full(&r->to_editor)
                                                                ? SD_EVENT_OFF
                                                                : SD_EVENT_ON);
        if (r->srv_out_src)
                (void)sd_event_source_set_enabled(r->srv_out_src, lsp_outq_full(&r->to_editor)
                                                                          ? SD_EVENT_OFF
                                                                          : SD_EVENT_ON);
        if (r->srv_in_src)
                (void)sd_event_source_set_enabled(r->srv_in_src, lsp_outq_queued(&r->to_server)
                                                                         ? SD_EVENT_ON
                                                                         : SD_EVENT_OFF);
        if (r->stdout_src)
                (void)sd_event_source_set_enabled(r->stdout_src, lsp_outq_queued(&r->to_editor)
                                                                         ? SD_EVENT_ON
                                                                         : SD_EVENT_OFF);
}

static void close_server_input(struct relay *r)
{
        r->srv_in_src = sd_event_source_disable_unref(r->srv_in_src);
        if (r->srv_in >= 0)
                close(r->srv_in);
        r->srv_in = -1;
        lsp_outq_done(&r->to_server);
        lsp_outq_init(&r->to_server, 0);
}

/* ---- session output ------------------------------------------------- */

static void editor_write_failed(struct relay *r, int err)
{
        if (r->stdout_broken)
                return;
        r->stdout_broken = true;
        if (!r->ev.shared)
                log_info("The editor stopped reading (%s); stopping the server.", strerror(-err));
        lsp_outq_done(&r->to_editor);
        lsp_outq_init(&r->to_editor, 0);
        report_done(r);
}

static void out_to_editor(void *userdata, const char *body, size_t len)
{
        struct relay *r = userdata;
        if (r->stdout_broken)
                return;
        int e = lsp_outq_send(&r->to_editor, r->ed_out, body, len);
        if (e < 0)
                editor_write_failed(r, e);
        update_io(r);
}

static void out_to_server(void *userdata, const char *body, size_t len)
{
        struct relay *r = userdata;
        if (r->srv_in < 0) {
                /* The session holds editor messages while no server runs;
                 * anything else it emits then has no reader. */
                log_debug("Dropped a message for the server: none is running.");
                return;
        }
        int e = lsp_outq_send(&r->to_server, r->srv_in, body, len);
        if (e < 0) {
                /* The server is ending; its exit arrives through the pidfd
                 * and the session replays what it had not answered. */
                log_debug_errno(e, "Writing to the server failed: %m");
                close_server_input(r);
        }
        update_io(r);
}

static void out_to_server_take(void *userdata, char *body, size_t len)
{
        struct relay *r = userdata;
        int e;

        if (r->srv_in < 0) {
                log_debug("Dropped a message for the server: none is running.");
                free(body);
                return;
        }
        /* Behind whatever is queued, in order; the queue frees it. */
        e = lsp_outq_push(&r->to_server, body, len);
        if (e == 0)
                e = lsp_outq_flush(&r->to_server, r->srv_in);
        if (e < 0) {
                log_debug_errno(e, "Writing to the server failed: %m");
                close_server_input(r);
        }
        update_io(r);
}

static void out_log(void *userdata, int level, const char *message)
{
        (void)userdata;
        log_full_errno(level, 0, "%s", message);
}

/* ---- reading -------------------------------------------------------- */

/* Hand every complete message in `d` to the session, logging bytes that do
 * not frame (the decoder has resynchronised past them). */
static void dispatch(struct relay *r, struct lsp_decoder *d, bool from_editor)
{
        const char *body;
        size_t len;
        int k;

        while ((k = lsp_decoder_next(d, &body, &len)) != 0) {
                if (k < 0) {
                        log_warning("Malformed LSP framing from the %s, skipped: %s.",
                                    from_editor ? "editor" : "server", lsp_decoder_reason(d));
                        continue;
                }
                int e = from_editor ? session_from_editor(r->session, body, len)
                                    : session_from_server(r->session, body, len);
                if (e == -ENOMEM)
                        log_error("Out of memory handling a message from the %s.",
                                  from_editor ? "editor" : "server");
        }
}

/* Read what `fd` has into `d`; 1 more may come, 0 at EOF, <0 error. */
static int fill(struct lsp_decoder *d, int fd)
{
        for (int rounds = 0; rounds < 16; rounds++) {
                char *p;
                size_t avail;
                if (lsp_decoder_reserve(d, 0, &p, &avail) < 0)
                        return -ENOMEM;
                ssize_t n = read(fd, p, avail);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 1 : -errno;
                }
                lsp_decoder_commit(d, (size_t)n);
                if (n == 0)
                        return 0;
                if ((size_t)n < avail)
                        return 1;
        }
        return 1;
}

static int on_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct relay *r = userdata;
        (void)revents;

        int e = fill(&r->from_editor, fd);
        dispatch(r, &r->from_editor, true);
        if (e <= 0) {
                if (e < 0)
                        log_debug_errno(e, "Reading from the editor failed: %m");
                r->stdin_closed = true;
                r->stdin_src = sd_event_source_disable_unref(s);
                if (!session_exit_requested(r->session) && !r->ev.shared)
                        log_info("The editor closed its end; stopping the server.");
                report_done(r);
                return 0;
        }
        if (session_exit_requested(r->session))
                report_done(r);
        update_io(r);
        return 0;
}

static int on_stdout(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct relay *r = userdata;
        (void)s;
        (void)revents;
        int e = lsp_outq_flush(&r->to_editor, fd);
        if (e < 0)
                editor_write_failed(r, e);
        update_io(r);
        return 0;
}

static int on_server_stdout(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct relay *r = userdata;
        (void)revents;
        int e = fill(&r->from_server, fd);
        dispatch(r, &r->from_server, false);
        if (e <= 0)
                /* EOF: the server is ending; its exit comes by the pidfd. */
                r->srv_out_src = sd_event_source_disable_unref(s);
        update_io(r);
        if (r->ev.server_read)
                r->ev.server_read(r->ev.userdata);
        return 0;
}

static int on_server_stdin(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct relay *r = userdata;
        (void)s;
        (void)revents;
        int e = lsp_outq_flush(&r->to_server, fd);
        if (e < 0)
                close_server_input(r);
        else if (e == 1 && r->end_input)
                close_server_input(r);
        update_io(r);
        return 0;
}

/* ---- replay bound --------------------------------------------------- */

static int on_replay_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct relay *r = userdata;
        (void)s;
        (void)usec;
        /* The answer may have come in the same loop iteration. */
        if (r->srv_in >= 0 && session_replaying(r->session) && r->ev.replay_timed_out)
                r->ev.replay_timed_out(r->ev.userdata);
        return 0;
}

static void arm_replay_timer(struct relay *r)
{
        int k;

        if (!session_replaying(r->session) || !r->ev.replay_timeout_usec)
                return;
        if (r->replay_timer) {
                k = sd_event_source_set_time_relative(r->replay_timer, r->ev.replay_timeout_usec);
                if (k >= 0)
                        k = sd_event_source_set_enabled(r->replay_timer, SD_EVENT_ONESHOT);
        } else
                k = sd_event_add_time_relative(r->event, &r->replay_timer, CLOCK_MONOTONIC,
                                               r->ev.replay_timeout_usec, 0, on_replay_timer, r);
        if (k < 0)
                log_warning_errno(k, "Cannot bound the replay with [lsp] replay_timeout, so a "
                                     "server that never answers holds the editor: %m");
}

/* ---- life ----------------------------------------------------------- */

int relay_new(sd_event *e, const struct lsp_session_config *cfg, const struct relay_events *ev,
              struct relay **ret)
{
        return relay_new_fds(e, cfg, ev, STDIN_FILENO, STDOUT_FILENO, ret);
}

int relay_new_fds(sd_event *e, const struct lsp_session_config *cfg, const struct relay_events *ev,
                  int in_fd, int out_fd, struct relay **ret)
{
        struct relay *r = calloc(1, sizeof *r);
        struct stat st;
        int k;

        if (!r)
                return -ENOMEM;
        r->event = e;
        r->ev = *ev;
        r->srv_in = r->srv_out = -1;
        r->ed_in = in_fd;
        r->ed_out = out_fd;
        lsp_decoder_init(&r->from_editor, 0);
        lsp_decoder_init(&r->from_server, 0);
        lsp_outq_init(&r->to_editor, 0);
        lsp_outq_init(&r->to_server, 0);
        const struct lsp_session_io io = {
                .to_editor = out_to_editor,
                .to_server = out_to_server,
                .to_server_take = out_to_server_take,
                .log = out_log,
                .userdata = r,
        };
        r->session = session_new(cfg, &io);
        if (!r->session) {
                relay_free(r);
                return -ENOMEM;
        }
        /* No server yet: the session holds what the editor sends until the
         * first generation is attached, just as between two generations,
         * so a first start that fails and is retried loses nothing. */
        session_server_lost(r->session);

        /* Regular files and /dev/null cannot be polled: such a stdin is a
         * finite input and is read at once; such a stdout is written
         * synchronously (lsp_outq_send on a blocking fd writes it all). */
        k = fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
        if (k >= 0)
                k = sd_event_add_io(e, &r->stdin_src, in_fd, EPOLLIN, on_stdin, r);
        if (k < 0) {
                (void)fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) & ~O_NONBLOCK);
                while ((k = fill(&r->from_editor, in_fd)) > 0)
                        ;
                r->stdin_closed = true;
        }
        if (fstat(out_fd, &st) == 0 && !S_ISREG(st.st_mode)) {
                /* As for the server's pipes (server.c): large answers in
                 * fewer wake-ups.  Only ever grows it; failure keeps it. */
                if (S_ISFIFO(st.st_mode) && fcntl(out_fd, F_GETPIPE_SZ) < (1 << 20))
                        (void)fcntl(out_fd, F_SETPIPE_SZ, 1 << 20);
                /* Pipes, sockets and terminals alike: a terminal shares its
                 * open file with stdin, which is non-blocking now, so
                 * stdout must be waited on too. */
                k = fcntl(out_fd, F_SETFL, fcntl(out_fd, F_GETFL) | O_NONBLOCK);
                if (k >= 0)
                        k = sd_event_add_io(e, &r->stdout_src, out_fd, EPOLLOUT, on_stdout,
                                            r);
                r->stdout_pollable = k >= 0;
                if (k < 0) /* /dev/null and the like: plain blocking writes */
                        (void)fcntl(out_fd, F_SETFL,
                                    fcntl(out_fd, F_GETFL) & ~O_NONBLOCK);
        }
        update_io(r);
        *ret = r;
        return 0;
}

int relay_attach_server(struct relay *r, int stdin_fd, int stdout_fd)
{
        int k;

        relay_detach_server(r);
        r->srv_in = stdin_fd;
        r->srv_out = stdout_fd;
        r->end_input = false;
        k = sd_event_add_io(r->event, &r->srv_out_src, stdout_fd, EPOLLIN, on_server_stdout, r);
        if (k >= 0)
                k = sd_event_add_io(r->event, &r->srv_in_src, stdin_fd, EPOLLOUT, on_server_stdin,
                                    r);
        if (k < 0)
                return k;
        k = session_server_started(r->session);
        arm_replay_timer(r);
        /* Input that was read before any server ran (a non-pollable stdin
         * read whole at start) goes to the first one. */
        dispatch(r, &r->from_editor, true);
        update_io(r);
        return k;
}

void relay_detach_server(struct relay *r)
{
        if (r->srv_out < 0 && r->srv_in < 0)
                return;
        if (r->srv_out >= 0) {
                /* Its last answers still count.  It has ended, so at most a
                 * pipe's capacity is left unread, which one fill() takes. */
                (void)fill(&r->from_server, r->srv_out);
                dispatch(r, &r->from_server, false);
                r->srv_out_src = sd_event_source_disable_unref(r->srv_out_src);
                close(r->srv_out);
                r->srv_out = -1;
        }
        close_server_input(r);
        lsp_decoder_done(&r->from_server);
        lsp_decoder_init(&r->from_server, 0);
        if (r->replay_timer)
                (void)sd_event_source_set_enabled(r->replay_timer, SD_EVENT_OFF);
        session_server_lost(r->session);
        update_io(r);
}

void relay_end_server_input(struct relay *r)
{
        if (r->srv_in < 0)
                return;
        r->end_input = true;
        int e = lsp_outq_flush(&r->to_server, r->srv_in);
        if (e != 0)
                close_server_input(r);
        update_io(r);
}

bool relay_server_eof(const struct relay *r)
{
        return r->srv_out >= 0 && !r->srv_out_src;
}

bool relay_editor_closed(const struct relay *r)
{
        return r->stdin_closed;
}

void relay_flush_editor(struct relay *r, uint64_t timeout_usec)
{
        uint64_t deadline = now_usec() + timeout_usec;

        if (r->stdout_broken)
                return;
        /* An editor that keeps stdout open but stops reading must not keep
         * the guard from ending: wait for it until the deadline, no longer. */
        for (;;) {
                int e = lsp_outq_flush(&r->to_editor, r->ed_out);
                uint64_t now = now_usec();
                if (e != 0 || now >= deadline)
                        break;
                struct pollfd pfd = {.fd = r->ed_out, .events = POLLOUT};
                (void)poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
        }
        if (lsp_outq_queued(&r->to_editor))
                log_warning("The editor did not read the last %zu bytes of output; dropped.",
                            lsp_outq_queued(&r->to_editor));
}

struct lsp_session *relay_session(struct relay *r)
{
        return r->session;
}

void relay_free(struct relay *r)
{
        if (!r)
                return;
        r->stdin_src = sd_event_source_disable_unref(r->stdin_src);
        r->stdout_src = sd_event_source_disable_unref(r->stdout_src);
        r->srv_out_src = sd_event_source_disable_unref(r->srv_out_src);
        r->srv_in_src = sd_event_source_disable_unref(r->srv_in_src);
        r->replay_timer = sd_event_source_disable_unref(r->replay_timer);
        if (r->srv_in >= 0)
                close(r->srv_in);
        if (r->srv_out >= 0)
                close(r->srv_out);
        session_free(r->session);
        lsp_decoder_done(&r->from_editor);
        lsp_decoder_done(&r->from_server);
        lsp_outq_done(&r->to_editor);
        lsp_outq_done(&r->to_server);
        free(r);
}

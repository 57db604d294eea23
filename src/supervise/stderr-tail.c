#include "stderr-tail.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void ring_add(struct stderr_tail *t, const char *buf, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                t->ring[t->ring_pos++] = buf[i];
                if (t->ring_pos == sizeof t->ring) {
                        t->ring_pos = 0;
                        t->ring_full = true;
                }
        }
}

/* Whether the output takes PIPE_BUF bytes without waiting. */
static bool out_ready(const struct stderr_tail *t)
{
        if (!t->out_pollable)
                return true;
        struct pollfd p = {.fd = t->out_fd, .events = POLLOUT};
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLOUT | POLLERR | POLLHUP));
}

/* Pass on what is pending as far as the output takes it.  Returns true
 * when nothing is left.  An output that is gone (EPIPE, a closed
 * terminal) takes everything: nobody can read it any more. */
static bool flush_pending(struct stderr_tail *t, bool may_wait)
{
        while (t->pend_len > 0) {
                if (!may_wait && !out_ready(t))
                        return false;
                size_t n = t->pend_len < PIPE_BUF ? t->pend_len : PIPE_BUF;
                ssize_t w = write(t->out_fd, t->pend + t->pend_off, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN && !may_wait)
                        return false;
                if (w <= 0)
                        w = (ssize_t)t->pend_len;
                t->pend_off += (size_t)w;
                t->pend_len -= (size_t)w;
        }
        t->pend_off = 0;
        return true;
}

static void set_waiting(struct stderr_tail *t, bool waiting)
{
        if (t->in_src)
                (void)sd_event_source_set_enabled(t->in_src, waiting ? SD_EVENT_OFF : SD_EVENT_ON);
        if (t->out_src)
                (void)sd_event_source_set_enabled(t->out_src, waiting ? SD_EVENT_ON : SD_EVENT_OFF);
}

/* One read from the pipe: 1 when data came, 0 at EOF or nothing now. */
static int read_once(struct stderr_tail *t)
{
        ssize_t n;
        do
                n = read(t->in_fd, t->pend, sizeof t->pend);
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return 0;
        ring_add(t, t->pend, (size_t)n);
        t->pend_off = 0;
        t->pend_len = (size_t)n;
        return 1;
}

static int on_in(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct stderr_tail *t = userdata;
        (void)fd;
        if (t->pend_len > 0) {
                set_waiting(t, true);
                return 0;
        }
        if (read_once(t) == 0) {
                if (revents & (EPOLLHUP | EPOLLERR))
                        (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        if (!flush_pending(t, !t->out_pollable))
                set_waiting(t, true);
        return 0;
}

static int on_out(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct stderr_tail *t = userdata;
        (void)s;
        (void)fd;
        (void)revents;
        if (flush_pending(t, false))
                set_waiting(t, false);
        return 0;
}

int stderr_tail_init(struct stderr_tail *t, sd_event *e, int out_fd)
{
        memset(t, 0, sizeof *t);
        t->event = e;
        t->out_fd = out_fd;
        t->in_fd = -1;
        int r = sd_event_add_io(e, &t->out_src, out_fd, EPOLLOUT, on_out, t);
        if (r >= 0) {
                t->out_pollable = true;
                (void)sd_event_source_set_enabled(t->out_src, SD_EVENT_OFF);
        } else if (r != -EPERM) {
                /* EPERM: a regular file or /dev/null, which never waits. */
                return r;
        }
        return 0;
}

int stderr_tail_attach(struct stderr_tail *t, int fd)
{
        if (t->in_fd >= 0)
                stderr_tail_detach(t);
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return -errno;
        int r = sd_event_add_io(t->event, &t->in_src, fd, EPOLLIN, on_in, t);
        if (r < 0)
                return r;
        t->in_fd = fd;
        /* The tail is this generation's own. */
        t->ring_pos = 0;
        t->ring_full = false;
        /* Still passing on the last generation's output: read on after. */
        set_waiting(t, t->pend_len > 0 && t->out_pollable);
        return 0;
}

void stderr_tail_detach(struct stderr_tail *t)
{
        if (t->in_fd < 0)
                return;
        /* The server is gone: what it wrote is in the pipe now.  It is
         * passed on in full (waiting for the output if need be: bounded by
         * what one pipe holds), so the lines before a crash always reach
         * the editor's log and the tail. */
        for (;;) {
                if (t->pend_len > 0)
                        flush_pending(t, true);
                if (read_once(t) == 0)
                        break;
        }
        t->in_src = sd_event_source_disable_unref(t->in_src);
        close(t->in_fd);
        t->in_fd = -1;
        if (t->out_src)
                (void)sd_event_source_set_enabled(t->out_src, SD_EVENT_OFF);
}

size_t stderr_tail_lines_start(const char *buf, size_t len, size_t max_lines)
{
        size_t end = len, lines = 0;
        if (end > 0 && buf[end - 1] == '\n')
                end--;
        for (size_t i = end; i > 0; i--) {
                if (buf[i - 1] == '\n' && ++lines == max_lines)
                        return i;
        }
        return 0;
}

char *stderr_tail_text(const struct stderr_tail *t, size_t max_lines)
{
        size_t len = t->ring_full ? sizeof t->ring : t->ring_pos;
        char *lin = malloc(len + 1);
        if (!lin)
                return NULL;
        if (t->ring_full) {
                size_t first = sizeof t->ring - t->ring_pos;
                memcpy(lin, t->ring + t->ring_pos, first);
                memcpy(lin + first, t->ring, t->ring_pos);
        } else {
                memcpy(lin, t->ring, len);
        }
        size_t start = stderr_tail_lines_start(lin, len, max_lines);
        /* A full ring starts in the middle of a line: drop that piece. */
        if (t->ring_full && start == 0) {
                const char *nl = memchr(lin, '\n', len);
                start = nl ? (size_t)(nl - lin) + 1 : 0;
        }
        memmove(lin, lin + start, len - start);
        lin[len - start] = '\0';
        return lin;
}

void stderr_tail_free(struct stderr_tail *t)
{
        stderr_tail_detach(t);
        flush_pending(t, true);
        t->out_src = sd_event_source_disable_unref(t->out_src);
}

/* stderr-tail.h — the server's stderr, passed through to the guard's own
 * stderr (the editor's log, the terminal, the journal) while the last
 * lines are kept for incidents (incident.h).
 *
 * The server writes into a pipe that the guard reads from its event loop.
 * Every byte read is passed on, in order: none is dropped.  The guard's
 * stderr is written only when poll() says it can take data, in pieces of
 * at most PIPE_BUF (what a ready pipe always takes whole), so a stalled
 * reader of the guard's stderr never blocks the guard: the guard then
 * stops reading the server's pipe (so the server blocks on its own stderr,
 * as it would have without the guard) until the output drains.  Where
 * the guard's stderr cannot be polled (a regular file: writes there never
 * wait), it is written directly.
 *
 * One struct for the guard's lifetime; a server generation's pipe is
 * attached and detached. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

/* Bytes kept: enough for STDERR_TAIL_LINES lines of a Go panic header. */
#define STDERR_TAIL_BYTES 16384
#define STDERR_TAIL_LINES 40

struct stderr_tail {
        sd_event *event;
        int out_fd; /* the guard's stderr (2) */
        int in_fd;  /* the server's pipe, or -1 */
        sd_event_source *in_src, *out_src;
        bool out_pollable; /* out_src could be added */
        char pend[4096];   /* read but not yet passed on */
        size_t pend_off, pend_len;
        char ring[STDERR_TAIL_BYTES]; /* the last bytes, circular */
        size_t ring_pos;              /* next write position */
        bool ring_full;
};

/* Set up for `out_fd` (normally STDERR_FILENO).  0 or a negative errno. */
int stderr_tail_init(struct stderr_tail *t, sd_event *e, int out_fd);
/* Take the read end of a generation's stderr pipe (made non-blocking
 * here; closed on detach); the kept lines start afresh.  0 or a negative
 * errno. */
int stderr_tail_attach(struct stderr_tail *t, int fd);
/* Read what the pipe holds now (non-blocking), pass it on as far as the
 * output takes it, and close the pipe; what the output did not take yet
 * is passed on later (or by stderr_tail_free()). */
void stderr_tail_detach(struct stderr_tail *t);
/* The last `max_lines` lines kept (malloc'd, NUL-terminated; a partial
 * last line included), or NULL on -ENOMEM. */
char *stderr_tail_text(const struct stderr_tail *t, size_t max_lines);
/* Pass on what is pending (blocking: the guard is ending) and free. */
void stderr_tail_free(struct stderr_tail *t);

/* Pure: the start of the last `max_lines` lines of buf[0..len) (a final
 * newline does not begin an empty line). */
size_t stderr_tail_lines_start(const char *buf, size_t len, size_t max_lines);

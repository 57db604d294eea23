/* relay.h — framed LSP messages between the editor's stdio and the current
 * server generation's pipes, through the session (lsp-session.h).
 *
 *   stdin ─▶ decoder ─▶ session_from_editor ─▶ outq ─▶ server stdin
 *   stdout ◀─ outq ◀─ session_from_server ◀─ decoder ◀─ server stdout
 *
 * The editor's side lives as long as the guard; the server's side is
 * attached per generation.  Back-pressure: while a side's output queue is
 * over its high-water mark, the relay stops reading the side that feeds it.
 * Bytes that do not frame are logged with the decoder's reason and skipped;
 * the decoder resynchronises on the next header, so no later message is
 * lost. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "lsp-session.h"

struct relay;

struct relay_events {
        /* The editor closed stdin or stdout, or sent `exit`: stop the server. */
        void (*editor_done)(void *userdata);
        /* A restarted server did not answer the replayed initialize within
         * replay_timeout_usec ([lsp] replay_timeout; 0 = no bound): it is a
         * failed start, the caller stops it.  The editor's messages stay
         * held for the next server or get their answers when the guard
         * gives up. */
        void (*replay_timed_out)(void *userdata);
        uint64_t replay_timeout_usec;
        /* Optional: messages from the server were handed to the session
         * (daemon mode waits there for the answer to its own shutdown). */
        void (*server_read)(void *userdata);
        /* The server serves other editors too: an editor's end stops
         * nothing, and the caller says what it does about it. */
        bool shared;
        void *userdata;
};

/* Watch stdin/stdout on `e`.  A stdin that cannot be polled (a regular
 * file, /dev/null) is read whole at once, then counts as closed. */
int relay_new(sd_event *e, const struct lsp_session_config *cfg, const struct relay_events *ev,
              struct relay **ret);
/* The same for an editor on other descriptors (daemon mode: an accepted
 * connection, as two fds, e.g. the socket and a dup of it, since one fd
 * cannot be watched twice).  The relay makes them non-blocking and uses
 * them until relay_free(), but does not close them. */
int relay_new_fds(sd_event *e, const struct lsp_session_config *cfg, const struct relay_events *ev,
                  int in_fd, int out_fd, struct relay **ret);
void relay_free(struct relay *r);

/* A new server generation: the relay takes ownership of both fds (made
 * non-blocking by the caller) and lets the session replay. */
int relay_attach_server(struct relay *r, int stdin_fd, int stdout_fd);

/* The server ended: read what it still wrote, pass it on, close both fds
 * and tell the session.  No-op without a server. */
void relay_detach_server(struct relay *r);

/* Send what is queued for the server, then close its stdin (its cue to
 * end); at once if nothing is queued. */
void relay_end_server_input(struct relay *r);

/* Whether the server side has sent EOF (its end of a connection closed)
 * while still attached. */
bool relay_server_eof(const struct relay *r);

/* Whether the editor's stdin has ended (EOF, or non-pollable input read). */
bool relay_editor_closed(const struct relay *r);

/* Write what is queued for the editor, waiting at most `timeout_usec` for
 * it to read; for the guard's exit. */
void relay_flush_editor(struct relay *r, uint64_t timeout_usec);

struct lsp_session *relay_session(struct relay *r);

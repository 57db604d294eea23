/* lsp-session.h — the editor's LSP session, kept across server generations.
 *
 * The guard hands every framed message body from either side to the
 * session; the session decides what to forward, rewrite, hold, answer
 * itself or replay, and emits whole message bodies through two callbacks.
 * It does no I/O and reads no clock, so replay sequences are tested against
 * a scripted fake server (tests/unit/test-lsp-session.c).
 *
 * What it keeps (the "recorder"):
 *   - the editor's initialize params, and the first server's result
 *     (capabilities are compared after a restart and a change is logged);
 *   - whether `initialized` was sent; workspace folders as changed by
 *     workspace/didChangeWorkspaceFolders; the last
 *     workspace/didChangeConfiguration params;
 *   - every open document's latest text and version (lsp-docsync.h);
 *   - editor requests in flight (raw body, method), server requests in
 *     flight to the editor (id mapping), the server's capability
 *     registrations, its open $/progress tokens, and the URIs it published
 *     diagnostics for.
 *
 * Across a restart (session_server_lost(), then session_server_started()):
 *   1. editor requests that were in flight stay pending; server requests
 *      to the editor that are still unanswered are forgotten (their late
 *      answers are dropped); open $/progress tokens of the dead server are
 *      ended towards the editor ({"kind":"end"}); its capability
 *      registrations are unregistered (client/unregisterCapability, a
 *      request of the guard's own whose answer is swallowed); diagnostics
 *      it published for documents that are not open are cleared;
 *   2. the new server gets the recorded initialize (a private string id
 *      "gopls-guard/init/N", workDoneToken removed, workspaceFolders as
 *      they are now) — its answer is swallowed — then initialized, the
 *      last configuration, and didOpen for every open document;
 *   3. messages the editor sends meanwhile are held and released in order
 *      after the replay; in-flight requests that only read (hover,
 *      definition, completion, ... see session_method_is_read()) are sent
 *      again, others are answered with ContentModified (-32801), and
 *      workspace/executeCommand with RequestFailed (-32803), since it may
 *      have had effects already.
 *
 * Ids: editor requests keep their ids (the editor never sees a server id
 * clash); server-to-editor requests are renumbered with the session's own
 * increasing integers so that a restarted server counting from 1 again
 * never reuses an id the editor still knows, and mapped back (with their
 * original JSON type) when the editor answers.
 *
 * shutdown/exit: after the editor's `shutdown`, an end of the server is
 * not a crash; `exit` is forwarded and session_exit_code() then tells the
 * guard's exit status (0 after shutdown, else 1, as the spec says).
 *
 * Errors: session_from_* return 0, or a negative errno for a message that
 * is not valid JSON-RPC (-EBADMSG), which is then reported through the log
 * callback and dropped, never forwarded half-understood; -ENOMEM is the
 * only fatal one.  (An editor request whose id is readable but whose body
 * is not valid JSON is answered with ParseError -32700, so that it still
 * gets its one answer; one whose id is neither a number nor a string is
 * answered with InvalidRequest -32600 and id null, as JSON-RPC asks.)
 *
 * For the guard's event loop:
 *   - a new session takes the first server as running (generation 1);
 *     session_server_started() acts only after session_server_lost(), so
 *     calling it for the first server as well is harmless (the relay calls
 *     session_server_lost() right away instead, so that the editor's
 *     messages wait until a first server is really attached);
 *   - the io callbacks must not call back into the session (queue the
 *     bytes; report a failed write through session_server_lost() later);
 *   - server output passed in after session_server_lost() is dropped;
 *   - while held for a server that will be replayed to, didOpen,
 *     didChange and didClose are not held but folded into the recorder
 *     (the replay opens each document as it is then); other
 *     notifications are held up to 1024 of them or 4 MiB, except
 *     initialized and the configuration and workspace-folder changes,
 *     and further ones are dropped (logged once, counted when the server
 *     runs again: it reads the files afresh anyway);
 *   - editor requests beyond max_held bytes held are answered with
 *     RequestFailed; document and workspace change notifications are kept
 *     even beyond it (losing one would desynchronise the server for good);
 *     other notifications beyond it are dropped and logged;
 *   - `shutdown` while no server runs is answered with null at once, and
 *     one in flight or held when the server ends likewise; `exit` while no
 *     server runs is only recorded: stop without restarting and exit with
 *     session_exit_code().
 *
 * With replay off the session forwards the bytes both ways unchanged (no
 * id renumbering, nothing recorded); at session_server_lost() every
 * pending editor request is answered with ContentModified (shutdown with
 * null).  Before the editor's initialize succeeded, a new server may still
 * take over (held messages are then sent to it as they are); after it,
 * session_can_restart() is false and the guard ends instead. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lsp-docsync.h"

struct lsp_session;

struct lsp_session_io {
        /* One complete message body (no header).  The callee copies it. */
        void (*to_editor)(void *userdata, const char *body, size_t len);
        void (*to_server)(void *userdata, const char *body, size_t len);
        /* Something the user or the log should know; `level` is syslog's. */
        void (*log)(void *userdata, int level, const char *message);
        void *userdata;
        /* Optional: like to_server, but takes the malloc()ed body (the
         * replayed documents, sent without another copy). */
        void (*to_server_take)(void *userdata, char *body, size_t len);
};

struct lsp_session_config {
        bool replay;          /* [lsp] replay: false = forward only, no recorder */
        size_t max_document;  /* per document, bytes (0 = lsp-docsync default) */
        size_t max_held;      /* editor bytes held during a replay before the
                                 session refuses more (0 = 64 MiB) */
        bool notify;          /* [lsp] notify: tell the user (window/showMessage)
                                 which request was dropped as poison */
        bool shared_server;   /* the server serves other editors too (daemon
                                 mode): the editor's `exit` is never
                                 forwarded, the guard ends the session with
                                 session_leave() and closes the connection */
};

/* Allocate a session; NULL on -ENOMEM. */
struct lsp_session *session_new(const struct lsp_session_config *cfg,
                                const struct lsp_session_io *io);
void session_free(struct lsp_session *s);

/* One message from the editor / from the current server. */
int session_from_editor(struct lsp_session *s, const char *body, size_t len);
int session_from_server(struct lsp_session *s, const char *body, size_t len);

/* The current server ended (after its last output was passed in).  From
 * here until session_server_started(), editor messages are held. */
void session_server_lost(struct lsp_session *s);

/* A new server generation runs and can take input: replay if the session
 * had been initialized before, else nothing (the editor's own initialize
 * will come). */
int session_server_started(struct lsp_session *s);

/* The guard gives up (or stops without a server): every editor request
 * still pending or held is answered with RequestFailed carrying `message`
 * (shutdown with null).  Safe to call more than once: each request is
 * answered once.  When the editor's initialize is among them, messages
 * kept for session_show_message() go out right after its answer. */
void session_fail_pending(struct lsp_session *s, const char *message);

/* After giving up ([restart] after_give_up = wait): until the next
 * session_server_started(), every editor request is answered at once with
 * RequestFailed carrying `message` (a copy is kept; shutdown with null),
 * instead of being held for a server that will not come for a while;
 * requests pending or held now are answered likewise.  Notifications are
 * recorded and held as during any restart, so the server that comes after
 * the cooldown is replayed the documents as they are then.  NULL stops
 * refusing.  0, or -ENOMEM. */
int session_refuse_requests(struct lsp_session *s, const char *message);

/* A restarted server has been sent the recorded initialize and has not
 * answered it yet; the editor's messages are held meanwhile.  The guard
 * bounds this with [lsp] replay_timeout (the session reads no clock). */
bool session_replaying(const struct lsp_session *s);

/* Whether a new server generation could serve this editor: false once the
 * editor's initialize was answered with a result while replay is off (the
 * new server would never be initialized), so the guard must end instead
 * and let the editor see the server end. */
bool session_can_restart(const struct lsp_session *s);

/* Tell the user: window/showMessage with `type` 1 error .. 4 log (only
 * once the editor's initialize was answered; before that it is kept and
 * sent right after the answer). */
void session_show_message(struct lsp_session *s, int type, const char *message);

/* Shared server: the editor is gone (or sent exit); end this session
 * without touching the others: didClose for every open document (the
 * recorder's list), then, unless the editor's own shutdown went out, a
 * shutdown of the guard's own (id "gopls-guard/leave", its answer
 * swallowed), after which the server has dropped the session's state.
 * Returns 1 when that answer is awaited (session_leaving() stays true
 * until it comes), 0 when the connection can close at once, or -ENOMEM. */
int session_leave(struct lsp_session *s);
bool session_leaving(const struct lsp_session *s);

/* The editor sent shutdown / exit. */
bool session_shutdown_requested(const struct lsp_session *s);
bool session_exit_requested(const struct lsp_session *s);
/* The exit status the spec asks for once exit was seen: 0 after shutdown, 1 without. */
int session_exit_code(const struct lsp_session *s);

/* The server that is about to be reported lost (session_server_lost(),
 * called next), or that was just reported lost while no other server has
 * started since (a daemon's connection closes before its exit is reaped),
 * crashed: OOM-killed, crashed or killed as hung, not stopped or replaced
 * by the guard's choice.  Poison requests: every editor request in flight
 * to it counts one more crash (a loss without this call resets the
 * count); one that was in flight at SESSION_POISON_CRASHES consecutive
 * crashes is not sent to the next server but answered RequestFailed
 * (-32803) naming its method and position ("textDocument/hover
 * (file:///a.go:13:6)", 1-based), logged, and, with cfg.notify, shown to
 * the user with window/showMessage.  Only requests that would be sent
 * again (session_method_is_read(), initialize) can be poison: the others
 * are answered at the first restart anyway. */
#define SESSION_POISON_CRASHES 2
void session_note_crash(struct lsp_session *s);

/* Hang detection (hang.h): the arrival number (from 1) of the oldest
 * editor request in flight to the running server that it could only be
 * holding because it is stuck; 0 when there is none.  Not watched:
 *   - every request while the server waits for the editor's answer to a
 *     request of its own (workspace/applyEdit, window/showMessageRequest,
 *     workspace/configuration, ...): it is waiting, rightly, on the user;
 *   - workspace/executeCommand: gopls runs commands that wait on the
 *     editor or on the network and child processes (govulncheck fetching
 *     its database, go test, go get) for as long as they take;
 *   - workspace/diagnostic: LSP 3.17 lets a server hold it open (long
 *     poll) until the diagnostics change;
 *   - nothing while no server runs or the replayed initialize is out
 *     ([lsp] replay_timeout bounds that).
 * The server's own requests ($/progress, window/workDoneProgress/create)
 * and the editor's answers to them are not editor requests at all. */
uint64_t session_watched_request(const struct lsp_session *s);

/* Counters for logs and tests. */
struct lsp_session_stats {
        unsigned replays, resent, failed_pending, held_now, open_documents;
        unsigned pending_editor_requests, pending_server_requests;
        unsigned poisoned; /* requests dropped as poison */
};
void session_stats(const struct lsp_session *s, struct lsp_session_stats *ret);

/* The methods of the editor requests sent to a server and not yet
 * answered, oldest first: up to `max` pointers into the session (valid
 * until its next call).  Returns how many. */
size_t session_pending_methods(const struct lsp_session *s, const char **ret, size_t max);

/* Whether a request only reads, so it may be sent again to a new server. */
bool session_method_is_read(const char *method);

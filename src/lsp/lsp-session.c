/* lsp-session.c — the editor's LSP session across server generations.
 *
 * Routing uses lsp_peek() only: plain requests, their answers and most
 * notifications are forwarded as the very bytes received.  Only the few
 * messages the recorder needs are parsed fully (see the header).
 *
 * Why jansson for those: it is in Debian 12 (libjansson-dev 2.14), small,
 * keeps object keys in insertion order (JSON_PRESERVE_ORDER; a replayed
 * initialize reads like the editor's), parses non-NUL-terminated buffers
 * with json_loadb() (the framing hands out bodies inside its buffer), and
 * its integers are 64-bit json_int_t, so no LSP integer is rounded. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "lsp-framing.h"
#include "lsp-session.h"

/* Ids of the guard's own requests; the editor and gopls never use it. */
#define GUARD_PREFIX "gopls-guard/"

/* JSON-RPC / LSP error codes (LSP 3.17 "ErrorCodes"). */
#define ERR_PARSE (-32700)
#define ERR_INVALID_REQUEST (-32600)
#define ERR_INTERNAL (-32603)
#define ERR_REQUEST_CANCELLED (-32800)
#define ERR_CONTENT_MODIFIED (-32801)
#define ERR_REQUEST_FAILED (-32803)

#define MAX_HELD_DEFAULT ((size_t)64 << 20)

/* Notifications held for a server that will be replayed to, other than
 * those the recorder folds or that set up the session: an editor keeps
 * sending $/setTrace, progress cancels, saves and file-watch events while
 * the server is down (a checkout can make thousands), and a restarted
 * server reads the files afresh anyway.  Enough for any normal backoff. */
#define HELD_NOTES_MAX 1024
#define HELD_NOTES_BYTES ((size_t)4 << 20)

/* Full parses accept "\u0000" in strings: a document may contain NUL and
 * must still be recorded; lengths are kept with json_string_length(). */
#define LOAD_FLAGS (JSON_ALLOW_NUL)
#define DUMP_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

enum state {
        ST_RUNNING,   /* a server runs and has everything the editor sent */
        ST_LOST,      /* no server */
        ST_REPLAYING, /* a new server runs; the replayed initialize is unanswered */
};

/* An editor request that went to a server (or waits to go again). */
struct ereq {
        struct ereq *prev, *next;
        char *key; /* canonical id, see key_from_peek() */
        size_t key_len;
        char *raw_id; /* the id's JSON text as the editor sent it */
        size_t raw_id_len;
        char *body; /* kept only when it may be sent again */
        size_t len;
        unsigned gen; /* server generation it was last sent to */
        bool initialize, shutdown, execute_command;
        char method[64]; /* decoded, cut at 63 bytes; for incidents */
        uint64_t seq;     /* order of arrival, from 1 (session_watched_request()) */
        bool unwatched;   /* the server may rightly hold it without working */
        unsigned crashes; /* consecutive crashes it was in flight at */
};

/* An editor message received while no server could take it. */
struct held {
        struct held *next;
        char *body;
        size_t len;
        bool request;
        bool note; /* counts against HELD_NOTES_* */
};

/* A server request forwarded to the editor under a session id. */
struct sreq {
        struct sreq *next;
        int64_t sid;
        char *orig_raw; /* the server's id, JSON text */
        size_t orig_raw_len;
        char *orig_key;
        size_t orig_key_len;
        unsigned gen;
};

struct lsp_session {
        struct lsp_session_config cfg;
        struct lsp_session_io io;
        enum state state;
        unsigned gen, replays, resent, failed_pending;

        /* recorder */
        struct lsp_docs docs;
        json_t *init_params;   /* editor's initialize params */
        json_t *init_caps;     /* capabilities the editor was given */
        json_t *folders;       /* current workspaceFolders array, or NULL */
        json_t *config;        /* last didChangeConfiguration params, or NULL */
        json_t *registrations; /* object: registration id -> method */
        json_t *progress;      /* object: token key -> token */
        json_t *diagnosed;     /* object: URI -> true, non-empty diagnostics */
        bool init_answered;    /* some answer to the editor's initialize went out */
        bool initialized;      /* ... and it was a success: replay is possible */
        bool initialized_sent;
        bool init_ok;          /* a server answered the editor's initialize with a result */

        struct ereq *pend_first, *pend_last;
        unsigned npend;
        struct held *held_first, *held_last;
        size_t held_bytes;
        unsigned nheld, nheld_req;
        bool held_over_logged;
        unsigned nheld_notes, notes_dropped;
        size_t held_notes_bytes;

        struct sreq *sreqs;
        unsigned nsreq;
        int64_t next_sid;
        unsigned unregister_seq;
        char *replay_key; /* key of the replayed initialize's id */
        size_t replay_key_len;

        uint64_t next_seq;
        char *refusal;    /* session_refuse_requests(): the answer while no server runs */
        bool crash_noted; /* session_note_crash() since the last loss */
        /* The last loss came before it was known whether the server
         * crashed (a daemon's connection closes before its exit is
         * reaped): its requests wait for session_note_crash(), or for
         * the next server, which means it did not. */
        bool loss_unjudged;
        unsigned lost_gen;
        unsigned poisoned;

        json_t *shows; /* array of window/showMessage bodies not yet sent */
        bool shutdown, exit;
        bool leave_pending; /* session_leave()'s shutdown is unanswered */
};

#define LEAVE_ID GUARD_PREFIX "leave"


static void flush_shows(struct lsp_session *s);

/* ---------------------------------------------------------------------- */
/* small helpers                                                            */

static void slog(struct lsp_session *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void slog(struct lsp_session *s, int level, const char *fmt, ...)
{
        char buf[512];
        va_list ap;

        if (!s->io.log)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        s->io.log(s->io.userdata, level, buf);
}

/* A printable start of a bad message for the log: enough to recognise it,
 * never a whole document. */
static void excerpt(const char *body, size_t len, char out[static 72])
{
        size_t n = len < 64 ? len : 64, i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)body[i];
                out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        if (len > n) {
                memcpy(out + n, "...", 3);
                n += 3;
        }
        out[n] = '\0';
}

static int bad_message(struct lsp_session *s, const char *from, const char *why, const char *body,
                       size_t len)
{
        char ex[72];

        excerpt(body, len, ex);
        slog(s, LOG_WARNING, "dropped a message from the %s: %s: %s", from, why, ex);
        return -EBADMSG;
}

static void send_editor(struct lsp_session *s, const char *b, size_t n)
{
        s->io.to_editor(s->io.userdata, b, n);
}

static void send_server(struct lsp_session *s, const char *b, size_t n)
{
        s->io.to_server(s->io.userdata, b, n);
}

/* Serialises and sends msg (taking the reference). */
static int emit(struct lsp_session *s, bool to_editor, json_t *msg)
{
        char *t;

        if (!msg)
                return -ENOMEM;
        t = json_dumps(msg, DUMP_FLAGS);
        json_decref(msg);
        if (!t)
                return -ENOMEM;
        if (to_editor)
                send_editor(s, t, strlen(t));
        else
                send_server(s, t, strlen(t));
        free(t);
        return 0;
}

static json_t *notification(const char *method, json_t *params)
{
        if (!params)
                return NULL;
        return json_pack("{s:s, s:s, s:o}", "jsonrpc", "2.0", "method", method, "params", params);
}

/* Answers a request whose id is the JSON text raw_id, to the editor or
 * (to_editor false) to the server.  `tail` is the rest of the object:
 * "\"result\":null" or "\"error\":{...}". */
static int answer_raw_to(struct lsp_session *s, bool to_editor, const char *raw_id, size_t raw_len,
                         const char *tail)
{
        /* The id byte for byte, as the request had it: printf's %.*s
         * would stop at a NUL, which an id string can hold raw. */
        static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":";
        size_t hl = sizeof(head) - 1, tl = strlen(tail), n = hl + raw_len + 1 + tl + 1;
        char *b = malloc(n);

        if (!b)
                return -ENOMEM;
        memcpy(b, head, hl);
        memcpy(b + hl, raw_id, raw_len);
        b[hl + raw_len] = ',';
        memcpy(b + hl + raw_len + 1, tail, tl);
        b[n - 1] = '}';
        if (to_editor)
                send_editor(s, b, n);
        else
                send_server(s, b, n);
        free(b);
        return 0;
}

static int answer_raw(struct lsp_session *s, const char *raw_id, size_t raw_len, const char *tail)
{
        return answer_raw_to(s, true, raw_id, raw_len, tail);
}

static int answer_error_to(struct lsp_session *s, bool to_editor, const char *raw_id,
                           size_t raw_len, int code, const char *message)
{
        json_t *m = json_string(message ? message : "");
        char *ms = m ? json_dumps(m, JSON_ENCODE_ANY) : NULL, *tail;
        int r;

        json_decref(m);
        if (!ms || asprintf(&tail, "\"error\":{\"code\":%d,\"message\":%s}", code, ms) < 0) {
                free(ms);
                return -ENOMEM;
        }
        free(ms);
        r = answer_raw_to(s, to_editor, raw_id, raw_len, tail);
        free(tail);
        return r;
}

static int answer_error(struct lsp_session *s, const char *raw_id, size_t raw_len, int code,
                        const char *message)
{
        return answer_error_to(s, true, raw_id, raw_len, code, message);
}

static char *memdup0(const char *p, size_t n)
{
        char *c = malloc(n + 1);

        if (c) {
                if (n)
                        memcpy(c, p, n);
                c[n] = '\0';
        }
        return c;
}

/* ---------------------------------------------------------------------- */
/* ids                                                                      */

/* Ids are compared by JSON value: 1 and "1" differ, "a" and "\u0061" do
 * not.  The canonical key is "i:<decimal>", "s:<decoded bytes>", "n" for
 * null, or "o:<text>" for other numbers (fractions, huge values), which
 * JSON-RPC discourages and which are then compared as written. */
static int make_key(char tag, const char *v, size_t n, char **ret, size_t *ret_len)
{
        char *k = malloc(n + 3);

        if (!k)
                return -ENOMEM;
        k[0] = tag;
        k[1] = ':';
        if (n)
                memcpy(k + 2, v, n);
        k[n + 2] = '\0';
        *ret = k;
        *ret_len = n + 2;
        return 0;
}

static int key_from_int(int64_t v, char **ret, size_t *ret_len)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

        return make_key('i', buf, (size_t)n, ret, ret_len);
}

static int key_from_json(const json_t *id, char **ret, size_t *ret_len)
{
        char *t;
        int r;

        if (json_is_integer(id))
                return key_from_int((int64_t)json_integer_value(id), ret, ret_len);
        if (json_is_string(id))
                return make_key('s', json_string_value(id), json_string_length(id), ret, ret_len);
        if (json_is_null(id))
                return make_key('n', "", 0, ret, ret_len);
        if (!json_is_real(id))
                return -EBADMSG;
        t = json_dumps(id, JSON_ENCODE_ANY);
        if (!t)
                return -ENOMEM;
        r = make_key('o', t, strlen(t), ret, ret_len);
        free(t);
        return r;
}

static int key_from_peek(const struct lsp_peek *p, char **ret, size_t *ret_len)
{
        switch (p->id_type) {
        case LSP_ID_INT:
                return key_from_int(p->id_int, ret, ret_len);
        case LSP_ID_STRING: {
                json_t *j;
                int r;

                if (!memchr(p->id, '\\', p->id_len))
                        return make_key('s', p->id + 1, p->id_len - 2, ret, ret_len);
                j = json_loadb(p->id, p->id_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                r = json_is_string(j) ? key_from_json(j, ret, ret_len) : -EBADMSG;
                json_decref(j);
                return r;
        }
        case LSP_ID_NULL:
                return make_key('n', "", 0, ret, ret_len);
        case LSP_ID_OTHER:
                /* objects, arrays and booleans are no ids at all */
                if (p->id_len == 0 || strchr("{[tf\"", p->id[0]))
                        return -EBADMSG;
                return make_key('o', p->id, p->id_len, ret, ret_len);
        default:
                return -EBADMSG;
        }
}

static bool key_eq(const char *a, size_t an, const char *b, size_t bn)
{
        return an == bn && memcmp(a, b, an) == 0;
}

/* The key of an id of ours: "gopls-guard/..." strings. */
static bool peek_is_guard_id(const struct lsp_peek *p)
{
        size_t n = strlen(GUARD_PREFIX);

        return p->id_type == LSP_ID_STRING && p->id_len >= n + 2 &&
               memcmp(p->id + 1, GUARD_PREFIX, n) == 0;
}

/* ---------------------------------------------------------------------- */
/* editor requests in flight                                                */

static void ereq_free(struct ereq *e)
{
        if (!e)
                return;
        free(e->key);
        free(e->raw_id);
        free(e->body);
        free(e);
}

static void ereq_unlink(struct lsp_session *s, struct ereq *e)
{
        if (e->prev)
                e->prev->next = e->next;
        else
                s->pend_first = e->next;
        if (e->next)
                e->next->prev = e->prev;
        else
                s->pend_last = e->prev;
        s->npend--;
        ereq_free(e);
}

static struct ereq *ereq_find(const struct lsp_session *s, const char *key, size_t key_len)
{
        for (struct ereq *e = s->pend_first; e; e = e->next)
                if (key_eq(e->key, e->key_len, key, key_len))
                        return e;
        return NULL;
}

/* Answers e itself and forgets it: the one answer the editor gets. */
static int ereq_answer_error(struct lsp_session *s, struct ereq *e, int code, const char *message)
{
        int r = answer_error(s, e->raw_id, e->raw_id_len, code, message);

        ereq_unlink(s, e);
        return r;
}

static int ereq_answer_null(struct lsp_session *s, struct ereq *e)
{
        int r = answer_raw(s, e->raw_id, e->raw_id_len, "\"result\":null");

        ereq_unlink(s, e);
        return r;
}

/* ---------------------------------------------------------------------- */
/* held editor messages                                                     */

/* Unlinks h, which follows prev (NULL: h is the first). */
static struct held *held_pop(struct lsp_session *s, struct held *prev, struct held *h)
{
        if (prev)
                prev->next = h->next;
        else
                s->held_first = h->next;
        if (s->held_last == h)
                s->held_last = prev;
        h->next = NULL;
        s->held_bytes -= h->len;
        s->nheld--;
        if (h->request)
                s->nheld_req--;
        if (h->note) {
                s->nheld_notes--;
                s->held_notes_bytes -= h->len;
        }
        return h;
}

static void held_free(struct held *h)
{
        if (h) {
                free(h->body);
                free(h);
        }
}

/* Notifications that change what the server knows: losing one would make
 * the server's view of a document or of the workspace wrong for good. */
static bool peek_changes_state(const struct lsp_peek *p)
{
        static const char *const keep[] = {"textDocument/didOpen",
                                           "textDocument/didChange",
                                           "textDocument/didClose",
                                           "textDocument/didSave",
                                           "workspace/didChangeConfiguration",
                                           "workspace/didChangeWorkspaceFolders",
                                           "workspace/didChangeWatchedFiles",
                                           "workspace/didCreateFiles",
                                           "workspace/didRenameFiles",
                                           "workspace/didDeleteFiles",
                                           "initialized"};

        for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
                if (lsp_peek_method_is(p, keep[i]))
                        return true;
        return false;
}

static bool peek_is_document_change(const struct lsp_peek *p)
{
        return lsp_peek_method_is(p, "textDocument/didOpen") ||
               lsp_peek_method_is(p, "textDocument/didChange") ||
               lsp_peek_method_is(p, "textDocument/didClose");
}

static int record_notification(struct lsp_session *s, const char *body, size_t len,
                               const struct lsp_peek *p);

static int hold(struct lsp_session *s, const char *body, size_t len, const struct lsp_peek *p)
{
        size_t max = s->cfg.max_held ? s->cfg.max_held : MAX_HELD_DEFAULT;
        bool request = lsp_peek_kind(p) == LSP_MSG_REQUEST;
        /* The next server will be replayed to (the replayed didOpens are
         * written once its initialize is answered, not before). */
        bool replay_follows = s->cfg.replay && s->initialized;
        bool note = false;
        struct held *h;

        /* After giving up no server comes for a while: the editor gets its
         * answer now (shutdown was answered before this). */
        if (request && s->refusal) {
                s->failed_pending++;
                return answer_error(s, p->id, p->id_len, ERR_REQUEST_FAILED, s->refusal);
        }
        if (!request && replay_follows) {
                if (peek_is_document_change(p))
                        /* Folded into the recorder: the replay opens each
                         * document as it is then, so nothing is held and
                         * nothing is applied twice.  A request held from
                         * before the change then meets the newer text, as
                         * it would have with a live server a moment later. */
                        return record_notification(s, body, len, p);
                note = !lsp_peek_method_is(p, "initialized") &&
                       !lsp_peek_method_is(p, "workspace/didChangeConfiguration") &&
                       !lsp_peek_method_is(p, "workspace/didChangeWorkspaceFolders");
                if (note && (s->nheld_notes >= HELD_NOTES_MAX ||
                             s->held_notes_bytes + len > HELD_NOTES_BYTES)) {
                        char m[128];

                        if (s->notes_dropped++ == 0)
                                slog(s, LOG_WARNING,
                                     "%u notifications (%zu bytes) from the editor wait for the "
                                     "restarting server; dropping further ones such as %s until "
                                     "it runs (it reads the files afresh)",
                                     s->nheld_notes, s->held_notes_bytes,
                                     lsp_peek_method(p, m, sizeof(m)) >= 0 ? m : "a long method");
                        return 0;
                }
        }

        /* shutdown is never refused: the editor asked the server to go,
         * and session_shutdown_requested() must stay true. */
        if (s->held_bytes + len > max && !(request && lsp_peek_method_is(p, "shutdown"))) {
                if (request)
                        return answer_error(s, p->id, p->id_len, ERR_REQUEST_FAILED,
                                            "gopls-guard: the language server is restarting and "
                                            "too many messages are waiting; try again");
                if (!peek_changes_state(p)) {
                        char m[128];

                        slog(s, LOG_WARNING,
                             "dropped a notification (%s) from the editor: %zu bytes are "
                             "already waiting for the restarting server",
                             lsp_peek_method(p, m, sizeof(m)) >= 0 ? m : "a long method",
                             s->held_bytes);
                        return 0;
                }
                /* Document and workspace changes are kept over the bound:
                 * the server would otherwise disagree with the editor. */
                if (!s->held_over_logged)
                        slog(s, LOG_WARNING,
                             "more than %zu bytes from the editor wait for the restarting "
                             "server; keeping document changes anyway",
                             max);
                s->held_over_logged = true;
        }
        h = calloc(1, sizeof(*h));
        if (!h || !(h->body = memdup0(body, len))) {
                free(h);
                return -ENOMEM;
        }
        h->len = len;
        h->request = request;
        h->note = note;
        if (note) {
                s->nheld_notes++;
                s->held_notes_bytes += len;
        }
        if (s->held_last)
                s->held_last->next = h;
        else
                s->held_first = h;
        s->held_last = h;
        s->held_bytes += len;
        s->nheld++;
        if (request)
                s->nheld_req++;
        return 0;
}

/* ---------------------------------------------------------------------- */
/* server requests to the editor                                            */

static void sreq_free(struct sreq *r)
{
        if (r) {
                free(r->orig_raw);
                free(r->orig_key);
                free(r);
        }
}

static void sreqs_forget(struct lsp_session *s)
{
        while (s->sreqs) {
                struct sreq *r = s->sreqs;

                s->sreqs = r->next;
                sreq_free(r);
        }
        s->nsreq = 0;
}

/* ---------------------------------------------------------------------- */
/* recorder: documents, workspace                                           */

static uint32_t u32_of(struct lsp_json obj, const char *key)
{
        struct lsp_json v;
        int64_t n;

        /* absent, fractional or odd values count as 0, as they did for
         * jansson's json_integer_value() */
        if (lsp_json_member(obj, key, &v) != 1 || lsp_json_int(v, &n) < 0 || n < 0)
                return 0;
        return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static struct lsp_position position_of(struct lsp_json range, const char *key)
{
        struct lsp_json pos;

        if (lsp_json_member(range, key, &pos) != 1 || !lsp_json_is_object(pos))
                return (struct lsp_position){0, 0};
        return (struct lsp_position){u32_of(pos, "line"), u32_of(pos, "character")};
}

/* The decoded JSON string v in a new NUL-terminated buffer (*ret), with
 * room to spare only when it is small.  Returns the length, -EBADMSG or
 * -ENOMEM. */
static ssize_t string_dup(struct lsp_json v, char **ret)
{
        size_t raw = (size_t)(v.end - v.p);
        char *b = malloc(raw + 1), *t;
        ssize_t n;

        if (!b)
                return -ENOMEM;
        n = lsp_json_string(v, b);
        if (n < 0) {
                free(b);
                return n;
        }
        b[n] = '\0';
        /* Escapes (tabs, newlines, quotes) make the JSON of source text
         * longer than the text: give the slack back for large documents,
         * which are kept for the whole session. */
        if (raw - (size_t)n > 4096 && (t = realloc(b, (size_t)n + 1)))
                b = t;
        *ret = b;
        return n;
}

/* The members of params.textDocument of a document notification that
 * the recorder reads, found in one pass over it. */
enum { TD_URI, TD_LANGUAGE, TD_VERSION, TD_TEXT, TD__COUNT };

/* params.textDocument's members and params.contentChanges of a document
 * notification (found in one pass over params, which lsp_peek() already
 * delimited), its decoded uri, and the decoded length of a text member
 * (checked on the way, -1 if there is none). */
static int doc_params(const struct lsp_peek *p, struct lsp_json *changes,
                      struct lsp_json td[static TD__COUNT], char **uri, ssize_t *text_len)
{
        static const char *const keys[TD__COUNT] = {"uri", "languageId", "version", "text"};
        static const char *const outer[] = {"textDocument", "contentChanges"};
        struct lsp_json params, pv[2];

        if (!p->params)
                return -EBADMSG;
        params = (struct lsp_json){p->params, p->params + p->params_len};
        if (lsp_json_members_nested(params, outer, pv, 2, 0, keys, td, TD__COUNT, TD_TEXT,
                                    text_len) < 0 ||
            !lsp_json_is_object(pv[0]) || !td[TD_URI].p)
                return -EBADMSG;
        *changes = pv[1];
        ssize_t n = string_dup(td[TD_URI], uri);
        return n < 0 ? (int)n : 0;
}

static int record_did_open(struct lsp_session *s, const struct lsp_peek *p)
{
        struct lsp_json changes, td[TD__COUNT];
        char *uri = NULL, *lang = NULL;
        int64_t version = 0;
        ssize_t text_len;
        int r;

        r = doc_params(p, &changes, td, &uri, &text_len);
        if (r < 0)
                return r;
        if (td[TD_LANGUAGE].p && lsp_json_is_string(td[TD_LANGUAGE]) &&
            (r = (int)string_dup(td[TD_LANGUAGE], &lang)) < 0)
                goto out;
        if (td[TD_VERSION].p)
                (void)lsp_json_int(td[TD_VERSION], &version);
        r = -EBADMSG;
        if (!td[TD_TEXT].p || text_len < 0)
                goto out;
        /* Kept as the editor escaped it (checked by doc_params(), copied
         * once): decoded only if an edit by range ever needs its
         * characters, and replayed as is. */
        r = lsp_docs_open_checked(&s->docs, uri, lang, version, td[TD_TEXT].p + 1,
                                  (size_t)(td[TD_TEXT].end - td[TD_TEXT].p - 2), (size_t)text_len);
        if (r == -EFBIG) {
                (void)lsp_docs_close(&s->docs, uri);
                slog(s, LOG_WARNING,
                     "%s is too large to keep; it will not be reopened after a restart", uri);
                r = 0;
        }
        r = r < 0 ? r : 0;
out:
        free(uri);
        free(lang);
        return r;
}

static int record_did_change(struct lsp_session *s, const struct lsp_peek *p)
{
        struct lsp_json td[TD__COUNT], changes, ch, v;
        struct lsp_change *c = NULL;
        const char *cur = NULL;
        char *uri = NULL;
        size_t n = 0, cap = 0;
        int64_t version = 0;
        ssize_t text_len;
        int r, k;

        r = doc_params(p, &changes, td, &uri, &text_len);
        if (r < 0)
                return r;
        r = -EBADMSG;
        if (!changes.p)
                goto out;
        if (td[TD_VERSION].p)
                (void)lsp_json_int(td[TD_VERSION], &version);
        while ((k = lsp_json_next(changes, &cur, &ch)) == 1) {
                struct lsp_json range;

                r = -EBADMSG;
                if (!lsp_json_is_object(ch) || lsp_json_member(ch, "text", &v) != 1 ||
                    !lsp_json_is_string(v))
                        goto out;
                if (n == cap) {
                        struct lsp_change *nc;

                        cap = cap ? 2 * cap : 4;
                        nc = realloc(c, cap * sizeof(*c));
                        r = -ENOMEM;
                        if (!nc)
                                goto out;
                        c = nc;
                }
                /* The texts go to the store as sent: it checks them all
                 * before applying any, and decodes only what it splices. */
                c[n] = (struct lsp_change){.text = v.p + 1,
                                           .len = (size_t)(v.end - v.p - 2),
                                           .escaped = true};
                c[n].full = lsp_json_member(ch, "range", &range) != 1 ||
                            !lsp_json_is_object(range);
                if (!c[n].full) {
                        c[n].range.start = position_of(range, "start");
                        c[n].range.end = position_of(range, "end");
                }
                n++;
        }
        if (k < 0) {
                r = -EBADMSG;
                goto out;
        }
        r = lsp_docs_change(&s->docs, uri, version, c, n);
        if (r == -ENOENT)
                slog(s, LOG_INFO, "didChange for %s, which is not open; forwarded as is", uri);
        else if (r < 0 && r != -ENOMEM && r != -EBADMSG) {
                /* Partly applied: the recorded text no longer matches the
                 * editor's, so it must not be replayed. */
                (void)lsp_docs_close(&s->docs, uri);
                slog(s, LOG_WARNING,
                     "could not apply a change to %s (%s); it will not be reopened after a "
                     "restart",
                     uri, strerror(-r));
        }
        r = r == -ENOMEM || r == -EBADMSG ? r : 0;
out:
        free(c);
        free(uri);
        return r;
}

static int record_did_close(struct lsp_session *s, const struct lsp_peek *p)
{
        struct lsp_json changes, td[TD__COUNT];
        ssize_t text_len;
        char *uri;
        int r = doc_params(p, &changes, td, &uri, &text_len);

        if (r < 0)
                return r;
        (void)lsp_docs_close(&s->docs, uri);
        free(uri);
        return 0;
}

static int record_folders(struct lsp_session *s, const json_t *params)
{
        const json_t *ev = json_object_get(params, "event");
        const json_t *added = json_object_get(ev, "added"),
                     *removed = json_object_get(ev, "removed");
        size_t i, j;
        const json_t *f;

        if (!s->folders && !(s->folders = json_array()))
                return -ENOMEM;
        json_array_foreach(removed, i, f)
        {
                const char *uri = json_string_value(json_object_get(f, "uri"));

                for (j = 0; uri && j < json_array_size(s->folders); j++)
                        if (json_equal(json_object_get(json_array_get(s->folders, j), "uri"),
                                       json_object_get(f, "uri"))) {
                                json_array_remove(s->folders, j);
                                break;
                        }
        }
        json_array_foreach(added, i, f)
        {
                if (json_array_append_new(s->folders, json_deep_copy(f)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Records a notification the editor sends to the server now.  Returns 0,
 * -EBADMSG (malformed: drop it), -ENOMEM. */
static int record_notification(struct lsp_session *s, const char *body, size_t len,
                               const struct lsp_peek *p)
{
        enum { OPEN, CHANGE, CLOSE, CONFIG, FOLDERS } what;
        json_t *msg, *params;
        int r = 0;

        if (lsp_peek_method_is(p, "initialized")) {
                s->initialized_sent = true;
                return 0;
        }
        if (lsp_peek_method_is(p, "textDocument/didOpen"))
                what = OPEN;
        else if (lsp_peek_method_is(p, "textDocument/didChange"))
                what = CHANGE;
        else if (lsp_peek_method_is(p, "textDocument/didClose"))
                what = CLOSE;
        else if (lsp_peek_method_is(p, "workspace/didChangeConfiguration"))
                what = CONFIG;
        else if (lsp_peek_method_is(p, "workspace/didChangeWorkspaceFolders"))
                what = FOLDERS;
        else
                return 0;

        if (what == OPEN || what == CHANGE || what == CLOSE) {
                /* The hot path: no tree, the text decoded once, into the
                 * store (and a lone surrogate kept, which jansson refuses). */
                r = what == OPEN     ? record_did_open(s, p)
                    : what == CHANGE ? record_did_change(s, p)
                                     : record_did_close(s, p);
                if (r == -EBADMSG)
                        return bad_message(s, "editor",
                                           "params lack a document URI or text, or hold "
                                           "malformed JSON",
                                           body, len);
                return r;
        }
        msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        params = json_object_get(msg, "params");
        if (!json_is_object(params)) {
                json_decref(msg);
                return bad_message(s, "editor", "not valid JSON or no params", body, len);
        }
        if (what == CONFIG) {
                json_decref(s->config);
                s->config = json_incref(params);
        } else
                r = record_folders(s, params);
        json_decref(msg);
        return r;
}

/* ---------------------------------------------------------------------- */
/* editor -> server                                                         */

/* Sends an editor message to the running server, recording what it
 * changes.  Requests are remembered until answered. */
static int editor_forward(struct lsp_session *s, const char *body, size_t len,
                          const struct lsp_peek *p)
{
        struct ereq *e;
        int r;

        if (lsp_peek_kind(p) != LSP_MSG_REQUEST) {
                if (s->cfg.replay) {
                        r = record_notification(s, body, len, p);
                        if (r < 0)
                                return r;
                }
                send_server(s, body, len);
                return 0;
        }

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        r = key_from_peek(p, &e->key, &e->key_len);
        if (r < 0) {
                ereq_free(e);
                return r == -EBADMSG
                           ? bad_message(s, "editor", "id is not a string or number", body, len)
                           : r;
        }
        if (!(e->raw_id = memdup0(p->id, p->id_len))) {
                ereq_free(e);
                return -ENOMEM;
        }
        e->raw_id_len = p->id_len;
        e->initialize = lsp_peek_method_is(p, "initialize");
        e->shutdown = lsp_peek_method_is(p, "shutdown");
        e->execute_command = lsp_peek_method_is(p, "workspace/executeCommand");
        e->gen = s->gen;
        if (lsp_peek_method(p, e->method, sizeof(e->method)) <= 0)
                e->method[0] = '\0';
        e->seq = ++s->next_seq;
        /* See session_watched_request() for why these two. */
        e->unwatched = e->execute_command || lsp_peek_method_is(p, "workspace/diagnostic");

        if (s->cfg.replay) {
                bool again = e->initialize;

                if (!again) {
                        /* Decoded: Neovim sends "textDocument\/hover". */
                        char m[128];

                        again = lsp_peek_method(p, m, sizeof(m)) > 0 && session_method_is_read(m);
                }
                if (e->initialize) {
                        json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
                        json_t *params = json_object_get(msg, "params");

                        if (!json_is_object(params)) {
                                json_decref(msg);
                                r = answer_error(s, e->raw_id, e->raw_id_len, ERR_PARSE,
                                                 "gopls-guard: malformed initialize request");
                                ereq_free(e);
                                (void)bad_message(s, "editor", "initialize without valid params",
                                                  body, len);
                                return r < 0 ? r : -EBADMSG;
                        }
                        json_decref(s->init_params);
                        s->init_params = json_incref(params);
                        json_decref(s->folders);
                        s->folders =
                            json_is_array(json_object_get(params, "workspaceFolders"))
                                ? json_deep_copy(json_object_get(params, "workspaceFolders"))
                                : NULL;
                        json_decref(msg);
                }
                if (again) {
                        if (!(e->body = memdup0(body, len))) {
                                ereq_free(e);
                                return -ENOMEM;
                        }
                        e->len = len;
                }
        }

        e->prev = s->pend_last;
        if (s->pend_last)
                s->pend_last->next = e;
        else
                s->pend_first = e;
        s->pend_last = e;
        s->npend++;
        send_server(s, body, len);
        return 0;
}

/* $/cancelRequest for a request the session still holds (or will send
 * again): the session answers it and drops both.  Returns 1 if so, 0 when
 * the cancel should go on like any notification, <0 on errors. */
static int editor_cancel(struct lsp_session *s, const char *body, size_t len)
{
        json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        json_t *id = json_object_get(json_object_get(msg, "params"), "id");
        struct held *prev = NULL, *h;
        char *key;
        size_t key_len;
        int r;

        r = id ? key_from_json(id, &key, &key_len) : -EBADMSG;
        json_decref(msg);
        if (r < 0)
                return r == -EBADMSG
                           ? bad_message(s, "editor", "$/cancelRequest without an id", body, len)
                           : r;

        for (h = s->held_first; h; prev = h, h = h->next) {
                struct lsp_peek p;
                char *k;
                size_t kn;
                bool same;

                if (!h->request || lsp_peek(h->body, h->len, &p) < 0 ||
                    key_from_peek(&p, &k, &kn) < 0)
                        continue;
                same = key_eq(k, kn, key, key_len);
                free(k);
                if (!same)
                        continue;
                r = answer_error(s, p.id, p.id_len, ERR_REQUEST_CANCELLED, "request cancelled");
                held_free(held_pop(s, prev, h));
                free(key);
                return r < 0 ? r : 1;
        }
        if (s->state != ST_RUNNING) {
                struct ereq *e = ereq_find(s, key, key_len);

                /* nothing has reached the current server yet */
                if (e) {
                        free(key);
                        r = ereq_answer_error(s, e, ERR_REQUEST_CANCELLED, "request cancelled");
                        return r < 0 ? r : 1;
                }
        }
        free(key);
        return 0;
}

/* The editor answers a server request (or one of the guard's own). */
static int editor_response(struct lsp_session *s, const char *body, size_t len,
                           const struct lsp_peek *p)
{
        struct sreq **pp, *q;
        json_t *msg, *orig;
        char *t;

        if (peek_is_guard_id(p))
                return 0; /* answer to our client/unregisterCapability */
        if (!s->cfg.replay) {
                if (s->state == ST_RUNNING)
                        send_server(s, body, len);
                return 0;
        }
        if (p->id_type != LSP_ID_INT)
                return bad_message(s, "editor", "answer to an unknown request", body, len);
        for (pp = &s->sreqs; (q = *pp); pp = &q->next)
                if (q->sid == p->id_int)
                        break;
        if (!q || q->gen != s->gen || s->state == ST_LOST) {
                slog(s, LOG_DEBUG,
                     "dropped the editor's answer to request %" PRId64
                     " of a server that has ended",
                     p->id_int);
                return 0;
        }
        msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        orig = json_loadb(q->orig_raw, q->orig_raw_len, JSON_DECODE_ANY | LOAD_FLAGS, NULL);
        if (!msg && orig)
                /* The server still waits for an answer: it gets an error
                 * instead of nothing, under its own id (raw, type kept). */
                (void)answer_error_to(s, false, q->orig_raw, q->orig_raw_len, ERR_INTERNAL,
                                      "gopls-guard: the editor's answer was not valid JSON");
        *pp = q->next;
        s->nsreq--;
        sreq_free(q);
        if (!msg || !orig || json_object_set_new(msg, "id", orig) < 0) {
                /* json_object_set_new() took orig even when it failed */
                if (!msg)
                        json_decref(orig);
                json_decref(msg);
                return bad_message(s, "editor", "not valid JSON", body, len);
        }
        t = json_dumps(msg, DUMP_FLAGS);
        json_decref(msg);
        if (!t)
                return -ENOMEM;
        send_server(s, t, strlen(t));
        free(t);
        return 0;
}

int session_from_editor(struct lsp_session *s, const char *body, size_t len)
{
        struct lsp_peek p;
        enum lsp_msg_kind kind;
        int r;

        if (lsp_peek(body, len, &p) < 0)
                return bad_message(s, "editor", "not a JSON object", body, len);
        kind = lsp_peek_kind(&p);
        if (kind == LSP_MSG_INVALID)
                return bad_message(s, "editor", "not a JSON-RPC request, notification or answer",
                                   body, len);
        if (s->exit) {
                slog(s, LOG_DEBUG, "ignored a message from the editor after exit");
                return 0;
        }
        if (kind == LSP_MSG_REQUEST && p.id_type == LSP_ID_OTHER) {
                /* Only strings and numbers are ids; one that is not even
                 * JSON ("id":-) cannot be echoed, so the answer carries
                 * null, as JSON-RPC asks for an id that cannot be read. */
                json_t *id = json_loadb(p.id, p.id_len, JSON_DECODE_ANY, NULL);
                bool number = json_is_number(id);
                json_decref(id);
                if (!number) {
                        (void)answer_error(s, "null", 4, ERR_INVALID_REQUEST,
                                           "gopls-guard: a request id must be a number or a "
                                           "string");
                        return bad_message(s, "editor", "request id is not a number or a string",
                                           body, len);
                }
        }
        if (kind == LSP_MSG_RESPONSE)
                return editor_response(s, body, len, &p);

        if (kind == LSP_MSG_NOTIFICATION && lsp_peek_method_is(&p, "exit")) {
                s->exit = true;
                /* On a shared server `exit` would end every editor's
                 * session (gopls exits the process on an exit without a
                 * shutdown on that connection); this session's end is
                 * the guard's business (session_leave()). */
                if (s->state == ST_RUNNING && !s->cfg.shared_server) {
                        send_server(s, body, len);
                        return 0;
                }
                /* No server to tell, or one still being replayed to: it is
                 * stopped rather than sent a late exit that would overtake
                 * held messages.  What waits gets its one answer now
                 * (shutdown: null, the rest: RequestFailed). */
                session_fail_pending(s, "gopls-guard: the editor ended the session");
                return 0;
        }
        if (kind == LSP_MSG_REQUEST && lsp_peek_method_is(&p, "shutdown")) {
                /* Set before forwarding or holding, neither of which refuses
                 * a shutdown (hold() keeps it over its bound). */
                s->shutdown = true;
                /* The editor only wants the server gone, and it is. */
                if (s->state == ST_LOST)
                        return answer_raw(s, p.id, p.id_len, "\"result\":null");
        }
        if (kind == LSP_MSG_NOTIFICATION && lsp_peek_method_is(&p, "$/cancelRequest")) {
                r = editor_cancel(s, body, len);
                if (r != 0)
                        return r > 0 ? 0 : r;
        }
        if (s->state != ST_RUNNING)
                return hold(s, body, len, &p);
        return editor_forward(s, body, len, &p);
}

/* ---------------------------------------------------------------------- */
/* server -> editor                                                         */

static void flush_shows(struct lsp_session *s)
{
        size_t i;
        json_t *b;

        json_array_foreach(s->shows, i, b)
            send_editor(s, json_string_value(b), json_string_length(b));
        json_array_clear(s->shows);
}

static int server_response(struct lsp_session *s, const char *body, size_t len,
                           const struct lsp_peek *p, bool *ret_replay_done)
{
        struct ereq *e;
        char *key;
        size_t key_len;
        int r = key_from_peek(p, &key, &key_len);

        if (r < 0)
                return r == -EBADMSG ? bad_message(s, "server", "answer with a bad id", body, len)
                                     : r;
        if (peek_is_guard_id(p)) {
                if (key_eq(key, key_len, "s:" LEAVE_ID, strlen("s:" LEAVE_ID)))
                        s->leave_pending = false;
                if (s->state == ST_REPLAYING && s->replay_key &&
                    key_eq(key, key_len, s->replay_key, s->replay_key_len))
                        *ret_replay_done = true;
                free(key);
                return 0;
        }
        e = ereq_find(s, key, key_len);
        free(key);
        if (!e || e->gen != s->gen) {
                /* Already answered by the session (cancelled while held,
                 * failed at a restart): the editor gets one answer only. */
                slog(s, LOG_DEBUG, "dropped an answer from the server to a request %s",
                     e ? "it was never sent" : "that is no longer pending");
                return 0;
        }
        if (e->initialize && !p->has_error)
                s->init_ok = true;
        if (e->initialize && s->cfg.replay && !s->initialized && !p->has_error) {
                json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
                json_t *caps = json_object_get(json_object_get(msg, "result"), "capabilities");

                if (caps) {
                        s->init_caps = json_incref(caps);
                        s->initialized = true;
                } else
                        slog(s, LOG_WARNING,
                             "the server's initialize result has no capabilities; the session "
                             "will not be restored after a restart");
                json_decref(msg);
        }
        send_editor(s, body, len);
        if (e->initialize) {
                s->init_answered = true;
                flush_shows(s);
        }
        ereq_unlink(s, e);
        return 0;
}

static int track_progress(struct lsp_session *s, const json_t *token, bool open)
{
        char *key;
        size_t key_len;
        int r = key_from_json(token, &key, &key_len);

        if (r < 0)
                return r;
        if (open)
                r = json_object_set(s->progress, key, (json_t *)token) < 0 ? -ENOMEM : 0;
        else
                (void)json_object_del(s->progress, key);
        free(key);
        return r;
}

static int server_request(struct lsp_session *s, const char *body, size_t len,
                          const struct lsp_peek *p)
{
        json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        json_t *params = json_object_get(msg, "params");
        const json_t *item;
        struct sreq *q;
        size_t i;
        int r;

        if (!msg)
                return bad_message(s, "server", "not valid JSON", body, len);
        if (lsp_peek_method_is(p, "window/workDoneProgress/create")) {
                json_t *token = json_object_get(params, "token");

                if (token && (r = track_progress(s, token, true)) == -ENOMEM)
                        goto out;
        } else if (lsp_peek_method_is(p, "client/registerCapability")) {
                json_array_foreach(json_object_get(params, "registrations"), i, item)
                {
                        const char *id = json_string_value(json_object_get(item, "id"));
                        json_t *method = json_object_get(item, "method");

                        if (id && json_is_string(method) &&
                            json_object_set(s->registrations, id, method) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                }
        } else if (lsp_peek_method_is(p, "client/unregisterCapability")) {
                /* "unregisterations" is the specification's own spelling. */
                json_array_foreach(json_object_get(params, "unregisterations"), i, item)
                {
                        const char *id = json_string_value(json_object_get(item, "id"));

                        if (id)
                                (void)json_object_del(s->registrations, id);
                }
        }

        q = calloc(1, sizeof(*q));
        r = -ENOMEM;
        if (!q)
                goto out;
        r = key_from_peek(p, &q->orig_key, &q->orig_key_len);
        if (r < 0 || !(q->orig_raw = memdup0(p->id, p->id_len))) {
                sreq_free(q);
                if (r == -EBADMSG) {
                        json_decref(msg);
                        return bad_message(s, "server", "request with a bad id", body, len);
                }
                r = -ENOMEM;
                goto out;
        }
        q->orig_raw_len = p->id_len;
        q->sid = s->next_sid++;
        q->gen = s->gen;
        if (json_object_set_new(msg, "id", json_integer((json_int_t)q->sid)) < 0) {
                sreq_free(q);
                r = -ENOMEM;
                goto out;
        }
        q->next = s->sreqs;
        s->sreqs = q;
        s->nsreq++;
        r = emit(s, true, json_incref(msg));
out:
        json_decref(msg);
        return r;
}

static int server_notification(struct lsp_session *s, const char *body, size_t len,
                               const struct lsp_peek *p)
{
        bool progress = lsp_peek_method_is(p, "$/progress");
        bool diags = !progress && lsp_peek_method_is(p, "textDocument/publishDiagnostics");
        bool cancel = !progress && !diags && lsp_peek_method_is(p, "$/cancelRequest");
        json_t *msg, *params;
        int r = 0;

        if (!progress && !diags && !cancel) {
                send_editor(s, body, len);
                return 0;
        }
        msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        params = json_object_get(msg, "params");
        if (!json_is_object(params)) {
                json_decref(msg);
                return bad_message(s, "server", "not valid JSON or no params", body, len);
        }
        if (progress) {
                const char *kind =
                    json_string_value(json_object_get(json_object_get(params, "value"), "kind"));
                json_t *token = json_object_get(params, "token");

                if (token && kind && (!strcmp(kind, "begin") || !strcmp(kind, "end")))
                        r = track_progress(s, token, !strcmp(kind, "begin"));
                if (r == -EBADMSG)
                        r = 0; /* an odd token: forwarded, not tracked */
                if (r == 0)
                        send_editor(s, body, len);
        } else if (diags) {
                const char *uri = json_string_value(json_object_get(params, "uri"));
                size_t n = json_array_size(json_object_get(params, "diagnostics"));

                if (uri && n)
                        r = json_object_set_new(s->diagnosed, uri, json_true()) < 0 ? -ENOMEM : 0;
                else if (uri)
                        (void)json_object_del(s->diagnosed, uri);
                if (r == 0)
                        send_editor(s, body, len);
        } else {
                char *key;
                size_t key_len;
                struct sreq *q = NULL;
                json_t *id = json_object_get(params, "id");

                r = id ? key_from_json(id, &key, &key_len) : -EBADMSG;
                if (r == 0) {
                        for (q = s->sreqs; q; q = q->next)
                                if (q->gen == s->gen &&
                                    key_eq(q->orig_key, q->orig_key_len, key, key_len))
                                        break;
                        free(key);
                }
                if (q) {
                        r = json_object_set_new(params, "id", json_integer((json_int_t)q->sid));
                        r = r < 0 ? -ENOMEM : emit(s, true, json_incref(msg));
                } else if (r == 0)
                        slog(s, LOG_DEBUG,
                             "dropped the server's cancel of a request the editor "
                             "already answered");
        }
        json_decref(msg);
        return r == -EBADMSG ? bad_message(s, "server", "malformed $/cancelRequest", body, len) : r;
}

static int finish_replay(struct lsp_session *s, const char *body, size_t len);

int session_from_server(struct lsp_session *s, const char *body, size_t len)
{
        struct lsp_peek p;
        enum lsp_msg_kind kind;
        bool replay_done = false;
        int r;

        if (lsp_peek(body, len, &p) < 0)
                return bad_message(s, "server", "not a JSON object", body, len);
        kind = lsp_peek_kind(&p);
        if (kind == LSP_MSG_INVALID)
                return bad_message(s, "server", "not a JSON-RPC request, notification or answer",
                                   body, len);
        if (s->state == ST_LOST) {
                slog(s, LOG_DEBUG, "dropped a message of a server that has ended");
                return 0;
        }
        if (!s->cfg.replay && kind != LSP_MSG_RESPONSE) {
                send_editor(s, body, len);
                return 0;
        }
        switch (kind) {
        case LSP_MSG_RESPONSE:
                r = server_response(s, body, len, &p, &replay_done);
                if (r == 0 && replay_done)
                        r = finish_replay(s, body, len);
                return r;
        case LSP_MSG_REQUEST:
                return server_request(s, body, len, &p);
        default:
                return server_notification(s, body, len, &p);
        }
}

/* ---------------------------------------------------------------------- */
/* restart and replay                                                       */

/* What the editor must forget about the dead server. */
static int clean_editor_view(struct lsp_session *s)
{
        const char *k;
        json_t *v;
        void *tmp;
        int r;

        json_object_foreach(s->progress, k, v)
        {
                r = emit(s, true,
                         notification("$/progress", json_pack("{s:O, s:{s:s}}", "token", v, "value",
                                                              "kind", "end")));
                if (r < 0)
                        return r;
        }
        json_object_clear(s->progress);

        if (json_object_size(s->registrations) > 0) {
                json_t *list = json_array();
                char id[64];

                if (!list)
                        return -ENOMEM;
                json_object_foreach(s->registrations, k, v)
                    json_array_append_new(list, json_pack("{s:s, s:O}", "id", k, "method", v));
                snprintf(id, sizeof(id), GUARD_PREFIX "unregister/%u", ++s->unregister_seq);
                r = emit(s, true,
                         json_pack("{s:s, s:s, s:s, s:{s:o}}", "jsonrpc", "2.0", "id", id, "method",
                                   "client/unregisterCapability", "params", "unregisterations",
                                   list));
                if (r < 0)
                        return r;
                json_object_clear(s->registrations);
        }

        json_object_foreach_safe(s->diagnosed, tmp, k, v)
        {
                if (lsp_docs_find(&s->docs, k))
                        continue; /* the new server will publish for it again */
                r = emit(s, true,
                         notification("textDocument/publishDiagnostics",
                                      json_pack("{s:s, s:[]}", "uri", k, "diagnostics")));
                if (r < 0)
                        return r;
                json_object_del(s->diagnosed, k);
        }
        return 0;
}

/* The requests in flight to generation `gen` when it was lost: one more
 * crash each if it crashed, else a clean slate. */
static void judge_loss(struct lsp_session *s, unsigned gen, bool crashed)
{
        for (struct ereq *e = s->pend_first; e; e = e->next)
                if (e->gen == gen)
                        e->crashes = crashed ? e->crashes + 1 : 0;
        s->loss_unjudged = false;
}

void session_server_lost(struct lsp_session *s)
{
        struct held *prev = NULL, *h, *hnext;
        struct ereq *e, *next;

        if (s->state == ST_LOST)
                return;
        /* Requests the lost server had: one more crash each, or (a
         * restart the guard chose) a clean slate; "consecutive" crashes.
         * Unless that is not known yet (see loss_unjudged). */
        if (s->state == ST_RUNNING) {
                if (s->crash_noted)
                        judge_loss(s, s->gen, true);
                else {
                        s->loss_unjudged = true;
                        s->lost_gen = s->gen;
                }
        }
        s->crash_noted = false;
        s->state = ST_LOST;

        for (e = s->pend_first; e; e = next) {
                next = e->next;
                if (e->shutdown)
                        (void)ereq_answer_null(s, e);
                else if (!s->cfg.replay) {
                        /* Without replay the new server knows nothing of
                         * this request; the editor's own retry logic copes. */
                        s->failed_pending++;
                        (void)ereq_answer_error(s, e, ERR_CONTENT_MODIFIED,
                                                "gopls-guard: the language server restarted");
                }
        }
        for (h = s->held_first; h; h = hnext) {
                struct lsp_peek p;

                hnext = h->next;
                if (h->request && lsp_peek(h->body, h->len, &p) == 0 &&
                    lsp_peek_method_is(&p, "shutdown")) {
                        (void)answer_raw(s, p.id, p.id_len, "\"result\":null");
                        held_free(held_pop(s, prev, h));
                } else
                        prev = h;
        }
        sreqs_forget(s);
        if (s->cfg.replay && s->initialized && clean_editor_view(s) < 0)
                slog(s, LOG_ERR, "out of memory while telling the editor the server ended");
}

static int send_replay_init(struct lsp_session *s)
{
        json_t *params = json_deep_copy(s->init_params);
        char id[64];
        int r;

        if (!params)
                return -ENOMEM;
        /* The editor's progress token belongs to its own initialize, which
         * was answered long ago. */
        json_object_del(params, "workDoneToken");
        if (s->folders && json_object_set(params, "workspaceFolders", s->folders) < 0) {
                json_decref(params);
                return -ENOMEM;
        }
        snprintf(id, sizeof(id), GUARD_PREFIX "init/%u", s->replays);
        free(s->replay_key);
        s->replay_key = NULL;
        r = make_key('s', id, strlen(id), &s->replay_key, &s->replay_key_len);
        if (r < 0) {
                json_decref(params);
                return r;
        }
        return emit(s, false,
                    json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", id, "method",
                              "initialize", "params", params));
}

/* "METHOD (URI:LINE:CHAR)" for the user, from a request's params: the
 * position 1-based as editors show it (the character in UTF-16 units, as
 * LSP counts), or the range's start; the URI alone, or nothing, when the
 * params have no more. */
static void describe_request(const char *body, size_t len, char *buf, size_t size)
{
        json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        json_t *params = json_object_get(msg, "params");
        const char *method = json_string_value(json_object_get(msg, "method"));
        const char *uri =
            json_string_value(json_object_get(json_object_get(params, "textDocument"), "uri"));
        json_t *pos = json_object_get(params, "position");

        if (!pos)
                pos = json_object_get(json_object_get(params, "range"), "start");
        json_t *line = json_object_get(pos, "line"), *ch = json_object_get(pos, "character");
        if (uri && json_is_integer(line) && json_is_integer(ch))
                snprintf(buf, size, "%s (%s:%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT ")",
                         method ? method : "?", uri, json_integer_value(line) + 1,
                         json_integer_value(ch) + 1);
        else if (uri)
                snprintf(buf, size, "%s (%s)", method ? method : "?", uri);
        else
                snprintf(buf, size, "%s", method ? method : "?");
        json_decref(msg);
}

/* A request that was in flight at SESSION_POISON_CRASHES consecutive
 * crashes: answered RequestFailed instead of being sent a third time, and
 * the user told which one (cfg.notify). */
static int drop_poison(struct lsp_session *s, struct ereq *e)
{
        char what[512], msg[768];

        describe_request(e->body, e->len, what, sizeof what);
        s->poisoned++;
        s->failed_pending++;
        slog(s, LOG_WARNING,
             "not sending %s again: the language server ended %u times in a row while it "
             "was in flight; answered RequestFailed",
             what, e->crashes);
        snprintf(msg, sizeof msg,
                 "gopls-guard: %s was not sent again: the language server crashed %u times "
                 "in a row while answering it",
                 what, e->crashes);
        int r = ereq_answer_error(s, e, ERR_REQUEST_FAILED, msg);
        if (s->cfg.notify) {
                snprintf(msg, sizeof msg,
                         "gopls-guard dropped a request that crashed the language server %u "
                         "times: %s. It was answered with an error; the server runs on.",
                         SESSION_POISON_CRASHES, what);
                session_show_message(s, 2, msg);
        }
        return r;
}

/* Requests that were in flight when the server ended: send reads again,
 * answer the rest. */
static int settle_pending(struct lsp_session *s)
{
        struct ereq *e, *next;
        int r = 0;

        for (e = s->pend_first; e && r >= 0; e = next) {
                next = e->next;
                if (e->gen == s->gen)
                        continue;
                /* Never the editor's initialize: without it no server can
                 * serve, so a server dying at start-up is a crash loop for
                 * the supervisor to give up on, not a request to drop. */
                if (e->body && !e->initialize && e->crashes >= SESSION_POISON_CRASHES) {
                        r = drop_poison(s, e);
                        continue;
                }
                if (e->body) {
                        /* Only the top level was looked at when it was
                         * forwarded; a body broken inside could make every
                         * new server drop its connection, so it is checked
                         * before it goes again (off the hot path: restarts
                         * only). */
                        json_t *ok = json_loadb(e->body, e->len, LOAD_FLAGS, NULL);
                        if (!ok) {
                                s->failed_pending++;
                                r = ereq_answer_error(s, e, ERR_PARSE,
                                                      "gopls-guard: the request is not valid "
                                                      "JSON");
                                continue;
                        }
                        json_decref(ok);
                        e->gen = s->gen;
                        s->resent++;
                        send_server(s, e->body, e->len);
                        continue;
                }
                s->failed_pending++;
                if (e->execute_command)
                        r = ereq_answer_error(s, e, ERR_REQUEST_FAILED,
                                              "gopls-guard: the language server restarted while "
                                              "running this command; it may or may not have "
                                              "taken effect");
                else
                        r = ereq_answer_error(s, e, ERR_CONTENT_MODIFIED,
                                              "gopls-guard: the language server restarted");
        }
        return r;
}

static int release_held(struct lsp_session *s)
{
        int r = 0;

        while (s->held_first && s->state == ST_RUNNING && r != -ENOMEM) {
                struct held *h = held_pop(s, NULL, s->held_first);
                struct lsp_peek p;

                if (lsp_peek(h->body, h->len, &p) == 0)
                        r = editor_forward(s, h->body, h->len, &p);
                held_free(h);
        }
        if (!s->held_first)
                s->held_over_logged = false;
        if (s->notes_dropped && s->state == ST_RUNNING) {
                slog(s, LOG_NOTICE, "dropped %u notifications from the editor while the server "
                                    "restarted",
                     s->notes_dropped);
                s->notes_dropped = 0;
        }
        return r == -ENOMEM ? r : 0;
}

int session_server_started(struct lsp_session *s)
{
        int r;

        if (s->state != ST_LOST)
                return 0; /* the first generation, or a repeated call */
        if (s->loss_unjudged)
                judge_loss(s, s->lost_gen, false); /* no crash was reported */
        free(s->refusal);
        s->refusal = NULL;
        s->gen++;
        if (!s->cfg.replay || !s->initialized) {
                s->state = ST_RUNNING;
                r = settle_pending(s);
                return r < 0 ? r : release_held(s);
        }
        s->replays++;
        s->state = ST_REPLAYING;
        return send_replay_init(s);
}

/* didOpen for a recorded document, written straight from the store's
 * text into one buffer that the io takes over (a replay of many large
 * documents is copied once, here, and never again). */
static int replay_did_open(struct lsp_session *s, const struct lsp_doc *d)
{
        static const char a[] = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\","
                                "\"params\":{\"textDocument\":{\"uri\":\"";
        static const char b[] = "\",\"languageId\":\"";
        static const char c[] = "\",\"version\":";
        static const char t[] = ",\"text\":\"";
        static const char z[] = "\"}}}";
        const char *lang = d->language_id ? d->language_id : "";
        char ver[24];
        int vl = snprintf(ver, sizeof(ver), "%" PRId64, d->version);
        size_t ul = lsp_json_escape(d->uri, strlen(d->uri), NULL),
               ll = lsp_json_escape(lang, strlen(lang), NULL);
        size_t head = sizeof(a) - 1 + ul + sizeof(b) - 1 + ll + sizeof(c) - 1 + (size_t)vl +
                      sizeof(t) - 1;
        /* Source text grows by a few percent when escaped (tabs, line
         * breaks, quotes): room for an eighth more lets the text be
         * escaped in one pass; more escapes than that cost a second. */
        size_t guess = d->escaped ? d->len : d->len + d->len / 8 + 64, tl, n;
        char *m = malloc(head + guess + sizeof(z)), *o = m;

        if (!m)
                return -ENOMEM;
        o = mempcpy(o, a, sizeof(a) - 1);
        o += lsp_json_escape(d->uri, strlen(d->uri), o);
        o = mempcpy(o, b, sizeof(b) - 1);
        o += lsp_json_escape(lang, strlen(lang), o);
        o = mempcpy(o, c, sizeof(c) - 1);
        o = mempcpy(o, ver, (size_t)vl);
        o = mempcpy(o, t, sizeof(t) - 1);
        if (d->escaped) {
                /* still as the editor sent it: valid JSON string contents */
                memcpy(o, d->text, d->len);
                tl = d->len;
        } else
                tl = lsp_json_escape_max(d->text, d->len, o, guess);
        if (tl > guess) {
                char *bigger = realloc(m, head + tl + sizeof(z));

                if (!bigger) {
                        free(m);
                        return -ENOMEM;
                }
                m = bigger;
                o = m + head;
                (void)lsp_json_escape(d->text, d->len, o);
        }
        memcpy(o + tl, z, sizeof(z) - 1);
        n = head + tl + sizeof(z) - 1;
        if (s->io.to_server_take)
                s->io.to_server_take(s->io.userdata, m, n);
        else {
                send_server(s, m, n);
                free(m);
        }
        return 0;
}

static int finish_replay(struct lsp_session *s, const char *body, size_t len)
{
        json_t *msg = json_loadb(body, len, LOAD_FLAGS, NULL);
        json_t *err = json_object_get(msg, "error");
        int r = 0;

        if (err || !msg)
                slog(s, LOG_ERR, "the restarted server refused the replayed initialize: %s",
                     json_string_value(json_object_get(err, "message")) ?: "malformed answer");
        else if (!json_equal(s->init_caps,
                             json_object_get(json_object_get(msg, "result"), "capabilities")))
                slog(s, LOG_NOTICE,
                     "the restarted server announces different capabilities than the editor "
                     "was given at initialize; the editor keeps using the old ones");
        json_decref(msg);

        if (s->initialized_sent)
                r = emit(s, false, notification("initialized", json_object()));
        if (r == 0 && s->config)
                r = emit(s, false,
                         notification("workspace/didChangeConfiguration", json_incref(s->config)));
        for (struct lsp_doc *d = lsp_docs_first(&s->docs); d && r == 0; d = lsp_doc_next(d))
                r = replay_did_open(s, d);
        if (r < 0)
                return r;
        s->state = ST_RUNNING;
        r = settle_pending(s);
        return r < 0 ? r : release_held(s);
}

/* ---------------------------------------------------------------------- */
/* the rest of the API                                                      */

struct lsp_session *session_new(const struct lsp_session_config *cfg,
                                const struct lsp_session_io *io)
{
        struct lsp_session *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        s->cfg = *cfg;
        s->io = *io;
        s->state = ST_RUNNING;
        s->gen = 1;
        s->next_sid = 1;
        lsp_docs_init(&s->docs, cfg->max_document);
        s->registrations = json_object();
        s->progress = json_object();
        s->diagnosed = json_object();
        s->shows = json_array();
        if (!s->registrations || !s->progress || !s->diagnosed || !s->shows) {
                session_free(s);
                return NULL;
        }
        return s;
}

void session_free(struct lsp_session *s)
{
        if (!s)
                return;
        while (s->pend_first)
                ereq_unlink(s, s->pend_first);
        while (s->held_first)
                held_free(held_pop(s, NULL, s->held_first));
        sreqs_forget(s);
        lsp_docs_done(&s->docs);
        json_decref(s->init_params);
        json_decref(s->init_caps);
        json_decref(s->folders);
        json_decref(s->config);
        json_decref(s->registrations);
        json_decref(s->progress);
        json_decref(s->diagnosed);
        json_decref(s->shows);
        free(s->replay_key);
        free(s->refusal);
        free(s);
}

void session_fail_pending(struct lsp_session *s, const char *message)
{
        bool init = false;

        while (s->pend_first) {
                struct ereq *e = s->pend_first;

                init |= e->initialize;
                if (e->shutdown)
                        (void)ereq_answer_null(s, e);
                else {
                        s->failed_pending++;
                        (void)ereq_answer_error(s, e, ERR_REQUEST_FAILED, message);
                }
        }
        while (s->held_first) {
                struct held *h = held_pop(s, NULL, s->held_first);
                struct lsp_peek p;

                if (h->request && lsp_peek(h->body, h->len, &p) == 0) {
                        if (lsp_peek_method_is(&p, "shutdown"))
                                (void)answer_raw(s, p.id, p.id_len, "\"result\":null");
                        else {
                                init |= lsp_peek_method_is(&p, "initialize");
                                s->failed_pending++;
                                (void)answer_error(s, p.id, p.id_len, ERR_REQUEST_FAILED, message);
                        }
                }
                held_free(h);
        }
        if (init && !s->init_answered) {
                /* The editor's initialize has its answer (an error): what
                 * the user should read may go now, the specification allows
                 * window/showMessage at any time after the request. */
                s->init_answered = true;
                flush_shows(s);
        }
}

bool session_replaying(const struct lsp_session *s)
{
        return s->state == ST_REPLAYING;
}

bool session_can_restart(const struct lsp_session *s)
{
        /* Without replay a new server would get the editor's next
         * messages uninitialized, which no server accepts: once the
         * editor's initialize succeeded, only the editor can start over. */
        return s->cfg.replay || !s->init_ok;
}

void session_show_message(struct lsp_session *s, int type, const char *message)
{
        json_t *msg =
            notification("window/showMessage",
                         json_pack("{s:i, s:s}", "type", type, "message", message ? message : ""));
        char *t;

        if (!msg)
                return;
        if (s->init_answered) {
                (void)emit(s, true, msg);
                return;
        }
        t = json_dumps(msg, DUMP_FLAGS);
        json_decref(msg);
        if (!t || json_array_append_new(s->shows, json_string(t)) < 0)
                slog(s, LOG_ERR, "out of memory; a message for the user was lost");
        free(t);
}

int session_leave(struct lsp_session *s)
{
        int r;

        /* Asked once; with no server there is nothing to tell, and after
         * the editor's own shutdown the server has dropped the session. */
        if (s->leave_pending || s->state != ST_RUNNING || s->shutdown)
                return 0;
        for (struct lsp_doc *d = lsp_docs_first(&s->docs); d; d = lsp_doc_next(d)) {
                r = emit(s, false,
                         notification("textDocument/didClose",
                                      json_pack("{s:{s:s}}", "textDocument", "uri", d->uri)));
                if (r < 0)
                        return r;
        }
        if (!s->init_ok)
                return 0; /* never initialized: the server holds nothing */
        r = emit(s, false,
                 json_pack("{s:s, s:s, s:s, s:n}", "jsonrpc", "2.0", "id", LEAVE_ID, "method",
                           "shutdown", "params"));
        if (r < 0)
                return r;
        s->leave_pending = true;
        return 1;
}

bool session_leaving(const struct lsp_session *s)
{
        return s->leave_pending;
}

bool session_shutdown_requested(const struct lsp_session *s)
{
        return s->shutdown;
}

bool session_exit_requested(const struct lsp_session *s)
{
        return s->exit;
}

int session_exit_code(const struct lsp_session *s)
{
        return s->shutdown ? 0 : 1;
}

void session_stats(const struct lsp_session *s, struct lsp_session_stats *ret)
{
        *ret = (struct lsp_session_stats){
            .replays = s->replays,
            .resent = s->resent,
            .failed_pending = s->failed_pending,
            .held_now = s->nheld,
            .open_documents = (unsigned)lsp_docs_count(&s->docs),
            .pending_editor_requests = s->npend + s->nheld_req,
            .pending_server_requests = s->nsreq,
            .poisoned = s->poisoned,
        };
}

int session_refuse_requests(struct lsp_session *s, const char *message)
{
        char *m = NULL;

        if (message && !(m = strdup(message)))
                return -ENOMEM;
        free(s->refusal);
        s->refusal = m;
        if (m)
                session_fail_pending(s, m);
        return 0;
}

void session_note_crash(struct lsp_session *s)
{
        if (s->state == ST_LOST && s->loss_unjudged)
                judge_loss(s, s->lost_gen, true); /* the loss reported first */
        else
                s->crash_noted = true;
}

uint64_t session_watched_request(const struct lsp_session *s)
{
        /* While the server waits for the editor's answer to a request of
         * its own, it has every reason to use no CPU. */
        if (s->state != ST_RUNNING || s->nsreq > 0)
                return 0;
        for (const struct ereq *e = s->pend_first; e; e = e->next)
                if (e->gen == s->gen && !e->unwatched)
                        return e->seq;
        return 0;
}

bool session_method_is_read(const char *method)
{
        /* Requests that compute an answer from the documents and change
         * nothing.  Left out on purpose: rename, executeCommand and
         * workspace/willRenameFiles (they have or prepare effects), the
         * ".../resolve" requests and semanticTokens/full/delta (they carry
         * data or result ids only the old server knew). */
        static const char *const reads[] = {
            "textDocument/hover",
            "textDocument/definition",
            "textDocument/declaration",
            "textDocument/typeDefinition",
            "textDocument/implementation",
            "textDocument/references",
            "textDocument/documentHighlight",
            "textDocument/documentSymbol",
            "textDocument/completion",
            "textDocument/signatureHelp",
            "textDocument/codeAction",
            "textDocument/codeLens",
            "textDocument/documentLink",
            "textDocument/documentColor",
            "textDocument/colorPresentation",
            "textDocument/formatting",
            "textDocument/rangeFormatting",
            "textDocument/onTypeFormatting",
            "textDocument/foldingRange",
            "textDocument/selectionRange",
            "textDocument/semanticTokens/full",
            "textDocument/semanticTokens/range",
            "textDocument/linkedEditingRange",
            "textDocument/moniker",
            "textDocument/prepareCallHierarchy",
            "callHierarchy/incomingCalls",
            "callHierarchy/outgoingCalls",
            "textDocument/prepareTypeHierarchy",
            "typeHierarchy/supertypes",
            "typeHierarchy/subtypes",
            "textDocument/inlayHint",
            "textDocument/inlineValue",
            "textDocument/diagnostic",
            "textDocument/prepareRename",
            "workspace/symbol",
            "workspace/diagnostic",
        };

        if (!method)
                return false;
        for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
                if (strcmp(method, reads[i]) == 0)
                        return true;
        return false;
}

size_t session_pending_methods(const struct lsp_session *s, const char **ret, size_t max)
{
        size_t n = 0;
        for (const struct ereq *e = s->pend_first; e && n < max; e = e->next)
                ret[n++] = e->method[0] ? e->method : "(unknown)";
        return n;
}

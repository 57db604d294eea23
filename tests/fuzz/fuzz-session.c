/* fuzz-session.c — libFuzzer target for the session recorder/replay
 * (src/lsp/lsp-session.h), driven by a script of editor and server events.
 *
 * Input: byte 0 configures the session (bit 0 replay, bit 1 max_held of
 * 200 bytes, bit 2 max_document of 32 bytes, bit 3 free the session at the
 * end without session_fail_pending()); then up to MAX_STEPS steps,
 * each one byte (mod 10) and its arguments:
 *   0, 1  editor message from a template (requests with fuzzer-chosen ids
 *         and methods, initialize, didOpen/didChange/didClose, cancel,
 *         shutdown, exit, answers to server requests, configuration,
 *         workspace folders)
 *   2     editor message of raw bytes (length byte, bytes)
 *   3, 4  server message from a template (answers, errors, the answer to
 *         the replayed initialize, progress, registrations, diagnostics,
 *         cancels, requests)
 *   5     server message of raw bytes
 *   6     session_server_lost()      7  session_server_started()
 *   8     session_fail_pending()     9  a template of either side with one
 *         byte truncated, changed, inserted or deleted
 * The script normally ends with session_fail_pending().
 *
 * What is checked:
 *   - every editor request the session can take (an id that is a string,
 *     a number or null, sent before `exit`) gets at most one answer at any
 *     time, and exactly one once session_fail_pending() has run; ids are
 *     told apart by JSON value, as the session documents ("a" and
 *     "\u0061" are one id, 1 and "1" two, other numbers as written);
 *   - nothing the session writes itself is invalid JSON: a message may
 *     only be invalid if it is a malformed input forwarded byte for byte,
 *     or an answer that echoes a malformed id verbatim (the header says
 *     ids are copied into replies as sent);
 *   - session_from_*() return 0 or -EBADMSG, and -EBADMSG is logged and
 *     forwards nothing to the other side;
 *   - nothing reaches the server between session_server_lost() and
 *     session_server_started();
 *   - session_fail_pending() leaves no editor request pending or held. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "fuzz-input.h"
#include "fuzz-jansson.h"
#include "lsp-framing.h"
#include "lsp-session.h"

#define MAX_STEPS 64
#define MSG_MAX 4096

/* ---------------------------------------------------------------------- */
/* oracle state                                                             */

struct idcount {
        char *key;
        size_t key_len;
        unsigned sent, answered;
};

struct blob {
        char *p;
        size_t n;
};

struct oracle {
        struct idcount *ids;
        size_t nids, capids;
        /* accepted inputs that jansson rejects: may come out verbatim */
        struct blob *bad[2]; /* [0] from the editor, [1] from the server */
        size_t nbad[2], capbad[2];
        bool lost;
        unsigned to_editor, to_server, logs; /* totals, for per-call deltas */
        unsigned to_server_errors; /* of those, error answers (the session's own) */
};

static struct oracle O;

static void *xrealloc(void *p, size_t n)
{
        p = realloc(p, n ? n : 1);
        if (!p)
                abort();
        return p;
}

static char *xmemdup(const void *p, size_t n)
{
        char *c = xrealloc(NULL, n + 1);

        if (n)
                memcpy(c, p, n);
        c[n] = '\0';
        return c;
}

/* An id's identity from its JSON text, or NULL when it is no id at all
 * (object, array, boolean, undecodable string). */
static char *id_key(const char *raw, size_t n, size_t *ret_len)
{
        char *k;

        if (n == 0)
                return NULL;
        if (raw[0] == '"') {
                json_t *j;

                if (n < 2)
                        return NULL;
                if (!memchr(raw, '\\', n)) {
                        k = xrealloc(NULL, n);
                        memcpy(k, "s:", 2);
                        memcpy(k + 2, raw + 1, n - 2);
                        *ret_len = n;
                        return k;
                }
                j = json_loadb(raw, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
                if (!json_is_string(j)) {
                        json_decref(j);
                        return NULL;
                }
                *ret_len = 2 + json_string_length(j);
                k = xrealloc(NULL, *ret_len);
                memcpy(k, "s:", 2);
                memcpy(k + 2, json_string_value(j), json_string_length(j));
                json_decref(j);
                return k;
        }
        if (n == 4 && !memcmp(raw, "null", 4)) {
                *ret_len = 2;
                return xmemdup("n:", 2);
        }
        if (strchr("{[tf", raw[0]))
                return NULL;
        {
                /* a JSON integer within int64_t is compared by value */
                size_t i = raw[0] == '-';
                bool integer = i < n && n - i <= 19 && !(raw[i] == '0' && n - i > 1);
                char buf[32];

                for (size_t j = i; integer && j < n; j++)
                        integer = raw[j] >= '0' && raw[j] <= '9';
                if (integer) {
                        long long v;

                        memcpy(buf, raw, n);
                        buf[n] = '\0';
                        errno = 0;
                        v = strtoll(buf, NULL, 10);
                        if (errno != ERANGE) {
                                *ret_len = (size_t)snprintf(buf, sizeof(buf), "i:%lld", v);
                                return xmemdup(buf, *ret_len);
                        }
                }
        }
        k = xrealloc(NULL, n + 2);
        memcpy(k, "o:", 2);
        memcpy(k + 2, raw, n);
        *ret_len = n + 2;
        return k;
}

static struct idcount *idcount(const char *key, size_t len)
{
        for (size_t i = 0; i < O.nids; i++)
                if (O.ids[i].key_len == len && !memcmp(O.ids[i].key, key, len))
                        return &O.ids[i];
        if (O.nids == O.capids) {
                O.capids = O.capids ? 2 * O.capids : 16;
                O.ids = xrealloc(O.ids, O.capids * sizeof(*O.ids));
        }
        O.ids[O.nids] = (struct idcount){xmemdup(key, len), len, 0, 0};
        return &O.ids[O.nids++];
}

static bool is_hex(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The value of "\uXXXX" at b[i] (i at the backslash), or -1. */
static long u_escape(const char *b, size_t n, size_t i)
{
        if (i + 6 > n || b[i] != '\\' || b[i + 1] != 'u')
                return -1;
        for (size_t k = 2; k < 6; k++)
                if (!is_hex(b[i + k]))
                        return -1;
        return strtol((char[5]){b[i + 2], b[i + 3], b[i + 4], b[i + 5], 0}, NULL, 16);
}

/* JSON's grammar allows a lone surrogate escape ("\ud800"), which jansson
 * refuses and editors send when the user's text holds one: jansson is
 * asked about a copy where each is "\u003f". */
static char *mask_lone_surrogates(const char *b, size_t n)
{
        char *c = xmemdup(b, n);

        for (size_t i = 0; i + 1 < n; i++) {
                if (c[i] != '\\')
                        continue;
                long v = u_escape(c, n, i), lo = u_escape(c, n, i + 6);
                if (v >= 0xD800 && v <= 0xDBFF && lo >= 0xDC00 && lo <= 0xDFFF) {
                        i += 11;
                        continue;
                }
                if (v >= 0xD800 && v <= 0xDFFF)
                        memcpy(c + i + 2, "003f", 4);
                i++; /* the escaped character is not a backslash of its own */
        }
        return c;
}

static bool json_valid(const char *b, size_t n)
{
        /* INT_AS_REAL: an integer over 64 bits is still valid JSON */
        char *m = mask_lone_surrogates(b, n);
        json_t *j = json_loadb(m, n, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, NULL);
        bool ok = json_is_object(j);

        json_decref(j);
        free(m);
        return ok;
}

static bool json_value_valid(const char *b, size_t n)
{
        json_t *j = json_loadb(b, n, JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL,
                               NULL);

        json_decref(j);
        return j != NULL;
}

static void remember_bad(int side, const char *b, size_t n)
{
        if (O.nbad[side] == O.capbad[side]) {
                O.capbad[side] = O.capbad[side] ? 2 * O.capbad[side] : 8;
                O.bad[side] = xrealloc(O.bad[side], O.capbad[side] * sizeof(*O.bad[side]));
        }
        O.bad[side][O.nbad[side]++] = (struct blob){xmemdup(b, n), n};
}

static bool is_bad_input(int side, const char *b, size_t n)
{
        for (size_t i = 0; i < O.nbad[side]; i++)
                if (O.bad[side][i].n == n && !memcmp(O.bad[side][i].p, b, n))
                        return true;
        return false;
}

/* ---------------------------------------------------------------------- */
/* callbacks                                                                */

/* Checks one message the session wrote (c: an exact-size copy, so that
 * ASan catches lsp_peek() reading past it); returns lsp_peek()'s result. */
static int check_emitted(int from_side, const char *c, size_t len, struct lsp_peek *pk)
{
        int r = lsp_peek(c, len, pk);

        if (!json_valid(c, len)) {
                bool echoed_id = r == 0 && lsp_peek_kind(pk) == LSP_MSG_RESPONSE &&
                                 !json_value_valid(pk->id, pk->id_len);

                FZ_CHECK(is_bad_input(from_side, c, len) || echoed_id,
                         "the session wrote invalid JSON: %.*s", (int)(len < 300 ? len : 300), c);
        }
        return r;
}

static void cb_to_editor(void *ud, const char *body, size_t len)
{
        char *c = xmemdup(body, len);
        struct lsp_peek pk;

        (void)ud;
        O.to_editor++;
        if (check_emitted(1, c, len, &pk) == 0 && lsp_peek_kind(&pk) == LSP_MSG_RESPONSE) {
                size_t kl;
                char *k = id_key(pk.id, pk.id_len, &kl);

                if (k) {
                        struct idcount *ic = idcount(k, kl);

                        ic->answered++;
                        FZ_CHECK(ic->answered <= ic->sent,
                                 "answer %u to id %.*s, of which %u requests were sent",
                                 ic->answered, (int)pk.id_len, pk.id, ic->sent);
                        free(k);
                }
        }
        free(c);
}

static void cb_to_server(void *ud, const char *body, size_t len)
{
        char *c = xmemdup(body, len);
        struct lsp_peek pk;

        (void)ud;
        O.to_server++;
        FZ_CHECK(!O.lost, "a message went to the server while none runs: %.*s",
                 (int)(len < 200 ? len : 200), body);
        (void)check_emitted(0, c, len, &pk);
        if (lsp_peek(c, len, &pk) == 0 && lsp_peek_kind(&pk) == LSP_MSG_RESPONSE && pk.has_error)
                O.to_server_errors++;
        free(c);
}

static void cb_log(void *ud, int level, const char *message)
{
        (void)ud;
        O.logs++;
        FZ_CHECK(level >= LOG_EMERG && level <= LOG_DEBUG, "log level %d", level);
        FZ_CHECK(memchr(message, '\0', 4096) != NULL, "unterminated log message");
}

/* ---------------------------------------------------------------------- */
/* sending                                                                  */

static void send_editor(struct lsp_session *s, const char *b, size_t n)
{
        unsigned srv = O.to_server, srv_err = O.to_server_errors, logs = O.logs;
        char *c = xmemdup(b, n);
        struct lsp_peek pk;
        int r;

        if (lsp_peek(c, n, &pk) == 0 && lsp_peek_kind(&pk) != LSP_MSG_INVALID) {
                if (!json_valid(c, n))
                        remember_bad(0, c, n);
                if (lsp_peek_kind(&pk) == LSP_MSG_REQUEST && !session_exit_requested(s)) {
                        size_t kl;
                        char *k = id_key(pk.id, pk.id_len, &kl);

                        /* An id that is neither a number nor a string (nor
                         * null) is answered under null (JSON-RPC). */
                        if (pk.id_type == LSP_ID_OTHER) {
                                json_t *id = json_loadb(pk.id, pk.id_len, JSON_DECODE_ANY, NULL);
                                if (!json_is_number(id)) {
                                        free(k);
                                        k = id_key("null", 4, &kl);
                                }
                                json_decref(id);
                        }

                        if (k) {
                                idcount(k, kl)->sent++;
                                free(k);
                        }
                }
        }
        /* n exactly: the session must not read past the body */
        r = session_from_editor(s, c, n);
        FZ_CHECK(r == 0 || r == -EBADMSG, "session_from_editor: %d", r);
        if (r == -EBADMSG) {
                FZ_CHECK(O.logs > logs, "editor message dropped without a log");
                /* Nothing of it reaches the server; at most the session's
                 * own error answer, when the rejected message was the
                 * editor's answer to a request the server waits on. */
                FZ_CHECK(O.to_server - srv == O.to_server_errors - srv_err &&
                                 O.to_server - srv <= 1,
                         "a rejected editor message reached the server");
        }
        free(c);
}

static void send_server(struct lsp_session *s, const char *b, size_t n)
{
        unsigned ed = O.to_editor, logs = O.logs;
        char *c = xmemdup(b, n);
        struct lsp_peek pk;
        int r;

        if (lsp_peek(c, n, &pk) == 0 && lsp_peek_kind(&pk) != LSP_MSG_INVALID && !json_valid(c, n))
                remember_bad(1, c, n);
        r = session_from_server(s, c, n);
        FZ_CHECK(r == 0 || r == -EBADMSG, "session_from_server: %d", r);
        if (r == -EBADMSG) {
                FZ_CHECK(O.logs > logs, "server message dropped without a log");
                FZ_CHECK(O.to_editor == ed, "a rejected server message reached the editor");
        }
        free(c);
}

static void fail_pending(struct lsp_session *s)
{
        struct lsp_session_stats st;

        session_fail_pending(s, "fuzz: giving up");
        session_stats(s, &st);
        FZ_CHECK(st.pending_editor_requests == 0 && st.held_now == 0,
                 "%u requests pending, %u messages held after fail_pending",
                 st.pending_editor_requests, st.held_now);
        for (size_t i = 0; i < O.nids; i++)
                FZ_CHECK(O.ids[i].answered == O.ids[i].sent,
                         "id %.*s: %u requests, %u answers after fail_pending",
                         (int)O.ids[i].key_len, O.ids[i].key, O.ids[i].sent, O.ids[i].answered);
}

/* ---------------------------------------------------------------------- */
/* templates                                                                */

struct msg {
        char b[MSG_MAX];
        size_t n;
};

__attribute__((format(printf, 2, 3))) static void add(struct msg *m, const char *fmt, ...)
{
        va_list ap;
        int w;

        if (m->n >= sizeof(m->b))
                return;
        va_start(ap, fmt);
        w = vsnprintf(m->b + m->n, sizeof(m->b) - m->n, fmt, ap);
        va_end(ap);
        if (w > 0)
                m->n += (size_t)w < sizeof(m->b) - m->n ? (size_t)w : sizeof(m->b) - m->n - 1;
}

static const char *pick(struct fz *f, const char *const *v, size_t n)
{
        return v[fz_u8(f) % n];
}
#define PICK(f, arr) pick(f, arr, sizeof(arr) / sizeof(arr[0]))

/* Editor request ids: equal values in different spellings, the types
 * JSON-RPC allows and some it does not, the session's own prefix. */
static const char *const ids[] = {
    "1",     "2",    "3",  "0",  "-0",   "\"a\"", "\"b\"",   "\"\\u0061\"",
    "1.5",   "null", "true", "{}", "1e0", "9223372036854775807", "9223372036854775808",
    "\"gopls-guard/init/1\"",
};
/* Ids of server requests, as the server numbers them. */
static const char *const sids[] = {"1", "2", "\"s1\"", "\"\\u0073\\u0031\"", "1.5", "null", "[]"};
/* Ids the editor answers with: the session's numbers, and strangers. */
static const char *const answer_ids[] = {"1", "2", "3", "4", "\"s1\"", "\"gopls-guard/unregister/1\"",
                                         "-1"};
static const char *const req_methods[] = {
    "initialize", "shutdown", "textDocument/hover", "textDocument/completion",
    "workspace/executeCommand", "textDocument/rename", "textDocument\\/hover", "$/custom",
};
static const char *const uris[] = {"\"file:///w/a.go\"", "\"file:///w/b.go\"",
                                   "\"file:///w/\\u0061.go\"", "\"file:///w/c.go\""};
static const char *const tokens[] = {"\"t1\"", "2", "\"t\\u0031\"", "1.5", "{}", "\"t2\""};
static const char *const nums[] = {"0", "1", "2", "3", "-1", "4294967296", "1.5", "100"};

/* A JSON string literal built from pieces that cover line breaks, multi-
 * byte and astral characters, escapes and NUL. */
static void add_text(struct msg *m, struct fz *f)
{
        static const char *const piece[] = {"a",      "\\n",     "\\r",  "\\r\\n", "\xc3\xa9",
                                            "\xf0\x9f\x98\x80", "\\\"", "\\\\", "\\u0000",
                                            "\\ud83d\\ude00",   " ",    "}"};
        size_t n = fz_u8(f) % 12;

        add(m, "\"");
        for (size_t i = 0; i < n; i++)
                add(m, "%s", PICK(f, piece));
        add(m, "\"");
}

static void add_position(struct msg *m, struct fz *f)
{
        add(m, "{\"line\":%s,\"character\":%s}", PICK(f, nums), PICK(f, nums));
}

static void editor_template(struct msg *m, struct fz *f)
{
        uint8_t t = fz_u8(f);

        m->n = 0;
        switch (t % 12) {
        case 0: {
                const char *meth = PICK(f, req_methods);

                add(m, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"%s\"", PICK(f, ids), meth);
                if (!strcmp(meth, "initialize")) {
                        if (t & 0x10)
                                add(m, ",\"params\":[]"); /* malformed: answered ParseError */
                        else if (!(t & 0x20))
                                add(m, ",\"params\":{\"processId\":null,\"rootUri\":\"file:///w\","
                                       "\"capabilities\":{},\"workDoneToken\":\"w\","
                                       "\"workspaceFolders\":[{\"uri\":\"file:///w\","
                                       "\"name\":\"w\"}]}");
                } else if (!(t & 0x10)) {
                        add(m, ",\"params\":{\"textDocument\":{\"uri\":%s},\"position\":",
                            PICK(f, uris));
                        add_position(m, f);
                        add(m, "}");
                }
                add(m, "}");
                break;
        }
        case 1:
                add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}");
                break;
        case 2:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{"
                    "\"textDocument\":{\"uri\":%s,\"languageId\":\"go\",\"version\":%s,\"text\":",
                    PICK(f, uris), PICK(f, nums));
                add_text(m, f);
                add(m, "}}}");
                break;
        case 3: {
                size_t n = fz_u8(f) % 4;

                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
                    "\"textDocument\":{\"uri\":%s,\"version\":%s},\"contentChanges\":[",
                    PICK(f, uris), PICK(f, nums));
                for (size_t i = 0; i < n; i++) {
                        add(m, "%s{", i ? "," : "");
                        if (fz_u8(f) & 1) {
                                add(m, "\"range\":{\"start\":");
                                add_position(m, f);
                                add(m, ",\"end\":");
                                add_position(m, f);
                                add(m, "},");
                        }
                        add(m, "\"text\":");
                        add_text(m, f);
                        add(m, "}");
                }
                add(m, "]}}");
                break;
        }
        case 4:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didClose\",\"params\":{"
                    "\"textDocument\":{\"uri\":%s}}}",
                    PICK(f, uris));
                break;
        case 5:
                add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":%s}}",
                    PICK(f, ids));
                break;
        case 6:
                add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
                break;
        case 7:
                add(m, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"shutdown\"}", PICK(f, ids));
                break;
        case 8:
                if (t & 0x10)
                        add(m, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":null}",
                            PICK(f, answer_ids));
                else
                        add(m,
                            "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,"
                            "\"message\":\"no\"}}",
                            PICK(f, answer_ids));
                break;
        case 9:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\","
                    "\"params\":{\"settings\":{\"gopls\":{\"n\":%s}}}}",
                    PICK(f, nums));
                break;
        case 10:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeWorkspaceFolders\","
                    "\"params\":{\"event\":{\"added\":[{\"uri\":%s,\"name\":\"n\"}],"
                    "\"removed\":[{\"uri\":%s}]}}}",
                    PICK(f, uris), PICK(f, uris));
                break;
        default:
                add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":{"
                       "\"textDocument\":{\"uri\":\"file:///w/a.go\"}}}");
                break;
        }
}

static void server_template(struct msg *m, struct fz *f)
{
        static const char *const results[] = {
            "null", "{\"capabilities\":{\"hoverProvider\":true}}",
            "{\"capabilities\":{\"hoverProvider\":false}}", "{\"capabilities\":null}", "{}"};
        uint8_t t = fz_u8(f);

        m->n = 0;
        switch (t % 10) {
        case 0:
                add(m, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":%s}", PICK(f, ids),
                    PICK(f, results));
                break;
        case 1:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"error\":{\"code\":-32601,\"message\":\"x\"}}",
                    PICK(f, ids));
                break;
        case 2:
                /* the answer to the replayed initialize, or to an older one */
                add(m, "{\"jsonrpc\":\"2.0\",\"id\":\"gopls-guard/init/%u\",\"%s\":%s}",
                    fz_u8(f) % 4, (t & 0x10) ? "error" : "result",
                    (t & 0x10) ? "{\"code\":1,\"message\":\"no\"}" : PICK(f, results));
                break;
        case 3:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"window/workDoneProgress/create\","
                    "\"params\":{\"token\":%s}}",
                    PICK(f, sids), PICK(f, tokens));
                break;
        case 4: {
                static const char *const kinds[] = {"begin", "report", "end"};

                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":%s,"
                    "\"value\":{\"kind\":\"%s\",\"title\":\"t\"}}}",
                    PICK(f, tokens), PICK(f, kinds));
                break;
        }
        case 5:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"client/registerCapability\","
                    "\"params\":{\"registrations\":[{\"id\":\"r%u\",\"method\":"
                    "\"workspace/didChangeWatchedFiles\"}]}}",
                    PICK(f, sids), fz_u8(f) % 3);
                break;
        case 6:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"client/unregisterCapability\","
                    "\"params\":{\"unregisterations\":[{\"id\":\"r%u\",\"method\":\"x\"}]}}",
                    PICK(f, sids), fz_u8(f) % 3);
                break;
        case 7:
                add(m,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\","
                    "\"params\":{\"uri\":%s,\"diagnostics\":%s}}",
                    PICK(f, uris),
                    (t & 0x10) ? "[]"
                               : "[{\"range\":{\"start\":{\"line\":0,\"character\":0},\"end\":"
                                 "{\"line\":0,\"character\":1}},\"message\":\"m\"}]");
                break;
        case 8:
                add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":%s}}",
                    PICK(f, sids));
                break;
        default:
                if (t & 0x10)
                        add(m,
                            "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"workspace/configuration\","
                            "\"params\":{\"items\":[{\"section\":\"gopls\"}]}}",
                            PICK(f, sids));
                else
                        add(m, "{\"jsonrpc\":\"2.0\",\"method\":\"window/logMessage\","
                               "\"params\":{\"type\":3,\"message\":\"hi\"}}");
                break;
        }
}

/* One byte truncated, changed, inserted or deleted: near-valid messages
 * reach much deeper than random bytes. */
static void corrupt(struct msg *m, struct fz *f)
{
        uint8_t how = fz_u8(f), v = fz_u8(f);
        size_t at = m->n ? fz_u8(f) * m->n / 256 : 0;

        switch (how & 3) {
        case 0:
                m->n = at;
                break;
        case 1:
                if (m->n)
                        m->b[at] = (char)v;
                break;
        case 2:
                if (m->n + 1 < sizeof(m->b)) {
                        memmove(m->b + at + 1, m->b + at, m->n - at);
                        m->b[at] = (char)v;
                        m->n++;
                }
                break;
        default:
                if (m->n) {
                        memmove(m->b + at, m->b + at + 1, m->n - at - 1);
                        m->n--;
                }
                break;
        }
}

/* ---------------------------------------------------------------------- */

static void oracle_reset(void)
{
        for (size_t i = 0; i < O.nids; i++)
                free(O.ids[i].key);
        free(O.ids);
        for (int side = 0; side < 2; side++) {
                for (size_t i = 0; i < O.nbad[side]; i++)
                        free(O.bad[side][i].p);
                free(O.bad[side]);
        }
        O = (struct oracle){0};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz f = {data, size};
        uint8_t cfgb = fz_u8(&f);
        struct lsp_session_config cfg = {
            .replay = cfgb & 1,
            .max_held = (cfgb & 2) ? 200 : 0,
            .max_document = (cfgb & 4) ? 32 : 0,
        };
        struct lsp_session_io io = {.to_editor = cb_to_editor, .to_server = cb_to_server, .log = cb_log};
        struct lsp_session *s;
        static struct msg m;

        oracle_reset();
        s = session_new(&cfg, &io);
        if (!s)
                abort();
        for (int step = 0; step < MAX_STEPS && !fz_empty(&f); step++) {
                uint8_t op = fz_u8(&f);
                const uint8_t *raw;
                size_t n;

                switch (op % 10) {
                case 0:
                case 1:
                        editor_template(&m, &f);
                        send_editor(s, m.b, m.n);
                        break;
                case 2:
                        n = fz_take(&f, fz_u8(&f), &raw);
                        send_editor(s, (const char *)raw, n);
                        break;
                case 3:
                case 4:
                        server_template(&m, &f);
                        send_server(s, m.b, m.n);
                        break;
                case 5:
                        n = fz_take(&f, fz_u8(&f), &raw);
                        send_server(s, (const char *)raw, n);
                        break;
                case 6:
                        session_server_lost(s);
                        O.lost = true;
                        break;
                case 7:
                        O.lost = false;
                        FZ_CHECK(session_server_started(s) == 0, "session_server_started failed");
                        break;
                case 8:
                        fail_pending(s);
                        break;
                default: {
                        bool editor = op & 0x10;

                        if (editor)
                                editor_template(&m, &f);
                        else
                                server_template(&m, &f);
                        corrupt(&m, &f);
                        if (editor)
                                send_editor(s, m.b, m.n);
                        else
                                send_server(s, m.b, m.n);
                        if (op & 0x20)
                                session_show_message(s, 1 + (op >> 6), "fuzz: a note");
                        break;
                }
                }
        }
        /* Usually settle everything and check the answers; sometimes free
           the session with requests pending and messages held, so that
           LeakSanitizer sees session_free() clean those up. */
        if (!(cfgb & 8))
                fail_pending(s);
        (void)session_exit_code(s);
        session_free(s);
        oracle_reset();
        return 0;
}

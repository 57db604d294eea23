/* test-lsp-session.c — the LSP session between a scripted fake editor and
 * a scripted fake server: byte-exact forwarding, the recorder, replay
 * after a restart, and that every editor request is answered exactly once.
 * Each test looks only at what crosses the two sides, as an editor or a
 * server would. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <jansson.h>

#include "check.h"
#include "lsp-session.h"

#define EMOJI "\xf0\x9f\x98\x80" /* U+1F600: 4 bytes, 2 UTF-16 units */

/* ---- fake editor and server: every body the session emits ---- */

struct cap {
        char **b;
        size_t *len;
        size_t n, cap;
};

struct fake {
        struct cap ed, sv, log;
        int max_level_seen; /* lowest syslog number = most severe */
};

static void cap_add(struct cap *c, const char *b, size_t n)
{
        if (c->n == c->cap) {
                c->cap = c->cap ? 2 * c->cap : 16;
                c->b = realloc(c->b, c->cap * sizeof(*c->b));
                c->len = realloc(c->len, c->cap * sizeof(*c->len));
        }
        c->b[c->n] = malloc(n + 1);
        memcpy(c->b[c->n], b, n);
        c->b[c->n][n] = '\0';
        c->len[c->n++] = n;
}

static void cap_free(struct cap *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->b[i]);
        free(c->b);
        free(c->len);
        memset(c, 0, sizeof(*c));
}

static void to_ed(void *u, const char *b, size_t n)
{
        cap_add(&((struct fake *)u)->ed, b, n);
}

static void to_sv(void *u, const char *b, size_t n)
{
        cap_add(&((struct fake *)u)->sv, b, n);
}

static void on_log(void *u, int level, const char *m)
{
        char buf[600];
        int n = snprintf(buf, sizeof(buf), "%d %s", level, m);

        cap_add(&((struct fake *)u)->log, buf, (size_t)n);
}

static struct lsp_session *mk(struct fake *f, bool replay, size_t max_held)
{
        struct lsp_session_config cfg = {.replay = replay, .max_held = max_held};
        struct lsp_session_io io = {.to_editor = to_ed, .to_server = to_sv, .log = on_log, .userdata = f};

        memset(f, 0, sizeof(*f));
        return session_new(&cfg, &io);
}

static void done(struct lsp_session *s, struct fake *f);

/* Parsed messages live until the end of the test. */
static json_t **garbage;
static size_t ngarbage, garbage_cap;

static json_t *J(const struct cap *c, size_t i)
{
        json_t *j;

        if (i >= c->n)
                return NULL;
        j = json_loads(c->b[i], 0, NULL);
        if (j) {
                if (ngarbage == garbage_cap) {
                        garbage_cap = garbage_cap ? 2 * garbage_cap : 256;
                        garbage = realloc(garbage, garbage_cap * sizeof(*garbage));
                }
                garbage[ngarbage++] = j;
        }
        return j;
}

static void done(struct lsp_session *s, struct fake *f)
{
        session_free(s);
        cap_free(&f->ed);
        cap_free(&f->sv);
        cap_free(&f->log);
        while (ngarbage)
                json_decref(garbage[--ngarbage]);
        free(garbage);
        garbage = NULL;
        garbage_cap = 0;
}

static const char *method_of(const json_t *m)
{
        return json_string_value(json_object_get(m, "method"));
}

/* Index of the first message with this method at or after `from`, or -1. */
static long find(const struct cap *c, size_t from, const char *method)
{
        for (size_t i = from; i < c->n; i++) {
                json_t *j = json_loads(c->b[i], 0, NULL);
                const char *m = method_of(j);
                bool same = m && !strcmp(m, method);

                json_decref(j);
                if (same)
                        return (long)i;
        }
        return -1;
}

/* Answers to the request with this id (a JSON text such as "5" or "\"a\""). */
static unsigned answers(const struct cap *c, const char *id_json)
{
        json_t *id = json_loads(id_json, JSON_DECODE_ANY, NULL);
        unsigned n = 0;

        for (size_t i = 0; i < c->n; i++) {
                json_t *m = J(c, i);

                if (m && !json_object_get(m, "method") && json_equal(json_object_get(m, "id"), id))
                        n++;
        }
        json_decref(id);
        return n;
}

/* The error code of the (last) answer with this id, 0 for a result, -1 if none. */
static long answer_code(const struct cap *c, const char *id_json)
{
        json_t *id = json_loads(id_json, JSON_DECODE_ANY, NULL);
        long code = -1;

        for (size_t i = 0; i < c->n; i++) {
                json_t *m = J(c, i);

                if (m && !json_object_get(m, "method") && json_equal(json_object_get(m, "id"), id))
                        code = json_object_get(m, "error")
                                   ? (long)json_integer_value(
                                         json_object_get(json_object_get(m, "error"), "code"))
                                   : 0;
        }
        json_decref(id);
        return code;
}

static bool logged(const struct fake *f, const char *needle)
{
        for (size_t i = 0; i < f->log.n; i++)
                if (strstr(f->log.b[i], needle))
                        return true;
        return false;
}

static int ED(struct lsp_session *s, const char *body)
{
        return session_from_editor(s, body, strlen(body));
}

static int SV(struct lsp_session *s, const char *body)
{
        return session_from_server(s, body, strlen(body));
}

static int EDf(struct lsp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int EDf(struct lsp_session *s, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return ED(s, buf);
}

static int SVf(struct lsp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int SVf(struct lsp_session *s, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return SV(s, buf);
}

#define INIT_REQ                                                                                   \
        "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{\"processId\":42,"    \
        "\"rootUri\":\"file:///w\",\"capabilities\":{\"window\":{\"workDoneProgress\":true}},"     \
        "\"workDoneToken\":\"tok-init\",\"workspaceFolders\":[{\"uri\":\"file:///w\","             \
        "\"name\":\"w\"}]}}"
#define INIT_RES                                                                                   \
        "{\"jsonrpc\":\"2.0\", \"id\":0, \"result\":{\"capabilities\":{\"hoverProvider\":true,"    \
        "\"textDocumentSync\":2},\"serverInfo\":{\"name\":\"gopls\"}}}"
#define URI_A "file:///w/a.go"
#define URI_B "file:///w/b.go"

static void handshake(struct lsp_session *s, struct fake *f)
{
        (void)f;
        CHECK_INT(ED(s, INIT_REQ), 0);
        CHECK_INT(SV(s, INIT_RES), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"initialized\",\"params\":{}}"), 0);
}

/* The replayed initialize the new server got last, answered with `caps`. */
static void answer_replay_init(struct lsp_session *s, struct fake *f, const char *caps)
{
        long i = f->sv.n ? (long)f->sv.n - 1 : -1;

        for (; i >= 0; i--) {
                json_t *m = json_loads(f->sv.b[i], 0, NULL);
                const char *meth = method_of(m);
                bool init = meth && !strcmp(meth, "initialize");

                json_decref(m);
                if (init)
                        break;
        }
        CHECK(i >= 0);
        if (i < 0)
                return;
        CHECK_INT(SVf(s, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":{\"capabilities\":%s}}",
                      json_string_value(json_object_get(J(&f->sv, (size_t)i), "id")),
                      caps ? caps : "{\"hoverProvider\":true,\"textDocumentSync\":2}"),
                  0);
}

static void restart(struct lsp_session *s, struct fake *f)
{
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, f, NULL);
}

/* ---- tests ---- */

static void test_hover_forwarded_byte_exact(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *req = "{ \"jsonrpc\" : \"2.0\",\"id\":7 ,\"method\":\"textDocument/hover\","
                          "\"params\":{\"textDocument\":{\"uri\":\"" URI_A "\"},"
                          "\"position\":{\"line\":0,\"character\":1}}}";
        const char *res = "{\"id\":7,\"jsonrpc\":\"2.0\",\"result\":{\"contents\":"
                          "{\"kind\":\"markdown\",\"value\":\"func \\u00e9()\"}}}";

        handshake(s, &f);
        size_t sv0 = f.sv.n, ed0 = f.ed.n;
        CHECK_INT(ED(s, req), 0);
        CHECK_INT(f.sv.n, sv0 + 1);
        CHECK(f.sv.len[sv0] == strlen(req) && !memcmp(f.sv.b[sv0], req, strlen(req)));
        CHECK_INT(SV(s, res), 0);
        CHECK_INT(f.ed.n, ed0 + 1);
        CHECK(f.ed.len[ed0] == strlen(res) && !memcmp(f.ed.b[ed0], res, strlen(res)));
        /* the initialize result reached the editor unchanged too */
        CHECK_STR(f.ed.b[0], INIT_RES);
        done(s, &f);
}

static void test_initialize_replayed_privately(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeWorkspaceFolders\",\"params\":"
              "{\"event\":{\"added\":[{\"uri\":\"file:///x\",\"name\":\"x\"}],\"removed\":[]}}}");
        size_t sv0 = f.sv.n, ed0 = f.ed.n;
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        CHECK_INT(f.sv.n, sv0 + 1);
        json_t *init = J(&f.sv, sv0);
        CHECK_STR(method_of(init), "initialize");
        CHECK_STR(json_string_value(json_object_get(init, "id")), "gopls-guard/init/1");
        json_t *params = json_object_get(init, "params");
        CHECK(json_object_get(params, "workDoneToken") == NULL);
        CHECK_INT(json_integer_value(json_object_get(params, "processId")), 42);
        CHECK_STR(json_string_value(json_object_get(params, "rootUri")), "file:///w");
        CHECK_INT(json_array_size(json_object_get(params, "workspaceFolders")), 2);
        /* nothing else goes to the server before initialize is answered */
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":{}}");
        CHECK_INT(f.sv.n, sv0 + 1);
        answer_replay_init(s, &f, NULL);
        CHECK_INT(f.ed.n, ed0); /* the editor never sees the replayed answer */
        CHECK_STR(method_of(J(&f.sv, sv0 + 1)), "initialized");
        CHECK_STR(method_of(J(&f.sv, sv0 + 2)), "textDocument/didSave");
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.replays, 1);
        CHECK(!logged(&f, "capabilities"));
        done(s, &f);
}

static void open_and_edit(struct lsp_session *s)
{
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\","
                        "\"params\":{\"settings\":{\"gopls\":{\"staticcheck\":true}}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                        "\"version\":1,\"text\":\"package a // " EMOJI "!\\nfunc F() {}\\n\"}}}"),
                  0);
        /* after the emoji (2 UTF-16 units) and "!": character 16 is past "!" */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":2},"
                        "\"contentChanges\":[{\"range\":{\"start\":{\"line\":0,\"character\":15},"
                        "\"end\":{\"line\":0,\"character\":16}},\"text\":\"?\"},"
                        "{\"range\":{\"start\":{\"line\":1,\"character\":5},"
                        "\"end\":{\"line\":1,\"character\":6}},\"text\":\"Gx\"}]}}"),
                  0);
}

static void test_replay_reopens_edited_text(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        open_and_edit(s);
        size_t sv0 = f.sv.n;
        restart(s, &f);
        CHECK_STR(method_of(J(&f.sv, sv0 + 1)), "initialized");
        json_t *cfg = J(&f.sv, sv0 + 2);
        CHECK_STR(method_of(cfg), "workspace/didChangeConfiguration");
        CHECK(json_is_true(json_object_get(
            json_object_get(json_object_get(json_object_get(cfg, "params"), "settings"), "gopls"),
            "staticcheck")));
        json_t *open = J(&f.sv, sv0 + 3);
        CHECK_STR(method_of(open), "textDocument/didOpen");
        json_t *td = json_object_get(json_object_get(open, "params"), "textDocument");
        CHECK_STR(json_string_value(json_object_get(td, "uri")), URI_A);
        CHECK_STR(json_string_value(json_object_get(td, "languageId")), "go");
        CHECK_INT(json_integer_value(json_object_get(td, "version")), 2);
        CHECK_STR(json_string_value(json_object_get(td, "text")),
                  "package a // " EMOJI "?\nfunc Gx() {}\n");
        CHECK_INT(f.sv.n, sv0 + 4);
        done(s, &f);
}

static void test_held_released_in_order_once(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        open_and_edit(s);
        session_server_lost(s);
        /* the editor keeps typing and asking while no server runs */
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":"
              "{\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":3},"
              "\"contentChanges\":[{\"range\":{\"start\":{\"line\":2,\"character\":0},"
              "\"end\":{\"line\":2,\"character\":0}},\"text\":\"// end\\n\"}]}}");
        ED(s,
           "{\"jsonrpc\":\"2.0\",\"id\":\"h1\",\"method\":\"textDocument/hover\",\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":{}}");
        struct lsp_session_stats st;
        session_stats(s, &st);
        /* the change is folded into the recorder, not held */
        CHECK_INT(st.held_now, 2);
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        CHECK_INT(f.sv.n, sv0 + 1); /* only the replayed initialize */
        answer_replay_init(s, &f, NULL);
        const char *want[] = {"initialize",
                              "initialized",
                              "workspace/didChangeConfiguration",
                              "textDocument/didOpen",
                              "textDocument/hover",
                              "textDocument/didSave"};
        CHECK_INT(f.sv.n, sv0 + 6);
        for (size_t i = 0; i < 6; i++)
                CHECK_STR(method_of(J(&f.sv, sv0 + i)), want[i]);
        /* the reopened text has the change made while no server ran */
        json_t *td = json_object_get(json_object_get(J(&f.sv, sv0 + 3), "params"), "textDocument");
        CHECK_STR(json_string_value(json_object_get(td, "text")),
                  "package a // " EMOJI "?\nfunc Gx() {}\n// end\n");
        CHECK_INT(json_integer_value(json_object_get(td, "version")), 3);
        CHECK(find(&f.sv, sv0, "textDocument/didChange") < 0);
        /* ... and the held change was applied exactly once */
        size_t sv1 = f.sv.n;
        restart(s, &f);
        td = json_object_get(
            json_object_get(J(&f.sv, (size_t)find(&f.sv, sv1, "textDocument/didOpen")), "params"),
            "textDocument");
        CHECK_STR(json_string_value(json_object_get(td, "text")),
                  "package a // " EMOJI "?\nfunc Gx() {}\n// end\n");
        CHECK_INT(json_integer_value(json_object_get(td, "version")), 3);
        session_stats(s, &st);
        CHECK_INT(st.held_now, 0);
        done(s, &f);
}

static void test_inflight_read_resent_answered_once(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *hover = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/hover\","
                            "\"params\":{\"position\":{\"line\":0,\"character\":0}}}";

        handshake(s, &f);
        ED(s, hover);
        session_server_lost(s);
        /* the dying server's last words are dropped */
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":null}");
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        long i = find(&f.sv, sv0, "textDocument/hover");
        CHECK(i >= 0);
        if (i >= 0)
                CHECK_STR(f.sv.b[i], hover);
        CHECK_INT(answers(&f.ed, "5"), 0);
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"contents\":\"x\"}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"contents\":\"again\"}}");
        CHECK_INT(answers(&f.ed, "5"), 1);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.resent, 1);
        CHECK_INT(st.pending_editor_requests, 0);
        done(s, &f);
}

static void test_inflight_writes_answered(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"textDocument/rename\",\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"workspace/executeCommand\","
              "\"params\":{\"command\":\"gopls.tidy\"}}");
        size_t sv0 = f.sv.n;
        restart(s, &f);
        CHECK_INT(answer_code(&f.ed, "10"), -32801);
        CHECK_INT(answer_code(&f.ed, "11"), -32803);
        CHECK(find(&f.sv, sv0, "textDocument/rename") < 0);
        CHECK(find(&f.sv, sv0, "workspace/executeCommand") < 0);
        /* a confused new server answering those ids changes nothing */
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":10,\"result\":null}");
        CHECK_INT(answers(&f.ed, "10"), 1);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.failed_pending, 2);
        done(s, &f);
}

static void test_cancel_of_held_and_pending(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\",\"params\":{}}");
        session_server_lost(s);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":\"q9\",\"method\":\"textDocument/definition\","
              "\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"q9\"}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":3}}");
        CHECK_INT(answer_code(&f.ed, "\"q9\""), -32800);
        CHECK_INT(answer_code(&f.ed, "3"), -32800);
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        CHECK(find(&f.sv, sv0, "textDocument/definition") < 0);
        CHECK(find(&f.sv, sv0, "textDocument/hover") < 0);
        CHECK(find(&f.sv, sv0, "$/cancelRequest") < 0);
        /* a cancel for a request the running server has is its business */
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/hover\",\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":4}}");
        CHECK(find(&f.sv, sv0, "$/cancelRequest") >= 0);
        CHECK_INT(answers(&f.ed, "4"), 0);
        CHECK_INT(answers(&f.ed, "3"), 1);
        CHECK_INT(answers(&f.ed, "\"q9\""), 1);
        done(s, &f);
}

static void test_server_requests_renumbered(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        size_t ed0 = f.ed.n;
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/configuration\","
              "\"params\":{\"items\":[{\"section\":\"gopls\"}]}}");
        json_t *q1 = J(&f.ed, ed0);
        CHECK_STR(method_of(q1), "workspace/configuration");
        json_int_t id1 = json_integer_value(json_object_get(q1, "id"));
        restart(s, &f);
        size_t ed1 = f.ed.n, sv1 = f.sv.n;
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/configuration\","
              "\"params\":{\"items\":[{\"section\":\"gopls\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":\"w\\u0031\",\"method\":\"window/showMessageRequest\","
              "\"params\":{\"type\":3,\"message\":\"hi\"}}");
        json_t *q2 = J(&f.ed, ed1), *q3 = J(&f.ed, ed1 + 1);
        CHECK(json_is_integer(json_object_get(q2, "id")));
        json_int_t id2 = json_integer_value(json_object_get(q2, "id"));
        json_int_t id3 = json_integer_value(json_object_get(q3, "id"));
        CHECK(id1 != id2 && id2 != id3 && id1 != id3);
        /* the editor's late answer to the dead server's request is dropped */
        EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":[{}]}", (long long)id1);
        CHECK_INT(f.sv.n, sv1);
        EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":[{\"a\":1}]}", (long long)id2);
        CHECK_INT(f.sv.n, sv1 + 1);
        json_t *a2 = J(&f.sv, sv1);
        CHECK(json_is_integer(json_object_get(a2, "id")));
        CHECK_INT(json_integer_value(json_object_get(a2, "id")), 1);
        CHECK_INT(json_integer_value(
                      json_object_get(json_array_get(json_object_get(a2, "result"), 0), "a")),
                  1);
        /* the server cancels its string-id request: the editor sees the session id */
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\",\"params\":{\"id\":\"w1\"}}");
        json_t *c = J(&f.ed, (size_t)find(&f.ed, ed1, "$/cancelRequest"));
        CHECK_INT(json_integer_value(json_object_get(json_object_get(c, "params"), "id")), id3);
        EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":null}", (long long)id3);
        CHECK_STR(json_string_value(json_object_get(J(&f.sv, sv1 + 1), "id")), "w1");
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.pending_server_requests, 0);
        done(s, &f);
}

static void test_restart_cleans_editor_view(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
              "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
              "\"version\":1,\"text\":\"package a\\n\"}}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"client/registerCapability\",\"params\":"
              "{\"registrations\":[{\"id\":\"r1\",\"method\":\"workspace/didChangeWatchedFiles\","
              "\"registerOptions\":{}},{\"id\":\"r2\",\"method\":\"textDocument/formatting\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"client/unregisterCapability\","
              "\"params\":{\"unregisterations\":[{\"id\":\"r2\",\"method\":"
              "\"textDocument/formatting\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"window/workDoneProgress/create\","
              "\"params\":{\"token\":\"t1\"}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":\"t1\","
              "\"value\":{\"kind\":\"begin\",\"title\":\"Loading\"}}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":7,"
              "\"value\":{\"kind\":\"begin\",\"title\":\"x\"}}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"token\":7,"
              "\"value\":{\"kind\":\"end\"}}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":"
              "{\"uri\":\"" URI_A "\",\"diagnostics\":[{\"message\":\"a\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":"
              "{\"uri\":\"" URI_B "\",\"diagnostics\":[{\"message\":\"b\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":"
              "{\"uri\":\"file:///w/c.go\",\"diagnostics\":[{\"message\":\"c\"}]}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/publishDiagnostics\",\"params\":"
              "{\"uri\":\"file:///w/c.go\",\"diagnostics\":[]}}");
        size_t ed0 = f.ed.n;
        session_server_lost(s);
        CHECK_INT(f.ed.n, ed0 + 3);
        json_t *end = J(&f.ed, ed0);
        CHECK_STR(method_of(end), "$/progress");
        CHECK_STR(json_string_value(json_object_get(json_object_get(end, "params"), "token")),
                  "t1");
        CHECK_STR(json_string_value(json_object_get(
                      json_object_get(json_object_get(end, "params"), "value"), "kind")),
                  "end");
        json_t *un = J(&f.ed, ed0 + 1);
        CHECK_STR(method_of(un), "client/unregisterCapability");
        CHECK(!strncmp(json_string_value(json_object_get(un, "id")) ?: "", "gopls-guard/", 12));
        json_t *list = json_object_get(json_object_get(un, "params"), "unregisterations");
        CHECK_INT(json_array_size(list), 1);
        CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "id")), "r1");
        CHECK_STR(json_string_value(json_object_get(json_array_get(list, 0), "method")),
                  "workspace/didChangeWatchedFiles");
        json_t *clear = J(&f.ed, ed0 + 2);
        CHECK_STR(method_of(clear), "textDocument/publishDiagnostics");
        CHECK_STR(json_string_value(json_object_get(json_object_get(clear, "params"), "uri")),
                  URI_B);
        CHECK_INT(json_array_size(json_object_get(json_object_get(clear, "params"), "diagnostics")),
                  0);
        /* the editor's answer to the guard's own request goes nowhere */
        size_t sv0 = f.sv.n;
        EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":null}",
            json_string_value(json_object_get(un, "id")));
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        for (size_t i = sv0; i < f.sv.n; i++)
                CHECK(method_of(J(&f.sv, i)) != NULL);
        /* nothing to clean twice */
        size_t ed1 = f.ed.n;
        session_server_lost(s);
        CHECK_INT(f.ed.n, ed1);
        done(s, &f);
}

static void test_shutdown_and_exit(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":99,\"method\":\"shutdown\"}");
        CHECK(session_shutdown_requested(s));
        session_server_lost(s); /* it died before answering */
        CHECK_INT(answers(&f.ed, "99"), 1);
        CHECK_INT(answer_code(&f.ed, "99"), 0);
        size_t sv0 = f.sv.n;
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
        CHECK(session_exit_requested(s));
        CHECK_INT(session_exit_code(s), 0);
        CHECK_INT(f.sv.n, sv0);
        done(s, &f);

        /* exit without shutdown goes to the running server; status 1 */
        s = mk(&f, true, 0);
        handshake(s, &f);
        CHECK(!session_exit_requested(s));
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
        CHECK(session_exit_requested(s));
        CHECK_INT(session_exit_code(s), 1);
        CHECK_STR(method_of(J(&f.sv, f.sv.n - 1)), "exit");
        done(s, &f);

        /* shutdown while no server runs is answered at once */
        s = mk(&f, true, 0);
        handshake(s, &f);
        session_server_lost(s);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":\"sd\",\"method\":\"shutdown\",\"params\":null}");
        CHECK_INT(answer_code(&f.ed, "\"sd\""), 0);
        CHECK(session_shutdown_requested(s));
        done(s, &f);

        /* ... under its id byte for byte, even one with a raw NUL (not
           valid JSON, but the editor's own id, as the answer must echo it) */
        static const char nul_id[] = "{\"jsonrpc\":\"2.0\",\"id\":\"g\0h\",\"method\":\"shutdown\"}";
        static const char nul_answer[] = "{\"jsonrpc\":\"2.0\",\"id\":\"g\0h\",\"result\":null}";
        s = mk(&f, true, 0);
        handshake(s, &f);
        session_server_lost(s);
        size_t ed0 = f.ed.n;
        CHECK_INT(session_from_editor(s, nul_id, sizeof(nul_id) - 1), 0);
        CHECK_INT(f.ed.n, ed0 + 1);
        CHECK_INT(f.ed.len[ed0], sizeof(nul_answer) - 1);
        CHECK(!memcmp(f.ed.b[ed0], nul_answer, sizeof(nul_answer) - 1));
        done(s, &f);
}

/* Daemon mode: one server serves several editors, so one editor's exit
 * must never reach it, and its leaving closes only its own documents. */
static void test_shared_server_leave(void)
{
        struct fake f;
        struct lsp_session_config cfg = {.replay = true, .shared_server = true};
        struct lsp_session_io io = {.to_editor = to_ed, .to_server = to_sv, .log = on_log, .userdata = &f};
        memset(&f, 0, sizeof f);
        struct lsp_session *s = session_new(&cfg, &io);

        handshake(s, &f);
        open_and_edit(s);
        size_t sv0 = f.sv.n;
        /* a bare exit (no shutdown): gopls would exit the whole daemon */
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
        CHECK(session_exit_requested(s));
        CHECK_INT(f.sv.n, sv0);
        CHECK_INT(session_leave(s), 1);
        CHECK(session_leaving(s));
        CHECK_STR(method_of(J(&f.sv, sv0)), "textDocument/didClose");
        CHECK_STR(json_string_value(json_object_get(
                          json_object_get(json_object_get(J(&f.sv, sv0), "params"), "textDocument"),
                          "uri")),
                  URI_A);
        json_t *sd = J(&f.sv, sv0 + 1);
        CHECK_STR(method_of(sd), "shutdown");
        CHECK_STR(json_string_value(json_object_get(sd, "id")), "gopls-guard/leave");
        CHECK_INT(f.sv.n, sv0 + 2);
        /* asked once */
        CHECK_INT(session_leave(s), 0);
        CHECK_INT(f.sv.n, sv0 + 2);
        size_t ed0 = f.ed.n;
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":\"gopls-guard/leave\",\"result\":null}");
        CHECK(!session_leaving(s));
        CHECK_INT(f.ed.n, ed0); /* swallowed */
        done(s, &f);

        /* after the editor's own shutdown, the server dropped the session */
        memset(&f, 0, sizeof f);
        s = session_new(&cfg, &io);
        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"shutdown\"}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":null}");
        sv0 = f.sv.n;
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
        CHECK_INT(session_leave(s), 0);
        CHECK_INT(f.sv.n, sv0);
        CHECK(!session_leaving(s));
        done(s, &f);

        /* no server running: nothing to send */
        memset(&f, 0, sizeof f);
        s = session_new(&cfg, &io);
        handshake(s, &f);
        session_server_lost(s);
        sv0 = f.sv.n;
        CHECK_INT(session_leave(s), 0);
        CHECK_INT(f.sv.n, sv0);
        done(s, &f);
}

static void test_malformed_dropped_and_logged(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        size_t ed0 = f.ed.n, sv0 = f.sv.n;
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"), -EBADMSG);
        CHECK(logged(&f, "editor"));
        CHECK(logged(&f, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"));
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\"}"), -EBADMSG);
        CHECK(logged(&f, "server"));
        CHECK_INT(SV(s, "[1,2]"), -EBADMSG);
        CHECK_INT(ED(s, ""), -EBADMSG);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"textDocument/hover\"}"),
                  -EBADMSG);
        /* well framed at the top but broken inside a document change */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\","
                        "\"params\":{\"textDocument\":[}}"),
                  -EBADMSG);
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"client/registerCapability\","
                        "\"params\":{\"registrations\":[}}"),
                  -EBADMSG);
        /* the one answer is the refusal of the request with id {}: JSON-RPC
         * answers an unreadable id with null */
        CHECK_INT(f.ed.n, ed0 + 1);
        json_t *refusal = J(&f.ed, ed0);
        CHECK(json_is_null(json_object_get(refusal, "id")));
        CHECK_INT(json_integer_value(json_object_get(json_object_get(refusal, "error"), "code")),
                  -32600);
        CHECK_INT(f.sv.n, sv0);
        /* a broken request whose id is readable still gets its one answer */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"initialize\","
                        "\"params\":{\"a\":tru}}"),
                  -EBADMSG);
        CHECK_INT(answer_code(&f.ed, "77"), -32700);
        CHECK_INT(f.sv.n, sv0);
        done(s, &f);
}

static void test_death_during_replay(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        open_and_edit(s);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/hover\",\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument/rename\",\"params\":{}}");
        session_server_lost(s);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"textDocument/hover\",\"params\":{}}");
        CHECK_INT(session_server_started(s), 0);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":{}}");
        session_server_lost(s); /* dies before answering the replayed initialize */
        CHECK_INT(answers(&f.ed, "5") + answers(&f.ed, "6") + answers(&f.ed, "8"), 0);
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        CHECK_STR(json_string_value(json_object_get(J(&f.sv, sv0), "id")), "gopls-guard/init/2");
        /* an answer to the first replay's id is not taken for the second */
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":\"gopls-guard/init/1\",\"result\":{}}");
        CHECK_INT(f.sv.n, sv0 + 1);
        answer_replay_init(s, &f, NULL);
        const char *want[] = {
            "initialize",           "initialized",        "workspace/didChangeConfiguration",
            "textDocument/didOpen", "textDocument/hover", "textDocument/hover",
            "textDocument/didSave"};
        CHECK_INT(f.sv.n, sv0 + 7);
        for (size_t i = 0; i < 7; i++)
                CHECK_STR(method_of(J(&f.sv, sv0 + i)), want[i]);
        CHECK_INT(json_integer_value(json_object_get(J(&f.sv, sv0 + 4), "id")), 5);
        CHECK_INT(json_integer_value(json_object_get(J(&f.sv, sv0 + 5), "id")), 8);
        CHECK_INT(answer_code(&f.ed, "6"), -32801);
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":null}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":null}");
        CHECK_INT(answers(&f.ed, "5"), 1);
        CHECK_INT(answers(&f.ed, "6"), 1);
        CHECK_INT(answers(&f.ed, "8"), 1);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.replays, 2);
        CHECK_INT(st.resent, 1); /* 5 once; 8 was held, not resent */
        done(s, &f);
}

static void test_show_message_waits_for_initialize(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        session_show_message(s, 2, "gopls-guard: no cgroup; running degraded");
        CHECK_INT(f.ed.n, 0);
        ED(s, INIT_REQ);
        CHECK_INT(f.ed.n, 0);
        SV(s, INIT_RES);
        CHECK_INT(f.ed.n, 2);
        CHECK_INT(answers(&f.ed, "0"), 1);
        json_t *m = J(&f.ed, 1);
        CHECK_STR(method_of(m), "window/showMessage");
        CHECK_INT(json_integer_value(json_object_get(json_object_get(m, "params"), "type")), 2);
        CHECK_CONTAINS(json_string_value(json_object_get(json_object_get(m, "params"), "message")),
                       "degraded");
        session_show_message(s, 3, "now");
        CHECK_INT(f.ed.n, 3);
        done(s, &f);
}

static void test_first_server_dies_during_initialize(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        ED(s, INIT_REQ);
        session_server_lost(s);
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        /* the editor's own initialize goes again, with its own id */
        CHECK_INT(f.sv.n, sv0 + 1);
        CHECK_STR(f.sv.b[sv0], INIT_REQ);
        SV(s, INIT_RES);
        CHECK_INT(answers(&f.ed, "0"), 1);
        done(s, &f);
}

static void test_capability_change_logged(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        session_server_lost(s);
        session_server_started(s);
        answer_replay_init(s, &f, "{\"hoverProvider\":false}");
        CHECK(logged(&f, "capabilities"));
        CHECK(f.log.n > 0 && f.log.b[f.log.n - 1][0] == '0' + LOG_NOTICE);
        done(s, &f);
}

static void test_held_bound(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 300);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
              "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
              "\"version\":1,\"text\":\"\"}}}");
        session_server_lost(s);
        /* document changes cost nothing held: the recorder takes them */
        for (int v = 2; v < 12; v++)
                EDf(s,
                    "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":"
                    "{\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":%d},"
                    "\"contentChanges\":[{\"text\":\"v%d\"}]}}",
                    v, v);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.held_now, 0);
        /* requests beyond the bound are refused, notifications dropped */
        for (int id = 1; id <= 5; id++)
                EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"textDocument/hover\","
                       "\"params\":{}}",
                    id);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"$/setTrace\",\"params\":{\"value\":\"off\"}}");
        CHECK_INT(answer_code(&f.ed, "5"), -32803);
        CHECK_INT(answers(&f.ed, "1"), 0);
        CHECK(logged(&f, "$/setTrace"));
        size_t sv0 = f.sv.n;
        session_server_started(s);
        answer_replay_init(s, &f, NULL);
        json_t *td = json_object_get(
            json_object_get(J(&f.sv, (size_t)find(&f.sv, sv0, "textDocument/didOpen")), "params"),
            "textDocument");
        CHECK_STR(json_string_value(json_object_get(td, "text")), "v11");
        CHECK_INT(json_integer_value(json_object_get(td, "version")), 11);
        CHECK(find(&f.sv, sv0, "textDocument/didChange") < 0);
        CHECK(find(&f.sv, sv0, "$/setTrace") < 0);
        CHECK(find(&f.sv, sv0, "textDocument/hover") >= 0);
        CHECK_INT(answers(&f.ed, "5"), 1);
        done(s, &f);
}

/* Notifications held for a server that will be replayed to are bounded
 * by count, whatever their size; the drop is logged once, and counted
 * when the server runs again.  Before the first initialize nothing is
 * folded or dropped: the first server needs every message. */
static void test_held_notifications_bounded(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        session_server_lost(s);
        for (int i = 0; i < 1100; i++)
                EDf(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didSave\",\"params\":"
                       "{\"textDocument\":{\"uri\":\"file:///w/%d.go\"}}}",
                    i);
        ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"workspace/didChangeConfiguration\","
              "\"params\":{\"settings\":{}}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"textDocument/hover\",\"params\":{}}");
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.held_now, 1024 + 2); /* and the configuration and the hover */
        CHECK(logged(&f, "dropping further ones such as textDocument/didSave"));
        size_t sv0 = f.sv.n, logs = f.log.n;
        session_server_started(s);
        answer_replay_init(s, &f, NULL);
        unsigned saves = 0;
        for (size_t i = sv0; i < f.sv.n; i++)
                saves += strstr(f.sv.b[i], "didSave") != NULL;
        CHECK_INT(saves, 1024);
        CHECK(find(&f.sv, sv0, "workspace/didChangeConfiguration") >= 0);
        CHECK(find(&f.sv, sv0, "textDocument/hover") >= 0);
        CHECK(f.log.n > logs && logged(&f, "dropped 76 notifications"));
        session_stats(s, &st);
        CHECK_INT(st.held_now, 0);
        done(s, &f);

        /* no first server yet: document changes are held as they are */
        s = mk(&f, true, 0);
        session_server_lost(s);
        CHECK_INT(ED(s, INIT_REQ), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                        "\"version\":1,\"text\":\"x\"}}}"),
                  0);
        session_stats(s, &st);
        CHECK_INT(st.held_now, 2);
        CHECK_INT(session_server_started(s), 0);
        CHECK(find(&f.sv, 0, "textDocument/didOpen") >= 0);
        done(s, &f);
}

static void test_replay_off_forwards_only(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, false, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"textDocument/hover\",\"params\":{}}");
        const char *req = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/configuration\"}";
        SV(s, req);
        CHECK_STR(f.ed.b[f.ed.n - 1], req); /* not renumbered */
        session_server_lost(s);
        CHECK_INT(answer_code(&f.ed, "2"), -32801);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\",\"params\":{}}");
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        /* no initialize of its own: the held hover simply goes on */
        CHECK_INT(f.sv.n, sv0 + 1);
        CHECK_STR(method_of(J(&f.sv, sv0)), "textDocument/hover");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":null}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"error\":{\"code\":-32002,\"message\":\"no\"}}");
        CHECK_INT(answers(&f.ed, "2"), 1);
        CHECK_INT(answers(&f.ed, "3"), 1);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.replays, 0);
        CHECK_INT(st.open_documents, 0);
        done(s, &f);
}

static void test_ids_keep_their_type(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"textDocument/hover\",\"params\":{}}");
        ED(s, "{\"jsonrpc\":\"2.0\",\"id\":\"1\",\"method\":\"textDocument/hover\",\"params\":{}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":\"\\u0031\",\"result\":\"str\"}");
        CHECK_INT(answers(&f.ed, "\"1\""), 1);
        CHECK_INT(answers(&f.ed, "1"), 0);
        session_fail_pending(s, "gopls-guard: gave up");
        CHECK_INT(answer_code(&f.ed, "1"), -32803);
        CHECK_INT(answers(&f.ed, "\"1\""), 1);
        done(s, &f);
}

static void test_method_is_read(void)
{
        CHECK(session_method_is_read("textDocument/hover"));
        CHECK(session_method_is_read("textDocument/completion"));
        CHECK(!session_method_is_read("textDocument/rename"));
        CHECK(!session_method_is_read("workspace/executeCommand"));
        CHECK(!session_method_is_read("completionItem/resolve"));
        CHECK(!session_method_is_read(NULL));
}

/* A long deterministic mix of requests, cancels, answers, kills and
 * restarts: every editor request is answered exactly once. */
/* The guard starts its session before any server runs (and may fail to
 * start the first one): the editor's messages wait for the first server
 * instead of being sent into the void. */
static void test_held_until_first_server(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        session_server_lost(s);
        CHECK_INT(ED(s, INIT_REQ), 0);
        CHECK_INT(f.sv.n, 0);
        /* a first start that failed: nothing attached, nothing lost */
        CHECK_INT(session_server_started(s), 0);
        CHECK(find(&f.sv, 0, "initialize") >= 0);
        json_t *m = J(&f.sv, (size_t)find(&f.sv, 0, "initialize"));
        CHECK_INT(json_integer_value(json_object_get(m, "id")), 0); /* the editor's own id */
        CHECK_INT(SV(s, INIT_RES), 0);
        CHECK_INT(answers(&f.ed, "0"), 1);
        done(s, &f);
}

/* exit while the new server is still being replayed to: the held shutdown
 * is answered, exit does not overtake it, and the status is 0. */
static void test_exit_during_replay(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0); /* replaying: the new initialize is unanswered */
        size_t to_server = f.sv.n;
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"shutdown\"}"), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}"), 0);
        CHECK_INT(answers(&f.ed, "9"), 1);
        CHECK_INT(answer_code(&f.ed, "9"), 0);
        CHECK_INT(find(&f.sv, to_server, "exit"), -1);
        CHECK(session_exit_requested(s));
        CHECK_INT(session_exit_code(s), 0);
        done(s, &f);
}

/* A request whose top level is fine but whose params are not JSON went
 * to the first server as the editor sent it; after a restart it is not
 * sent again (it could take every new server down) but answered. */
static void test_broken_request_not_resent(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"textDocument/hover\","
                        "\"params\":{\"a\":tru}}"),
                  0);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        size_t to_server = f.sv.n;
        answer_replay_init(s, &f, NULL);
        CHECK_INT(find(&f.sv, to_server, "textDocument/hover"), -1);
        CHECK_INT(answers(&f.ed, "7"), 1);
        CHECK_INT(answer_code(&f.ed, "7"), -32700);
        done(s, &f);
}

/* shutdown is kept even over the held bound, so "the editor asked the
 * server to go" stays true and gets its answer. */
static void test_shutdown_never_refused(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 64);

        handshake(s, &f);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        /* a document change is kept over the bound, so the bound is passed */
        CHECK_INT(EDf(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                         "{\"textDocument\":{\"uri\":\"%s\",\"languageId\":\"go\",\"version\":1,"
                         "\"text\":\"package a\\n\"}}}",
                      URI_A),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"shutdown\"}"), 0);
        CHECK_INT(answers(&f.ed, "5"), 0); /* held, not refused */
        CHECK(session_shutdown_requested(s));
        answer_replay_init(s, &f, NULL);
        CHECK(find(&f.sv, 0, "shutdown") >= 0);
        done(s, &f);
}

/* An id that is neither a number nor a string cannot be echoed: the
 * answer carries null and says why; nothing reaches the server. */
static void test_unreadable_id_refused(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        handshake(s, &f);
        size_t to_server = f.sv.n, to_editor = f.ed.n;
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":-,\"method\":\"textDocument/hover\"}"),
                  -EBADMSG);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"textDocument/hover\"}"),
                  -EBADMSG);
        CHECK_INT(f.sv.n, to_server);
        CHECK_INT(f.ed.n, to_editor + 2);
        for (size_t i = to_editor; i < f.ed.n; i++) {
                json_t *m = J(&f.ed, i);
                CHECK(m != NULL); /* valid JSON, unlike an echo of "-" */
                CHECK(json_is_null(json_object_get(m, "id")));
                CHECK_INT(json_integer_value(json_object_get(json_object_get(m, "error"), "code")),
                          -32600);
        }
        /* a fractional number is an odd id, but a readable one: it goes */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"textDocument/hover\"}"), 0);
        CHECK_INT(f.sv.n, to_server + 1);
        CHECK(logged(&f, "request id is not a number or a string"));
        done(s, &f);
}

/* Neovim escapes '/' in methods ("textDocument\/hover"), and JSON allows
 * any character as \uXXXX: every decision looks at the decoded method. */
static void test_escaped_methods(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *hover = "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument\\/hover\","
                            "\"params\":{\"position\":{\"line\":0,\"character\":0}}}";
        const char *compl = "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument\\u002f"
                            "completion\",\"params\":{}}";

        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"\\u0069nitialize\","
                        "\"params\":{\"processId\":1,\"rootUri\":\"file:///w\","
                        "\"capabilities\":{}}}"),
                  0);
        CHECK_INT(SV(s, INIT_RES), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"initialize\\u0064\",\"params\":{}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument\\/didOpen\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                        "\"version\":1,\"text\":\"package a\\n\"}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument\\/didOpen\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_B "\",\"languageId\":\"go\","
                        "\"version\":1,\"text\":\"package b\\n\"}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument\\/didChange\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":2},"
                        "\"contentChanges\":[{\"range\":{\"start\":{\"line\":0,\"character\":8},"
                        "\"end\":{\"line\":0,\"character\":9}},\"text\":\"z\"}]}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument\\/didClose\",\"params\":"
                        "{\"textDocument\":{\"uri\":\"" URI_B "\"}}}"),
                  0);
        CHECK_INT(ED(s, hover), 0);
        CHECK_INT(ED(s, compl), 0);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.open_documents, 1);

        size_t sv0 = f.sv.n;
        restart(s, &f); /* only possible if the escaped initialize was recorded */
        CHECK_STR(method_of(J(&f.sv, sv0 + 1)), "initialized");
        json_t *td = json_object_get(
            json_object_get(J(&f.sv, (size_t)find(&f.sv, sv0, "textDocument/didOpen")), "params"),
            "textDocument");
        CHECK_STR(json_string_value(json_object_get(td, "uri")), URI_A);
        CHECK_STR(json_string_value(json_object_get(td, "text")), "package z\n");
        CHECK_INT(json_integer_value(json_object_get(td, "version")), 2);
        /* both reads in flight went again, as sent, and were not refused */
        long i = find(&f.sv, sv0, "textDocument/hover");
        CHECK(i >= 0);
        if (i >= 0)
                CHECK_STR(f.sv.b[i], hover);
        CHECK(find(&f.sv, sv0, "textDocument/completion") >= 0);
        CHECK_INT(answers(&f.ed, "5"), 0);
        CHECK_INT(answers(&f.ed, "6"), 0);
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{\"contents\":\"x\"}}");
        SV(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":[]}");
        CHECK_INT(answer_code(&f.ed, "5"), 0);
        CHECK_INT(answer_code(&f.ed, "6"), 0);
        session_stats(s, &st);
        CHECK_INT(st.resent, 2);

        /* shutdown and exit, escaped, end the session as the plain ones do */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"shutdow\\u006e\"}"), 0);
        CHECK(session_shutdown_requested(s));
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"\\u0065xit\"}"), 0);
        CHECK(session_exit_requested(s));
        CHECK_INT(session_exit_code(s), 0);
        done(s, &f);
}

/* Giving up before the first server ever answered: the held initialize
 * gets RequestFailed with the reason, and what the user should read
 * follows it instead of waiting for an answer that never comes. */
static void test_fail_pending_answers_initialize(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        session_server_lost(s);
        CHECK_INT(ED(s, INIT_REQ), 0);
        session_show_message(s, 1, "could not start");
        CHECK_INT(f.ed.n, 0);
        session_fail_pending(s, "gopls-guard gave up: no server");
        CHECK_INT(answers(&f.ed, "0"), 1);
        CHECK_INT(answer_code(&f.ed, "0"), -32803);
        CHECK(strstr(f.ed.b[0], "no server") != NULL);
        CHECK_INT(f.ed.n, 2);
        CHECK_STR(method_of(J(&f.ed, 1)), "window/showMessage");
        /* a second call answers nothing twice */
        session_fail_pending(s, "again");
        CHECK_INT(f.ed.n, 2);
        done(s, &f);
}

/* Without replay, a new server could only serve an editor that has not
 * initialized yet. */
static void test_can_restart(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, false, 0);

        CHECK(session_can_restart(s));
        CHECK_INT(ED(s, INIT_REQ), 0);
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":0,\"error\":{\"code\":-32603,"
                        "\"message\":\"no\"}}"),
                  0);
        CHECK(session_can_restart(s)); /* refused: the editor may try again */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}"),
                  0);
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"capabilities\":{}}}"), 0);
        CHECK(!session_can_restart(s));
        done(s, &f);

        s = mk(&f, true, 0);
        handshake(s, &f);
        CHECK(session_can_restart(s));
        CHECK(!session_replaying(s));
        session_server_lost(s);
        CHECK(!session_replaying(s));
        CHECK_INT(session_server_started(s), 0);
        CHECK(session_replaying(s));
        answer_replay_init(s, &f, NULL);
        CHECK(!session_replaying(s));
        done(s, &f);
}

/* A lone surrogate in the editor's text ("\ud800": jansson refuses it) is
 * forwarded as sent, counted as the one UTF-16 unit it is to the editor,
 * and replayed with the same escape, so later edits land where meant. */
static void test_lone_surrogate_kept(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *open = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                           "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                           "\"version\":1,\"text\":\"a\\ud800bc\\udfff\\n\\\"q\\\"\\u0001\"}}}";
        /* replace "b" (after 'a' and the lone surrogate: character 2) and,
         * on the second line, the second quote: character 2 */
        const char *change = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":"
                             "{\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":2},"
                             "\"contentChanges\":[{\"range\":{\"start\":{\"line\":0,"
                             "\"character\":2},\"end\":{\"line\":0,\"character\":3}},"
                             "\"text\":\"X\\udbff\"},{\"range\":{\"start\":{\"line\":1,"
                             "\"character\":2},\"end\":{\"line\":1,\"character\":3}},"
                             "\"text\":\"!\"}]}}";

        handshake(s, &f);
        size_t sv0 = f.sv.n;
        CHECK_INT(ED(s, open), 0);
        CHECK_INT(ED(s, change), 0);
        CHECK_INT(f.sv.n, sv0 + 2);
        CHECK_STR(f.sv.b[sv0], open);
        CHECK_STR(f.sv.b[sv0 + 1], change);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.open_documents, 1);
        CHECK(!logged(&f, "dropped"));

        size_t sv1 = f.sv.n;
        restart(s, &f);
        const char *want = "\"text\":\"a\\ud800X\\udbffc\\udfff\\n\\\"q!\\u0001\"";
        bool found = false;
        for (size_t i = sv1; i < f.sv.n; i++)
                if (strstr(f.sv.b[i], "textDocument/didOpen")) {
                        found = true;
                        CHECK(strstr(f.sv.b[i], want) != NULL);
                        CHECK(strstr(f.sv.b[i], "\"version\":2") != NULL);
                        if (!strstr(f.sv.b[i], want))
                                fprintf(stderr, "replayed: %s\n", f.sv.b[i]);
                }
        CHECK(found);
        done(s, &f);

        /* a text that grows six times when escaped (the replay's first
         * guess of its size is too small) comes back whole */
        s = mk(&f, true, 0);
        handshake(s, &f);
        char big[2048] = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                         "{\"textDocument\":{\"uri\":\"" URI_B "\",\"languageId\":\"go\","
                         "\"version\":1,\"text\":\"";
        for (int i = 0; i < 200; i++)
                strcat(big, "\\u0001");
        strcat(big, "end\"}}}");
        CHECK_INT(ED(s, big), 0);
        sv1 = f.sv.n;
        restart(s, &f);
        long k = find(&f.sv, sv1, "textDocument/didOpen");
        CHECK(k >= 0);
        if (k >= 0) {
                const char *tx = json_string_value(json_object_get(
                    json_object_get(json_object_get(J(&f.sv, (size_t)k), "params"),
                                    "textDocument"),
                    "text"));
                CHECK(tx && strlen(tx) == 203 && tx[0] == 1 && tx[199] == 1 &&
                      !strcmp(tx + 200, "end"));
        }
        done(s, &f);
}

static void test_exactly_once_random(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        static const char *methods[] = {"textDocument/hover", "textDocument/definition",
                                        "textDocument/rename", "workspace/executeCommand",
                                        "textDocument/completion"};
        unsigned seed = 12345, nreq = 0;
        bool alive = true;
        size_t gen_start = 0;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 16) & 0x7fff)
        handshake(s, &f);
        for (int step = 0; step < 3000; step++) {
                unsigned op = RND() % 12;

                if (op < 4 && nreq < 2000) {
                        unsigned n = ++nreq;
                        const char *m = methods[RND() % 5];

                        if (n % 3 == 0)
                                EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":\"r%u\",\"method\":\"%s\"}", n,
                                    m);
                        else
                                EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":\"%s\"}", n, m);
                } else if (op == 4 && nreq) {
                        unsigned n = RND() % nreq + 1;

                        if (n % 3 == 0)
                                EDf(s,
                                    "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\","
                                    "\"params\":{\"id\":\"r%u\"}}",
                                    n);
                        else
                                EDf(s,
                                    "{\"jsonrpc\":\"2.0\",\"method\":\"$/cancelRequest\","
                                    "\"params\":{\"id\":%u}}",
                                    n);
                } else if (op <= 7 && alive) {
                        /* the server answers something it got (maybe twice) */
                        size_t span = f.sv.n - gen_start;

                        if (!span)
                                continue;
                        json_t *m = J(&f.sv, gen_start + RND() % span);
                        json_t *id = json_object_get(m, "id");
                        const char *meth = method_of(m);

                        if (!id || !meth || !strcmp(meth, "initialize"))
                                continue;
                        char *t = json_dumps(id, JSON_ENCODE_ANY);
                        SVf(s, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":null}", t);
                        free(t);
                } else if (op == 8 && alive) {
                        session_server_lost(s);
                        alive = false;
                } else if (op == 9 && !alive) {
                        gen_start = f.sv.n;
                        CHECK_INT(session_server_started(s), 0);
                        alive = true;
                } else if (op >= 10 && alive && f.sv.n > gen_start && gen_start > 0) {
                        /* answer the replayed initialize (again: swallowed) */
                        json_t *m = J(&f.sv, gen_start);

                        CHECK_STR(method_of(m), "initialize");
                        SVf(s,
                            "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":"
                            "{\"capabilities\":{\"hoverProvider\":true,"
                            "\"textDocumentSync\":2}}}",
                            json_string_value(json_object_get(m, "id")));
                }
        }
        /* finish: a working server that answers everything, then give up */
        if (!alive) {
                gen_start = f.sv.n;
                session_server_started(s);
        }
        if (find(&f.sv, gen_start, "initialize") >= 0)
                answer_replay_init(s, &f, NULL);
        for (size_t k = gen_start; k < f.sv.n; k++) {
                json_t *m = J(&f.sv, k), *id = json_object_get(m, "id");

                if (id && method_of(m) && strcmp(method_of(m), "initialize")) {
                        char *t = json_dumps(id, JSON_ENCODE_ANY);
                        SVf(s, "{\"jsonrpc\":\"2.0\",\"id\":%s,\"result\":null}", t);
                        free(t);
                }
        }
        session_fail_pending(s, "gave up");
        json_t *count = json_object();
        for (size_t k = 0; k < f.ed.n; k++) {
                json_t *m = json_loads(f.ed.b[k], 0, NULL);

                if (m && !json_object_get(m, "method") && json_object_get(m, "id")) {
                        char *t = json_dumps(json_object_get(m, "id"), JSON_ENCODE_ANY);
                        json_int_t c = json_integer_value(json_object_get(count, t));

                        json_object_set_new(count, t, json_integer(c + 1));
                        free(t);
                }
                json_decref(m);
        }
        unsigned bad = 0;
        for (unsigned n = 1; n <= nreq; n++) {
                char id[32];
                json_int_t c;

                snprintf(id, sizeof(id), n % 3 == 0 ? "\"r%u\"" : "%u", n);
                c = json_integer_value(json_object_get(count, id));
                if (c != 1) {
                        if (!bad)
                                fprintf(stderr, "request %s answered %lld times\n", id,
                                        (long long)c);
                        bad++;
                }
        }
        json_decref(count);
        CHECK_INT(bad, 0);
        CHECK(nreq > 500);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.pending_editor_requests, 0);
        CHECK(st.replays > 10);
        CHECK(st.resent > 0);
        done(s, &f);
#undef RND
}

/* A document the editor opened and never edited is replayed with its text
 * exactly as the editor escaped it (escaped '/', \u escapes in either
 * case, a surrogate pair), and one whose text is not a valid JSON string
 * is dropped, never forwarded or recorded. */
static void test_unedited_text_replayed_as_sent(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *text = "\"a\\/b\\u00E9\\u00e9\\ud83d\\ude00\\t\\\"q\\\"\\\\\"";
        char open[512], bad[512];
        snprintf(open, sizeof(open),
                 "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                 "{\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                 "\"version\":7,\"text\":%s}}}",
                 text);
        snprintf(bad, sizeof(bad),
                 "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                 "{\"textDocument\":{\"uri\":\"" URI_B "\",\"languageId\":\"go\","
                 "\"version\":1,\"text\":\"a\\qb\"}}}");

        handshake(s, &f);
        size_t sv0 = f.sv.n;
        CHECK_INT(ED(s, open), 0);
        CHECK_INT(ED(s, bad), -EBADMSG);
        CHECK_INT(f.sv.n, sv0 + 1);
        CHECK_STR(f.sv.b[sv0], open);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.open_documents, 1);

        size_t sv1 = f.sv.n;
        restart(s, &f);
        long k = find(&f.sv, sv1, "textDocument/didOpen");
        CHECK(k >= 0);
        if (k >= 0) {
                char want[256];
                snprintf(want, sizeof(want), "\"version\":7,\"text\":%s}", text);
                CHECK(strstr(f.sv.b[k], want) != NULL);
                CHECK(strstr(f.sv.b[k], URI_B) == NULL);
        }
        CHECK_INT(find(&f.sv, (size_t)k + 1, "textDocument/didOpen"), -1);
        done(s, &f);
}

/* Texts and URIs whose last run of plain characters fills whole 8-byte
 * words ("abcdefgh", "file:///w/abc.go") are valid JSON strings: they are
 * forwarded and recorded like any other, not dropped as malformed. */
static void test_word_sized_strings_kept(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *open = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
                           "{\"textDocument\":{\"uri\":\"file:///w/abc.go\",\"languageId\":\"go\","
                           "\"version\":1,\"text\":\"package main\\nabcdefgh\"}}}";
        const char *change = "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":"
                             "{\"textDocument\":{\"uri\":\"file:///w/abc.go\",\"version\":2},"
                             "\"contentChanges\":[{\"range\":{\"start\":{\"line\":1,"
                             "\"character\":0},\"end\":{\"line\":1,\"character\":8}},"
                             "\"text\":\"ijklmnop\"}]}}";

        handshake(s, &f);
        size_t sv0 = f.sv.n;
        CHECK_INT(ED(s, open), 0);
        CHECK_INT(ED(s, change), 0);
        CHECK_INT(f.sv.n, sv0 + 2);
        CHECK(!logged(&f, "dropped"));
        size_t sv1 = f.sv.n;
        restart(s, &f);
        long k = find(&f.sv, sv1, "textDocument/didOpen");
        CHECK(k >= 0);
        if (k >= 0)
                CHECK(strstr(f.sv.b[k], "\"version\":2,\"text\":\"package main\\nijklmnop\"") !=
                      NULL);
        done(s, &f);
}

/* ---- poison requests and hang watching ---- */

static struct lsp_session *mk_notify(struct fake *f, bool notify)
{
        struct lsp_session_config cfg = {.replay = true, .notify = notify};
        struct lsp_session_io io = {
            .to_editor = to_ed, .to_server = to_sv, .log = on_log, .userdata = f};

        memset(f, 0, sizeof(*f));
        return session_new(&cfg, &io);
}

/* The server crashes (or not) with what is in flight, and a new one is
 * replayed to. */
static void crash_restart(struct lsp_session *s, struct fake *f, bool crash)
{
        if (crash)
                session_note_crash(s);
        restart(s, f);
}

#define HOVER_12_4                                                                                 \
        "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"textDocument/hover\",\"params\":{"             \
        "\"textDocument\":{\"uri\":\"" URI_A "\"},\"position\":{\"line\":12,\"character\":4}}}"

static unsigned show_messages_with(const struct fake *f, const char *needle)
{
        unsigned n = 0;
        for (size_t i = 0; i < f->ed.n; i++)
                if (strstr(f->ed.b[i], "window/showMessage") && strstr(f->ed.b[i], needle))
                        n++;
        return n;
}

static const char *error_message(const struct cap *c, const char *id_json)
{
        json_t *id = json_loads(id_json, JSON_DECODE_ANY, NULL);
        const char *msg = NULL;
        for (size_t i = 0; i < c->n; i++) {
                json_t *m = J(c, i);
                if (m && !json_object_get(m, "method") && json_equal(json_object_get(m, "id"), id))
                        msg = json_string_value(
                            json_object_get(json_object_get(m, "error"), "message"));
        }
        json_decref(id);
        return msg;
}

/* In flight at two crashes in a row: not sent a third time, answered
 * RequestFailed naming it, and the user told. */
static void test_poison_after_two_crashes(void)
{
        struct fake f;
        struct lsp_session *s = mk_notify(&f, true);

        handshake(s, &f);
        CHECK_INT(ED(s, HOVER_12_4), 0);
        crash_restart(s, &f, true);
        CHECK(find(&f.sv, 0, "textDocument/hover") >= 0);
        CHECK_INT(answers(&f.ed, "7"), 0); /* resent once: still waiting */
        size_t sv2 = f.sv.n;
        crash_restart(s, &f, true);
        CHECK(find(&f.sv, sv2, "textDocument/hover") < 0);
        CHECK_INT(answers(&f.ed, "7"), 1);
        CHECK_INT(answer_code(&f.ed, "7"), -32803);
        const char *m = error_message(&f.ed, "7");
        CHECK(m && strstr(m, "textDocument/hover (" URI_A ":13:5)"));
        CHECK_INT(show_messages_with(&f, "textDocument/hover (" URI_A ":13:5)"), 1);
        CHECK(logged(&f, "not sending textDocument/hover (" URI_A ":13:5) again"));
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.poisoned, 1);
        CHECK_INT(st.pending_editor_requests, 0);
        /* The next server answers other requests as usual. */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"textDocument/hover\","
                        "\"params\":{}}"),
                  0);
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":8,\"result\":null}"), 0);
        CHECK_INT(answer_code(&f.ed, "8"), 0);
        done(s, &f);
}

/* A daemon's connection closes before the daemon's exit is reaped: the
 * loss is reported first and the crash after it.  The crash still counts
 * for the requests that were in flight, and a loss that no crash follows
 * before the next server starts still starts the count over. */
static void test_poison_when_the_loss_comes_first(void)
{
        struct fake f;
        struct lsp_session *s = mk_notify(&f, true);

        handshake(s, &f);
        CHECK_INT(ED(s, HOVER_12_4), 0);
        /* a loss that was no crash: back to 0 */
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        for (int i = 0; i < 2; i++) {
                session_server_lost(s);
                session_note_crash(s);
                CHECK_INT(session_server_started(s), 0);
                answer_replay_init(s, &f, NULL);
        }
        CHECK_INT(answer_code(&f.ed, "7"), -32803);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.poisoned, 1);
        done(s, &f);

        /* and once only: a loss, a crash, a loss with none, a crash */
        s = mk_notify(&f, true);
        handshake(s, &f);
        CHECK_INT(ED(s, HOVER_12_4), 0);
        session_server_lost(s);
        session_note_crash(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        session_server_lost(s);
        session_note_crash(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        CHECK_INT(answers(&f.ed, "7"), 0); /* 1, 0, 1: not two in a row */
        done(s, &f);
}

/* The editor's initialize is never poison: a server that dies while it
 * starts up gets it again each time (the crash loop, not the guard,
 * decides when to stop), and the editor never sees it refused. */
static void test_initialize_is_never_poison(void)
{
        struct fake f;
        struct lsp_session *s = mk_notify(&f, true);

        CHECK_INT(ED(s, INIT_REQ), 0);
        for (int i = 0; i < 3; i++) {
                size_t n = f.sv.n;
                session_note_crash(s);
                session_server_lost(s);
                CHECK_INT(session_server_started(s), 0);
                CHECK(find(&f.sv, n, "initialize") >= 0);
        }
        CHECK_INT(answers(&f.ed, "0"), 0);
        CHECK_INT(show_messages_with(&f, "initialize"), 0);
        CHECK_INT(SV(s, INIT_RES), 0);
        CHECK_INT(answer_code(&f.ed, "0"), 0);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.poisoned, 0);
        done(s, &f);
}

/* "Consecutive": a restart the guard chose in between (gopls-guard
 * restart, a proactive restart) starts the count over; a request that was
 * held, not in flight, when a server crashed is not counted; [lsp] notify =
 * no keeps the showMessage back but not the answer. */
static void test_poison_counts_only_consecutive_crashes_in_flight(void)
{
        struct fake f;
        struct lsp_session *s = mk_notify(&f, false);

        handshake(s, &f);
        CHECK_INT(ED(s, HOVER_12_4), 0);
        crash_restart(s, &f, true);  /* 1 */
        crash_restart(s, &f, false); /* the guard's choice: back to 0 */
        CHECK_INT(answers(&f.ed, "7"), 0);
        size_t sv0 = f.sv.n;
        /* A crash with it in flight (1), then one before the replay was
         * answered: it was not in flight to that server (still 1). */
        session_note_crash(s);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        session_note_crash(s);
        session_server_lost(s);
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        CHECK(find(&f.sv, sv0, "textDocument/hover") >= 0);
        CHECK_INT(answers(&f.ed, "7"), 0);
        crash_restart(s, &f, true); /* 2 */
        CHECK_INT(answer_code(&f.ed, "7"), -32803);
        CHECK_INT(show_messages_with(&f, "textDocument/hover"), 0);
        /* Position from a range, or only the document, or only the method. */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":20,\"method\":\"textDocument/codeAction\","
                        "\"params\":{\"textDocument\":{\"uri\":\"" URI_B "\"},\"range\":{"
                        "\"start\":{\"line\":0,\"character\":0},\"end\":{\"line\":1,"
                        "\"character\":0}}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":21,\"method\":\"textDocument/documentSymbol\","
                        "\"params\":{\"textDocument\":{\"uri\":\"" URI_B "\"}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":22,\"method\":\"workspace/symbol\","
                        "\"params\":{\"query\":\"x\"}}"),
                  0);
        crash_restart(s, &f, true);
        crash_restart(s, &f, true);
        const char *m20 = error_message(&f.ed, "20");
        const char *m21 = error_message(&f.ed, "21");
        const char *m22 = error_message(&f.ed, "22");
        CHECK(m20 && strstr(m20, "textDocument/codeAction (" URI_B ":1:1)"));
        CHECK(m21 && strstr(m21, "textDocument/documentSymbol (" URI_B ") was not sent"));
        CHECK(m22 && strstr(m22, "workspace/symbol was not sent"));
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.poisoned, 4);
        done(s, &f);
}

/* Which request hang detection watches. */
static void test_watched_request(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);

        CHECK_INT(session_watched_request(s), 0);
        CHECK_INT(ED(s, INIT_REQ), 0);
        uint64_t init = session_watched_request(s);
        CHECK(init != 0); /* a server stuck in its first initialize is hung */
        CHECK_INT(SV(s, INIT_RES), 0);
        CHECK_INT(session_watched_request(s), 0);
        /* Commands and workspace/diagnostic may rightly take long. */
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"workspace/executeCommand\","
                        "\"params\":{\"command\":\"gopls.run_govulncheck\"}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"workspace/diagnostic\","
                        "\"params\":{\"previousResultIds\":[]}}"),
                  0);
        CHECK_INT(session_watched_request(s), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\","
                        "\"params\":{}}"),
                  0);
        uint64_t h3 = session_watched_request(s);
        CHECK(h3 > init);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/definition\","
                        "\"params\":{}}"),
                  0);
        CHECK_U64(session_watched_request(s), h3); /* the oldest */
        /* The server asks the editor something: it waits, rightly. */
        size_t ed0 = f.ed.n;
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"workspace/applyEdit\","
                        "\"params\":{\"edit\":{}}}"),
                  0);
        CHECK_INT(session_watched_request(s), 0);
        json_t *q = J(&f.ed, ed0);
        EDf(s, "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"result\":{\"applied\":true}}",
            (long long)json_integer_value(json_object_get(q, "id")));
        CHECK_U64(session_watched_request(s), h3);
        /* Answered: the next one is watched. */
        CHECK_INT(SV(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":null}"), 0);
        uint64_t h4 = session_watched_request(s);
        CHECK(h4 > h3);
        /* No server, or the replayed initialize out: nothing watched. */
        session_server_lost(s);
        CHECK_INT(session_watched_request(s), 0);
        CHECK_INT(session_server_started(s), 0);
        CHECK_INT(session_watched_request(s), 0);
        answer_replay_init(s, &f, NULL);
        /* Resent to the new server: watched again, same arrival number. */
        CHECK_U64(session_watched_request(s), h4);
        done(s, &f);
}

/* After giving up (after_give_up = wait): every request is answered at
 * once with the reason, nothing waits for the cooldown; document changes
 * meanwhile reach the server that comes after it. */
static void test_refuse_requests_during_cooldown(void)
{
        struct fake f;
        struct lsp_session *s = mk(&f, true, 0);
        const char *why = "gopls-guard gave up after 6 crashes; retrying in 5m";

        handshake(s, &f);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{"
                        "\"textDocument\":{\"uri\":\"" URI_A "\",\"languageId\":\"go\","
                        "\"version\":1,\"text\":\"package a\\n\"}}}"),
                  0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"textDocument/hover\","
                        "\"params\":{}}"),
                  0);
        session_server_lost(s);
        CHECK_INT(answers(&f.ed, "3"), 0); /* held for the next server, so far */
        CHECK_INT(session_refuse_requests(s, why), 0);
        CHECK_INT(answer_code(&f.ed, "3"), -32803); /* and now answered */
        CHECK_STR(error_message(&f.ed, "3"), why);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"textDocument/completion\","
                        "\"params\":{}}"),
                  0);
        CHECK_INT(answer_code(&f.ed, "4"), -32803);
        CHECK_STR(error_message(&f.ed, "4"), why);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didChange\",\"params\":{"
                        "\"textDocument\":{\"uri\":\"" URI_A "\",\"version\":2},"
                        "\"contentChanges\":[{\"text\":\"package b\\n\"}]}}"),
                  0);
        struct lsp_session_stats st;
        session_stats(s, &st);
        CHECK_INT(st.pending_editor_requests, 0);
        /* The cooldown is over: a new server, replayed with the new text;
         * requests go to it again. */
        size_t sv0 = f.sv.n;
        CHECK_INT(session_server_started(s), 0);
        answer_replay_init(s, &f, NULL);
        long i = find(&f.sv, sv0, "textDocument/didOpen");
        CHECK(i >= 0);
        if (i >= 0)
                CHECK(strstr(f.sv.b[i], "package b") != NULL);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"textDocument/hover\","
                        "\"params\":{}}"),
                  0);
        CHECK(find(&f.sv, sv0, "textDocument/hover") >= 0);
        CHECK_INT(answers(&f.ed, "5"), 0);
        /* Refusing again, then not: NULL stops it while no server runs. */
        session_server_lost(s);
        CHECK_INT(session_refuse_requests(s, why), 0);
        CHECK_INT(answer_code(&f.ed, "5"), -32803);
        CHECK_INT(session_refuse_requests(s, NULL), 0);
        CHECK_INT(ED(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"textDocument/hover\","
                        "\"params\":{}}"),
                  0);
        CHECK_INT(answers(&f.ed, "6"), 0); /* held again */
        done(s, &f);
}

int main(void)
{
        RUN(test_hover_forwarded_byte_exact);
        RUN(test_initialize_replayed_privately);
        RUN(test_replay_reopens_edited_text);
        RUN(test_held_released_in_order_once);
        RUN(test_inflight_read_resent_answered_once);
        RUN(test_inflight_writes_answered);
        RUN(test_cancel_of_held_and_pending);
        RUN(test_server_requests_renumbered);
        RUN(test_restart_cleans_editor_view);
        RUN(test_shutdown_and_exit);
        RUN(test_malformed_dropped_and_logged);
        RUN(test_death_during_replay);
        RUN(test_show_message_waits_for_initialize);
        RUN(test_first_server_dies_during_initialize);
        RUN(test_capability_change_logged);
        RUN(test_held_bound);
        RUN(test_held_notifications_bounded);
        RUN(test_replay_off_forwards_only);
        RUN(test_ids_keep_their_type);
        RUN(test_method_is_read);
        RUN(test_exactly_once_random);
        RUN(test_held_until_first_server);
        RUN(test_exit_during_replay);
        RUN(test_broken_request_not_resent);
        RUN(test_shutdown_never_refused);
        RUN(test_unreadable_id_refused);
        RUN(test_escaped_methods);
        RUN(test_fail_pending_answers_initialize);
        RUN(test_can_restart);
        RUN(test_lone_surrogate_kept);
        RUN(test_unedited_text_replayed_as_sent);
        RUN(test_word_sized_strings_kept);
        RUN(test_shared_server_leave);
        RUN(test_poison_after_two_crashes);
        RUN(test_poison_when_the_loss_comes_first);
        RUN(test_initialize_is_never_poison);
        RUN(test_poison_counts_only_consecutive_crashes_in_flight);
        RUN(test_watched_request);
        RUN(test_refuse_requests_during_cooldown);
        return check_summary();
}

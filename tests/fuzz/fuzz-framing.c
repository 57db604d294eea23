/* fuzz-framing.c — libFuzzer target for the LSP base-protocol decoder and
 * lsp_peek() (src/lsp/lsp-framing.h).
 *
 * Input layout (every byte string is valid; missing bytes read as 0):
 *
 *   byte 0   flags: bits 0-1 pick max_message (default, 16, 200, 9000);
 *            bit 2 = structured mode (below), else raw mode;
 *            bit 3 = feed through lsp_decoder_reserve()/commit() instead of
 *            lsp_decoder_feed();
 *            bit 4 = raw mode only: expand runs (0xFF, count high, count
 *            low, byte = that byte count times), so that header lines
 *            near LSP_HEADER_LINE_MAX fit in a small input
 *   byte 1   k = low 4 bits: number of chunk-size bytes that follow
 *   k bytes  chunk sizes, used in turn: 0 = an empty feed, 255 = all the
 *            rest, else that many bytes (times 1 + stream length / 16K)
 *   rest     raw mode: the byte stream itself;
 *            structured mode: records from which the target writes a
 *            stream of framed messages and knows which bodies must come
 *            out (see build_structured())
 *
 * Checked in both modes:
 *   - the stream split into the fuzzer's chunks decodes to exactly the
 *     same results (bodies, error codes, reasons) as the stream fed at
 *     once: the header says chunks may be split anywhere;
 *   - only the documented error codes appear, each with a reason;
 *   - after draining, the decoder holds no more than one body's limit or
 *     one header line (it must not buffer an unframed stream);
 *   - a run of errors always consumes input (no endless error loop);
 *   - lsp_peek() on every body, in an exactly sized copy so that ASan sees
 *     any read past it, returns pointers inside the body, and agrees with
 *     jansson on every body jansson accepts as an object.
 *   - raw mode: lsp_json_string_end() on the stream as a string's
 *     contents, in an exactly sized copy, agrees with the byte-wise
 *     lsp_json_contents_check() on everything before the first quote that
 *     no backslash escapes: the same end and decoded length when that is
 *     valid, NULL when it is not.
 * Structured mode also checks that every well-formed message is delivered
 * byte for byte, including after junk lines and after a message whose
 * declared length was too short (the resynchronisation the header
 * promises), and that each oversized message gives one -EMSGSIZE. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz-input.h"
#include "fuzz-jansson.h"
#include "lsp-framing.h"

#define READ_FLOOR ((size_t)64 << 10) /* lsp_decoder_reserve()'s promised minimum */

struct event {
        int r;
        char *body; /* exact-size copy (r == 1) */
        size_t len;
        char reason[LSP_REASON_MAX];
};

struct events {
        struct event *v;
        size_t n, cap;
};

static void events_free(struct events *e)
{
        for (size_t i = 0; i < e->n; i++)
                free(e->v[i].body);
        free(e->v);
        *e = (struct events){0};
}

static struct event *events_add(struct events *e)
{
        if (e->n == e->cap) {
                e->cap = e->cap ? e->cap * 2 : 16;
                e->v = realloc(e->v, e->cap * sizeof(*e->v));
                if (!e->v)
                        abort();
        }
        e->v[e->n] = (struct event){0};
        return &e->v[e->n++];
}

/* ---------------------------------------------------------------------- */
/* lsp_peek() against jansson                                               */

static bool inside(const char *p, size_t n, const char *body, size_t len)
{
        return p >= body && p <= body + len && n <= (size_t)(body + len - p);
}

static void check_peek(const char *body, size_t len)
{
        struct lsp_peek pk;
        json_t *root, *id, *method;
        int r = lsp_peek(body, len, &pk);

        FZ_CHECK(r == 0 || r == -EBADMSG, "lsp_peek returned %d", r);
        if (r == 0) {
                FZ_CHECK((pk.id == NULL) == (pk.id_type == LSP_ID_NONE), "id pointer vs type");
                if (pk.id)
                        FZ_CHECK(pk.id_len > 0 && inside(pk.id, pk.id_len, body, len),
                                 "id outside the body");
                if (pk.method)
                        FZ_CHECK(inside(pk.method, pk.method_len, body, len),
                                 "method outside the body");
                FZ_CHECK(pk.method_escaped ==
                             (pk.method && memchr(pk.method, '\\', pk.method_len) != NULL),
                         "method_escaped");
                (void)lsp_peek_kind(&pk);
                (void)lsp_peek_method_is(&pk, "initialize");
        }

        /* Big bodies only slow the search down: the comparison is about
         * structure, which small bodies cover. */
        if (len > 65536)
                return;
        /* A raw NUL byte is never valid JSON (escaped, \u0000 is), but
         * jansson lets one through between tokens: no reference then. */
        if (memchr(body, '\0', len))
                return;
        /* Duplicate keys are rejected so that "the last one counts" cannot
         * hide a non-string "method" that lsp_peek() saw first. */
        root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
        if (!json_is_object(root)) {
                json_decref(root);
                return;
        }
        method = json_object_get(root, "method");
        if (method && !json_is_string(method)) {
                FZ_CHECK(r == -EBADMSG, "non-string method accepted");
                json_decref(root);
                return;
        }
        FZ_CHECK(r == 0, "lsp_peek rejected a JSON object jansson accepts: %.*s",
                 (int)(len < 200 ? len : 200), body);
        FZ_CHECK(pk.has_params == (json_object_get(root, "params") != NULL), "has_params");
        FZ_CHECK(pk.has_result == (json_object_get(root, "result") != NULL), "has_result");
        FZ_CHECK(pk.has_error == (json_object_get(root, "error") != NULL), "has_error");
        FZ_CHECK((pk.method != NULL) == (method != NULL), "method presence");
        /* A NUL cannot be passed as a C string; names over 256 bytes are no
         * LSP methods and lsp_peek_method_is() does not decode that far. */
        if (method && strlen(json_string_value(method)) == json_string_length(method) &&
            json_string_length(method) <= 256)
                FZ_CHECK(lsp_peek_method_is(&pk, json_string_value(method)),
                         "method_is(\"%s\") is false", json_string_value(method));

        id = json_object_get(root, "id");
        if (!id) {
                FZ_CHECK(pk.id_type == LSP_ID_NONE, "id type %d without an id", pk.id_type);
        } else {
                json_t *raw = json_loadb(pk.id, pk.id_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

                FZ_CHECK(raw && json_equal(raw, id), "raw id text is not the id's value");
                json_decref(raw);
                if (json_is_integer(id))
                        FZ_CHECK(pk.id_type == LSP_ID_INT &&
                                     pk.id_int == (int64_t)json_integer_value(id),
                                 "integer id");
                else if (json_is_string(id))
                        FZ_CHECK(pk.id_type == LSP_ID_STRING, "string id");
                else if (json_is_null(id))
                        FZ_CHECK(pk.id_type == LSP_ID_NULL, "null id");
                else
                        FZ_CHECK(pk.id_type == LSP_ID_OTHER, "other id type %d", pk.id_type);
        }
        json_decref(root);
}

/* ---------------------------------------------------------------------- */
/* decoding                                                                 */

struct plan {
        size_t max_message;   /* as given to the decoder, 0 = default */
        const uint8_t *sizes; /* chunk sizes */
        size_t nsizes;
        bool reserve; /* feed through reserve/commit */
};

static size_t effective_max(size_t max_message)
{
        return max_message ? max_message : LSP_MAX_MESSAGE_DEFAULT;
}

/* After a drain only a partial body (< its length <= the limit) or one
 * partial header line, or during resynchronisation a partial
 * "Content-Length:" line, may stay buffered. */
static size_t buffered_bound(size_t max_message)
{
        size_t m = effective_max(max_message), h = LSP_HEADER_LINE_MAX + 32;

        return m > h ? m : h;
}

static void drain(struct lsp_decoder *d, size_t max_message, struct events *out, size_t fed)
{
        size_t errors = 0;

        for (;;) {
                const char *body = NULL;
                size_t len = 0;
                int r = lsp_decoder_next(d, &body, &len);
                struct event *ev;

                if (r == 0)
                        break;
                ev = events_add(out);
                ev->r = r;
                if (r == 1) {
                        errors = 0;
                        FZ_CHECK(len <= effective_max(max_message), "body of %zu bytes", len);
                        ev->body = malloc(len ? len : 1);
                        if (!ev->body)
                                abort();
                        if (len)
                                memcpy(ev->body, body, len);
                        ev->len = len;
                        check_peek(ev->body, len);
                        continue;
                }
                FZ_CHECK(r == -EBADMSG || r == -EINVAL || r == -ERANGE || r == -EMSGSIZE ||
                             r == -E2BIG || r == -EPROTO,
                         "undocumented error %d", r);
                FZ_CHECK(memchr(lsp_decoder_reason(d), '\0', LSP_REASON_MAX) &&
                             lsp_decoder_reason(d)[0],
                         "error %d without a reason", r);
                snprintf(ev->reason, sizeof(ev->reason), "%s", lsp_decoder_reason(d));
                /* every error is caused by at least one byte of input */
                FZ_CHECK(++errors <= fed + 1, "%zu errors in a row from %zu bytes: last %d (%s)",
                         errors, fed, r, ev->reason);
        }
        FZ_CHECK(lsp_decoder_buffered(d) <= buffered_bound(max_message),
                 "%zu bytes buffered after a drain (limit %zu)", lsp_decoder_buffered(d),
                 effective_max(max_message));
}

static void feed(struct lsp_decoder *d, const struct plan *pl, const uint8_t *p, size_t n,
                 size_t k)
{
        if (!pl->reserve) {
                FZ_CHECK(lsp_decoder_feed(d, p, n) == 0, "feed failed");
                return;
        }
        do {
                char *area;
                size_t avail, c;
                /* vary `min` too: ask for the whole chunk, or for nothing
                   and take what a read would */
                size_t min = (k & 1) ? n : 0;

                FZ_CHECK(lsp_decoder_reserve(d, min, &area, &avail) == 0, "reserve failed");
                FZ_CHECK(avail >= min && avail >= READ_FLOOR, "reserve gave %zu bytes for %zu",
                         avail, min);
                c = n < avail ? n : avail;
                if (c)
                        memcpy(area, p, c);
                lsp_decoder_commit(d, c);
                p += c;
                n -= c;
        } while (n);
}

/* Decodes the stream split as the plan says, or fed at once. */
static void decode(const struct plan *pl, const uint8_t *s, size_t n, bool split,
                   struct events *out)
{
        struct lsp_decoder d;
        size_t off = 0, k = 0, zeros = 0;
        /* long (expanded) streams in bigger chunks: at most about 16K feeds */
        size_t unit = 1 + n / 16384;

        lsp_decoder_init(&d, pl->max_message);
        while (off < n || (split && k < pl->nsizes)) {
                size_t c = n - off;

                if (split && pl->nsizes) {
                        uint8_t b = pl->sizes[k % pl->nsizes];

                        if (b == 0) {
                                /* an empty feed, but a whole cycle of them
                                   must not stall the stream */
                                if (++zeros <= pl->nsizes)
                                        c = 0;
                        } else {
                                zeros = 0;
                                if (b != 255 && b * unit < c)
                                        c = b * unit;
                        }
                }
                feed(&d, pl, s + off, c, k);
                off += c;
                k++;
                drain(&d, pl->max_message, out, off);
        }
        drain(&d, pl->max_message, out, off);
        lsp_decoder_done(&d);
        /* the decoder may be used again after done() */
        lsp_decoder_init(&d, pl->max_message);
        FZ_CHECK(lsp_decoder_buffered(&d) == 0, "buffered after re-init");
        lsp_decoder_done(&d);
}

static void compare(const struct events *a, const struct events *b)
{
        size_t n = a->n < b->n ? a->n : b->n;

        for (size_t i = 0; i < n; i++) {
                FZ_CHECK(a->v[i].r == b->v[i].r, "result %zu: %d split, %d whole", i, a->v[i].r,
                         b->v[i].r);
                FZ_CHECK(a->v[i].len == b->v[i].len &&
                             (!a->v[i].len || !memcmp(a->v[i].body, b->v[i].body, a->v[i].len)),
                         "body %zu differs between split and whole input", i);
                FZ_CHECK(!strcmp(a->v[i].reason, b->v[i].reason), "reason %zu: \"%s\" vs \"%s\"",
                         i, a->v[i].reason, b->v[i].reason);
        }
        FZ_CHECK(a->n == b->n, "%zu results split, %zu whole", a->n, b->n);
}

/* ---------------------------------------------------------------------- */
/* structured mode                                                          */

struct buf {
        uint8_t *p;
        size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
        if (b->n + n > b->cap || !b->p) {
                b->cap = (b->n + n) * 2 + 64;
                b->p = realloc(b->p, b->cap);
                if (!b->p)
                        abort();
        }
        if (n && p)
                memcpy(b->p + b->n, p, n);
        b->n += n; /* p NULL: the caller fills the bytes */
}

static void puts_(struct buf *b, const char *s)
{
        put(b, s, strlen(s));
}

/* Whether s contains "content-length" in any case: junk must not, since a
 * well-formed length header inside junk would legitimately frame it. */
static bool has_cl_name(const uint8_t *s, size_t n)
{
        static const char name[] = "content-length";
        const size_t nl = sizeof(name) - 1;

        for (size_t i = 0; i + nl <= n; i++) {
                size_t j = 0;
                while (j < nl && (s[i + j] | 0x20) == (uint8_t)name[j])
                        j++;
                if (j == nl)
                        return true;
        }
        return false;
}

struct expect {
        struct events want; /* bodies only */
        size_t oversized;
};

/* Each record: byte r, byte L, L body bytes, and depending on r:
 *   r & 7     header style (canonical, lower case and bare LF, Content-Type
 *             first, blanks and an extra header, repeated equal length,
 *             blank lines before, a malformed line after the length, leading
 *             zeros and upper case);
 *   r & 0x08  junk first: byte J, J bytes, made to end in LF and to contain
 *             no "content-length" (any case);
 *   r & 0x10  the declared length is short by T (byte T, clamped to L):
 *             the body's last T bytes, with CR and LF replaced (a JSON body
 *             cannot hold them raw), follow as garbage and the next
 *             message's header comes right behind them, as happens after
 *             a wrong length.
 * A message over the limit is skipped with -EMSGSIZE; every other one must
 * come out with its (declared) body exactly. */
static void build_structured(struct fz *f, size_t max, struct buf *out, struct expect *ex)
{
        size_t garbage = 0; /* where bytes that are no message began */

        while (!fz_empty(f)) {
                uint8_t r = fz_u8(f), lenb = fz_u8(f);
                const uint8_t *body, *junk;
                size_t len = fz_take(f, lenb, &body), declared = len, cut = 0;
                char hdr[LSP_HEADER_MAX + 64], num[32];

                if (r & 0x08) {
                        size_t jn = fz_take(f, fz_u8(f), &junk);

                        put(out, junk, jn);
                        put(out, "\n", 1);
                }
                /* The garbage is the previous body's cut tail and the junk:
                   neither alone nor joined may spell a length header name. */
                for (size_t i = garbage; i + 14 <= out->n; i++)
                        if (has_cl_name(out->p + i, 14))
                                out->p[i] = '_';
                if (r & 0x10) {
                        cut = fz_u8(f);
                        if (cut > len)
                                cut = len;
                        declared = len - cut;
                }
                snprintf(num, sizeof(num), "%zu", declared);
                switch (r & 7) {
                case 0:
                        lsp_header_encode(hdr, declared);
                        break;
                case 1:
                        snprintf(hdr, sizeof(hdr), "content-length: %s\n\n", num);
                        break;
                case 2:
                        snprintf(hdr, sizeof(hdr),
                                 "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                                 "Content-Length: %s\r\n\r\n",
                                 num);
                        break;
                case 3:
                        snprintf(hdr, sizeof(hdr), "Content-Length:\t %s \t\r\nX-Y:\r\n\r\n", num);
                        break;
                case 4:
                        snprintf(hdr, sizeof(hdr), "Content-Length: %s\r\ncontent-LENGTH:%s\r\n\r\n",
                                 num, num);
                        break;
                case 5:
                        snprintf(hdr, sizeof(hdr), "\r\n\n\r\nContent-Length: %s\r\n\r\n", num);
                        break;
                case 6:
                        snprintf(hdr, sizeof(hdr), "Content-Length: %s\r\nnot a header\r\n\r\n",
                                 num);
                        break;
                default:
                        snprintf(hdr, sizeof(hdr), "CONTENT-LENGTH: 000%s\r\n\r\n", num);
                        break;
                }
                puts_(out, hdr);
                put(out, body, declared);
                if (declared > max) {
                        ex->oversized++;
                } else {
                        struct event *ev = events_add(&ex->want);
                        ev->r = 1;
                        ev->len = declared;
                        ev->body = malloc(declared ? declared : 1);
                        if (!ev->body)
                                abort();
                        if (declared)
                                memcpy(ev->body, body, declared);
                }
                garbage = out->n;
                for (size_t i = declared; i < len; i++) {
                        uint8_t c = body[i] == '\r' || body[i] == '\n' ? ' ' : body[i];
                        put(out, &c, 1);
                }
        }
}

static void check_structured(const struct events *got, const struct expect *ex)
{
        size_t bodies = 0, oversized = 0;

        for (size_t i = 0; i < got->n; i++) {
                const struct event *g = &got->v[i];

                if (g->r == -EMSGSIZE)
                        oversized++;
                if (g->r != 1)
                        continue;
                FZ_CHECK(bodies < ex->want.n, "more bodies than messages (%zu)", ex->want.n);
                FZ_CHECK(g->len == ex->want.v[bodies].len &&
                             (!g->len || !memcmp(g->body, ex->want.v[bodies].body, g->len)),
                         "message %zu lost or changed: got %zu bytes \"%.*s\", expected %zu",
                         bodies, g->len, (int)(g->len < 80 ? g->len : 80), g->body,
                         ex->want.v[bodies].len);
                bodies++;
        }
        FZ_CHECK(bodies == ex->want.n, "%zu of %zu messages delivered", bodies, ex->want.n);
        FZ_CHECK(oversized == ex->oversized, "%zu -EMSGSIZE for %zu oversized messages", oversized,
                 ex->oversized);
}

/* ---------------------------------------------------------------------- */

/* Raw mode with bit 4: 0xFF hi lo b stands for byte b repeated hi*256+lo
 * times (exact counts, so that lengths right at a limit are reachable).
 * The stream stays under EXPAND_MAX: enough for bodies past the buffer's
 * shrinking threshold (1 MiB), small enough to keep runs fast. */
#define EXPAND_MAX ((size_t)5 << 18) /* 1.25 MiB */

static void expand(const uint8_t *s, size_t n, struct buf *out)
{
        for (size_t i = 0; i < n; i++) {
                if (s[i] == 0xFF && i + 3 < n) {
                        size_t count = (size_t)s[i + 1] << 8 | s[i + 2];

                        if (out->n >= EXPAND_MAX)
                                count = 0;
                        else if (count > EXPAND_MAX - out->n)
                                count = EXPAND_MAX - out->n;
                        put(out, NULL, count);
                        memset(out->p + out->n - count, s[i + 3], count);
                        i += 3;
                } else {
                        put(out, &s[i], 1);
                }
        }
}

/* lsp_json_string_end() (blocks of 64 bytes) against the byte-wise check. */
static void check_string_end(const uint8_t *data, size_t n)
{
        char *s = malloc(n ? n : 1);
        const char *q;
        size_t k;
        ssize_t len = -1;

        if (!s)
                abort();
        if (n)
                memcpy(s, data, n);
        q = lsp_json_string_end(s, s + n, &len);
        for (k = 0; k < n && s[k] != '"'; k++)
                if (s[k] == '\\')
                        k++;
        if (k >= n) {
                /* no quote ends it */
                if (q)
                        abort();
        } else {
                ssize_t want = lsp_json_contents_check(s, k);
                if (want < 0 ? q != NULL : (q != s + k || len != want))
                        abort();
        }
        free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t maxes[4] = {0, 16, 200, 9000};
        struct fz f = {data, size};
        uint8_t flags = fz_u8(&f);
        struct plan pl = {.max_message = maxes[flags & 3], .reserve = (flags & 8) != 0};
        struct events split = {0}, whole = {0};
        struct buf stream = {0};
        struct expect ex = {0};
        const uint8_t *rest;
        size_t nrest;

        pl.nsizes = fz_take(&f, fz_u8(&f) & 0x0f, &pl.sizes);
        nrest = fz_take(&f, f.n, &rest);
        if (flags & 4) {
                struct fz g = {rest, nrest};
                build_structured(&g, effective_max(pl.max_message), &stream, &ex);
        } else if (flags & 0x10) {
                expand(rest, nrest, &stream);
        } else {
                put(&stream, rest, nrest);
                check_string_end(rest, nrest);
        }

        if (!stream.p)
                put(&stream, "", 0); /* no NULL + 0 below */
        decode(&pl, stream.p, stream.n, true, &split);
        decode(&pl, stream.p, stream.n, false, &whole);
        compare(&split, &whole);
        if (flags & 4)
                check_structured(&split, &ex);

        events_free(&split);
        events_free(&whole);
        events_free(&ex.want);
        free(stream.p);
        return 0;
}

/* fuzz-docsync.c — libFuzzer target for the document store
 * (src/lsp/lsp-docsync.h), checked against a slow reference model.
 *
 * lsp-docsync.h specifies the text model completely (line breaks, UTF-16
 * units with RFC 3629 validity, clamping past a line or past the last
 * line, rounding down inside a surrogate pair, swapped ranges), so the
 * model below is written from that header alone: it keeps each document
 * as a plain byte string and finds a position by walking the text from
 * the start every time.
 *
 * Input: byte 0 picks max_size (default, 1, 7, 64, 1000); then operations
 * until the input ends, each one byte (mod 6) and its arguments:
 *   0 open   uri, version, language, text; (byte / 6) odd: the text is
 *            given escaped (lsp_docs_open_escaped), as the JSON string
 *            lsp_json_escape() makes of it
 *   1, 5 change  uri, version, 1-4 changes: kind byte (bit 0 full, bits
 *            1-3 all set = text NULL with len > 0, bit 4 escaped), two
 *            positions, text
 *   2 close  uri
 *   3 query  uri and four positions: lsp_doc_offset() against the model
 *   4 bad calls: open with a NULL uri or a NULL text
 * URIs are one of 20 (more than the store's first hash table holds).
 * Texts are raw input bytes or built from fragments chosen to hit every
 * rule: CR, LF, CR LF, 2/3/4-byte characters, truncated, overlong and
 * surrogate encodings, bytes that never start a character, NUL.
 * Positions are small, edge values (0xFFFF, 0x10000, UINT32_MAX), random,
 * or around the document's last line.
 *
 * An escaped text is kept as given until a position is needed; the model
 * holds the decoded text.  Raw input bytes that are not UTF-8 stay raw when
 * escaped, which no JSON string may hold: such texts must be refused
 * (-EBADMSG, nothing applied), all others behave as if given decoded.
 *
 * After every operation: return codes as the header documents them, the
 * open set and its order, every document's text (decoded, for one kept
 * escaped), length, version, language; for the document touched, its
 * line count, every line's start and end offsets (on a decoded copy while
 * it is kept escaped, so that its own decoding is left to the next edit
 * or query). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-input.h"
#include "lsp-docsync.h"
#include "lsp-framing.h"

#define NURI 20
#define MAX_CHANGES 4
#define CHECK_LINES 300 /* lines checked in full per document and step */

/* ---------------------------------------------------------------------- */
/* reference model                                                          */

struct mdoc {
        bool open;
        unsigned order; /* open order: smaller first */
        char *text;
        size_t len;
        int64_t version;
        const char *lang;
};

struct model {
        struct mdoc d[NURI];
        unsigned next_order;
        size_t max;
};

static bool is_break(char c)
{
        return c == '\n' || c == '\r';
}

/* Bytes and UTF-16 units of the character at s[0..avail): a well-formed
 * UTF-8 sequence (no overlong form, at most U+10FFFF; a surrogate is a
 * lone one from the editor's JSON, one unit) or else a single byte
 * counting one unit. */
static size_t ref_char(const unsigned char *s, size_t avail, unsigned *units)
{
        uint32_t cp, min;
        size_t n;

        *units = 1;
        if (s[0] < 0x80)
                return 1;
        if ((s[0] & 0xE0) == 0xC0) {
                n = 2;
                cp = s[0] & 0x1Fu;
                min = 0x80;
        } else if ((s[0] & 0xF0) == 0xE0) {
                n = 3;
                cp = s[0] & 0x0Fu;
                min = 0x800;
        } else if ((s[0] & 0xF8) == 0xF0) {
                n = 4;
                cp = s[0] & 0x07u;
                min = 0x10000;
        } else {
                return 1;
        }
        if (avail < n)
                return 1;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80)
                        return 1;
                cp = cp << 6 | (s[i] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF)
                return 1;
        *units = cp >= 0x10000 ? 2 : 1;
        return n;
}

/* Index just past the line break that starts at p (p at '\r' or '\n'). */
static size_t past_break(const char *t, size_t len, size_t p)
{
        return t[p] == '\r' && p + 1 < len && t[p + 1] == '\n' ? p + 2 : p + 1;
}

static size_t ref_line_count(const char *t, size_t len)
{
        size_t n = 1;

        for (size_t p = 0; p < len;) {
                if (is_break(t[p])) {
                        p = past_break(t, len, p);
                        n++;
                } else {
                        p++;
                }
        }
        return n;
}

static size_t ref_offset(const char *t, size_t len, struct lsp_position pos)
{
        size_t p = 0;
        uint64_t units = 0;

        for (uint32_t l = 0; l < pos.line; l++) {
                while (p < len && !is_break(t[p]))
                        p++;
                if (p == len)
                        return len; /* past the last line: end of the document */
                p = past_break(t, len, p);
        }
        while (p < len && !is_break(t[p])) {
                unsigned u;
                size_t b = ref_char((const unsigned char *)t + p, len - p, &u);

                if (units + u > pos.character)
                        break;
                units += u;
                p += b;
        }
        return p;
}

/* The header: a high surrogate's 3-byte form followed by a low one's is
 * the pair they make, kept as its 4-byte form.  Joined left to right. */
static void mjoin(struct mdoc *m)
{
        unsigned char *t = (unsigned char *)m->text;
        size_t w = 0;

        for (size_t r = 0; r < m->len;) {
                if (m->len - r >= 6 && t[r] == 0xED && t[r + 1] >= 0xA0 && t[r + 1] <= 0xAF &&
                    t[r + 2] >= 0x80 && t[r + 2] <= 0xBF && t[r + 3] == 0xED && t[r + 4] >= 0xB0 &&
                    t[r + 4] <= 0xBF && t[r + 5] >= 0x80 && t[r + 5] <= 0xBF) {
                        uint32_t hi = 0xD000u | (t[r + 1] & 0x3Fu) << 6 | (t[r + 2] & 0x3Fu);
                        uint32_t lo = 0xD000u | (t[r + 4] & 0x3Fu) << 6 | (t[r + 5] & 0x3Fu);
                        uint32_t cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);

                        t[w++] = (unsigned char)(0xF0 | cp >> 18);
                        t[w++] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
                        t[w++] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                        t[w++] = (unsigned char)(0x80 | (cp & 0x3F));
                        r += 6;
                } else {
                        t[w++] = t[r++];
                }
        }
        m->len = w;
        if (m->text)
                m->text[w] = '\0';
}

static void mset(struct mdoc *m, const char *text, size_t len)
{
        char *t = malloc(len + 1);

        if (!t)
                abort();
        if (len)
                memcpy(t, text, len);
        t[len] = '\0';
        free(m->text);
        m->text = t;
        m->len = len;
        mjoin(m);
}

/* ---------------------------------------------------------------------- */
/* input decoding                                                           */

static const char *const uris[NURI] = {
    "file:///w/a.go", "file:///w/b.go", "file:///w/c.go", "untitled:1",   "file:///w/%C3%A9.go",
    "u5",             "u6",             "u7",             "u8",           "u9",
    "u10",            "u11",            "u12",            "u13",          "u14",
    "u15",            "u16",            "u17",            "file:///w/a.g", "",
};

static const char *const langs[3] = {NULL, "go", ""};

struct text {
        char *p;
        size_t len;
};

static void gen_text(struct fz *f, struct text *t)
{
        static const struct {
                const char *s;
                size_t n;
        } frag[16] = {
            {"a", 1},
            {"b", 1},
            {"\n", 1},
            {"\r", 1},
            {"\r\n", 2},
            {"\xc3\xa9", 2},             /* é */
            {"\xe2\x82\xac", 3},         /* € */
            {"\xf0\x9f\x98\x80", 4},     /* U+1F600: two units */
            {"\xff", 1},                 /* never starts a character */
            {"\xc3", 1},                 /* truncated */
            {"\xed\xa0\x80", 3},         /* lone surrogate (from "\ud800"): one unit */
            {"\xf0\x9f\x98", 3},         /* truncated 4-byte */
            {"\xe0\x80\x80", 3},         /* overlong */
            {"\0", 1},                   /* NUL is text too */
            {"\xf4\x90\x80\x80", 4},     /* above U+10FFFF */
            {"\xf4\x8f\xbf\xbf", 4},     /* U+10FFFF: two units */
        };
        uint8_t b = fz_u8(f);
        size_t n = b & 0x3f;

        t->p = malloc(4 * n + 1);
        if (!t->p)
                abort();
        t->len = 0;
        if (b & 0x80) {
                const uint8_t *raw;
                t->len = fz_take(f, n, &raw);
                if (t->len)
                        memcpy(t->p, raw, t->len);
        } else {
                for (size_t i = 0; i < n && !fz_empty(f); i++) {
                        uint8_t k = fz_u8(f);
                        memcpy(t->p + t->len, frag[k & 15].s, frag[k & 15].n);
                        t->len += frag[k & 15].n;
                }
        }
}

/* t as JSON string contents; *valid: whether it is a valid JSON string's
 * contents (t was UTF-8, lone surrogates in their 3-byte form allowed). */
static struct text escape_text(const struct text *t, bool *valid)
{
        struct text e;

        e.len = lsp_json_escape(t->p, t->len, NULL);
        e.p = malloc(e.len + 1);
        if (!e.p)
                abort();
        lsp_json_escape(t->p, t->len, e.p);
        *valid = lsp_json_contents_check(e.p, e.len) >= 0;
        return e;
}

static uint32_t gen_u32_edge(uint8_t b)
{
        static const uint32_t edge[8] = {0, 1, 2, 3, 0xFFFF, 0x10000, UINT32_MAX - 1, UINT32_MAX};

        return edge[b & 7];
}

static struct lsp_position gen_pos(struct fz *f, const struct mdoc *m)
{
        uint8_t b = fz_u8(f);
        size_t lines = m->open ? ref_line_count(m->text, m->len) : 1;

        switch (b >> 6) {
        case 0:
                return (struct lsp_position){b & 7, (b >> 3) & 7};
        case 1:
                return (struct lsp_position){b & 15, gen_u32_edge(fz_u8(f))};
        case 2:
                return (struct lsp_position){fz_u32(f), fz_u32(f)};
        default: {
                /* around the last line, where "past the end" starts */
                size_t l = lines - 1 + (b & 3);
                return (struct lsp_position){l > UINT32_MAX ? UINT32_MAX : (uint32_t)l,
                                             (b & 4) ? gen_u32_edge(fz_u8(f)) : fz_u8(f) & 15};
        }
        }
}

static int64_t gen_version(struct fz *f)
{
        uint8_t b = fz_u8(f);

        if (b == 0xFF)
                return INT64_MIN;
        if (b == 0xFE)
                return INT64_MAX;
        return (int8_t)b;
}

/* ---------------------------------------------------------------------- */
/* checks                                                                   */

static void check_lines(const struct lsp_doc *d, const struct mdoc *m)
{
        size_t lines = ref_line_count(m->text, m->len);

        FZ_CHECK(lsp_doc_line_count(d) == lines, "%s: %zu lines, model %zu", d->uri,
                 lsp_doc_line_count(d), lines);
        for (size_t l = 0; l < lines && l < CHECK_LINES; l++) {
                struct lsp_position start = {(uint32_t)l, 0}, end = {(uint32_t)l, UINT32_MAX};

                FZ_CHECK(lsp_doc_offset(d, start) == ref_offset(m->text, m->len, start),
                         "%s line %zu starts at %zu, model %zu", d->uri, l,
                         lsp_doc_offset(d, start), ref_offset(m->text, m->len, start));
                FZ_CHECK(lsp_doc_offset(d, end) == ref_offset(m->text, m->len, end),
                         "%s line %zu ends at %zu, model %zu", d->uri, l, lsp_doc_offset(d, end),
                         ref_offset(m->text, m->len, end));
        }
        FZ_CHECK(lsp_doc_offset(d, (struct lsp_position){(uint32_t)lines, 0}) == d->len,
                 "a line past the last is not the end");
}

static void check_store(const struct lsp_docs *s, const struct model *mo, int touched)
{
        size_t count = 0;
        unsigned last_order = 0;
        bool first = true;

        for (int i = 0; i < NURI; i++) {
                const struct mdoc *m = &mo->d[i];
                struct lsp_doc *d = lsp_docs_find(s, uris[i]);

                FZ_CHECK((d != NULL) == m->open, "%s open %d, model %d", uris[i], d != NULL,
                         m->open);
                if (!d)
                        continue;
                count++;
                FZ_CHECK(!strcmp(d->uri, uris[i]), "uri");
                FZ_CHECK(!strcmp(d->language_id, m->lang ? m->lang : ""), "language");
                FZ_CHECK(d->version == m->version, "%s version %lld, model %lld", uris[i],
                         (long long)d->version, (long long)m->version);
                FZ_CHECK(d->text[d->len] == '\0', "text not NUL-terminated");
                if (d->escaped) {
                        /* compared, and its lines checked, on a decoded
                         * copy: the document itself stays as it is */
                        struct lsp_docs copy;
                        char *t = malloc(d->len + 1);
                        ssize_t n;

                        if (!t)
                                abort();
                        n = lsp_json_contents_decode(d->text, d->len, t);
                        FZ_CHECK(n >= 0, "%s: kept escaped text does not decode", uris[i]);
                        FZ_CHECK((size_t)n == m->len && (!m->len || !memcmp(t, m->text, m->len)),
                                 "%s escaped text differs from the model (%zd vs %zu bytes)",
                                 uris[i], n, m->len);
                        if (i == touched) {
                                lsp_docs_init(&copy, 0);
                                FZ_CHECK(lsp_docs_open(&copy, uris[i], NULL, 0, t, (size_t)n) ==
                                             0,
                                         "copy");
                                check_lines(lsp_docs_find(&copy, uris[i]), m);
                                lsp_docs_done(&copy);
                        }
                        free(t);
                        continue;
                }
                FZ_CHECK(d->len == m->len && (!m->len || !memcmp(d->text, m->text, m->len)),
                         "%s text differs from the model (%zu vs %zu bytes)", uris[i], d->len,
                         m->len);
                if (i == touched)
                        check_lines(d, m);
        }
        FZ_CHECK(lsp_docs_count(s) == count, "count %zu, model %zu", lsp_docs_count(s), count);

        /* iteration: every open document once, in open order */
        count = 0;
        for (struct lsp_doc *d = lsp_docs_first(s); d; d = lsp_doc_next(d)) {
                int i;

                for (i = 0; i < NURI && strcmp(uris[i], d->uri); i++)
                        ;
                FZ_CHECK(i < NURI && mo->d[i].open, "iteration reached an unknown document");
                FZ_CHECK(first || mo->d[i].order > last_order, "%s out of open order", d->uri);
                first = false;
                last_order = mo->d[i].order;
                FZ_CHECK(++count <= lsp_docs_count(s), "iteration longer than the count");
        }
        FZ_CHECK(count == lsp_docs_count(s), "iteration shorter than the count");
}

/* ---------------------------------------------------------------------- */
/* operations                                                               */

static void op_open(struct lsp_docs *s, struct model *mo, struct fz *f, int u, bool esc)
{
        struct mdoc *m = &mo->d[u];
        int64_t v = gen_version(f);
        const char *lang = langs[fz_u8(f) % 3];
        struct text t;
        bool valid = true;
        int r, want;

        gen_text(f, &t);
        if (esc) {
                struct text e = escape_text(&t, &valid);
                r = lsp_docs_open_escaped(s, uris[u], lang, v, e.p, e.len);
                free(e.p);
        } else
                r = lsp_docs_open(s, uris[u], lang, v, t.p, t.len);
        if (!valid) {
                want = -EBADMSG;
        } else if (t.len > mo->max) {
                want = -EFBIG;
        } else {
                want = m->open ? 1 : 0;
                if (!m->open)
                        m->order = mo->next_order++;
                m->open = true;
                mset(m, t.p, t.len);
                m->version = v;
                m->lang = lang;
        }
        FZ_CHECK(r == want, "open %s: %d, expected %d", uris[u], r, want);
        free(t.p);
}

static void op_change(struct lsp_docs *s, struct model *mo, struct fz *f, int u)
{
        struct mdoc *m = &mo->d[u];
        struct lsp_change ch[MAX_CHANGES];
        struct text t[MAX_CHANGES], e[MAX_CHANGES];
        struct lsp_change sent[MAX_CHANGES];
        int64_t v = gen_version(f);
        size_t n = 1 + fz_u8(f) % MAX_CHANGES;

        int r, want = 0, first_bad = 0;

        /* Positions are drawn against the model as it was before the call:
           edits in one call see each other's results, the fuzzer does not
           need to know them exactly. */
        for (size_t i = 0; i < n; i++) {
                uint8_t kind = fz_u8(f);

                ch[i] = (struct lsp_change){.full = kind & 1};
                ch[i].range.start = gen_pos(f, m);
                ch[i].range.end = gen_pos(f, m);
                gen_text(f, &t[i]);
                ch[i].text = t[i].p;
                ch[i].len = t[i].len;
                sent[i] = ch[i];
                e[i].p = NULL;
                if ((kind & 0x0e) == 0x0e && t[i].len) {
                        ch[i].text = sent[i].text = NULL;
                        if (!first_bad)
                                first_bad = -EINVAL;
                } else if (kind & 0x10) {
                        bool valid;

                        e[i] = escape_text(&t[i], &valid);
                        sent[i].text = e[i].p;
                        sent[i].len = e[i].len;
                        sent[i].escaped = true;
                        if (!valid && !first_bad)
                                first_bad = -EBADMSG;
                }
        }
        r = lsp_docs_change(s, uris[u], v, sent, n);

        if (first_bad) {
                /* every text is checked first, whatever the document */
                FZ_CHECK(r == first_bad, "change with a %s text: %d",
                         first_bad == -EINVAL ? "NULL" : "malformed escaped", r);
        } else if (!m->open) {
                FZ_CHECK(r == -ENOENT, "change of a closed document: %d", r);
        } else {
                for (size_t i = 0; i < n && want == 0; i++) {
                        if (ch[i].full) {
                                if (ch[i].len > mo->max)
                                        want = -EFBIG;
                                else
                                        mset(m, ch[i].text, ch[i].len);
                                continue;
                        }
                        size_t a = ref_offset(m->text, m->len, ch[i].range.start);
                        size_t b = ref_offset(m->text, m->len, ch[i].range.end);
                        size_t lo = a < b ? a : b, hi = a < b ? b : a;
                        size_t newlen = m->len - (hi - lo) + ch[i].len;

                        if (newlen > mo->max) {
                                want = -EFBIG;
                                continue;
                        }
                        char *nt = malloc(newlen + 1);
                        if (!nt)
                                abort();
                        memcpy(nt, m->text, lo);
                        if (ch[i].len)
                                memcpy(nt + lo, ch[i].text, ch[i].len);
                        memcpy(nt + lo + ch[i].len, m->text + hi, m->len - hi);
                        nt[newlen] = '\0';
                        free(m->text);
                        m->text = nt;
                        m->len = newlen;
                        mjoin(m);
                }
                if (want == 0)
                        m->version = v;
                FZ_CHECK(r == want, "change %s: %d, expected %d", uris[u], r, want);
        }
        for (size_t i = 0; i < n; i++) {
                free(t[i].p);
                free(e[i].p);
        }
}

static void op_close(struct lsp_docs *s, struct model *mo, int u)
{
        struct mdoc *m = &mo->d[u];
        int r = lsp_docs_close(s, uris[u]);

        FZ_CHECK(r == (m->open ? 0 : -ENOENT), "close %s: %d", uris[u], r);
        m->open = false;
        free(m->text);
        m->text = NULL;
        m->len = 0;
}

static void op_query(struct lsp_docs *s, struct model *mo, struct fz *f, int u)
{
        struct mdoc *m = &mo->d[u];
        struct lsp_doc *d = lsp_docs_find(s, uris[u]);

        for (int i = 0; i < 4; i++) {
                struct lsp_position p = gen_pos(f, m);

                if (!d)
                        continue;
                FZ_CHECK(lsp_doc_offset(d, p) == ref_offset(m->text, m->len, p),
                         "%s (%u,%u): offset %zu, model %zu", uris[u], p.line, p.character,
                         lsp_doc_offset(d, p), ref_offset(m->text, m->len, p));
        }
}

static void op_bad(struct lsp_docs *s, struct model *mo, struct fz *f, int u)
{
        uint8_t b = fz_u8(f);
        int r;

        if (b & 1) {
                r = lsp_docs_open(s, NULL, "go", 1, "x", 1);
                FZ_CHECK(r == -EINVAL, "open with a NULL uri: %d", r);
        } else if (b & 2) {
                r = lsp_docs_open(s, uris[u], "go", 1, NULL, 1 + (b >> 2));
                FZ_CHECK(r == -EINVAL, "open with a NULL text: %d", r);
        } else {
                /* NULL with length 0 is an empty document */
                struct mdoc *m = &mo->d[u];

                r = lsp_docs_open(s, uris[u], NULL, 7, NULL, 0);
                FZ_CHECK(r == (m->open ? 1 : 0), "open with no text: %d", r);
                if (!m->open)
                        m->order = mo->next_order++;
                m->open = true;
                mset(m, "", 0);
                m->version = 7;
                m->lang = NULL;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t maxes[5] = {0, 1, 7, 64, 1000};
        struct fz f = {data, size};
        struct model mo = {0};
        struct lsp_docs s;
        uint8_t b = fz_u8(&f);

        lsp_docs_init(&s, maxes[b % 5]);
        mo.max = maxes[b % 5] ? maxes[b % 5] : LSP_DOC_MAX_DEFAULT;
        while (!fz_empty(&f)) {
                uint8_t op = fz_u8(&f);
                int u = fz_u8(&f) % NURI;

                switch (op % 6) {
                case 0:
                        op_open(&s, &mo, &f, u, (op / 6) & 1);
                        break;
                case 1:
                case 5:
                        op_change(&s, &mo, &f, u);
                        break;
                case 2:
                        op_close(&s, &mo, u);
                        break;
                case 3:
                        op_query(&s, &mo, &f, u);
                        break;
                default:
                        op_bad(&s, &mo, &f, u);
                        break;
                }
                check_store(&s, &mo, u);
        }
        lsp_docs_done(&s);
        /* a store may be used again after done() */
        FZ_CHECK(lsp_docs_count(&s) == 0 && !lsp_docs_first(&s), "store not empty after done");
        for (int i = 0; i < NURI; i++)
                free(mo.d[i].text);
        return 0;
}

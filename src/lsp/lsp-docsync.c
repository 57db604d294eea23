/* lsp-docsync.c — open documents and the LSP text edit rules.
 * Contracts and the text model are in lsp-docsync.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lsp-docsync.h"
#include "lsp-framing.h"

static size_t edit_starts(bool has_before, char before, const char *ins, size_t n, char after,
                          size_t s, size_t *out);

/* Smallest hash table; doubled whenever documents outnumber buckets. */
#define BUCKETS_MIN 16

static uint64_t hash_uri(const char *s)
{
        /* FNV-1a: short keys, no adversary to defend against (the editor) */
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++) {
                h ^= (unsigned char)*s;
                h *= UINT64_C(1099511628211);
        }
        return h;
}

void lsp_docs_init(struct lsp_docs *s, size_t max_size)
{
        *s = (struct lsp_docs){.max_size = max_size ? max_size : LSP_DOC_MAX_DEFAULT};
}

/* Frees a text of `cap` bytes that came from chunk c, or from malloc()
 * when c is NULL. */
static void text_free(struct text_arena *a, char *t, size_t cap, struct text_chunk *c)
{
        if (c)
                text_arena_put(a, c, cap);
        else
                free(t);
}

/* Room for a text of len bytes and its NUL: from the arena, or malloc(). */
static char *text_alloc(struct text_arena *a, size_t len, struct text_chunk **ret_chunk)
{
        char *t = text_arena_get(a, len + 1, ret_chunk);

        if (t)
                return t;
        *ret_chunk = NULL;
        return malloc(len + 1);
}

static void doc_free(struct text_arena *a, struct lsp_doc *d)
{
        if (!d)
                return;
        free(d->uri);
        free(d->language_id);
        text_free(a, d->text, d->cap, d->chunk);
        free(d->lines);
        free(d);
}

/* Moves d's text out of its chunk into malloc()ed memory (the chunk may
 * then go).  Left where it is when memory is short. */
static int text_evict(struct text_arena *a, struct lsp_doc *d, size_t cap)
{
        char *t = malloc(cap);

        if (!t)
                return -ENOMEM;
        memcpy(t, d->text, d->len + 1);
        text_arena_put(a, d->chunk, d->cap);
        d->text = t;
        d->cap = cap;
        d->chunk = NULL;
        return 0;
}

/* Texts still in sparse chunks move out, so that a few long-lived
 * documents do not keep megabytes of closed ones mapped. */
static void compact(struct lsp_docs *s)
{
        for (struct lsp_doc *d = s->first; d && s->arena.nsparse; d = d->next)
                if (d->chunk && text_arena_sparse(d->chunk))
                        (void)text_evict(&s->arena, d, d->len + 1);
}

void lsp_docs_done(struct lsp_docs *s)
{
        struct lsp_doc *d = s->first;

        while (d) {
                struct lsp_doc *next = d->next;
                doc_free(&s->arena, d);
                d = next;
        }
        free(s->buckets);
        text_arena_done(&s->arena);
        *s = (struct lsp_docs){.max_size = s->max_size};
}

static struct lsp_doc *find_hashed(const struct lsp_docs *s, const char *uri, uint64_t h)
{
        if (!s->nbuckets)
                return NULL;
        for (struct lsp_doc *d = s->buckets[h & (s->nbuckets - 1)]; d; d = d->hnext)
                if (d->hash == h && strcmp(d->uri, uri) == 0)
                        return d;
        return NULL;
}

struct lsp_doc *lsp_docs_find(const struct lsp_docs *s, const char *uri)
{
        return uri ? find_hashed(s, uri, hash_uri(uri)) : NULL;
}

size_t lsp_docs_count(const struct lsp_docs *s)
{
        return s->count;
}

struct lsp_doc *lsp_docs_first(const struct lsp_docs *s)
{
        return s->first;
}

struct lsp_doc *lsp_doc_next(const struct lsp_doc *d)
{
        return d->next;
}

int lsp_doc_decode(struct lsp_doc *d)
{
        ssize_t n;
        char *t;

        if (!d->escaped)
                return 0;
        /* Checked when it came in, so this cannot fail. */
        n = lsp_json_contents_decode(d->text, d->len, d->text);
        if (n < 0)
                return (int)n;
        d->text[n] = '\0';
        /* Escapes (tabs, newlines, quotes) make the JSON of source text
         * longer than the text: give the slack back for large documents,
         * which are kept for the whole session. */
        if (!d->chunk && d->cap - (size_t)n > 4096 && (t = realloc(d->text, (size_t)n + 1))) {
                d->text = t;
                d->cap = (size_t)n + 1;
        }
        d->len = (size_t)n;
        d->escaped = false;
        return 0;
}

size_t lsp_doc_line_count(const struct lsp_doc *d)
{
        /* Decoding, like the line index, changes nothing a reader of d can
         * see but the form of the text, and cannot fail. */
        (void)lsp_doc_decode((struct lsp_doc *)d);
        if (d->lines)
                return d->nlines;
        return 1 + edit_starts(false, 0, d->text, d->len, '\0', 0, NULL);
}

static int grow_buckets(struct lsp_docs *s)
{
        size_t n = s->nbuckets ? s->nbuckets * 2 : BUCKETS_MIN;
        struct lsp_doc **b = calloc(n, sizeof(*b));

        if (!b)
                return -ENOMEM;
        for (struct lsp_doc *d = s->first; d; d = d->next) {
                struct lsp_doc **slot = &b[d->hash & (n - 1)];
                d->hnext = *slot;
                *slot = d;
        }
        free(s->buckets);
        s->buckets = b;
        s->nbuckets = n;
        return 0;
}

/* Line starts are decided by two bytes: position p (> 0) starts a line when
 * the byte before it is '\n', or is '\r' not followed by '\n' at p.  The
 * bytes considered here are: `before` (if has_before) at position s-1,
 * then ins[0..n) at s.., then `after` (NUL at the end of the text).  Writes
 * the line starts among positions s..s+n to out (if not NULL) and returns
 * how many there are. */
static size_t edit_starts(bool has_before, char before, const char *ins, size_t n, char after,
                          size_t s, size_t *out)
{
        size_t k = 0;

        if (has_before && (before == '\n' || (before == '\r' && (n ? ins[0] : after) != '\n'))) {
                if (out)
                        out[k] = s;
                k++;
        }
        for (size_t i = 0; i < n; i++) {
                char c = ins[i];

                if (c != '\n' && c != '\r')
                        continue;
                if (c == '\r' && (i + 1 < n ? ins[i + 1] : after) == '\n')
                        continue; /* the '\n' of this CR LF ends the line */
                if (out)
                        out[k] = s + i + 1;
                k++;
        }
        return k;
}

static int lines_reserve(struct lsp_doc *d, size_t n)
{
        size_t *l;
        size_t cap;

        if (n <= d->lines_cap)
                return 0;
        cap = d->lines_cap + d->lines_cap / 2;
        if (cap < n)
                cap = n;
        if (cap > SIZE_MAX / sizeof(*l))
                return -ENOMEM;
        l = realloc(d->lines, cap * sizeof(*l));
        if (!l)
                return -ENOMEM;
        d->lines = l;
        d->lines_cap = cap;
        return 0;
}

/* The line index is built on first need (an edit, a position): most
 * documents an editor opens are never edited, and the index costs 8 bytes
 * per line, a quarter of the text for typical Go source. */
static int ensure_lines(struct lsp_doc *d)
{
        size_t k, *l;

        if (d->lines)
                return 0;
        k = edit_starts(false, 0, d->text, d->len, '\0', 0, NULL);
        if (k + 1 > SIZE_MAX / sizeof(*l))
                return -ENOMEM;
        l = malloc((k + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        l[0] = 0;
        edit_starts(false, 0, d->text, d->len, '\0', 0, l + 1);
        d->lines = l;
        d->nlines = d->lines_cap = k + 1;
        return 0;
}

/* The two halves of a surrogate pair, each in its 3-byte generalised
 * form (a high ED A0..AF xx, then a low ED B0..BF xx), at t: what an edit
 * makes of a lone high surrogate and a lone low one put side by side. */
static bool split_pair(const unsigned char *t)
{
        return t[0] == 0xED && (t[1] & 0xF0) == 0xA0 && (t[2] & 0xC0) == 0x80 && t[3] == 0xED &&
               (t[4] & 0xF0) == 0xB0 && (t[5] & 0xC0) == 0x80;
}

/* The split pair at t written as the one character it is (4 bytes). */
static void join_pair(unsigned char *t)
{
        unsigned hi = (t[1] & 0x0Fu) << 6 | (t[2] & 0x3Fu),
                 lo = (t[4] & 0x0Fu) << 6 | (t[5] & 0x3Fu);

        (void)lsp_utf8_encode(0x10000 + (hi << 10 | lo), (char *)t);
}

/* Every split pair in t[0..len) joined, left to right, in place; the new
 * length.  Text that came through a JSON decoder has none. */
static size_t join_pairs(char *t, size_t len)
{
        unsigned char *u = (unsigned char *)t;
        size_t w = 0, r = 0;

        if (!memchr(t, 0xED, len))
                return len;
        while (r < len) {
                if (len - r >= 6 && split_pair(u + r)) {
                        memcpy(u + w, u + r, 6);
                        join_pair(u + w);
                        w += 4;
                        r += 6;
                } else
                        u[w++] = u[r++];
        }
        return w;
}

/* Takes `t` (len bytes and room for a NUL; from chunk c, or malloc()ed
 * when c is NULL) as the whole text, in escaped form or not. */
static void take_text(struct text_arena *a, struct lsp_doc *d, char *t, size_t len, bool escaped,
                      struct text_chunk *c)
{
        if (!escaped)
                len = join_pairs(t, len);
        t[len] = '\0';
        text_free(a, d->text, d->cap, d->chunk);
        free(d->lines);
        d->text = t;
        d->len = len;
        d->cap = len + 1;
        d->chunk = c;
        d->escaped = escaped;
        d->lines = NULL;
        d->nlines = d->lines_cap = 0;
}

/* Replaces the whole text with a copy.  All-or-nothing. */
static int set_text(struct text_arena *a, struct lsp_doc *d, const char *text, size_t len,
                    bool escaped)
{
        /* malloc(), not the arena: a whole-text change may come with
         * every keystroke, and would fill chunks with dead texts. */
        char *t = malloc(len + 1);

        if (!t)
                return -ENOMEM;
        if (len)
                memcpy(t, text, len);
        take_text(a, d, t, len, escaped, NULL);
        return 0;
}

/* Length and UTF-16 units of the UTF-8 sequence at s (avail > 0 bytes
 * before the line end).  Anything but a well-formed sequence (RFC 3629
 * ranges: no overlongs, no surrogates, nothing above U+10FFFF) is one byte
 * and one unit. */
static size_t utf8_step(const unsigned char *s, size_t avail, unsigned *ret_units)
{
        unsigned char c = s[0], lo = 0x80, hi = 0xBF;
        size_t need;

        *ret_units = 1;
        if (c < 0x80)
                return 1;
        if (c >= 0xC2 && c <= 0xDF) {
                need = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
                need = 3;
                /* ED A0..BF: a lone surrogate in generalised UTF-8 (see
                 * lsp_json_string()), one UTF-16 unit as the editor counts */
                if (c == 0xE0)
                        lo = 0xA0;
        } else if (c >= 0xF0 && c <= 0xF4) {
                need = 4;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
        } else {
                return 1;
        }
        if (avail < need || s[1] < lo || s[1] > hi)
                return 1;
        for (size_t i = 2; i < need; i++)
                if ((s[i] & 0xC0) != 0x80)
                        return 1;
        if (need == 4)
                *ret_units = 2; /* a surrogate pair in UTF-16 */
        return need;
}

size_t lsp_doc_offset(const struct lsp_doc *d, struct lsp_position pos)
{
        const unsigned char *t;
        size_t ls, le, p;
        uint32_t units = 0;

        (void)lsp_doc_decode((struct lsp_doc *)d); /* see lsp_doc_line_count() */
        t = (const unsigned char *)d->text;

        /* The index is a cache of the text: building it changes nothing
         * a reader of d can see. */
        if (ensure_lines((struct lsp_doc *)d) < 0) {
                /* no memory for it: find the line the slow way */
                ls = 0;
                for (uint32_t l = 0; l < pos.line; l++) {
                        while (ls < d->len && t[ls] != '\n' &&
                               !(t[ls] == '\r' && t[ls + 1] != '\n'))
                                ls++;
                        if (ls == d->len)
                                return d->len;
                        ls++;
                }
                for (le = ls; le < d->len && t[le] != '\n' && t[le] != '\r';)
                        le++;
                if (le < d->len)
                        le += t[le] == '\r' && t[le + 1] == '\n' ? 2 : 1;
        } else {
                if (pos.line >= d->nlines)
                        return d->len;
                ls = d->lines[pos.line];
                le = pos.line + 1 < d->nlines ? d->lines[pos.line + 1] : d->len;
        }
        /* a '\r' right before a '\n' always belongs to the same break */
        if (le > ls && t[le - 1] == '\n')
                le--;
        if (le > ls && t[le - 1] == '\r')
                le--;

        for (p = ls; p < le && units < pos.character;) {
                unsigned u;
                size_t b = utf8_step(t + p, le - p, &u);

                if (u > pos.character - units)
                        break; /* inside a surrogate pair: its start */
                units += u;
                p += b;
        }
        return p;
}

/* First index i with lines[i] >= v (or > v if `after`). */
static size_t bound(const size_t *lines, size_t n, size_t v, bool after)
{
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (lines[mid] < v || (after && lines[mid] == v))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* Replaces bytes [s, e) with ins[0..n), within the limit splice()
 * checked.  All-or-nothing. */
static int splice_text(struct text_arena *a, struct lsp_doc *d, size_t s, size_t e, const char *ins,
                       size_t n)
{
        size_t removed = e - s, keep = d->len - removed, newlen, lo, hi, k, nl;
        char before = s > 0 ? d->text[s - 1] : '\0';
        char after = d->text[e]; /* the NUL when e == len */
        int r;

        newlen = keep + n;
        r = ensure_lines(d);
        if (r < 0)
                return r;

        /* Positions before s keep their line-start status (it depends on
         * bytes p-1 and p only), positions after the insertion keep theirs
         * shifted; only s..s+n need looking at.  Position 0 always starts
         * line 0. */
        lo = bound(d->lines, d->nlines, s > 0 ? s : 1, false);
        hi = bound(d->lines, d->nlines, e, true);
        k = edit_starts(s > 0, before, ins, n, after, s, NULL);
        nl = d->nlines - (hi - lo) + k;
        r = lines_reserve(d, nl);
        if (r < 0)
                return r;
        if (newlen + 1 > d->cap) {
                size_t cap = d->cap + d->cap / 2;
                char *t;

                if (cap < newlen + 1)
                        cap = newlen + 1;
                if (d->chunk) {
                        /* A text that grows leaves the arena: realloc()
                         * can then grow it in place. */
                        r = text_evict(a, d, cap);
                        if (r < 0)
                                return r;
                } else {
                        t = realloc(d->text, cap);
                        if (!t)
                                return -ENOMEM;
                        d->text = t;
                        d->cap = cap;
                }
        }

        memmove(d->text + s + n, d->text + e, d->len - e + 1); /* with the NUL */
        if (n)
                memcpy(d->text + s, ins, n);
        d->len = newlen;

        memmove(d->lines + lo + k, d->lines + hi, (d->nlines - hi) * sizeof(*d->lines));
        for (size_t i = lo + k; i < nl; i++)
                d->lines[i] = d->lines[i] - removed + n; /* lines[i] > e >= removed */
        edit_starts(s > 0, before, d->text + s, n, after, s, d->lines + lo);
        d->nlines = nl;
        return 0;
}

/* A split pair that ends at text position j + 3, the low half starting
 * at j (an edit's seam), joined: the text 2 bytes shorter, the line
 * starts after it moved back (none lies inside it). */
static void join_at_seam(struct lsp_doc *d, size_t j)
{
        if (j < 3 || d->len - j < 3 || !split_pair((const unsigned char *)d->text + j - 3))
                return;
        join_pair((unsigned char *)d->text + j - 3);
        memmove(d->text + j + 1, d->text + j + 3, d->len - (j + 3) + 1); /* with the NUL */
        d->len -= 2;
        for (size_t i = bound(d->lines, d->nlines, j, true); i < d->nlines; i++)
                d->lines[i] -= 2;
}

/* Replaces bytes [s, e) with ins[0..n).  All-or-nothing.  The limit is
 * on the text as the edit gives it; a surrogate pair split by the edit's
 * halves, or across its seams, is then joined. */
static int splice(struct text_arena *a, struct lsp_doc *d, size_t max, size_t s, size_t e,
                  const char *ins, size_t n)
{
        char *joined = NULL;
        size_t m = n;
        int r;

        if (n > max || d->len - (e - s) > max - n)
                return -EFBIG;
        if (n && memchr(ins, 0xED, n)) {
                joined = malloc(n);
                if (!joined)
                        return -ENOMEM;
                memcpy(joined, ins, n);
                m = join_pairs(joined, n);
                ins = joined;
        }
        r = splice_text(a, d, s, e, ins, m);
        free(joined);
        if (r < 0)
                return r;
        size_t len0 = d->len;
        join_at_seam(d, s);
        join_at_seam(d, s + m - (len0 - d->len));
        return 0;
}

static bool pos_after(struct lsp_position a, struct lsp_position b)
{
        return a.line > b.line || (a.line == b.line && a.character > b.character);
}

int lsp_docs_open(struct lsp_docs *s, const char *uri, const char *language_id, int64_t version,
                  const char *text, size_t len)
{
        char *t;

        if (!uri || (!text && len))
                return -EINVAL;
        if (len > s->max_size)
                return -EFBIG;
        t = malloc(len + 1);
        if (!t)
                return -ENOMEM;
        if (len)
                memcpy(t, text, len);
        return lsp_docs_open_take(s, uri, language_id, version, t, len);
}

/* Opens or replaces a document with `text` (taken, freed on errors),
 * after the caller's checks. */
static int open_doc(struct lsp_docs *s, const char *uri, const char *language_id,
                    int64_t version, char *text, size_t len, bool escaped, struct text_chunk *tc)
{
        struct lsp_doc *d;
        uint64_t h;
        char *lang;
        int r;

        lang = strdup(language_id ? language_id : "");
        if (!lang) {
                text_free(&s->arena, text, len + 1, tc);
                return -ENOMEM;
        }
        h = hash_uri(uri);

        d = find_hashed(s, uri, h);
        if (d) {
                take_text(&s->arena, d, text, len, escaped, tc);
                free(d->language_id);
                d->language_id = lang;
                d->version = version;
                if (s->arena.nsparse)
                        compact(s);
                return 1;
        }

        if (s->count >= s->nbuckets) {
                r = grow_buckets(s);
                if (r < 0) {
                        free(lang);
                        text_free(&s->arena, text, len + 1, tc);
                        return r;
                }
        }
        d = calloc(1, sizeof(*d));
        if (!d || !(d->uri = strdup(uri))) {
                free(d);
                free(lang);
                text_free(&s->arena, text, len + 1, tc);
                return -ENOMEM;
        }
        d->language_id = lang;
        take_text(&s->arena, d, text, len, escaped, tc);
        d->version = version;
        d->hash = h;

        d->hnext = s->buckets[h & (s->nbuckets - 1)];
        s->buckets[h & (s->nbuckets - 1)] = d;
        d->prev = s->last;
        if (s->last)
                s->last->next = d;
        else
                s->first = d;
        s->last = d;
        s->count++;
        return 0;
}

int lsp_docs_open_escaped(struct lsp_docs *s, const char *uri, const char *language_id,
                          int64_t version, const char *json, size_t len)
{
        ssize_t n;

        if (!uri || (!json && len))
                return -EINVAL;
        n = lsp_json_contents_check(json, len);
        if (n < 0)
                return (int)n;
        return lsp_docs_open_checked(s, uri, language_id, version, json, len, (size_t)n);
}

int lsp_docs_open_checked(struct lsp_docs *s, const char *uri, const char *language_id,
                          int64_t version, const char *json, size_t len, size_t decoded_len)
{
        struct text_chunk *tc;
        char *t;

        if (!uri || (!json && len))
                return -EINVAL;
        if (decoded_len > s->max_size)
                return -EFBIG;
        t = text_alloc(&s->arena, len, &tc);
        if (!t)
                return -ENOMEM;
        if (len)
                memcpy(t, json, len);
        return open_doc(s, uri, language_id, version, t, len, true, tc);
}

int lsp_docs_open_take(struct lsp_docs *s, const char *uri, const char *language_id,
                       int64_t version, char *text, size_t len)
{
        if (!uri || !text) {
                free(text);
                return -EINVAL;
        }
        if (len > s->max_size) {
                free(text);
                return -EFBIG;
        }
        return open_doc(s, uri, language_id, version, text, len, false, NULL);
}
/* Applies one change by range whose text is escaped: decoded into a
 * buffer of its own first (it is small: what a keystroke or a paste
 * inserts). */
static int splice_escaped(struct text_arena *a, struct lsp_doc *d, size_t max, size_t s,
                          size_t e, const char *json, size_t len)
{
        char *t = malloc(len + 1);
        ssize_t n;
        int r;

        if (!t)
                return -ENOMEM;
        n = lsp_json_contents_decode(json, len, t);
        r = n < 0 ? (int)n : splice(a, d, max, s, e, t, (size_t)n);
        free(t);
        return r;
}

int lsp_docs_change(struct lsp_docs *s, const char *uri, int64_t version,
                    const struct lsp_change *changes, size_t n)
{
        struct lsp_doc *d;
        int r;

        /* Every text is checked before the first change is applied, and
         * before the lookup: a message that is not valid is refused as a
         * whole, whatever it refers to. */
        for (size_t i = 0; i < n; i++) {
                if (!changes[i].text && changes[i].len)
                        return -EINVAL;
                if (changes[i].escaped &&
                    lsp_json_contents_check(changes[i].text, changes[i].len) < 0)
                        return -EBADMSG;
        }
        d = lsp_docs_find(s, uri);
        if (!d)
                return -ENOENT;

        for (size_t i = 0; i < n; i++) {
                const struct lsp_change *c = &changes[i];

                if (c->full) {
                        /* An escaped text is never shorter than its
                         * decoded form: only a long one needs decoding to
                         * be measured. */
                        size_t len = c->len;
                        if (c->escaped && len > s->max_size)
                                len = (size_t)lsp_json_contents_check(c->text, c->len);
                        r = len > s->max_size ? -EFBIG
                                              : set_text(&s->arena, d, c->text, c->len, c->escaped);
                } else {
                        struct lsp_position a = c->range.start, b = c->range.end;
                        size_t from, to;

                        if (pos_after(a, b)) {
                                struct lsp_position t = a;
                                a = b;
                                b = t;
                        }
                        from = lsp_doc_offset(d, a); /* decodes d */
                        to = lsp_doc_offset(d, b);
                        r = c->escaped ? splice_escaped(&s->arena, d, s->max_size, from, to,
                                                        c->text, c->len)
                                       : splice(&s->arena, d, s->max_size, from, to, c->text,
                                                c->len);
                }
                if (r < 0)
                        return r;
        }
        d->version = version;
        if (s->arena.nsparse)
                compact(s);
        return 0;
}

int lsp_docs_close(struct lsp_docs *s, const char *uri)
{
        struct lsp_doc *d = lsp_docs_find(s, uri), **pp;

        if (!d)
                return -ENOENT;
        for (pp = &s->buckets[d->hash & (s->nbuckets - 1)]; *pp != d; pp = &(*pp)->hnext)
                ;
        *pp = d->hnext;
        if (d->prev)
                d->prev->next = d->next;
        else
                s->first = d->next;
        if (d->next)
                d->next->prev = d->prev;
        else
                s->last = d->prev;
        s->count--;
        doc_free(&s->arena, d);
        if (s->arena.nsparse)
                compact(s);
        return 0;
}

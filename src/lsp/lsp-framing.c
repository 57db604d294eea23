/* lsp-framing.c — LSP base protocol framing, output queue and JSON peek.
 * Contracts are in lsp-framing.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "lsp-framing.h"

enum { ST_HEADERS, ST_BODY, ST_SKIP, ST_RESYNC };

/* A pipe holds 64 KiB by default, so one read rarely returns more. */
#define READ_MIN ((size_t)64 << 10)
/* Give memory back after a large message once the buffer is mostly idle;
 * below this size keeping the buffer is cheaper than reallocating. */
#define SHRINK_ABOVE ((size_t)1 << 20)
/* ...and only after this many reserves in a row needed little of it: a
 * stream of large answers (completion lists, symbol searches) would
 * otherwise shrink and regrow the buffer, copying and faulting in every
 * page, for each message. */
#define SHRINK_AFTER 32

#define CL_NAME "content-length"
#define CL_NAME_LEN (sizeof(CL_NAME) - 1)
/* 2^64 has 20 digits: a longer value cannot be a length we could take. */
#define CL_DIGITS_MAX 20

static char ascii_lower(char c)
{
        return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* s[0..n) equals the lower-case literal `lower`, ignoring ASCII case.  Not
 * strncasecmp(): the buffer may hold NULs and the locale must not matter. */
static bool ascii_caseeq(const char *s, const char *lower, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (ascii_lower(s[i]) != lower[i])
                        return false;
        return true;
}

static bool is_ows(char c)
{
        return c == ' ' || c == '\t';
}

/* RFC 9110 token characters: what a header name may consist of. */
static bool is_tchar(char c)
{
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A short printable excerpt of untrusted bytes for an error message. */
static void excerpt(char *out, size_t outsz, const char *s, size_t n)
{
        const size_t keep = 32;
        size_t o = 0;

        for (size_t i = 0; i < n && i < keep && o + 1 < outsz; i++)
                out[o++] = (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"') ? s[i] : '?';
        if (n > keep && o + 4 < outsz) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
}

__attribute__((format(printf, 2, 3))) static void set_reason(struct lsp_decoder *d, const char *fmt,
                                                             ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
        va_end(ap);
}

void lsp_decoder_init(struct lsp_decoder *d, size_t max_message)
{
        *d = (struct lsp_decoder){
            .max_message = max_message ? max_message : LSP_MAX_MESSAGE_DEFAULT,
            .state = ST_HEADERS,
        };
}

void lsp_decoder_done(struct lsp_decoder *d)
{
        free(d->buf);
        d->buf = NULL;
        d->cap = d->head = d->tail = d->scan = d->release = 0;
}

/* Takes back the body lent out by the last lsp_decoder_next(). */
static void drop_released(struct lsp_decoder *d)
{
        d->head += d->release;
        d->release = 0;
        if (d->scan < d->head)
                d->scan = d->head;
        if (d->head == d->tail)
                d->head = d->tail = d->scan = 0;
}

static int resize(struct lsp_decoder *d, size_t newcap)
{
        size_t live = d->tail - d->head;
        char *nb;

        if (d->head == 0) {
                /* realloc can often extend in place (mremap for large blocks) */
                nb = realloc(d->buf, newcap);
                if (!nb)
                        return -ENOMEM;
        } else {
                /* copy only the live bytes, not the consumed ones before them */
                nb = malloc(newcap);
                if (!nb)
                        return -ENOMEM;
                memcpy(nb, d->buf + d->head, live);
                free(d->buf);
        }
        d->buf = nb;
        d->cap = newcap;
        d->scan -= d->head;
        d->tail = live;
        d->head = 0;
        return 0;
}

int lsp_decoder_reserve(struct lsp_decoder *d, size_t min, char **ret_ptr, size_t *ret_avail)
{
        size_t live, want, need;
        bool shrink;
        int r;

        drop_released(d);
        live = d->tail - d->head;
        want = min > READ_MIN ? min : READ_MIN; /* feeding byte by byte must not realloc often */
        if (d->state == ST_BODY && d->length > live && d->length - live > want)
                want = (size_t)(d->length - live); /* length <= max_message: fits */
        if (want > SIZE_MAX - live)
                return -ENOMEM;
        need = live + want;

        if (d->cap > SHRINK_ABOVE && need <= d->cap / 4)
                d->small_streak++;
        else
                d->small_streak = 0;
        shrink = d->small_streak >= SHRINK_AFTER;
        if (!shrink && d->cap - d->tail < want) {
                if (need <= d->cap) {
                        memmove(d->buf, d->buf + d->head, live);
                        d->scan -= d->head;
                        d->tail = live;
                        d->head = 0;
                } else {
                        size_t newcap = d->cap <= SIZE_MAX / 2 ? d->cap * 2 : need;
                        r = resize(d, newcap > need ? newcap : need);
                        if (r < 0)
                                return r;
                }
        } else if (shrink) {
                r = resize(d, need);
                if (r < 0)
                        return r;
                d->small_streak = 0;
        }
        *ret_ptr = d->buf + d->tail;
        *ret_avail = d->cap - d->tail;
        return 0;
}

void lsp_decoder_commit(struct lsp_decoder *d, size_t n)
{
        d->tail += n;
}

int lsp_decoder_feed(struct lsp_decoder *d, const void *data, size_t n)
{
        char *p;
        size_t avail;
        int r;

        if (n == 0) {
                drop_released(d);
                return 0;
        }
        r = lsp_decoder_reserve(d, n, &p, &avail);
        if (r < 0)
                return r;
        memcpy(p, data, n);
        d->tail += n;
        return 0;
}

const char *lsp_decoder_reason(const struct lsp_decoder *d)
{
        return d->reason;
}

size_t lsp_decoder_buffered(const struct lsp_decoder *d)
{
        return d->tail - d->head - d->release;
}

static void start_resync(struct lsp_decoder *d, size_t from)
{
        d->state = ST_RESYNC;
        d->head = d->scan = from;
        d->have_length = false;
        d->in_block = false;
}

/* Plain decimal, no sign: "+5", "0x10" and "5 5" are not lengths. */
static int parse_length(const char *s, size_t n, uint64_t *ret)
{
        uint64_t v = 0;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned digit = (unsigned)(s[i] - '0');
                if (v > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                v = v * 10 + digit;
        }
        *ret = v;
        return 0;
}

/* Whether line[0..n) (a header line without its break) holds
 * "Content-Length:" with a well-formed value that runs to the line's end. */
static bool holds_length_header(const char *line, size_t n)
{
        const char *end = line + n;
        for (const char *c = line; (c = memchr(c, ':', (size_t)(end - c))); c++) {
                if ((size_t)(c - line) < CL_NAME_LEN ||
                    !ascii_caseeq(c - CL_NAME_LEN, CL_NAME, CL_NAME_LEN))
                        continue;
                const char *v = c + 1, *e = end;
                while (v < e && is_ows(*v))
                        v++;
                while (e > v && is_ows(e[-1]))
                        e--;
                uint64_t ignored;
                if (parse_length(v, (size_t)(e - v), &ignored) == 0)
                        return true;
        }
        return false;
}

/* One complete header line, without its line break. */
static int header_line(struct lsp_decoder *d, const char *line, size_t n)
{
        char ex[40];
        const char *colon, *v, *end = line + n;
        size_t name_len;
        uint64_t val;
        int r;

        d->in_block = true;
        colon = memchr(line, ':', n);
        if (!colon) {
                excerpt(ex, sizeof(ex), line, n);
                set_reason(d, "header line without ':' (\"%s\")", ex);
                return -EPROTO;
        }
        name_len = (size_t)(colon - line);
        for (size_t i = 0; i < name_len; i++)
                if (!is_tchar(line[i])) {
                        excerpt(ex, sizeof(ex), line, name_len);
                        set_reason(d, "invalid header name \"%s\"", ex);
                        return -EPROTO;
                }
        if (name_len == 0) {
                set_reason(d, "header line with an empty name");
                return -EPROTO;
        }
        if (name_len != CL_NAME_LEN || !ascii_caseeq(line, CL_NAME, CL_NAME_LEN)) {
                /* A body longer than its Content-Length leaves its tail in
                 * front of the next header, on one line ("x\"}Content-Length:
                 * 2"), which would parse as a header named "x\"}..." or as
                 * here, "file".  Before the length is known such a line is
                 * refused, and the resync finds the header inside it. */
                if (!d->have_length && holds_length_header(line + 1, n - 1)) {
                        excerpt(ex, sizeof(ex), line, n);
                        set_reason(d, "header line \"%s\" has a Content-Length header inside it "
                                      "(the previous body was longer than its length?)",
                                   ex);
                        return -EPROTO;
                }
                return 0; /* Content-Type and anything else: not needed */
        }

        v = colon + 1;
        while (v < end && is_ows(*v))
                v++;
        while (end > v && is_ows(end[-1]))
                end--;
        excerpt(ex, sizeof(ex), v, (size_t)(end - v));
        r = parse_length(v, (size_t)(end - v), &val);
        if (r == -ERANGE) {
                set_reason(d, "Content-Length value \"%s\" does not fit in 64 bits", ex);
                return r;
        }
        if (r < 0) {
                set_reason(d, "Content-Length value \"%s\" is not a decimal number", ex);
                return r;
        }
        if (d->have_length && d->length != val) {
                set_reason(d, "conflicting Content-Length headers (%" PRIu64 " and %" PRIu64 ")",
                           d->length, val);
                return -EINVAL;
        }
        d->have_length = true;
        d->length = val;
        return 0;
}

static int end_of_headers(struct lsp_decoder *d)
{
        if (!d->have_length) {
                set_reason(d, "header block without Content-Length");
                start_resync(d, d->head);
                return -EBADMSG;
        }
        d->have_length = false;
        d->in_block = false;
        if (d->length > d->max_message) {
                set_reason(d,
                           "message of %" PRIu64 " bytes is over the limit of %zu bytes; skipped",
                           d->length, d->max_message);
                d->state = ST_SKIP;
                return -EMSGSIZE;
        }
        d->state = ST_BODY;
        return 1;
}

static int line_too_long(struct lsp_decoder *d)
{
        set_reason(d, "header line longer than %d bytes", LSP_HEADER_LINE_MAX);
        /* The line may be stray bytes with the next header inside; the
         * search starts one byte in, so this very line (too long, hence
         * never well-formed) cannot be found again and again. */
        start_resync(d, d->head + 1);
        return -E2BIG;
}

/* 1: moved to another state; 0: needs more input; <0: error. */
static int step_headers(struct lsp_decoder *d)
{
        for (;;) {
                const char *nl =
                    d->scan < d->tail ? memchr(d->buf + d->scan, '\n', d->tail - d->scan) : NULL;
                size_t eol, n;
                int r;

                if (!nl) {
                        n = d->tail - d->head;
                        if (n > 0 && d->buf[d->tail - 1] == '\r')
                                n--;
                        if (n > LSP_HEADER_LINE_MAX)
                                return line_too_long(d);
                        d->scan = d->tail; /* bytes arriving one at a time: no rescan */
                        return 0;
                }
                eol = (size_t)(nl - d->buf);
                n = eol - d->head;
                if (n > 0 && d->buf[eol - 1] == '\r')
                        n--;
                if (n > LSP_HEADER_LINE_MAX)
                        return line_too_long(d);
                if (n == 0) {
                        d->head = d->scan = eol + 1;
                        if (!d->in_block)
                                continue; /* blank line between messages */
                        return end_of_headers(d);
                }
                r = header_line(d, d->buf + d->head, n);
                if (r == -EPROTO && d->have_length) {
                        /* framing is intact: drop the line, keep the message */
                        d->head = d->scan = eol + 1;
                        return r;
                }
                if (r == -EPROTO) {
                        /* possibly the tail of a body whose length was too short,
                           with the next header right behind it: search this line */
                        start_resync(d, d->head);
                        return r;
                }
                if (r < 0) {
                        start_resync(d, eol + 1);
                        return r;
                }
                d->head = d->scan = eol + 1;
        }
}

/* Whether p (just after "Content-Length:") starts a well-formed value line:
 * 1 yes, 0 no, -EAGAIN cannot tell before more bytes arrive. */
static int length_line_ok(const char *p, const char *end)
{
        const char *lim = end;
        bool cut = false;
        unsigned digits = 0;

        /* The same bound as step_headers() puts on the whole line, name and
         * colon included: a line resync accepts must not be one the header
         * parser then rejects as too long. */
        size_t max_value = LSP_HEADER_LINE_MAX - CL_NAME_LEN - 1;
        if ((size_t)(lim - p) > max_value) {
                lim = p + max_value;
                cut = true;
        }
        while (p < lim && is_ows(*p))
                p++;
        while (p < lim && *p >= '0' && *p <= '9') {
                if (++digits > CL_DIGITS_MAX)
                        return 0;
                p++;
        }
        if (p < lim && digits == 0)
                return 0;
        while (p < lim && is_ows(*p))
                p++;
        if (p < lim && *p == '\r')
                p++;
        if (p == lim)
                return cut ? 0 : -EAGAIN;
        return *p == '\n' && digits > 0;
}

static int step_resync(struct lsp_decoder *d)
{
        while (d->scan < d->tail) {
                const char *c = memchr(d->buf + d->scan, ':', d->tail - d->scan);
                size_t ci;

                if (!c)
                        break;
                ci = (size_t)(c - d->buf);
                if (ci >= d->head + CL_NAME_LEN &&
                    ascii_caseeq(c - CL_NAME_LEN, CL_NAME, CL_NAME_LEN)) {
                        int r = length_line_ok(c + 1, d->buf + d->tail);
                        if (r > 0) {
                                d->head = d->scan = ci - CL_NAME_LEN;
                                d->state = ST_HEADERS;
                                return 1;
                        }
                        if (r == -EAGAIN) {
                                d->head = ci - CL_NAME_LEN;
                                d->scan = ci;
                                return 0;
                        }
                }
                d->scan = ci + 1;
        }
        /* keep a possible start of the header name for the next read */
        if (d->tail - d->head > CL_NAME_LEN)
                d->head = d->tail - CL_NAME_LEN;
        d->scan = d->tail;
        return 0;
}

static int step_skip(struct lsp_decoder *d)
{
        size_t avail = d->tail - d->head;

        if ((uint64_t)avail >= d->length) {
                d->head += (size_t)d->length;
                d->scan = d->head;
                d->length = 0;
                d->state = ST_HEADERS;
                return 1;
        }
        d->length -= avail;
        d->head = d->scan = d->tail;
        return 0;
}

int lsp_decoder_next(struct lsp_decoder *d, const char **ret_body, size_t *ret_len)
{
        int r;

        drop_released(d);
        for (;;) {
                switch (d->state) {
                case ST_HEADERS:
                        r = step_headers(d);
                        break;
                case ST_SKIP:
                        r = step_skip(d);
                        break;
                case ST_RESYNC:
                        r = step_resync(d);
                        break;
                default: /* ST_BODY */
                        if ((uint64_t)(d->tail - d->head) < d->length)
                                return 0;
                        *ret_body = d->buf + d->head;
                        *ret_len = (size_t)d->length;
                        d->release = (size_t)d->length;
                        d->state = ST_HEADERS;
                        return 1;
                }
                if (r <= 0)
                        return r;
        }
}

/* ---------------------------------------------------------------------- */

size_t lsp_header_encode(char buf[static LSP_HEADER_MAX], size_t body_len)
{
        static const char prefix[] = "Content-Length: ";
        char digits[CL_DIGITS_MAX];
        size_t nd = 0, n = sizeof(prefix) - 1;

        do {
                digits[nd++] = (char)('0' + body_len % 10);
                body_len /= 10;
        } while (body_len);
        memcpy(buf, prefix, n);
        while (nd)
                buf[n++] = digits[--nd];
        memcpy(buf + n, "\r\n\r\n", 5);
        return n + 4;
}

struct lsp_outq_seg {
        struct lsp_outq_seg *next;
        const char *body;
        size_t body_len;
        size_t done; /* bytes of hdr, then body, already written */
        char *owned; /* body given by lsp_outq_push(): free()d with the segment */
        size_t hdr_len;
        char hdr[LSP_HEADER_MAX];
        char copy[]; /* body copied into the segment */
};

void lsp_outq_init(struct lsp_outq *q, size_t high_water)
{
        *q = (struct lsp_outq){
            .high_water = high_water ? high_water : LSP_OUTQ_HIGH_WATER_DEFAULT,
        };
}

static void update_full(struct lsp_outq *q)
{
        if (q->queued >= q->high_water)
                q->full = true;
        else if (q->queued <= q->high_water / 2)
                q->full = false;
}

static void seg_free(struct lsp_outq_seg *s)
{
        free(s->owned);
        free(s);
}

void lsp_outq_done(struct lsp_outq *q)
{
        struct lsp_outq_seg *s = q->first;

        while (s) {
                struct lsp_outq_seg *next = s->next;
                seg_free(s);
                s = next;
        }
        q->first = q->last = NULL;
        q->queued = 0;
        q->full = false;
}

static struct lsp_outq_seg *seg_alloc(size_t copy_len)
{
        struct lsp_outq_seg *s;

        if (copy_len > SIZE_MAX - sizeof(*s))
                return NULL;
        s = malloc(sizeof(*s) + copy_len);
        if (s)
                *s = (struct lsp_outq_seg){0};
        return s;
}

static void seg_append(struct lsp_outq *q, struct lsp_outq_seg *s)
{
        if (q->last)
                q->last->next = s;
        else
                q->first = s;
        q->last = s;
        q->queued += s->hdr_len + s->body_len;
        update_full(q);
}

int lsp_outq_push(struct lsp_outq *q, char *body, size_t len)
{
        struct lsp_outq_seg *s = seg_alloc(0);

        if (!s) {
                free(body);
                return -ENOMEM;
        }
        s->hdr_len = lsp_header_encode(s->hdr, len);
        s->body = s->owned = body;
        s->body_len = len;
        seg_append(q, s);
        return 0;
}

int lsp_outq_push_copy(struct lsp_outq *q, const void *body, size_t len)
{
        struct lsp_outq_seg *s = seg_alloc(len);

        if (!s)
                return -ENOMEM;
        s->hdr_len = lsp_header_encode(s->hdr, len);
        if (len)
                memcpy(s->copy, body, len);
        s->body = s->copy;
        s->body_len = len;
        seg_append(q, s);
        return 0;
}

static void outq_consume(struct lsp_outq *q, size_t n)
{
        q->queued -= n;
        while (n) {
                struct lsp_outq_seg *s = q->first;
                size_t rest = s->hdr_len + s->body_len - s->done;

                if (n < rest) {
                        s->done += n;
                        break;
                }
                n -= rest;
                q->first = s->next;
                if (!q->first)
                        q->last = NULL;
                seg_free(s);
        }
        update_full(q);
}

/* Up to two iovecs for what is left of one segment. */
static int seg_iov(const char *hdr, size_t hdr_len, const char *body, size_t body_len, size_t done,
                   struct iovec *iov)
{
        int n = 0;

        if (done < hdr_len) {
                iov[n++] = (struct iovec){(char *)hdr + done, hdr_len - done};
                done = hdr_len;
        }
        if (done - hdr_len < body_len)
                iov[n++] =
                    (struct iovec){(char *)body + (done - hdr_len), body_len - (done - hdr_len)};
        return n;
}

/* Enough messages per writev to fill a pipe with small ones; well under IOV_MAX. */
#define OUTQ_IOV 64

int lsp_outq_flush(struct lsp_outq *q, int fd)
{
        while (q->first) {
                struct iovec iov[OUTQ_IOV];
                int n = 0;
                ssize_t w;

                for (struct lsp_outq_seg *s = q->first; s && n <= OUTQ_IOV - 2; s = s->next)
                        n += seg_iov(s->hdr, s->hdr_len, s->body, s->body_len, s->done, iov + n);
                w = writev(fd, iov, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        return -errno;
                }
                if (w == 0)
                        return 0;
                outq_consume(q, (size_t)w);
        }
        return 1;
}

int lsp_outq_send(struct lsp_outq *q, int fd, const void *body, size_t len)
{
        char hdr[LSP_HEADER_MAX];
        size_t hdr_len, done = 0, total, rest_body;
        struct lsp_outq_seg *s;
        int r;

        if (q->first) {
                /* order matters: behind what is already waiting */
                r = lsp_outq_push_copy(q, body, len);
                if (r < 0)
                        return r;
                r = lsp_outq_flush(q, fd);
                return r < 0 ? r : 0;
        }

        hdr_len = lsp_header_encode(hdr, len);
        total = hdr_len + len;
        while (done < total) {
                struct iovec iov[2];
                int n = seg_iov(hdr, hdr_len, body, len, done, iov);
                ssize_t w = writev(fd, iov, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        return -errno;
                }
                if (w == 0)
                        break;
                done += (size_t)w;
        }
        if (done == total)
                return 0;

        /* queue only what the fd did not take */
        rest_body = done < hdr_len ? len : total - done;
        s = seg_alloc(rest_body);
        if (!s)
                return -ENOMEM;
        if (done < hdr_len) {
                s->hdr_len = hdr_len - done;
                memcpy(s->hdr, hdr + done, s->hdr_len);
        }
        if (rest_body)
                memcpy(s->copy, (const char *)body + (len - rest_body), rest_body);
        s->body = s->copy;
        s->body_len = rest_body;
        seg_append(q, s);
        return 0;
}

size_t lsp_outq_queued(const struct lsp_outq *q)
{
        return q->queued;
}

bool lsp_outq_full(const struct lsp_outq *q)
{
        return q->full;
}

/* ---------------------------------------------------------------------- */
/* JSON peek: just enough JSON to walk the top-level object. */

static const char *skip_ws(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

/* ---- strings, 64 bytes at a time ---- */

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define EVEN_BITS UINT64_C(0x5555555555555555)
#define ODD_BITS UINT64_C(0xAAAAAAAAAAAAAAAA)

/* One bit per byte of the 64 at p. */
struct block_bits {
        uint64_t quote, bslash;
        uint64_t control; /* bytes below 0x20 */
        uint64_t high;    /* bytes above 0x7F */
        uint64_t simple;  /* bytes that make a two-byte escape after a backslash */
};

/* Each 16-byte lane's mask of m, shifted to its place among the 64. */
#define LANE_BITS(m, k) ((uint64_t)(unsigned)_mm_movemask_epi8(m) << (16 * (k)))

static inline __attribute__((always_inline)) void block_bits(const char *p, struct block_bits *b)
{
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                      slash = _mm_set1_epi8('/'), space = _mm_set1_epi8(0x20),
                      lb = _mm_set1_epi8('b'), lf = _mm_set1_epi8('f'), ln = _mm_set1_epi8('n'),
                      lr = _mm_set1_epi8('r'), lt = _mm_set1_epi8('t');

        *b = (struct block_bits){0};
#pragma GCC unroll 4
        for (unsigned k = 0; k < 4; k++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
                __m128i q = _mm_cmpeq_epi8(v, quote), s = _mm_cmpeq_epi8(v, bslash);
                __m128i ok = _mm_or_si128(
                    _mm_or_si128(_mm_or_si128(q, s),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, slash), _mm_cmpeq_epi8(v, lb))),
                    _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, ln)),
                                 _mm_or_si128(_mm_cmpeq_epi8(v, lr), _mm_cmpeq_epi8(v, lt))));
                uint64_t high = LANE_BITS(v, k);

                b->quote |= LANE_BITS(q, k);
                b->bslash |= LANE_BITS(s, k);
                /* signed: bytes above 0x7F are negative, so below 0x20 too */
                b->control |= LANE_BITS(_mm_cmplt_epi8(v, space), k) & ~high;
                b->high |= high;
                b->simple |= LANE_BITS(ok, k);
        }
}

/* The UTF-8 shape of the 64 bytes at p, for the bytes above 0x7F (high):
 * which are continuation bytes (80-BF), which start a sequence of 2
 * (C2-DF), 3 (E0-EF) or 4 (F0-F4), and which can start none (C0, C1,
 * F5-FF). */
struct utf8_bits {
        uint64_t cont, lead2, lead3, lead4, bad;
};

static inline __attribute__((always_inline)) void utf8_bits(const char *p, uint64_t high,
                                                            struct utf8_bits *u)
{
        /* signed compares: 80-FF are -128..-1 */
        const __m128i c0 = _mm_set1_epi8((char)0xBF), c2 = _mm_set1_epi8((char)0xC1),
                      e0 = _mm_set1_epi8((char)0xDF), f0 = _mm_set1_epi8((char)0xEF),
                      f5 = _mm_set1_epi8((char)0xF4);
        uint64_t ge_c0 = 0, ge_c2 = 0, ge_e0 = 0, ge_f0 = 0, ge_f5 = 0;

#pragma GCC unroll 4
        for (unsigned k = 0; k < 4; k++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));

                ge_c0 |= LANE_BITS(_mm_cmpgt_epi8(v, c0), k);
                ge_c2 |= LANE_BITS(_mm_cmpgt_epi8(v, c2), k);
                ge_e0 |= LANE_BITS(_mm_cmpgt_epi8(v, e0), k);
                ge_f0 |= LANE_BITS(_mm_cmpgt_epi8(v, f0), k);
                ge_f5 |= LANE_BITS(_mm_cmpgt_epi8(v, f5), k);
        }
        /* of the signed "greater than" sets, only the negative bytes
         * (those above 0x7F) count: ASCII is greater too */
        ge_c0 &= high;
        ge_c2 &= high;
        ge_e0 &= high;
        ge_f0 &= high;
        ge_f5 &= high;
        u->cont = high & ~ge_c0;
        u->lead2 = ge_c2 & ~ge_e0;
        u->lead3 = ge_e0 & ~ge_f0;
        u->lead4 = ge_f0 & ~ge_f5;
        u->bad = (ge_c0 & ~ge_c2) | ge_f5;
}

/* Which of 64 bytes are escaped, given which are backslashes (bs), when
 * no escape begun before them reaches into them.  A run's first
 * backslash starts an escape, and so does every second one after it; the
 * byte after a run is escaped when the run is of odd length.  Adding a
 * run's first bit to the run carries past its end, which marks the byte
 * after it; runs starting on even and on odd bytes are summed apart. */
static inline uint64_t escaped_bits(uint64_t bs)
{
        uint64_t first = bs & ~(bs << 1);
        uint64_t even_sum = bs + (first & EVEN_BITS), odd_sum = bs + (first & ODD_BITS);

        return (bs & ~even_sum & ODD_BITS) | (bs & ~odd_sum & EVEN_BITS) |
               (even_sum & ~bs & ODD_BITS) | (odd_sum & ~bs & EVEN_BITS);
}

/* escaped_bits() for a block whose first byte is escaped by a backslash
 * at the end of the block before when *carry is 1: that byte starts no
 * escape of its own.  Sets *carry for the next block: 1 when this block
 * ends in a backslash that starts an escape. */
static inline uint64_t escaped_carry(uint64_t bs, uint64_t *carry)
{
        uint64_t own = bs & ~*carry, esc = escaped_bits(own) | *carry;

        *carry = (own & ~esc) >> 63;
        return esc;
}

/* The quotes of the 64 bytes at p, and in *bs its backslashes. */
static inline __attribute__((always_inline)) uint64_t quote_bslash_bits(const char *p, uint64_t *bs)
{
        const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
        uint64_t q = 0;

        *bs = 0;
#pragma GCC unroll 4
        for (unsigned k = 0; k < 4; k++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
                q |= LANE_BITS(_mm_cmpeq_epi8(v, quote), k);
                *bs |= LANE_BITS(_mm_cmpeq_epi8(v, bslash), k);
        }
        return q;
}

/* Set bits in w, without a library call where the CPU has no POPCNT. */
static inline unsigned bit_count(uint64_t w)
{
        w -= (w >> 1) & UINT64_C(0x5555555555555555);
        w = (w & UINT64_C(0x3333333333333333)) + ((w >> 2) & UINT64_C(0x3333333333333333));
        w = (w + (w >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
        return (unsigned)((w * UINT64_C(0x0101010101010101)) >> 56);
}

/* The bits below n (n <= 64). */
static inline uint64_t bits_below(unsigned n)
{
        return n >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
}
#endif

/* p at an opening quote.  Returns the byte after the closing quote, or NULL
 * if the string is unterminated.  In didOpen and didChange nearly every
 * byte of the body is inside one long string, where source text has an
 * escaped quote or backslash every few lines: 64 bytes at a time where
 * SSE2 is available, then memchr(). */
static const char *skip_string(const char *p, const char *end)
{
        const char *s = p + 1;

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* Every block is read where it starts, whatever the one before it
         * held, so that the next load never waits for this block's
         * result; an escape begun in a block's last byte is carried. */
        uint64_t carry = 0;

        while (end - s >= 64) {
                uint64_t bs, q = quote_bslash_bits(s, &bs), esc = escaped_carry(bs, &carry);

                if (q & ~esc)
                        return s + __builtin_ctzll(q & ~esc) + 1;
                s += 64;
        }
        if (carry) {
                /* s is escaped: past it, no escape reaches the rest */
                if (s >= end)
                        return NULL;
                s++;
        }
#endif
        for (;;) {
                const char *q = s < end ? memchr(s, '"', (size_t)(end - s)) : NULL;
                const char *b;

                if (!q)
                        return NULL;
                /* the quote is escaped iff an odd run of backslashes precedes it;
                   counted from s, before which no escape is left open */
                for (b = q; b > s && b[-1] == '\\'; b--)
                        ;
                if ((q - b) % 2 == 0)
                        return q + 1;
                s = q + 1;
        }
}

static bool is_scalar_char(char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '+' || c == '.';
}

/* p at the first byte of a value.  Containers are skipped by bracket depth
 * only: nested content is not validated (jansson does that where needed). */
static const char *skip_value(const char *p, const char *end)
{
        const char *start = p;
        size_t depth = 0;

        if (*p == '"')
                return skip_string(p, end);
        if (*p != '{' && *p != '[') {
                while (p < end && is_scalar_char(*p))
                        p++;
                return p > start ? p : NULL;
        }
        while (p < end) {
                switch (*p) {
                case '"':
                        p = skip_string(p, end);
                        if (!p)
                                return NULL;
                        continue;
                case '{':
                case '[':
                        depth++;
                        break;
                case '}':
                case ']':
                        if (--depth == 0)
                                return p + 1;
                        break;
                default:
                        break;
                }
                p++;
        }
        return NULL;
}

/* What each byte after a backslash stands for when the two make a JSON
 * escape of their own ("\n" is a newline); 0 for 'u' (four hex digits
 * follow) and for bytes that make no escape. */
static const unsigned char escape_char[256] = {
        ['"'] = '"',   ['\\'] = '\\', ['/'] = '/',   ['b'] = '\b',
        ['f'] = '\f', ['n'] = '\n',   ['r'] = '\r', ['t'] = '\t',
};

static int hex4(const char *s, unsigned *ret)
{
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

/* Writes code point cp (<= U+10FFFF, not a surrogate) as UTF-8. */
size_t lsp_utf8_encode(unsigned cp, char u[static 4])
{
        if (cp < 0x80) {
                u[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                u[0] = (char)(0xC0 | (cp >> 6));
                u[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                u[0] = (char)(0xE0 | (cp >> 12));
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

/* Decodes the contents of a JSON string (between the quotes) into out as
 * UTF-8.  Returns the length, or -EINVAL if malformed (bad escape, lone
 * surrogate), or -ENOBUFS if it does not fit in outsz. */
static ssize_t json_unescape(const char *s, size_t n, char *out, size_t outsz)
{
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                unsigned cp;
                char c = s[i++], u[4];
                size_t ul;

                if (c != '\\') {
                        if (o >= outsz)
                                return -ENOBUFS;
                        out[o++] = c;
                        continue;
                }
                if (i >= n)
                        return -EINVAL;
                c = s[i++];
                if (escape_char[(unsigned char)c])
                        cp = escape_char[(unsigned char)c];
                else if (c == 'u') {
                        if (n - i < 4 || hex4(s + i, &cp) < 0)
                                return -EINVAL;
                        i += 4;
                        if (cp >= 0xDC00 && cp <= 0xDFFF)
                                return -EINVAL;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                unsigned lo;
                                if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' ||
                                    hex4(s + i + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
                                        return -EINVAL;
                                i += 6;
                                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                        }
                } else
                        return -EINVAL;
                ul = lsp_utf8_encode(cp, u);
                if (ul > outsz - o)
                        return -ENOBUFS;
                memcpy(out + o, u, ul);
                o += ul;
        }
        return (ssize_t)o;
}

/* The raw string contents s[0..n) decode to `lit`. */
static bool json_str_eq(const char *s, size_t n, const char *lit)
{
        size_t ln = strlen(lit);
        char buf[256];
        ssize_t l;

        if (!memchr(s, '\\', n))
                return n == ln && memcmp(s, lit, n) == 0;
        if (ln > sizeof(buf))
                return false;
        l = json_unescape(s, n, buf, sizeof(buf));
        return l >= 0 && (size_t)l == ln && memcmp(buf, lit, ln) == 0;
}

enum { KEY_OTHER, KEY_ID, KEY_METHOD, KEY_PARAMS, KEY_RESULT, KEY_ERROR };

static int classify_key(const char *k, size_t n)
{
        static const struct {
                const char *name;
                int key;
        } keys[] = {
            {"id", KEY_ID},         {"method", KEY_METHOD}, {"params", KEY_PARAMS},
            {"result", KEY_RESULT}, {"error", KEY_ERROR},
        };

        /* escaped keys are legal but rare: only then decode */
        if (n > 6 && !memchr(k, '\\', n))
                return KEY_OTHER;
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (json_str_eq(k, n, keys[i].name))
                        return keys[i].key;
        return KEY_OTHER;
}

/* JSON integer syntax (-?(0|[1-9][0-9]*)) within int64_t. */
static bool parse_int64(const char *s, size_t n, int64_t *ret)
{
        bool neg = false;
        uint64_t v = 0, lim;

        if (n > 0 && s[0] == '-') {
                neg = true;
                s++;
                n--;
        }
        if (n == 0 || (s[0] == '0' && n > 1))
                return false;
        lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t i = 0; i < n; i++) {
                unsigned digit;
                if (s[i] < '0' || s[i] > '9')
                        return false;
                digit = (unsigned)(s[i] - '0');
                if (v > (lim - digit) / 10)
                        return false;
                v = v * 10 + digit;
        }
        if (neg)
                *ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
        else
                *ret = (int64_t)v;
        return true;
}

static void record_id(struct lsp_peek *pk, const char *v, size_t n)
{
        pk->id = v;
        pk->id_len = n;
        pk->id_int = 0;
        if (v[0] == '"')
                pk->id_type = LSP_ID_STRING;
        else if (n == 4 && memcmp(v, "null", 4) == 0)
                pk->id_type = LSP_ID_NULL;
        else if (parse_int64(v, n, &pk->id_int))
                pk->id_type = LSP_ID_INT;
        else
                pk->id_type = LSP_ID_OTHER;
}

int lsp_peek(const char *body, size_t len, struct lsp_peek *ret)
{
        struct lsp_peek pk = {.id_type = LSP_ID_NONE};
        const char *p, *end = body + len;

        p = skip_ws(body, end);
        if (p == end || *p != '{')
                return -EBADMSG;
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}') {
                p++;
        } else {
                for (;;) {
                        const char *k, *v;
                        size_t klen;
                        int key;

                        if (p == end || *p != '"')
                                return -EBADMSG;
                        k = p + 1;
                        p = skip_string(p, end);
                        if (!p)
                                return -EBADMSG;
                        klen = (size_t)(p - 1 - k);
                        key = classify_key(k, klen);
                        p = skip_ws(p, end);
                        if (p == end || *p != ':')
                                return -EBADMSG;
                        p = skip_ws(p + 1, end);
                        if (p == end)
                                return -EBADMSG;
                        v = p;
                        p = skip_value(p, end);
                        if (!p)
                                return -EBADMSG;

                        switch (key) {
                        case KEY_ID:
                                record_id(&pk, v, (size_t)(p - v));
                                break;
                        case KEY_METHOD:
                                if (*v != '"')
                                        return -EBADMSG;
                                pk.method = v + 1;
                                pk.method_len = (size_t)(p - v - 2);
                                pk.method_escaped = memchr(pk.method, '\\', pk.method_len) != NULL;
                                break;
                        case KEY_PARAMS:
                                pk.has_params = true;
                                pk.params = v;
                                pk.params_len = (size_t)(p - v);
                                break;
                        case KEY_RESULT:
                                pk.has_result = true;
                                break;
                        case KEY_ERROR:
                                pk.has_error = true;
                                break;
                        default:
                                break;
                        }

                        p = skip_ws(p, end);
                        if (p == end)
                                return -EBADMSG;
                        if (*p == '}') {
                                p++;
                                break;
                        }
                        if (*p != ',')
                                return -EBADMSG;
                        p = skip_ws(p + 1, end);
                }
        }
        if (skip_ws(p, end) != end)
                return -EBADMSG;
        *ret = pk;
        return 0;
}

enum lsp_msg_kind lsp_peek_kind(const struct lsp_peek *p)
{
        if (p->method)
                return p->id_type != LSP_ID_NONE ? LSP_MSG_REQUEST : LSP_MSG_NOTIFICATION;
        /* JSON-RPC 2.0: exactly one of result and error */
        if (p->id_type != LSP_ID_NONE && p->has_result != p->has_error)
                return LSP_MSG_RESPONSE;
        return LSP_MSG_INVALID;
}

bool lsp_peek_method_is(const struct lsp_peek *p, const char *name)
{
        return p->method && json_str_eq(p->method, p->method_len, name);
}

ssize_t lsp_peek_method(const struct lsp_peek *p, char *buf, size_t size)
{
        ssize_t l;

        if (!p->method)
                return -ENOENT;
        if (size == 0)
                return -ENOBUFS;
        l = json_unescape(p->method, p->method_len, buf, size - 1);
        if (l < 0)
                return l;
        buf[l] = '\0';
        return l;
}

/* ---------------------------------------------------------------------- */
/* JSON values                                                              */

/* Eight bytes at a time (a document is mostly plain text): each test says
 * whether any byte of w is so, exactly (Hacker's Delight / "haszero"). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define HAS_LESS(w, n) (((w) - ONES * (n)) & ~(w) & HIGHS)
#define HAS_BYTE(w, b) HAS_LESS((w) ^ (ONES * (b)), 1)

/* The first byte that lsp_json_escape() must look at: a control
 * character, '"', '\\', or 0xED (a surrogate form may start there). */
static const unsigned char *escape_free_end(const unsigned char *p, const unsigned char *end)
{
        uint64_t w, m;

        while (end - p >= 8) {
                memcpy(&w, p, 8);
                m = HAS_LESS(w, 0x20) | HAS_BYTE(w, '"') | HAS_BYTE(w, '\\') | HAS_BYTE(w, 0xED);
                if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        return p + __builtin_ctzll(m) / 8;
#else
                        break;
#endif
                }
                p += 8;
        }
        while (p < end && *p >= 0x20 && *p != '"' && *p != '\\' && *p != 0xED)
                p++;
        return p;
}

bool lsp_json_is_string(struct lsp_json v)
{
        return v.end - v.p >= 2 && v.p[0] == '"' && v.end[-1] == '"';
}

bool lsp_json_is_object(struct lsp_json v)
{
        return v.end - v.p >= 2 && v.p[0] == '{' && v.end[-1] == '}';
}

int lsp_json_members(struct lsp_json v, const char *const *keys, struct lsp_json *vals, size_t n)
{
        const char *p, *end = v.end;
        int found = 0;

        if (!lsp_json_is_object(v))
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                vals[i] = (struct lsp_json){NULL, NULL};
        end--; /* the closing brace */
        p = skip_ws(v.p + 1, end);
        while (p < end) {
                const char *k, *val;
                size_t kl;

                if (*p != '"')
                        return -EBADMSG;
                k = p + 1;
                p = skip_string(p, end);
                if (!p)
                        return -EBADMSG;
                kl = (size_t)(p - 1 - k);
                p = skip_ws(p, end);
                if (p == end || *p != ':')
                        return -EBADMSG;
                p = skip_ws(p + 1, end);
                if (p == end)
                        return -EBADMSG;
                val = p;
                p = skip_value(p, end);
                if (!p)
                        return -EBADMSG;
                for (size_t i = 0; i < n; i++)
                        if (json_str_eq(k, kl, keys[i])) {
                                found += !vals[i].p;
                                vals[i] = (struct lsp_json){val, p};
                        }
                p = skip_ws(p, end);
                if (p == end)
                        break;
                if (*p != ',')
                        return -EBADMSG;
                p = skip_ws(p + 1, end);
                if (p == end)
                        return -EBADMSG; /* a trailing comma */
        }
        return found;
}

int lsp_json_member(struct lsp_json v, const char *key, struct lsp_json *ret)
{
        struct lsp_json val;
        int r = lsp_json_members(v, &key, &val, 1);

        if (r == 1)
                *ret = val;
        return r;
}

int lsp_json_next(struct lsp_json v, const char **cursor, struct lsp_json *ret)
{
        const char *p, *end = v.end - 1, *val;

        if (v.end - v.p < 2 || v.p[0] != '[' || v.end[-1] != ']')
                return -EBADMSG;
        if (!*cursor)
                p = skip_ws(v.p + 1, end);
        else {
                p = skip_ws(*cursor, end);
                if (p == end)
                        return 0;
                if (*p != ',')
                        return -EBADMSG;
                p = skip_ws(p + 1, end);
                if (p == end)
                        return -EBADMSG;
        }
        if (p == end)
                return 0;
        val = p;
        p = skip_value(p, end);
        if (!p)
                return -EBADMSG;
        *ret = (struct lsp_json){val, p};
        *cursor = p;
        return 1;
}

int lsp_json_int(struct lsp_json v, int64_t *ret)
{
        return parse_int64(v.p, (size_t)(v.end - v.p), ret) ? 0 : -EBADMSG;
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629), or 0. */
static inline __attribute__((always_inline)) size_t utf8_valid(const unsigned char *s,
                                                              const unsigned char *end)
{
        unsigned char c = s[0], lo = 0x80, hi = 0xBF;
        size_t need;

        if (c >= 0xC2 && c <= 0xDF)
                need = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
                need = 3;
                if (c == 0xE0)
                        lo = 0xA0;
                else if (c == 0xED)
                        hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
                need = 4;
                if (c == 0xF0)
                        lo = 0x90;
                else if (c == 0xF4)
                        hi = 0x8F;
        } else
                return 0;
        if ((size_t)(end - s) < need || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < need; i++)
                if ((s[i] & 0xC0) != 0x80)
                        return 0;
        return need;
}

/* The contents of a JSON string, p..end (between the quotes), walked as
 * lsp_json_string() decodes them: decoded into out when `out` is not NULL,
 * else only checked, and either way the decoded length is returned (or
 * -EBADMSG).  One walker for both, so that a check and the decoding after
 * it can never disagree; always inlined, so each use is specialised. */
static inline __attribute__((always_inline)) ssize_t contents_walk(const char *p, const char *end,
                                                                   char *out, const char **stop)
{
        size_t o = 0;

        while (p < end) {
                /* Runs of plain ASCII are the bulk of a document, and short
                 * (source text has an escape every line or so): they are
                 * checked, and copied, eight bytes at a time, and the word
                 * that ends one says where the next escape or non-ASCII
                 * byte is, which is then handled at once.  o never
                 * overtakes the input position and nothing past the run is
                 * stored, so out may be the input itself: every byte is
                 * read before its place is written. */
                uint64_t w, m;
                while (end - p >= 8) {
                        memcpy(&w, p, 8);
                        m = (w & HIGHS) | HAS_LESS(w, 0x20) | HAS_BYTE(w, '"') |
                            HAS_BYTE(w, '\\');
                        if (m) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                                /* the lowest flag is exact: the first such
                                 * byte.  Only the bytes before it are
                                 * stored: in place, the rest of the word is
                                 * input still to be read. */
                                size_t k = (size_t)__builtin_ctzll(m) / 8;
                                if (out)
                                        memmove(out + o, p, k);
                                o += k;
                                p += k;
                                goto special;
#else
                                break; /* the loop below finds it */
#endif
                        }
                        if (out)
                                memcpy(out + o, &w, 8);
                        o += 8;
                        p += 8;
                }
                while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x80 &&
                       *p != '\\' && *p != '"') {
                        if (out)
                                out[o] = *p;
                        o++;
                        p++;
                }
                if (p == end)
                        break;
        special:;
                unsigned char c = (unsigned char)*p;
                if (c >= 0x80) {
                        size_t n = utf8_valid((const unsigned char *)p, (const unsigned char *)end);
                        if (!n)
                                return -EBADMSG;
                        if (out)
                                memmove(out + o, p, n);
                        o += n;
                        p += n;
                        continue;
                }
                if (c != '\\') {
                        /* With `stop`, the first quote not escaped ends the
                         * string: the walk also finds where it ends. */
                        if (stop && c == '"') {
                                *stop = p;
                                return (ssize_t)o;
                        }
                        return -EBADMSG; /* a raw control character or quote */
                }
                if (end - p < 2)
                        return -EBADMSG;
                unsigned cp = escape_char[(unsigned char)p[1]];
                if (!cp) {
                        if (p[1] != 'u')
                                return -EBADMSG;
                        if (end - p < 6 || hex4(p + 2, &cp) < 0)
                                return -EBADMSG;
                        p += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 8 && p[2] == '\\' &&
                            p[3] == 'u') {
                                unsigned lo;
                                if (hex4(p + 4, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                                        p += 6;
                                }
                        }
                        if (cp >= 0xD800 && cp <= 0xDFFF) {
                                /* a lone surrogate: its generalised UTF-8 form */
                                if (out) {
                                        out[o] = (char)(0xE0 | (cp >> 12));
                                        out[o + 1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                                        out[o + 2] = (char)(0x80 | (cp & 0x3F));
                                }
                                o += 3;
                                p += 2;
                                continue;
                        }
                }
                p += 2;
                if (out) {
                        char u[4];
                        size_t ul = lsp_utf8_encode(cp, u);
                        memcpy(out + o, u, ul);
                        o += ul;
                } else
                        o += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        if (stop)
                return -EBADMSG; /* no closing quote */
        return (ssize_t)o;
}

ssize_t lsp_json_string(struct lsp_json v, char *out)
{
        if (!lsp_json_is_string(v))
                return -EBADMSG;
        return contents_walk(v.p + 1, v.end - 1, out, NULL);
}

ssize_t lsp_json_contents_check(const char *s, size_t n)
{
        return contents_walk(s, s + n, NULL, NULL);
}

ssize_t lsp_json_contents_decode(const char *s, size_t n, char *out)
{
        return contents_walk(s, s + n, out, NULL);
}

/* ---- finding a string's end while checking it ---- */

/* s at a "\u" escape: past it (and past the low half of a surrogate
 * pair it starts), adding to *saved the bytes it takes beyond what it
 * decodes to, as contents_walk() decodes it; NULL if it is not valid. */
static const char *past_u_escape(const char *s, const char *end, size_t *saved)
{
        unsigned cp, lo;

        if (end - s < 6 || hex4(s + 2, &cp) < 0)
                return NULL;
        if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 12 && s[6] == '\\' && s[7] == 'u' &&
            hex4(s + 8, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
                *saved += 12 - 4; /* a pair: one 4-byte sequence */
                return s + 12;
        }
        /* a lone surrogate is kept as its 3-byte form */
        *saved += 6 - (cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3);
        return s + 6;
}

/* s at a byte that is not plain text inside a string (a quote, a
 * backslash, a control character or a byte above 0x7F): past what starts
 * there, an escape or a UTF-8 sequence, adding to *saved the bytes an
 * escape takes beyond what it decodes to.  s itself for a quote (the
 * string ends there); NULL if the string is not valid there. */
static inline const char *past_special(const char *s, const char *end, size_t *saved)
{
        unsigned char c = (unsigned char)*s;

        if (c == '\\') {
                if (end - s < 2)
                        return NULL;
                if (escape_char[(unsigned char)s[1]]) {
                        *saved += 1;
                        return s + 2;
                }
                return s[1] == 'u' ? past_u_escape(s, end, saved) : NULL;
        }
        if (c >= 0x80) {
                size_t n = utf8_valid((const unsigned char *)s, (const unsigned char *)end);
                return n ? s + n : NULL;
        }
        return c == '"' ? s : NULL;
}

/* Up to `stop` (or the string's end) a byte at a time: 1 with *p moved
 * on, 0 with *ret the closing quote (or NULL if the contents are not
 * valid, or end comes first). */
static int string_end_slow(const char **p, const char *stop, const char *end, size_t *saved,
                           const char **ret)
{
        const char *q = *p;

        while (q < stop) {
                unsigned char c = (unsigned char)*q;

                if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
                        q++;
                        continue;
                }
                const char *after = past_special(q, end, saved);
                if (after == q || !after) {
                        *ret = after;
                        return 0;
                }
                q = after;
        }
        *p = q;
        if (q >= end) {
                *ret = NULL;
                return 0;
        }
        return 1;
}


const char *lsp_json_string_end(const char *p, const char *end, ssize_t *len)
{
        const char *start = p, *ret;
        size_t saved = 0; /* bytes escapes take beyond what they decode to */

#if defined(__SSE2__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* 64 bytes at a time.  Every block is read where it starts,
         * whatever the one before it held, so that the next load never
         * waits for this block's result: an escape begun in a block's last
         * byte (esc_carry), and the continuation bytes a UTF-8 sequence
         * begun near its end still needs (need_carry), are carried into
         * the next block.  `from` is where a walk byte by byte may take
         * over: the start of what is carried, or p. */
        uint64_t esc_carry = 0, need_carry = 0;
        const char *from = p;

        while (end - p >= 64) {
                struct block_bits b;
                block_bits(p, &b);

                uint64_t escaped = escaped_carry(b.bslash, &esc_carry);
                uint64_t ends = b.quote & ~escaped;
                unsigned lim = ends ? (unsigned)__builtin_ctzll(ends) : 64;
                /* the bytes before the closing quote, and with it */
                uint64_t in = bits_below(lim), upto = bits_below(lim + 1);

                /* a control character, or an escape that is not a simple
                 * one (\u, or not valid): byte by byte */
                if ((b.control | (escaped & ~b.simple)) & in) {
                        p = from;
                        if (!string_end_slow(&p, from + 64, end, &saved, &ret))
                                goto done;
                        from = p;
                        esc_carry = need_carry = 0;
                        continue;
                }
                /* UTF-8 by the block's bit sets: each continuation byte
                 * where a sequence needs one and nowhere else, no byte
                 * that starts none; sequences of 3 and 4 bytes are
                 * checked one by one where their first byte narrows the
                 * range of the second (E0, ED, F0, F4) */
                unsigned back = 0;
                if ((b.high | need_carry) & upto) {
                        struct utf8_bits u;
                        utf8_bits(p, b.high, &u);

                        uint64_t l234 = u.lead2 | u.lead3 | u.lead4, l34 = u.lead3 | u.lead4;
                        uint64_t need = need_carry | l234 << 1 | l34 << 2 | u.lead4 << 3;

                        if (((need ^ u.cont) | u.bad) & upto)
                                return NULL;
                        for (uint64_t n = l34 & in; n; n &= n - 1) {
                                const unsigned char *q =
                                    (const unsigned char *)p + __builtin_ctzll(n);
                                if ((*q == 0xE0 || *q == 0xED || *q == 0xF0 || *q == 0xF4) &&
                                    !utf8_valid(q, (const unsigned char *)end))
                                        return NULL;
                        }
                        need_carry = l234 >> 63 | l34 >> 62 | u.lead4 >> 61;
                        if (need_carry)
                                back = 1 + (unsigned)__builtin_clzll(l234);
                } else
                        need_carry = 0;
                saved += bit_count(escaped & in);
                if (ends) {
                        ret = p + lim;
                        goto done;
                }
                p += 64;
                from = esc_carry ? p - 1 : p - back;
        }
        p = from;
#endif
        if (string_end_slow(&p, end, end, &saved, &ret))
                return NULL; /* not reached: the slow walk stops at end */
done:
        if (ret)
                *len = (ssize_t)((size_t)(ret - start) - saved);
        return ret;
}

/* The string at p (its opening quote), checked as
 * lsp_json_contents_check() checks contents while its end is found: past
 * its closing quote, and the decoded length in *len; NULL if it is not a
 * valid string. */
static const char *string_checked(const char *p, const char *end, ssize_t *len)
{
        const char *q = lsp_json_string_end(p + 1, end, len);

        return q ? q + 1 : NULL;
}

/* One level of lsp_json_members_nested(). */
struct member_spec {
        const char *const *keys;
        struct lsp_json *vals;
        size_t n;
        int found;
        size_t into;               /* keys[into] is looked inside (< n), */
        struct member_spec *inner; /* with this spec, when an object */
        size_t check;              /* keys[check] is a checked string (< n) */
        ssize_t *checked_len;
};

/* The object at p (its opening brace), its members matched against spec,
 * in one pass: past its closing brace, or NULL if it is malformed. */
static const char *walk_object(const char *p, const char *end, struct member_spec *spec)
{
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}')
                return p + 1;
        for (;;) {
                const char *k, *val;
                size_t kl, i;

                if (p == end || *p != '"')
                        return NULL;
                k = p + 1;
                p = skip_string(p, end);
                if (!p)
                        return NULL;
                kl = (size_t)(p - 1 - k);
                p = skip_ws(p, end);
                if (p == end || *p != ':')
                        return NULL;
                p = skip_ws(p + 1, end);
                if (p == end)
                        return NULL;
                val = p;
                for (i = 0; i < spec->n && !json_str_eq(k, kl, spec->keys[i]); i++)
                        ;
                if (i < spec->n && i == spec->into && *val == '{')
                        p = walk_object(val, end, spec->inner);
                else if (i < spec->n && i == spec->check && *val == '"')
                        p = string_checked(val, end, spec->checked_len);
                else
                        p = skip_value(val, end);
                if (!p)
                        return NULL;
                if (i < spec->n) {
                        spec->found += !spec->vals[i].p;
                        spec->vals[i] = (struct lsp_json){val, p};
                }
                p = skip_ws(p, end);
                if (p == end)
                        return NULL;
                if (*p == '}')
                        return p + 1;
                if (*p != ',')
                        return NULL;
                p = skip_ws(p + 1, end);
        }
}

int lsp_json_members_nested(struct lsp_json v, const char *const *keys, struct lsp_json *vals,
                            size_t n, size_t into, const char *const *inner_keys,
                            struct lsp_json *inner_vals, size_t inner_n, size_t check,
                            ssize_t *checked_len)
{
        struct member_spec in = {.keys = inner_keys,
                                 .vals = inner_vals,
                                 .n = inner_n,
                                 .into = SIZE_MAX,
                                 .check = check,
                                 .checked_len = checked_len};
        struct member_spec out = {
            .keys = keys, .vals = vals, .n = n, .into = into, .inner = &in, .check = SIZE_MAX};

        if (!lsp_json_is_object(v))
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                vals[i] = (struct lsp_json){NULL, NULL};
        for (size_t i = 0; i < inner_n; i++)
                inner_vals[i] = (struct lsp_json){NULL, NULL};
        *checked_len = -1;
        if (walk_object(v.p, v.end, &out) != v.end)
                return -EBADMSG;
        return out.found;
}

size_t lsp_json_escape(const char *s, size_t n, char *out)
{
        return lsp_json_escape_max(s, n, out, out ? SIZE_MAX : 0);
}

size_t lsp_json_escape_max(const char *s, size_t n, char *out, size_t cap)
{
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *)s, *end = p + n;
        size_t o = 0;

        while (p < end) {
                const unsigned char *q = escape_free_end(p, end);
                if (q > p) {
                        if (out && (size_t)(q - p) > cap - o)
                                out = NULL; /* no room: only count from here */
                        if (out)
                                memcpy(out + o, p, (size_t)(q - p));
                        o += (size_t)(q - p);
                        p = q;
                        continue;
                }
                unsigned char c = *p;
                char e[6];
                size_t el = 2;

                e[0] = '\\';
                if (c == 0xED && end - p >= 3 && p[1] >= 0xA0 && p[1] <= 0xBF &&
                    (p[2] & 0xC0) == 0x80) {
                        unsigned cp = 0xD000u | ((unsigned)(p[1] & 0x3F) << 6) | (p[2] & 0x3Fu);
                        e[1] = 'u';
                        e[2] = hex[(cp >> 12) & 15];
                        e[3] = hex[(cp >> 8) & 15];
                        e[4] = hex[(cp >> 4) & 15];
                        e[5] = hex[cp & 15];
                        el = 6;
                        p += 3;
                } else if (c == 0xED) {
                        e[0] = (char)c; /* any other sequence starting with ED */
                        el = 1;
                        p++;
                } else {
                        p++;
                        switch (c) {
                        case '"':
                        case '\\':
                                e[1] = (char)c;
                                break;
                        case '\n':
                                e[1] = 'n';
                                break;
                        case '\r':
                                e[1] = 'r';
                                break;
                        case '\t':
                                e[1] = 't';
                                break;
                        case '\b':
                                e[1] = 'b';
                                break;
                        case '\f':
                                e[1] = 'f';
                                break;
                        default:
                                e[1] = 'u';
                                e[2] = '0';
                                e[3] = '0';
                                e[4] = hex[c >> 4];
                                e[5] = hex[c & 15];
                                el = 6;
                        }
                }
                if (out && el > cap - o)
                        out = NULL;
                if (out)
                        memcpy(out + o, e, el);
                o += el;
        }
        return o;
}

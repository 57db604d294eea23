/* bench-framing.c — decoder throughput (not a test: it prints figures).
 *
 * The stream is prepared in memory and handed to the decoder the way the
 * guard reads a pipe: lsp_decoder_reserve(), one memcpy() standing in for
 * read(), lsp_decoder_commit(), then lsp_decoder_next() until it returns 0.
 * So the figures include the one copy the real path makes, and no system
 * calls.  Each case runs several times; the median and best are printed, in
 * MB/s of stream bytes (headers included, 1 MB = 10^6 bytes).
 *
 *   small   ~200-byte bodies (typical notifications and small requests)
 *   large   10 MB bodies (didOpen of a huge generated file), 64 KiB reads
 *   +peek   the same with lsp_peek() on every body, as the router does */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lsp-framing.h"

#define CHUNK ((size_t)64 << 10)
#define RUNS 7

static double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct stream {
        char *data;
        size_t len;
        size_t messages;
};

static void append(struct stream *s, size_t *cap, const char *body, size_t len)
{
        char hdr[LSP_HEADER_MAX];
        size_t hl = lsp_header_encode(hdr, len);

        if (s->len + hl + len > *cap) {
                *cap = (s->len + hl + len) * 2;
                s->data = realloc(s->data, *cap);
                if (!s->data) {
                        perror("realloc");
                        exit(1);
                }
        }
        memcpy(s->data + s->len, hdr, hl);
        memcpy(s->data + s->len + hl, body, len);
        s->len += hl + len;
        s->messages++;
}

static struct stream make_small(size_t total)
{
        struct stream s = {0};
        size_t cap = 0;
        char body[512];

        for (unsigned i = 0; s.len < total; i++) {
                int n = snprintf(body, sizeof(body),
                                 "{\"jsonrpc\":\"2.0\",\"id\":%u,\"method\":"
                                 "\"textDocument/hover\",\"params\":{\"textDocument\":"
                                 "{\"uri\":\"file:///home/user/src/project/pkg/file%u.go\"},"
                                 "\"position\":{\"line\":%u,\"character\":%u}}}",
                                 i, i % 97, i % 5000, i % 80);
                append(&s, &cap, body, (size_t)n);
        }
        return s;
}

static struct stream make_large(size_t body_len, unsigned count)
{
        struct stream s = {0};
        size_t cap = 0;
        char *body = malloc(body_len);
        static const char prefix[] =
            "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":"
            "{\"textDocument\":{\"uri\":\"file:///big.go\",\"languageId\":\"go\","
            "\"version\":1,\"text\":\"";
        static const char line[] = "\\tx = append(x, \\\"value\\\") // comment\\n";
        size_t o = sizeof(prefix) - 1;

        memcpy(body, prefix, o);
        while (o + sizeof(line) + 8 < body_len) {
                memcpy(body + o, line, sizeof(line) - 1);
                o += sizeof(line) - 1;
        }
        while (o < body_len - 4)
                body[o++] = 'x';
        memcpy(body + o, "\"}}}", 4);
        for (unsigned i = 0; i < count; i++)
                append(&s, &cap, body, body_len);
        free(body);
        return s;
}

/* One pass over the stream; returns the seconds taken. */
static double run(const struct stream *s, bool peek)
{
        struct lsp_decoder d;
        size_t messages = 0, peeked = 0;
        double t0 = now_sec();

        lsp_decoder_init(&d, 0);
        for (size_t off = 0; off < s->len;) {
                size_t n = s->len - off < CHUNK ? s->len - off : CHUNK;
                const char *body;
                size_t blen, avail;
                char *p;
                int r;

                if (lsp_decoder_reserve(&d, CHUNK, &p, &avail) < 0) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                memcpy(p, s->data + off, n);
                lsp_decoder_commit(&d, n);
                off += n;
                while ((r = lsp_decoder_next(&d, &body, &blen)) > 0) {
                        messages++;
                        if (peek) {
                                struct lsp_peek pk;
                                if (lsp_peek(body, blen, &pk) == 0 && pk.method)
                                        peeked++;
                        }
                }
                if (r < 0) {
                        fprintf(stderr, "decode error: %s\n", lsp_decoder_reason(&d));
                        exit(1);
                }
        }
        lsp_decoder_done(&d);
        if (messages != s->messages || (peek && peeked != s->messages)) {
                fprintf(stderr, "decoded %zu of %zu messages\n", messages, s->messages);
                exit(1);
        }
        return now_sec() - t0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static void report(const char *name, const struct stream *s, bool peek)
{
        double t[RUNS];

        run(s, peek); /* warm up: page in the stream and the allocator */
        for (int i = 0; i < RUNS; i++)
                t[i] = run(s, peek);
        qsort(t, RUNS, sizeof(t[0]), cmp_double);
        printf("%-14s %8.1f MB/s median  %8.1f MB/s best  (%zu messages, %.1f MB, %.0f ns/msg)\n",
               name, (double)s->len / t[RUNS / 2] / 1e6, (double)s->len / t[0] / 1e6, s->messages,
               (double)s->len / 1e6, t[RUNS / 2] / (double)s->messages * 1e9);
}

int main(void)
{
        struct stream small = make_small((size_t)64 << 20);
        struct stream large = make_large(10 * 1000 * 1000, 20);

        printf("decoder, %zu KiB reads, %d runs\n", CHUNK >> 10, RUNS);
        report("small", &small, false);
        report("small+peek", &small, true);
        report("large", &large, false);
        report("large+peek", &large, true);
        free(small.data);
        free(large.data);
        return 0;
}

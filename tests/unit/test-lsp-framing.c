/* test-lsp-framing.c — LSP framing: decoder, resynchronisation, encoder,
 * output queue, JSON peek. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lsp-framing.h"

/* Feeds `stream` in chunks of `chunk` bytes (0 = all at once), draining
 * after each, and writes what came out as "M<body>|" per message and
 * "E<errno>|" per error.  Returns a malloc()ed string. */
static char *decode_events(const char *stream, size_t len, size_t chunk, size_t max)
{
        struct lsp_decoder d;
        size_t cap = 4 * len + 64, o = 0;
        char *out = malloc(cap);

        lsp_decoder_init(&d, max);
        if (chunk == 0)
                chunk = len ? len : 1;
        for (size_t i = 0; i < len; i += chunk) {
                size_t n = len - i < chunk ? len - i : chunk;
                const char *body;
                size_t blen;
                int r;

                CHECK_INT(lsp_decoder_feed(&d, stream + i, n), 0);
                while ((r = lsp_decoder_next(&d, &body, &blen)) != 0) {
                        if (r > 0) {
                                out[o++] = 'M';
                                memcpy(out + o, body, blen);
                                o += blen;
                        } else {
                                o += (size_t)snprintf(out + o, cap - o, "E%d", -r);
                        }
                        out[o++] = '|';
                }
        }
        out[o] = '\0';
        lsp_decoder_done(&d);
        return out;
}

/* The same events whatever the chunking: all at once, byte by byte, and
 * a few odd sizes that put chunk boundaries inside headers and bodies. */
static void check_stream(const char *stream, const char *expected, size_t max)
{
        static const size_t chunks[] = {0, 1, 2, 3, 5, 7, 16, 64};

        for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
                char *got = decode_events(stream, strlen(stream), chunks[i], max);
                if (strcmp(got, expected) != 0)
                        fprintf(stderr, "  chunk size %zu:\n", chunks[i]);
                CHECK_STR(got, expected);
                free(got);
        }
}

static void test_single_and_merged(void)
{
        check_stream("Content-Length: 7\r\n\r\n{\"a\":1}", "M{\"a\":1}|", 0);
        check_stream("Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]"
                     "Content-Length: 4\r\n\r\nnull",
                     "M{}|M[1]|Mnull|", 0);
}

static void test_every_split_point(void)
{
        const char *s = "Content-Length: 5\r\n\r\nhelloContent-Type: x\r\n"
                        "Content-Length: 3\r\n\r\nabcContent-Length: 0\r\n\r\n";
        size_t n = strlen(s);

        for (size_t cut = 0; cut <= n; cut++) {
                struct lsp_decoder d;
                const char *body;
                size_t blen;
                char got[64] = "";
                int r;

                lsp_decoder_init(&d, 0);
                CHECK_INT(lsp_decoder_feed(&d, s, cut), 0);
                while ((r = lsp_decoder_next(&d, &body, &blen)) > 0)
                        strncat(got, body, blen), strcat(got, "|");
                CHECK_INT(r, 0);
                CHECK_INT(lsp_decoder_feed(&d, s + cut, n - cut), 0);
                while ((r = lsp_decoder_next(&d, &body, &blen)) > 0)
                        strncat(got, body, blen), strcat(got, "|");
                CHECK_INT(r, 0);
                CHECK_STR(got, "hello|abc||");
                CHECK_INT(lsp_decoder_buffered(&d), 0);
                lsp_decoder_done(&d);
        }
}

static void test_header_spelling(void)
{
        check_stream("content-length: 2\r\n\r\n{}", "M{}|", 0);
        check_stream("CONTENT-LENGTH:2\r\n\r\n{}", "M{}|", 0);
        check_stream("cOnTeNt-LeNgTh: \t2 \t\r\n\r\n{}", "M{}|", 0);
        check_stream("Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
                     "Content-Length: 2\r\n\r\n{}",
                     "M{}|", 0);
        check_stream("Content-Length: 2\r\n"
                     "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}",
                     "M{}|", 0);
        /* other headers are tolerated, bare LF line ends too */
        check_stream("X-Trace: 1\nContent-Length: 2\n\n{}", "M{}|", 0);
        /* the same length twice is harmless; leading zeros are decimal */
        check_stream("Content-Length: 2\r\nContent-Length: 002\r\n\r\n{}", "M{}|", 0);
        /* blank lines between messages are skipped without an error */
        check_stream("\r\n\r\nContent-Length: 2\r\n\r\n{}\r\nContent-Length: 1\r\n\r\nx", "M{}|Mx|",
                     0);
}

static void test_zero_length_body(void)
{
        check_stream("Content-Length: 0\r\n\r\nContent-Length: 1\r\n\r\nx", "M|Mx|", 0);
}

static void test_limit(void)
{
        /* exactly at the limit is accepted */
        check_stream("Content-Length: 10\r\n\r\n0123456789", "M0123456789|", 10);
        /* one over: reported, body skipped by its length, next one delivered
           (the skipped body even looks like a header: it is not parsed) */
        check_stream("Content-Length: 11\r\n\r\nContent-Le:Content-Length: 1\r\n\r\nx", "E90|Mx|",
                     10);
        CHECK_INT(EMSGSIZE, 90);
}

static void test_oversized_body_is_not_buffered(void)
{
        struct lsp_decoder d;
        static char chunk[65536];
        const char *body;
        size_t blen;

        memset(chunk, 'z', sizeof(chunk));
        lsp_decoder_init(&d, 1000);
        CHECK_INT(lsp_decoder_feed(&d, "Content-Length: 1048576\r\n\r\n", 27), 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), -EMSGSIZE);
        CHECK_CONTAINS(lsp_decoder_reason(&d), "1048576 bytes");
        CHECK_CONTAINS(lsp_decoder_reason(&d), "limit of 1000");
        for (int i = 0; i < 16; i++) {
                CHECK_INT(lsp_decoder_feed(&d, chunk, sizeof(chunk)), 0);
                CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
                CHECK(d.cap <= 2 * sizeof(chunk));
        }
        CHECK_INT(lsp_decoder_feed(&d, "Content-Length: 2\r\n\r\nok", 24), 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK_INT(blen, 2);
        CHECK(memcmp(body, "ok", 2) == 0);
        lsp_decoder_done(&d);
}

/* One error and its reason, from a stream fed all at once. */
static int first_error(const char *stream, char *reason, size_t rsz)
{
        struct lsp_decoder d;
        const char *body;
        size_t blen;
        int r;

        lsp_decoder_init(&d, 0);
        lsp_decoder_feed(&d, stream, strlen(stream));
        while ((r = lsp_decoder_next(&d, &body, &blen)) > 0)
                ;
        snprintf(reason, rsz, "%s", lsp_decoder_reason(&d));
        lsp_decoder_done(&d);
        return r;
}

static void test_bad_lengths(void)
{
        static const struct {
                const char *value;
                int err;
                const char *reason;
        } cases[] = {
            {"abc", -EINVAL, "\"abc\" is not a decimal number"},
            {"12x", -EINVAL, "\"12x\" is not a decimal number"},
            {"-5", -EINVAL, "not a decimal number"},
            {"+5", -EINVAL, "not a decimal number"},
            {"0x10", -EINVAL, "not a decimal number"},
            {"5 5", -EINVAL, "not a decimal number"},
            {"", -EINVAL, "\"\" is not a decimal number"},
            {"18446744073709551616", -ERANGE, "does not fit in 64 bits"},
            {"99999999999999999999999999", -ERANGE, "does not fit in 64 bits"},
            {"18446744073709551615", -EMSGSIZE, "over the limit"},
            {"67108865", -EMSGSIZE, "limit of 67108864 bytes"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char stream[200], reason[LSP_REASON_MAX];

                snprintf(stream, sizeof(stream), "Content-Length: %s\r\n\r\n{}", cases[i].value);
                CHECK_INT(first_error(stream, reason, sizeof(reason)), cases[i].err);
                CHECK_CONTAINS(reason, cases[i].reason);
        }
}

static void test_bad_headers_reasons(void)
{
        char reason[LSP_REASON_MAX], line[9100];

        CHECK_INT(first_error("Content-Type: x\r\n\r\n{}", reason, sizeof(reason)), -EBADMSG);
        CHECK_STR(reason, "header block without Content-Length");
        CHECK_INT(first_error("Hello there\r\n\r\n", reason, sizeof(reason)), -EPROTO);
        CHECK_STR(reason, "header line without ':' (\"Hello there\")");
        CHECK_INT(first_error("Bad Name: 1\r\n", reason, sizeof(reason)), -EPROTO);
        CHECK_STR(reason, "invalid header name \"Bad Name\"");
        CHECK_INT(first_error(": 1\r\n", reason, sizeof(reason)), -EPROTO);
        CHECK_STR(reason, "header line with an empty name");
        CHECK_INT(
            first_error("Content-Length: 1\r\nContent-Length: 2\r\n\r\n", reason, sizeof(reason)),
            -EINVAL);
        CHECK_STR(reason, "conflicting Content-Length headers (1 and 2)");

        /* exactly at the line limit is fine, one more byte is not */
        memset(line, 'v', sizeof(line));
        memcpy(line, "X-Pad: ", 7);
        memcpy(line + LSP_HEADER_LINE_MAX, "\r\n\r\n", 5);
        CHECK_INT(first_error(line, reason, sizeof(reason)), -EBADMSG);
        memset(line, 'v', sizeof(line));
        memcpy(line, "X-Pad: ", 7);
        memcpy(line + LSP_HEADER_LINE_MAX + 1, "\r\n\r\n", 5);
        CHECK_INT(first_error(line, reason, sizeof(reason)), -E2BIG);
        CHECK_STR(reason, "header line longer than 8192 bytes");
        /* and without any line break at all */
        memset(line, 'v', sizeof(line));
        line[sizeof(line) - 1] = '\0';
        CHECK_INT(first_error(line, reason, sizeof(reason)), -E2BIG);
        /* unprintable bytes do not reach the reason as they are */
        CHECK_INT(first_error("\x01\"\x7f\r\n", reason, sizeof(reason)), -EPROTO);
        CHECK_STR(reason, "header line without ':' (\"???\")");
}

/* Every malformed message is reported once and the next good message is
 * still delivered, whatever the chunking. */
static void test_resync(void)
{
        char buf[20000], expect[64];

        /* no Content-Length: its body is skipped */
        check_stream("Content-Type: x\r\n\r\n{\"id\":1}Content-Length: 2\r\n\r\n{}", "E74|M{}|", 0);
        /* non-numeric, overflowing, conflicting */
        check_stream("Content-Length: 1x\r\n\r\n{\"id\":1}Content-Length: 2\r\n\r\n{}", "E22|M{}|",
                     0);
        check_stream("Content-Length: 99999999999999999999999\r\n\r\n{\"id\":1}"
                     "Content-Length: 2\r\n\r\n{}",
                     "E34|M{}|", 0);
        check_stream("Content-Length: 1\r\nContent-Length: 3\r\n\r\nabcContent-Length: 2\r\n\r\n{}",
                     "E22|M{}|", 0);
        /* the broken body holds header-like text inside a JSON string: its
           line breaks are escaped, so it is not taken for a header */
        check_stream("Content-Length: z\r\n\r\n{\"text\":\"Content-Length: 5\\r\\n\\r\\nhello\"}"
                     "Content-Length: 2\r\n\r\n{}",
                     "E22|M{}|", 0);
        /* a line without a colon before the length: that line is dropped and the
           message found again at its Content-Length */
        check_stream("oops\r\nContent-Length: 2\r\n\r\n{}Content-Length: 1\r\n\r\nx", "E71|M{}|Mx|",
                     0);
        /* ... and after the length: the line is dropped, the block goes on */
        check_stream("Content-Length: 2\r\noops\r\n\r\n{}Content-Length: 1\r\n\r\nx", "E71|M{}|Mx|",
                     0);
        /* a length one too short (a broken peer): the stray tail runs into the
           next header, which is found again inside the bad "header name" */
        check_stream("Content-Length: 6\r\n\r\n{\"a\":1}Content-Length: 2\r\n\r\n{}",
                     "M{\"a\":1|E71|M{}|", 0);
        /* a header line that never ends */
        memset(buf, 'q', 10000);
        strcpy(buf + 10000, "Content-Length: 2\r\n\r\n{}");
        check_stream(buf, "E7|M{}|", 0);
        /* ... and one that ends too late, with the next header on it */
        memcpy(buf, "X-Long: ", 8);
        check_stream(buf, "E7|M{}|", 0);
        /* garbage that only resembles a header ("Content-Length:" without a
           valid line) is passed over */
        check_stream("junk Content-Length: x\r\nContent-Length:\r\nContent-length: 2\r\n\r\n{}",
                     "E71|M{}|", 0);
        /* errors back to back: while resynchronising after the first, the
           second (an unusable length) is passed over without a report of
           its own; the third has a usable length and is reported */
        snprintf(expect, sizeof(expect), "E74|E90|M{}|");
        check_stream("X: 1\r\n\r\nContent-Length: q\r\n\r\nContent-Length: 3\r\n\r\nabc"
                     "Content-Length: 2\r\n\r\n{}",
                     expect, 2);
        CHECK_INT(EBADMSG, 74);
        CHECK_INT(EINVAL, 22);
        CHECK_INT(ERANGE, 34);
        CHECK_INT(EPROTO, 71);
        CHECK_INT(E2BIG, 7);
}

static void test_resync_keeps_memory_bounded(void)
{
        struct lsp_decoder d;
        static char junk[65536];
        const char *body;
        size_t blen;

        memset(junk, '{', sizeof(junk));
        lsp_decoder_init(&d, 0);
        lsp_decoder_feed(&d, "Content-Length: ?\r\n\r\n", 21);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), -EINVAL);
        for (int i = 0; i < 64; i++) {
                CHECK_INT(lsp_decoder_feed(&d, junk, sizeof(junk)), 0);
                CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
                CHECK(lsp_decoder_buffered(&d) < 64);
        }
        lsp_decoder_feed(&d, "Content-Length: 2\r\n\r\n{}", 23);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        lsp_decoder_done(&d);
}

static void test_reserve_commit(void)
{
        struct lsp_decoder d;
        const char *msg = "Content-Length: 5\r\n\r\nhello";
        const char *body;
        char *p;
        size_t avail, blen;

        lsp_decoder_init(&d, 0);
        CHECK_INT(lsp_decoder_reserve(&d, 0, &p, &avail), 0);
        CHECK(avail >= 65536);
        memcpy(p, msg, 10);
        lsp_decoder_commit(&d, 10);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
        CHECK_INT(lsp_decoder_reserve(&d, 1, &p, &avail), 0);
        memcpy(p, msg + 10, strlen(msg) - 10);
        lsp_decoder_commit(&d, strlen(msg) - 10);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK_INT(blen, 5);
        CHECK(memcmp(body, "hello", 5) == 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
        lsp_decoder_done(&d);

        /* once the header is read, the area covers the whole body */
        lsp_decoder_init(&d, 0);
        lsp_decoder_feed(&d, "Content-Length: 2000000\r\n\r\n", 27);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
        CHECK_INT(lsp_decoder_reserve(&d, 0, &p, &avail), 0);
        CHECK(avail >= 2000000);
        memset(p, 'b', 2000000);
        lsp_decoder_commit(&d, 2000000);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK_INT(blen, 2000000);
        CHECK(body[0] == 'b' && body[1999999] == 'b');
        /* one small message after a big one keeps the buffer (the next
         * answer may be big again: no shrink-and-regrow per message) */
        lsp_decoder_feed(&d, "Content-Length: 1\r\n\r\nx", 22);
        CHECK(d.cap >= 2000000);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK(blen == 1 && body[0] == 'x');
        /* a run of small ones gives it back */
        for (int i = 0; i < 40; i++) {
                lsp_decoder_feed(&d, "Content-Length: 1\r\n\r\ny", 22);
                CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        }
        CHECK(d.cap < 1000000);
        CHECK(blen == 1 && body[0] == 'y');
        lsp_decoder_done(&d);
}

static void test_body_stays_valid_until_next_call(void)
{
        struct lsp_decoder d;
        const char *b1, *b2;
        size_t l1, l2;
        const char *s = "Content-Length: 3\r\n\r\nonecontent-length: 3\r\n\r\ntwo";

        lsp_decoder_init(&d, 0);
        lsp_decoder_feed(&d, s, strlen(s));
        CHECK_INT(lsp_decoder_next(&d, &b1, &l1), 1);
        CHECK_INT(lsp_decoder_buffered(&d), 24);
        CHECK(l1 == 3 && memcmp(b1, "one", 3) == 0);
        CHECK_INT(lsp_decoder_next(&d, &b2, &l2), 1);
        CHECK(l2 == 3 && memcmp(b2, "two", 3) == 0);
        CHECK_INT(lsp_decoder_buffered(&d), 0);
        lsp_decoder_done(&d);
}

static void test_header_encode(void)
{
        char h[LSP_HEADER_MAX];

        CHECK_INT(lsp_header_encode(h, 0), 21);
        CHECK_STR(h, "Content-Length: 0\r\n\r\n");
        CHECK_INT(lsp_header_encode(h, 1234567), 27);
        CHECK_STR(h, "Content-Length: 1234567\r\n\r\n");
        lsp_header_encode(h, SIZE_MAX);
        CHECK_STR(h, "Content-Length: 18446744073709551615\r\n\r\n");
}

static void set_nonblock(int fd)
{
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Reads everything the pipe holds into the decoder. */
static void drain_pipe(int fd, struct lsp_decoder *d)
{
        char buf[65536];
        ssize_t n;

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                lsp_decoder_feed(d, buf, (size_t)n);
}

static void test_outq_roundtrip(void)
{
        struct lsp_outq q;
        struct lsp_decoder d;
        const char *body;
        size_t blen;
        int fds[2];
        char *owned = strdup("{\"owned\":true}");

        CHECK_INT(pipe(fds), 0);
        set_nonblock(fds[0]);
        set_nonblock(fds[1]);
        lsp_outq_init(&q, 0);
        lsp_decoder_init(&d, 0);

        CHECK_INT(lsp_outq_send(&q, fds[1], "{\"a\":1}", 7), 0);
        CHECK_INT(lsp_outq_queued(&q), 0);
        CHECK_INT(lsp_outq_push(&q, owned, strlen(owned)), 0);
        CHECK_INT(lsp_outq_push_copy(&q, "", 0), 0);
        CHECK_INT(lsp_outq_queued(&q), 22 + 14 + 21);
        CHECK_INT(lsp_outq_flush(&q, fds[1]), 1);
        CHECK_INT(lsp_outq_queued(&q), 0);

        drain_pipe(fds[0], &d);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK(blen == 7 && memcmp(body, "{\"a\":1}", 7) == 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK(blen == 14 && memcmp(body, "{\"owned\":true}", 14) == 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1);
        CHECK_INT(blen, 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);

        lsp_outq_done(&q);
        lsp_decoder_done(&d);
        close(fds[0]);
        close(fds[1]);
}

/* A pipe that fills up: the rest is queued in order, back-pressure is
 * signalled with hysteresis, and every byte arrives once the reader
 * catches up. */
static void test_outq_partial_writes(void)
{
        enum { BIG = 300000, N = 5 };
        struct lsp_outq q;
        struct lsp_decoder d;
        char *big = malloc(BIG);
        const char *body;
        size_t blen;
        int fds[2], got = 0, rounds = 0, r;

        CHECK_INT(pipe(fds), 0);
        set_nonblock(fds[0]);
        set_nonblock(fds[1]);
        lsp_outq_init(&q, 400000);
        lsp_decoder_init(&d, 0);

        for (int i = 0; i < N; i++) {
                memset(big, 'a' + i, BIG);
                CHECK_INT(lsp_outq_send(&q, fds[1], big, BIG), 0);
                if (i == 0) {
                        /* the pipe took part of it; the rest was copied */
                        CHECK(lsp_outq_queued(&q) > 0);
                        CHECK(lsp_outq_queued(&q) < BIG);
                        CHECK(!lsp_outq_full(&q));
                }
        }
        CHECK(lsp_outq_full(&q));
        CHECK_INT(lsp_outq_flush(&q, fds[1]), 0); /* still full: EAGAIN */

        do {
                drain_pipe(fds[0], &d);
                while (lsp_decoder_next(&d, &body, &blen) > 0) {
                        CHECK_INT(blen, BIG);
                        CHECK(body[0] == 'a' + got && body[BIG - 1] == 'a' + got);
                        got++;
                }
                if (lsp_outq_queued(&q) <= 200000)
                        CHECK(!lsp_outq_full(&q));
                else if (lsp_outq_queued(&q) >= 400000)
                        CHECK(lsp_outq_full(&q));
                r = lsp_outq_flush(&q, fds[1]);
                CHECK(r >= 0);
        } while ((r == 0 || got < N) && ++rounds < 1000);
        drain_pipe(fds[0], &d);
        while (lsp_decoder_next(&d, &body, &blen) > 0)
                got++;
        CHECK_INT(got, N);
        CHECK_INT(lsp_outq_queued(&q), 0);
        CHECK(!lsp_outq_full(&q));

        lsp_outq_done(&q);
        lsp_decoder_done(&d);
        close(fds[0]);
        close(fds[1]);
        free(big);
}

static void test_outq_errors(void)
{
        struct lsp_outq q;
        int fds[2];

        signal(SIGPIPE, SIG_IGN);
        CHECK_INT(pipe(fds), 0);
        close(fds[0]);
        lsp_outq_init(&q, 0);
        CHECK_INT(lsp_outq_send(&q, fds[1], "{}", 2), -EPIPE);
        CHECK_INT(lsp_outq_push_copy(&q, "{}", 2), 0);
        CHECK_INT(lsp_outq_flush(&q, fds[1]), -EPIPE);
        CHECK_INT(lsp_outq_queued(&q), 23); /* left queued */
        CHECK_INT(lsp_outq_flush(&q, -1), -EBADF);
        lsp_outq_done(&q);
        CHECK_INT(lsp_outq_queued(&q), 0);
        close(fds[1]);
}

/* ---------------------------------------------------------------------- */

static struct lsp_peek peek_ok(const char *json)
{
        struct lsp_peek p = {0};
        int r = lsp_peek(json, strlen(json), &p);

        if (r != 0)
                fprintf(stderr, "  lsp_peek(%s)\n", json);
        CHECK_INT(r, 0);
        return p;
}

static char *raw_id(const struct lsp_peek *p)
{
        static char buf[256];

        snprintf(buf, sizeof(buf), "%.*s", (int)p->id_len, p->id ? p->id : "");
        return buf;
}

static void test_peek_request(void)
{
        struct lsp_peek p = peek_ok("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
                                    "\"params\":{\"processId\":42,\"rootUri\":null}}");

        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_REQUEST);
        CHECK_INT(p.id_type, LSP_ID_INT);
        CHECK_INT(p.id_int, 1);
        CHECK_STR(raw_id(&p), "1");
        CHECK(lsp_peek_method_is(&p, "initialize"));
        CHECK(!lsp_peek_method_is(&p, "initialized"));
        CHECK(!lsp_peek_method_is(&p, "initializ"));
        CHECK(!p.method_escaped);
        CHECK(p.has_params && !p.has_result && !p.has_error);
}

static void test_peek_ids(void)
{
        static const struct {
                const char *json;
                enum lsp_id_type type;
                int64_t value;
                const char *raw;
        } cases[] = {
            {"{\"id\":0,\"result\":null}", LSP_ID_INT, 0, "0"},
            {"{\"id\":-5,\"result\":null}", LSP_ID_INT, -5, "-5"},
            {"{\"id\":-0,\"result\":null}", LSP_ID_INT, 0, "-0"},
            {"{\"id\":9223372036854775807,\"result\":1}", LSP_ID_INT, INT64_MAX,
             "9223372036854775807"},
            {"{\"id\":-9223372036854775808,\"result\":1}", LSP_ID_INT, INT64_MIN,
             "-9223372036854775808"},
            {"{\"id\":9223372036854775808,\"result\":1}", LSP_ID_OTHER, 0, "9223372036854775808"},
            {"{\"id\":1.5,\"result\":1}", LSP_ID_OTHER, 0, "1.5"},
            {"{\"id\":1e3,\"result\":1}", LSP_ID_OTHER, 0, "1e3"},
            {"{\"id\":01,\"result\":1}", LSP_ID_OTHER, 0, "01"},
            {"{\"id\":true,\"result\":1}", LSP_ID_OTHER, 0, "true"},
            {"{\"id\":{\"x\":1},\"result\":1}", LSP_ID_OTHER, 0, "{\"x\":1}"},
            {"{\"id\":null,\"error\":{\"code\":-32700}}", LSP_ID_NULL, 0, "null"},
            {"{\"id\":\"abc\",\"result\":1}", LSP_ID_STRING, 0, "\"abc\""},
            {"{\"id\":\"\",\"result\":1}", LSP_ID_STRING, 0, "\"\""},
            /* escapes are kept exactly as sent */
            {"{\"id\":\"a\\\"b\\\\\",\"result\":1}", LSP_ID_STRING, 0, "\"a\\\"b\\\\\""},
            {"{\"id\":\"\\u00e9\\\\\\\"\",\"result\":1}", LSP_ID_STRING, 0, "\"\\u00e9\\\\\\\"\""},
            {"{ \"id\" :\t42 \n, \"result\" : 1 }", LSP_ID_INT, 42, "42"},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct lsp_peek p = peek_ok(cases[i].json);
                CHECK_INT(p.id_type, cases[i].type);
                CHECK_INT(p.id_int, cases[i].value);
                CHECK_STR(raw_id(&p), cases[i].raw);
                CHECK_INT(lsp_peek_kind(&p), LSP_MSG_RESPONSE);
        }
}

static void test_peek_nested_ids_ignored(void)
{
        struct lsp_peek p;

        p = peek_ok("{\"jsonrpc\":\"2.0\",\"method\":\"$/progress\",\"params\":{\"id\":5,"
                    "\"value\":{\"id\":\"x\",\"method\":\"evil\",\"result\":[{\"id\":1}]}}}");
        CHECK_INT(p.id_type, LSP_ID_NONE);
        CHECK(p.id == NULL);
        CHECK(lsp_peek_method_is(&p, "$/progress"));
        CHECK(!p.has_result);
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_NOTIFICATION);

        /* method and id after params whose strings hold quotes, braces,
           backslashes and key-like text */
        p = peek_ok("{\"params\":{\"text\":\"}{\\\"id\\\":3,\\\"method\\\":\\\"evil\\\"]\\\\\","
                    "\"arr\":[[\"]\",{\"}\":\"{\"}],\"\\\\\"]},\"method\":\"textDocument/didOpen\","
                    "\"id\":7}");
        CHECK_INT(p.id_type, LSP_ID_INT);
        CHECK_INT(p.id_int, 7);
        CHECK(lsp_peek_method_is(&p, "textDocument/didOpen"));
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_REQUEST);

        /* a key that merely contains "id" */
        p = peek_ok("{\"idx\":1,\"xid\":2,\"method\":\"m\"}");
        CHECK_INT(p.id_type, LSP_ID_NONE);
}

static void test_peek_escaped_keys_and_methods(void)
{
        struct lsp_peek p;

        p = peek_ok("{\"\\u0069d\":3,\"meth\\u006fd\":\"textDocument\\/didOpen\"}");
        CHECK_INT(p.id_type, LSP_ID_INT);
        CHECK_INT(p.id_int, 3);
        CHECK(p.method_escaped);
        CHECK_INT(p.method_len, strlen("textDocument\\/didOpen"));
        CHECK(lsp_peek_method_is(&p, "textDocument/didOpen"));
        CHECK(!lsp_peek_method_is(&p, "textDocument/didClose"));
        char m[32];
        CHECK_INT(lsp_peek_method(&p, m, sizeof(m)), (long)strlen("textDocument/didOpen"));
        CHECK_STR(m, "textDocument/didOpen");
        CHECK_INT(lsp_peek_method(&p, m, strlen("textDocument/didOpen")), -ENOBUFS);

        /* non-ASCII through \u escapes, including a surrogate pair */
        p = peek_ok("{\"method\":\"caf\\u00e9\\ud83d\\ude00\"}");
        CHECK(lsp_peek_method_is(&p, "caf\xc3\xa9\xf0\x9f\x98\x80"));
        CHECK_INT(lsp_peek_method(&p, m, sizeof(m)), 9);
        CHECK_STR(m, "caf\xc3\xa9\xf0\x9f\x98\x80");
        p = peek_ok("{\"method\":\"a\\x\"}");
        CHECK_INT(lsp_peek_method(&p, m, sizeof(m)), -EINVAL);
        p = peek_ok("{\"id\":1}");
        CHECK_INT(lsp_peek_method(&p, m, sizeof(m)), -ENOENT);

        /* the last duplicate wins, as in jansson */
        p = peek_ok("{\"id\":1,\"method\":\"a\",\"id\":\"two\",\"method\":\"b\"}");
        CHECK_INT(p.id_type, LSP_ID_STRING);
        CHECK_STR(raw_id(&p), "\"two\"");
        CHECK(lsp_peek_method_is(&p, "b"));
}

static void test_peek_kinds(void)
{
        struct lsp_peek p;

        p = peek_ok("{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_NOTIFICATION);
        CHECK(!p.has_params);
        p = peek_ok("{\"jsonrpc\":\"2.0\",\"id\":\"r1\",\"error\":{\"code\":-32801,"
                    "\"message\":\"content modified\"}}");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_RESPONSE);
        CHECK(p.has_error && !p.has_result);
        p = peek_ok("{\"id\":1,\"result\":1,\"error\":{}}");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_INVALID);
        p = peek_ok("{\"result\":1}");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_INVALID);
        p = peek_ok("{}");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_INVALID);
        p = peek_ok(" \r\n{ } \n");
        CHECK_INT(lsp_peek_kind(&p), LSP_MSG_INVALID);
}

static void test_peek_malformed(void)
{
        static const char *bad[] = {
            "",
            "   ",
            "[]",
            "null",
            "{",
            "{\"id\":1",
            "{\"id\" 1}",
            "{\"id\":}",
            "{\"id\":1,}",
            "{\"id\":1 \"method\":\"x\"}",
            "{id:1}",
            "{\"method\":5}",
            "{\"method\":{\"x\":1}}",
            "{\"a\":\"unterminated}",
            "{\"a\":\"ends in backslash\\\"}",
            "{\"a\":[1,2}",
            "{\"a\":{\"b\":[1]}",
            "{}x",
            "{}{}",
            "{\"a\":,}",
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct lsp_peek p = {.id_type = LSP_ID_INT, .id_int = 99};
                int r = lsp_peek(bad[i], strlen(bad[i]), &p);
                if (r != -EBADMSG)
                        fprintf(stderr, "  lsp_peek(%s) = %d\n", bad[i], r);
                CHECK_INT(r, -EBADMSG);
                CHECK_INT(p.id_int, 99); /* untouched on failure */
        }
}

static void test_peek_does_not_read_past_len(void)
{
        /* the body is not NUL-terminated: a message followed by the next
           header in the same buffer */
        const char buf[] = "{\"id\":12}Content-Length: 2";
        struct lsp_peek p;

        CHECK_INT(lsp_peek(buf, 9, &p), 0);
        CHECK_INT(p.id_int, 12);
        CHECK_INT(lsp_peek(buf, 8, &p), -EBADMSG);
        CHECK_INT(lsp_peek(buf, 7, &p), -EBADMSG);
}

/* Found by fuzz-framing: one Content-Length line longer than the header
 * line limit made the decoder report -E2BIG forever (resync accepted the
 * line the header parser refused), and the guard spun. */
static void test_overlong_length_line_ends(void)
{
        struct lsp_decoder d;
        const char *body;
        size_t blen;
        static char stream[LSP_HEADER_LINE_MAX + 200];
        int n = snprintf(stream, sizeof stream, "Content-Length:");
        memset(stream + n, ' ', LSP_HEADER_LINE_MAX - 15);
        n += LSP_HEADER_LINE_MAX - 15;
        n += snprintf(stream + n, sizeof stream - (size_t)n,
                      "22\nContent-Length: 2\r\n\r\n{}");

        lsp_decoder_init(&d, 0);
        CHECK_INT(lsp_decoder_feed(&d, stream, (size_t)n), 0);
        int errors = 0, r;
        while ((r = lsp_decoder_next(&d, &body, &blen)) < 0 && errors < 10)
                errors++;
        CHECK(errors >= 1 && errors < 10);
        CHECK_INT(r, 1);
        CHECK(blen == 2 && memcmp(body, "{}", 2) == 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 0);
        lsp_decoder_done(&d);
}

/* Found by fuzz-framing: a body longer than its Content-Length puts its
 * tail in front of the next header on one line ("x\"}Content-Length: 2"),
 * which parsed as a header named "x\"}..." and lost the next message. */
static void test_header_glued_to_long_body(void)
{
        struct lsp_decoder d;
        const char *body;
        size_t blen;
        const char *stream = "Content-Length: 10\r\n\r\n{\"uri\":\"file:///x\"}"
                             "Content-Length: 2\r\n\r\n{}";

        lsp_decoder_init(&d, 0);
        CHECK_INT(lsp_decoder_feed(&d, stream, strlen(stream)), 0);
        CHECK_INT(lsp_decoder_next(&d, &body, &blen), 1); /* the 10 declared bytes */
        CHECK_INT(blen, 10);
        int r, errors = 0;
        while ((r = lsp_decoder_next(&d, &body, &blen)) < 0 && errors < 10)
                errors++;
        CHECK_INT(errors, 1);
        CHECK_CONTAINS(lsp_decoder_reason(&d), "Content-Length header inside it");
        CHECK_INT(r, 1);
        CHECK(blen == 2 && memcmp(body, "{}", 2) == 0);
        lsp_decoder_done(&d);
}

static struct lsp_json J(const char *s)
{
        return (struct lsp_json){s, s + strlen(s)};
}

/* The recorder's decoder: JSON string text -> bytes, and back. */
/* The decoder takes plain text eight bytes at a time: every length, and an
 * escape at every position, must decode whole (a string whose length was a
 * multiple of eight was once refused, dropping an editor's didChange). */
static void test_json_string_every_length(void)
{
        for (size_t len = 0; len <= 40; len++) {
                for (size_t esc = 0; esc <= len; esc++) {
                        char json[64], want[64], out[64];
                        size_t j = 0, w = 0;

                        json[j++] = '"';
                        for (size_t i = 0; i < len; i++) {
                                if (i == esc && esc < len) {
                                        json[j++] = '\\';
                                        json[j++] = 'n';
                                        want[w++] = '\n';
                                } else {
                                        json[j++] = (char)('a' + i % 26);
                                        want[w++] = (char)('a' + i % 26);
                                }
                        }
                        json[j++] = '"';
                        ssize_t n = lsp_json_string((struct lsp_json){json, json + j}, out);
                        CHECK_INT(n, (long)w);
                        CHECK(n == (ssize_t)w && memcmp(out, want, w) == 0);
                }
        }
}

static void test_json_string_codec(void)
{
        static const struct {
                const char *json, *bytes; /* bytes NULL: refused */
                size_t len;
        } cases[] = {
            {"\"plain\"", "plain", 5},
            {"\"\\t\\n\\r\\b\\f\\\"\\\\\\/\"", "\t\n\r\b\f\"\\/", 8},
            {"\"\\u00e9\\u20ac\"", "\xc3\xa9\xe2\x82\xac", 5},
            {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
            {"\"\\u0000x\"", "\0x", 2},
            /* lone surrogates: kept in their 3-byte form */
            {"\"a\\ud800b\"", "a\xed\xa0\x80" "b", 5},
            {"\"\\udfff\"", "\xed\xbf\xbf", 3},
            {"\"\\ud800\\u0041\"", "\xed\xa0\x80" "A", 4},
            {"\"\\ude00\\ud83d\"", "\xed\xb8\x80\xed\xa0\xbd", 6},
            {"\"raw \xc3\xa9\"", "raw \xc3\xa9", 6},
            /* a last run of plain bytes that fills whole 8-byte words,
             * after an escape, a non-ASCII character or nothing */
            {"\"abcdefgh\"", "abcdefgh", 8},
            {"\"abcdefghabcdefgh\"", "abcdefghabcdefgh", 16},
            {"\"a\\nabcdefgh\"", "a\nabcdefgh", 10},
            {"\"xxxxxx\xc3\xa9" "12345678\"", "xxxxxx\xc3\xa9" "12345678", 16},
            {"\"\\x\"", NULL, 0},
            {"\"\\u12\"", NULL, 0},
            {"\"tab\there\"", NULL, 0},       /* raw control character */
            {"\"\xc3\"", NULL, 0},            /* truncated UTF-8 */
            {"\"\xed\xa0\x80\"", NULL, 0},    /* raw surrogate bytes: not UTF-8 */
            {"12", NULL, 0},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char out[64];
                ssize_t n = lsp_json_string(J(cases[i].json), out);
                size_t jl = strlen(cases[i].json);

                /* the contents alone: checked to the same length, and
                 * decoded in place to the same bytes */
                if (jl >= 2 && cases[i].json[0] == '"') {
                        char in[64];
                        memcpy(in, cases[i].json + 1, jl - 2);
                        CHECK_INT(lsp_json_contents_check(in, jl - 2), n);
                        CHECK_INT(lsp_json_contents_decode(in, jl - 2, in), n);
                        CHECK(n < 0 || !memcmp(in, cases[i].bytes, (size_t)n));
                }
                if (!cases[i].bytes) {
                        CHECK_INT(n, -EBADMSG);
                        continue;
                }
                CHECK_INT(n, (long)cases[i].len);
                CHECK(n == (ssize_t)cases[i].len && !memcmp(out, cases[i].bytes, cases[i].len));
                /* escaping gives back JSON that decodes to the same bytes */
                char back[200];
                size_t bl = lsp_json_escape(out, (size_t)n, NULL);
                back[0] = '"';
                CHECK_INT(lsp_json_escape(out, (size_t)n, back + 1), (long)bl);
                back[bl + 1] = '"';
                back[bl + 2] = '\0';
                char again[64];
                CHECK_INT(lsp_json_string(J(back), again), n);
                CHECK(!memcmp(again, out, (size_t)n));
        }
        char e[32];
        size_t el = lsp_json_escape("a\xed\xa0\x80\x01\"", 6, e);
        e[el] = '\0';
        CHECK_STR(e, "a\\ud800\\u0001\\\"");
        /* bounded: the whole length either way, never a byte past cap */
        memset(e, '#', sizeof(e));
        CHECK_INT(lsp_json_escape_max("a\xed\xa0\x80\x01\"", 6, e, 4), (long)el);
        CHECK(e[4] == '#');
        CHECK_INT(lsp_json_escape_max("a\xed\xa0\x80\x01\"", 6, e, el), (long)el);
        CHECK(!memcmp(e, "a\\ud800\\u0001\\\"", el) && e[el] == '#');
}

/* The rules of a JSON string's contents (RFC 8259, with UTF-8 as RFC
 * 3629 gives it and a lone \u surrogate kept as 3 bytes), a byte at a
 * time and as plainly as they can be put: the reference that
 * lsp_json_string_end() is held to. */
static bool is_cont(unsigned char c, unsigned char lo, unsigned char hi)
{
        return c >= lo && c <= hi;
}

/* Four hex digits at s, or -1. */
static long ref_hex4(const unsigned char *s)
{
        long v = 0;

        for (int i = 0; i < 4; i++) {
                int d = s[i] >= '0' && s[i] <= '9'   ? s[i] - '0'
                        : s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10
                        : s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10
                                                     : -1;
                if (d < 0)
                        return -1;
                v = v * 16 + d;
        }
        return v;
}

static const char *ref_string_end(const char *p, const char *end, ssize_t *len)
{
        const unsigned char *s = (const unsigned char *)p, *e = (const unsigned char *)end;
        ssize_t n = 0;

        while (s < e) {
                if (*s == '"') {
                        *len = n;
                        return (const char *)s;
                }
                if (*s < 0x20)
                        return NULL;
                if (*s == '\\') {
                        if (e - s < 2)
                                return NULL;
                        if (strchr("\"\\/bfnrt", s[1]) && s[1]) {
                                n++;
                                s += 2;
                                continue;
                        }
                        if (s[1] != 'u' || e - s < 6)
                                return NULL;
                        long cp = ref_hex4(s + 2), lo;
                        if (cp < 0)
                                return NULL;
                        if (cp >= 0xD800 && cp < 0xDC00 && e - s >= 12 && s[6] == '\\' &&
                            s[7] == 'u' && (lo = ref_hex4(s + 8)) >= 0xDC00 && lo <= 0xDFFF) {
                                n += 4;
                                s += 12;
                                continue;
                        }
                        n += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
                        s += 6;
                        continue;
                }
                if (*s < 0x80) {
                        n++;
                        s++;
                        continue;
                }
                /* RFC 3629's UTF8-2, UTF8-3 and UTF8-4, spelled out */
                size_t k = 0;
                if (*s >= 0xC2 && *s <= 0xDF)
                        k = e - s >= 2 && is_cont(s[1], 0x80, 0xBF) ? 2 : 0;
                else if (*s == 0xE0)
                        k = e - s >= 3 && is_cont(s[1], 0xA0, 0xBF) && is_cont(s[2], 0x80, 0xBF) ? 3 : 0;
                else if ((*s >= 0xE1 && *s <= 0xEC) || *s == 0xEE || *s == 0xEF)
                        k = e - s >= 3 && is_cont(s[1], 0x80, 0xBF) && is_cont(s[2], 0x80, 0xBF) ? 3 : 0;
                else if (*s == 0xED)
                        k = e - s >= 3 && is_cont(s[1], 0x80, 0x9F) && is_cont(s[2], 0x80, 0xBF) ? 3 : 0;
                else if (*s == 0xF0)
                        k = e - s >= 4 && is_cont(s[1], 0x90, 0xBF) && is_cont(s[2], 0x80, 0xBF) &&
                                    is_cont(s[3], 0x80, 0xBF) ? 4 : 0;
                else if (*s >= 0xF1 && *s <= 0xF3)
                        k = e - s >= 4 && is_cont(s[1], 0x80, 0xBF) && is_cont(s[2], 0x80, 0xBF) &&
                                    is_cont(s[3], 0x80, 0xBF) ? 4 : 0;
                else if (*s == 0xF4)
                        k = e - s >= 4 && is_cont(s[1], 0x80, 0x8F) && is_cont(s[2], 0x80, 0xBF) &&
                                    is_cont(s[3], 0x80, 0xBF) ? 4 : 0;
                if (!k)
                        return NULL;
                n += (ssize_t)k;
                s += k;
        }
        return NULL;
}

/* Held to the reference on strings made of pieces that matter to it
 * (backslash runs, escaped and bare quotes, \u escapes and surrogates,
 * control characters, well- and ill-formed UTF-8) at every offset around
 * the 64-byte blocks it works in, and at random. */
static void check_string_end(const char *buf, size_t n, const char *what)
{
        ssize_t want_len = -7, got_len = -7;
        const char *want = ref_string_end(buf, buf + n, &want_len);
        const char *got = lsp_json_string_end(buf, buf + n, &got_len);

        if (got != want || (want && got_len != want_len))
                fprintf(stderr, "  string_end(%s, %zu bytes): end %td, len %zd; reference: "
                                "end %td, len %zd\n",
                        what, n, got ? got - buf : -1, got ? got_len : -1,
                        want ? want - buf : -1, want ? want_len : -1);
        CHECK(got == want && (!want || got_len == want_len));
}

/* Strings made of pieces at random, from a fixed seed (a 64-bit LCG with
 * Knuth's MMIX constants): pick(r) says which piece comes next.  Appends
 * to buf until it holds `want` bytes or the next piece would not fit in
 * `room`; returns the length. */
static size_t join_pieces(char *buf, size_t room, size_t want, uint64_t *seed,
                          const char *(*pick)(uint64_t r))
{
        size_t n = 0;

        while (n < want) {
                *seed = *seed * 6364136223846793005u + 1442695040888963407u;
                const char *piece = pick(*seed);
                size_t pl = strlen(piece);
                if (n + pl > room)
                        break;
                memcpy(buf + n, piece, pl);
                n += pl;
        }
        return n;
}

static const char *const end_pieces[] = {
    "\\",   "\\\\",       "\\\"",     "\"",           "\\n",       "\\t",
    "\\/",  "\\u0041",    "\\u00e9",  "\\u20ac",      "\\ud83d",   "\\ude00",
    "\\ud83d\\ude00",     "\\uZZ12",  "\\x",          "\x01",      "\x1f",
    "\xc3\xa9",           "\xc3",     "\xa9",         "\xe2\x82\xac",
    "\xed\x9f\xbf",       "\xed\xa0\x80",             "\xe0\x80\xaf",
    "\xf0\x9f\x98\x80",   "\xf4\x8f\xbf\xbf",         "\xf4\x90\x80\x80",
    "\xf0\x9f\x98",       "\xc0\xaf", "\x7f",         "a",         "abcdefgh",
};

/* Mostly text, as in source code; any piece otherwise. */
static const char *pick_end_piece(uint64_t r)
{
        if ((r >> 20) % 4 == 0)
                return "func x() {";
        return end_pieces[(r >> 40) % (sizeof(end_pieces) / sizeof(end_pieces[0]))];
}

static void test_json_string_end(void)
{
        const char *const *pieces = end_pieces;
        const size_t np = sizeof(end_pieces) / sizeof(end_pieces[0]);
        char buf[512], what[64];
        unsigned failed_before = check_test_failed_;

        /* one piece at each offset, in plain text, then a closing quote */
        for (size_t i = 0; i < np; i++)
                for (size_t off = 0; off < 140; off++) {
                        size_t pl = strlen(pieces[i]), n = 0;
                        memset(buf, 'x', off);
                        n = off;
                        memcpy(buf + n, pieces[i], pl);
                        n += pl;
                        memset(buf + n, 'y', 70);
                        n += 70;
                        buf[n++] = '"';
                        snprintf(what, sizeof(what), "piece %zu at %zu", i, off);
                        check_string_end(buf, n, what);
                        /* with more after the quote, so that the block that
                         * holds it is taken whole */
                        memset(buf + n, 'z', 80);
                        check_string_end(buf, n + 80, what);
                        /* and cut short at every length */
                        for (size_t cut = off; cut <= off + pl + 1; cut++)
                                check_string_end(buf, cut, what);
                }
        /* a run of k backslashes before a quote ends at byte 63, 64, 65 */
        for (size_t k = 0; k < 9; k++)
                for (size_t at = 55; at < 70; at++) {
                        size_t n;
                        memset(buf, 'x', sizeof(buf));
                        memset(buf + at - k, '\\', k);
                        buf[at] = '"';
                        n = at + 80;
                        buf[n - 1] = '"';
                        snprintf(what, sizeof(what), "%zu backslashes before %zu", k, at);
                        check_string_end(buf, n, what);
                }
        /* random strings of pieces, from a fixed seed */
        uint64_t seed = 0x9E3779B97F4A7C15u;
        for (unsigned t = 0; t < 20000 && check_test_failed_ == failed_before; t++) {
                size_t n = join_pieces(buf, sizeof(buf) - 1, 1 + (seed >> 33) % 400, &seed,
                                       pick_end_piece);
                snprintf(what, sizeof(what), "random string %u", t);
                check_string_end(buf, n, what);
                if (n + 81 <= sizeof(buf)) {
                        memcpy(buf + n, "\"", 1);
                        memset(buf + n + 1, 'z', 80);
                        check_string_end(buf, n + 81, what);
                }
        }
}

/* A value skipped over (as lsp_peek() and lsp_json_member() skip what
 * they do not look inside) ends at its first quote that no backslash
 * escapes, whatever comes before it, around the 64-byte blocks too. */
static const char *pick_skip_piece(uint64_t r)
{
        static const char *const pieces[] = {"\\", "\\\\", "\\\"", "\"", "x", "abcdefgh",
                                             "\xc3\xa9", "\x01", "\\u0022"};
        const char *piece = pieces[(r >> 40) % (sizeof(pieces) / sizeof(pieces[0]))];

        /* a bare quote ends the string: rarely, for long strings */
        return piece[0] == '"' && (r >> 20) % 16 ? "y" : piece;
}

static void test_json_skip_string(void)
{
        char body[700];
        uint64_t seed = 42;

        for (unsigned t = 0; t < 20000; t++) {
                char buf[400];
                size_t n, end;

                seed = seed * 6364136223846793005u + 1442695040888963407u;
                n = join_pieces(buf, sizeof(buf) - 2, (seed >> 33) % 300, &seed, pick_skip_piece);
                buf[n++] = '"';
                for (end = 0; end < n && buf[end] != '"'; end++)
                        if (buf[end] == '\\')
                                end++;
                if (end >= n)
                        continue; /* the last quote is escaped: no end */
                /* {"s":"<buf up to its first unescaped quote>,"z":1,"pad":"..."}:
                 * with enough after the string that its end is found in a
                 * whole block */
                int bl = snprintf(body, sizeof(body), "{\"s\":\"%.*s,\"z\":1,\"pad\":\"%080d\"}",
                                  (int)(end + 1), buf, 0);
                struct lsp_json v = {body, body + bl}, m;
                int r = lsp_json_member(v, "z", &m);
                if (r != 1)
                        fprintf(stderr, "  skipping string %u: %s\n", t, body);
                CHECK_INT(r, 1);
                if (r != 1)
                        break;
        }
}

static void test_json_walk(void)
{
        const char *doc = " {\"a\":1, \"t\\u0065xt\":\"x\",\"o\":{\"a\":[1,{\"b\":2}]},\"l\":[ 1 , \"2\",[3] ],"
                          "\"a\":-7 } ";
        struct lsp_json v = {doc + 1, doc + strlen(doc) - 1}, m, e;
        const char *cur = NULL;
        int64_t n;

        CHECK_INT(lsp_json_member(v, "a", &m), 1);
        CHECK_INT(lsp_json_int(m, &n), 0);
        CHECK_INT(n, -7); /* the last duplicate */
        CHECK_INT(lsp_json_member(v, "text", &m), 1);
        CHECK(lsp_json_is_string(m));
        CHECK_INT(lsp_json_member(v, "b", &m), 0);
        CHECK_INT(lsp_json_member(v, "l", &m), 1);
        unsigned count = 0;
        while (lsp_json_next(m, &cur, &e) == 1)
                count++;
        CHECK_INT(count, 3);
        CHECK_INT(lsp_json_next(J("[1,]"), &(const char *){NULL}, &e), 1);
        cur = NULL;
        CHECK_INT(lsp_json_next(J("[]"), &cur, &e), 0);
        CHECK_INT(lsp_json_member(J("{\"a\" 1}"), "a", &m), -EBADMSG);
        CHECK_INT(lsp_json_member(J("{\"a\":1,}"), "a", &m), -EBADMSG);
        CHECK_INT(lsp_json_member(J("[1]"), "a", &m), -EBADMSG);
        CHECK_INT(lsp_json_member(J("{}"), "a", &m), 0);
}

/* One pass over params finds textDocument's members and checks its text
 * as lsp_json_contents_check() would, whatever the member order. */
static void test_json_members_nested(void)
{
        static const char *const outer[] = {"textDocument", "contentChanges"};
        static const char *const inner[] = {"uri", "version", "text"};
        static const struct {
                const char *json;
                int ret; /* outer keys found, or -EBADMSG */
                bool has_uri;
                ssize_t text; /* checked length, -1 none */
                bool has_changes;
        } rows[] = {
            {"{\"textDocument\":{\"uri\":\"u\",\"version\":1,\"text\":\"a\\tb\"}}", 1, true, 3,
             false},
            {"{\"contentChanges\":[{\"text\":\"x\"}],\"textDocument\":{\"uri\":\"u\"}}", 2, true,
             -1, true},
            {"{ \"textDocument\" : { \"text\" : \"q\\\"\\u00e9\" , \"uri\":\"u\" } }", 1, true, 4,
             false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"\\ud800\"}}", 1, true, 3, false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"\"}}", 1, true, 0, false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":7}}", 1, true, -1, false},
            {"{\"textDocument\":[1,2],\"x\":{}}", 1, false, -1, false},
            {"{}", 0, false, -1, false},
            /* refused: the text is not valid contents, or the JSON is broken */
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"a\\qb\"}}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"\xff\"}}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"a\tb\"}}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\",\"text\":\"abc}}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\"}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\",}}", -EBADMSG, false, -1, false},
            {"{\"textDocument\":{\"uri\":\"u\"}}}", -EBADMSG, false, -1, false},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                struct lsp_json v = {rows[i].json, rows[i].json + strlen(rows[i].json)};
                struct lsp_json ov[2], iv[3];
                ssize_t tl = 99;
                int r = lsp_json_members_nested(v, outer, ov, 2, 0, inner, iv, 3, 2, &tl);

                if (r != rows[i].ret) {
                        fprintf(stderr, "row %zu: %s -> %d\n", i, rows[i].json, r);
                        CHECK(false);
                        continue;
                }
                if (r < 0)
                        continue;
                CHECK(!!iv[0].p == rows[i].has_uri);
                CHECK_INT(tl, rows[i].text);
                CHECK(!!ov[1].p == rows[i].has_changes);
                /* lsp_peek() delimits params exactly, for this walk */
                char msg[512];
                struct lsp_peek pk;
                int ml = snprintf(msg, sizeof msg,
                                  "{\"jsonrpc\":\"2.0\",\"params\": %s ,\"method\":\"m\"}",
                                  rows[i].json);
                CHECK_INT(lsp_peek(msg, (size_t)ml, &pk), 0);
                CHECK(pk.params && pk.params_len == strlen(rows[i].json) &&
                      memcmp(pk.params, rows[i].json, pk.params_len) == 0);
                if (rows[i].text >= 0) {
                        /* the same length as the check of the contents alone */
                        CHECK_INT(
                            lsp_json_contents_check(iv[2].p + 1, (size_t)(iv[2].end - iv[2].p - 2)),
                            tl);
                }
        }
}

int main(void)
{
        RUN(test_single_and_merged);
        RUN(test_every_split_point);
        RUN(test_header_spelling);
        RUN(test_zero_length_body);
        RUN(test_limit);
        RUN(test_oversized_body_is_not_buffered);
        RUN(test_bad_lengths);
        RUN(test_bad_headers_reasons);
        RUN(test_resync);
        RUN(test_resync_keeps_memory_bounded);
        RUN(test_reserve_commit);
        RUN(test_body_stays_valid_until_next_call);
        RUN(test_header_encode);
        RUN(test_outq_roundtrip);
        RUN(test_outq_partial_writes);
        RUN(test_outq_errors);
        RUN(test_peek_request);
        RUN(test_peek_ids);
        RUN(test_peek_nested_ids_ignored);
        RUN(test_peek_escaped_keys_and_methods);
        RUN(test_peek_kinds);
        RUN(test_peek_malformed);
        RUN(test_peek_does_not_read_past_len);
        RUN(test_overlong_length_line_ends);
        RUN(test_header_glued_to_long_body);
        RUN(test_json_string_codec);
        RUN(test_json_string_every_length);
        RUN(test_json_string_end);
        RUN(test_json_skip_string);
        RUN(test_json_walk);
        RUN(test_json_members_nested);
        return check_summary();
}

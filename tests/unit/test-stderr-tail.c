/* test-stderr-tail.c — the server's stderr pass-through: every byte
 * reaches the output in order, a stalled output never blocks the loop
 * (the tail stops reading instead, and goes on once the output drains),
 * the last lines are kept per generation, and what is left at a
 * generation's end is passed on.  Pipes stand in for both sides. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "check.h"
#include "stderr-tail.h"

/* Run the loop until nothing is pending (bounded). */
static void spin(sd_event *e)
{
        for (int i = 0; i < 1000; i++)
                if (sd_event_run(e, 0) <= 0)
                        break;
}

/* Everything readable from `fd` now, appended to buf. */
static size_t drain(int fd, char *buf, size_t have, size_t cap)
{
        ssize_t n;
        while (have < cap && (n = read(fd, buf + have, cap - have)) > 0)
                have += (size_t)n;
        return have;
}

static void test_stalled_output(void)
{
        sd_event *e = NULL;
        int out[2], in[2];
        struct stderr_tail t;
        CHECK(sd_event_new(&e) >= 0);
        CHECK(pipe2(out, O_CLOEXEC) == 0 && pipe2(in, O_CLOEXEC) == 0);
        /* The smallest pipe the kernel gives (one page) as the output, and
         * its reader stalled; the reading end drained non-blocking later. */
        (void)fcntl(out[1], F_SETPIPE_SZ, 4096);
        CHECK(fcntl(out[0], F_SETFL, O_NONBLOCK) == 0);
        CHECK(stderr_tail_init(&t, e, out[1]) == 0);
        CHECK(t.out_pollable);
        CHECK(stderr_tail_attach(&t, in[0]) == 0);

        /* 2000 numbered lines (~30 KiB): far more than the output holds. */
        static char want[65536], got[65536];
        size_t wlen = 0, glen = 0;
        for (int i = 0; i < 2000; i++)
                wlen += (size_t)snprintf(want + wlen, sizeof want - wlen, "line %04d\n", i);
        CHECK(fcntl(in[1], F_SETFL, O_NONBLOCK) == 0);
        size_t sent = 0;
        int rounds = 0;
        bool waited = false;
        while ((sent < wlen || glen < wlen) && rounds++ < 10000) {
                if (sent < wlen) {
                        ssize_t n = write(in[1], want + sent, wlen - sent);
                        if (n > 0)
                                sent += (size_t)n;
                }
                /* The loop returns although the output is full: it never
                 * blocks (a blocking write would hang this test). */
                spin(e);
                waited = waited || t.pend_len > 0;
                /* Only now and then does the reader read: a slow terminal. */
                if (rounds % 3 == 0)
                        glen = drain(out[0], got, glen, sizeof got);
        }
        close(in[1]);
        stderr_tail_detach(&t); /* the generation ends */
        glen = drain(out[0], got, glen, sizeof got);
        CHECK_INT(glen, wlen);
        CHECK(memcmp(got, want, wlen) == 0); /* every byte, in order */
        CHECK(waited);                       /* the output was full at times: this was tested */

        char *tail = stderr_tail_text(&t, 3);
        CHECK_STR(tail, "line 1997\nline 1998\nline 1999\n");
        free(tail);

        /* A new generation's tail starts afresh. */
        int in2[2];
        CHECK(pipe2(in2, O_CLOEXEC) == 0);
        CHECK(stderr_tail_attach(&t, in2[0]) == 0);
        CHECK(write(in2[1], "second\n", 7) == 7);
        close(in2[1]);
        spin(e);
        stderr_tail_detach(&t);
        tail = stderr_tail_text(&t, 40);
        CHECK_STR(tail, "second\n");
        free(tail);
        glen = drain(out[0], got, 0, sizeof got);
        CHECK_INT(glen, 7);

        stderr_tail_free(&t);
        close(out[0]);
        close(out[1]);
        sd_event_unref(e);
}

/* A ring that wrapped keeps whole lines only. */
static void test_wrapped_ring(void)
{
        sd_event *e = NULL;
        int in[2];
        struct stderr_tail t;
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(sd_event_new(&e) >= 0);
        CHECK(stderr_tail_init(&t, e, devnull) == 0);
        CHECK(!t.out_pollable); /* epoll refuses /dev/null: written directly */
        CHECK(pipe2(in, O_CLOEXEC) == 0);
        CHECK(stderr_tail_attach(&t, in[0]) == 0);
        char line[100];
        memset(line, 'x', sizeof line - 1);
        line[sizeof line - 1] = '\n';
        for (int i = 0; i < 400; i++) { /* 40000 bytes through a 16 KiB ring */
                CHECK(write(in[1], line, sizeof line) == (ssize_t)sizeof line);
                spin(e);
        }
        close(in[1]);
        stderr_tail_detach(&t);
        char *tail = stderr_tail_text(&t, 1000);
        CHECK(tail && strlen(tail) % sizeof line == 0 && tail[0] == 'x');
        CHECK(tail && strlen(tail) <= STDERR_TAIL_BYTES);
        free(tail);
        stderr_tail_free(&t);
        close(devnull);
        sd_event_unref(e);
}

int main(void)
{
        RUN(test_stalled_output);
        RUN(test_wrapped_ring);
        return check_summary();
}

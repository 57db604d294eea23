/* test-notify.c — the pure parts of what the guard tells the service
 * manager: the watchdog's ping interval and the STATUS= line.  The
 * messages themselves are read from a fake NOTIFY_SOCKET in
 * integration/notify. */
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "notify.h"

static void test_watchdog_interval(void)
{
        static const struct {
                uint64_t usec, want;
        } t[] = {
            {30000000, 15000000}, /* WatchdogSec=30s: a ping every 15 s */
            {1000000, 500000},
            {3, 1},
            {1, 1}, /* never 0: that would spin the loop */
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
                CHECK_U64(notify_watchdog_interval(t[i].usec), t[i].want);
}

static void test_status_line(void)
{
        static const struct {
                const char *state;
                unsigned gen;
                const char *cur, *max;
                bool degraded;
                const char *want;
        } t[] = {
            {"running", 1, "120M", "8G", false, "running (generation 1): 120M of 8G"},
            {"backoff", 3, "0B", "max", false, "backoff (generation 3): 0B of max"},
            {"running", 2, "1.5G", "4G", true, "running (generation 2): 1.5G of 4G, degraded"},
        };
        char buf[NOTIFY_STATUS_MAX];
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                notify_status_line(buf, sizeof buf, t[i].state, t[i].gen, t[i].cur, t[i].max,
                                   t[i].degraded);
                CHECK_STR(buf, t[i].want);
        }
        /* one line, however small the buffer */
        char small[8];
        notify_status_line(small, sizeof small, "running", 1, "1M", "2M", false);
        CHECK_STR(small, "running");
}

int main(void)
{
        RUN(test_watchdog_interval);
        RUN(test_status_line);
        return check_summary();
}

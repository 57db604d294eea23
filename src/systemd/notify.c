#include "notify.h"

#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

uint64_t notify_watchdog_interval(uint64_t usec)
{
        return usec / 2 > 0 ? usec / 2 : 1;
}

void notify_status_line(char *buf, size_t len, const char *state, unsigned generation,
                        const char *current, const char *max, bool degraded)
{
        snprintf(buf, len, "%s (generation %u): %s of %s%s", state, generation, current, max,
                 degraded ? ", degraded" : "");
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct notifier *n = userdata;
        (void)usec;
        (void)sd_notify(false, "WATCHDOG=1");
        (void)sd_event_source_set_time_relative(s, n->watchdog_usec);
        return 0;
}

int notify_start(struct notifier *n, sd_event *event)
{
        uint64_t usec = 0;
        /* 0 when WATCHDOG_USEC is unset or WATCHDOG_PID names another
         * process (a child that inherited the variables). */
        int r = sd_watchdog_enabled(false, &usec);
        if (r <= 0 || usec == 0)
                return r < 0 ? r : 0;
        n->watchdog_usec = notify_watchdog_interval(usec);
        /* The first ping at once: the manager counts from the start. */
        r = sd_event_add_time_relative(event, &n->watchdog, CLOCK_MONOTONIC, 0, 0, on_watchdog, n);
        if (r >= 0)
                r = sd_event_source_set_enabled(n->watchdog, SD_EVENT_ON);
        return r < 0 ? r : 1;
}

void notify_ready(struct notifier *n)
{
        if (n->ready)
                return;
        n->ready = true;
        (void)sd_notify(false, "READY=1");
}

void notify_status(struct notifier *n, const char *line)
{
        if (strcmp(n->status, line) == 0)
                return;
        snprintf(n->status, sizeof n->status, "%s", line);
        (void)sd_notifyf(false, "STATUS=%s", line);
}

void notify_stopping(struct notifier *n)
{
        if (n->stopping)
                return;
        n->stopping = true;
        (void)sd_notify(false, "STOPPING=1");
}

void notify_done(struct notifier *n)
{
        n->watchdog = sd_event_source_disable_unref(n->watchdog);
}

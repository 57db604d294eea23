/* notify.h — what the guard tells the service manager (sd_notify(3)):
 * READY=1 once it serves (daemon mode: once its socket takes editors),
 * STATUS= one line whenever it changes, WATCHDOG=1
 * at half of WATCHDOG_USEC when the unit sets WatchdogSec= (the pings come
 * from the event loop, so a stuck loop stops them and systemd acts), and
 * STOPPING=1 once it begins to stop.  Without NOTIFY_SOCKET every call is
 * a no-op.  Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define NOTIFY_STATUS_MAX 256

struct notifier {
        sd_event_source *watchdog; /* NULL when no watchdog is asked for */
        uint64_t watchdog_usec;    /* the ping interval */
        bool ready, stopping;
        char status[NOTIFY_STATUS_MAX]; /* the last STATUS= sent */
};

/* The ping interval for a WATCHDOG_USEC of `usec`: half of it, as
 * sd_watchdog_enabled(3) advises, and never 0. */
uint64_t notify_watchdog_interval(uint64_t usec);

/* The STATUS= line: "running (generation 2): 1.2G of 8G", with
 * ", degraded" when the guard has no cgroup. */
void notify_status_line(char *buf, size_t len, const char *state, unsigned generation,
                        const char *current, const char *max, bool degraded);

/* Arm the watchdog pings on `event` when the manager asked for them
 * (WATCHDOG_USEC set, WATCHDOG_PID this process).  Returns 1 when armed,
 * 0 when not asked for, or a negative errno. */
int notify_start(struct notifier *n, sd_event *event);
/* READY=1, the first time only. */
void notify_ready(struct notifier *n);
/* STATUS=`line`, when it differs from the last one sent. */
void notify_status(struct notifier *n, const char *line);
/* STOPPING=1, the first time only. */
void notify_stopping(struct notifier *n);
void notify_done(struct notifier *n);

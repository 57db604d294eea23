/* proactive.h — [pressure] proactive on the guard's event loop: feeds the
 * decider (pressure.h) with memory samples on a timer whose period the
 * decider chooses (fast only near the threshold), with the memory.events
 * `high` counter the watch reads, and with the PSI trigger's POLLPRI; and
 * calls the guard back when a restart is due now.
 *
 * The guard owns the server; this owns one timer, the PSI fd and its io
 * source.  Nothing here logs except what it decides about PSI (whether a
 * trigger could be set), once per guard. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "pressure.h"

struct proactive_ops {
        /* The server's memory now (memory.current, or degraded the tree's
         * RSS): 0 or a negative errno (the sample is skipped). */
        int (*sample)(void *userdata, uint64_t *ret_bytes);
        /* Whether an editor request is in flight. */
        bool (*busy)(void *userdata);
        /* Restart now; `bytes` is the last sample. */
        void (*restart)(void *userdata, enum pressure_reason why, uint64_t bytes,
                        uint64_t eta_usec);
        void *userdata;
};

struct proactive {
        sd_event *event;
        struct pressure_config cfg;
        struct pressure ps;
        struct proactive_ops ops;
        usec_t slow; /* the longest gap between two samples */
        sd_event_source *timer, *psi_src;
        int psi_fd;
        bool running; /* a server generation is being watched */
        uint64_t last_bytes;
};

/* The decider's configuration from the policy: restart_above, above_for,
 * proactive, and `max` (memory.max, the limit the forecast aims at). */
void proactive_config(const struct policy *p, struct pressure_config *ret);

/* Set up (no server yet).  `slow`: the longest gap between two samples
 * (capped at 250 ms; degraded mode passes its /proc poll interval, since
 * each sample walks /proc).  0 or a negative errno. */
int proactive_init(struct proactive *pr, sd_event *e, const struct policy *p, usec_t slow,
                   const struct proactive_ops *ops);

/* Arm the PSI trigger `trigger` on `leaf_fd` (the server leaf, which
 * outlives generations).  0, or a negative errno (psi.h) that the caller
 * reports; the other signals work without it. */
int proactive_psi(struct proactive *pr, int leaf_fd, const char *trigger);

/* Close the PSI trigger (the leaf it is on goes away); no-op without one. */
void proactive_psi_close(struct proactive *pr);

/* A server generation started / ended. */
void proactive_spawned(struct proactive *pr, usec_t now);
void proactive_ended(struct proactive *pr);

/* memory.events was read (the watch's callback or a poll). */
void proactive_high(struct proactive *pr, usec_t now, uint64_t high_count);

void proactive_done(struct proactive *pr);

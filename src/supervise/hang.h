/* hang.h — whether the server is hung ([health] request_timeout).
 *
 * The server is hung when an editor request has been in flight to it for
 * request_timeout while its CPU use made no progress: a busy server (a
 * large workspace loading, a slow type check) keeps using CPU and is left
 * alone however long it takes; a deadlocked one, or one stopped waiting
 * for something that will not come, uses none.
 *
 * Pure: the guard feeds hang_check() at every sample with the sequence
 * number of the oldest watched request in flight (session_watched_request():
 * which requests are watched, and why some are not, is said there) and the
 * server's cumulative CPU time (cpu.stat usage_usec of the server leaf, or
 * the /proc utime+stime of its tree in degraded mode).
 *
 * "No progress" allows a trickle: a stretch is broken, and starts again,
 * whenever the CPU used since it began exceeds HANG_IDLE_PER_MILLE per
 * mille of its length (0.1% of one CPU).  An idle Go program (the runtime's
 * sysmon and timers) stays well below that; anything doing work is far
 * above it.  Cumulative over the stretch rather than per sample, so that
 * one runtime blip late in a long idle stretch does not reset it.
 *
 * A stretch also starts again when the watched request changes (the one
 * watched was answered: the server is alive), when the CPU counter goes
 * back (a new server generation, or a process of the tree reaped outside
 * it), and when the input says the CPU use is unknown (then nothing is
 * decided: a hang is never guessed). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

#define HANG_IDLE_PER_MILLE 1

struct hang_sample {
        uint64_t request; /* the oldest watched request in flight, 0: none */
        bool cpu_known;
        uint64_t cpu_usec; /* the server's cumulative CPU time */
};

struct hang_watch {
        usec_t timeout;   /* 0: off */
        uint64_t request; /* watched since `since`, 0: none */
        usec_t since;
        uint64_t cpu_since; /* CPU time at `since` */
};

void hang_init(struct hang_watch *w, usec_t timeout);

/* One sample at `now`: true when the server is hung (the stretch reached
 * the timeout); the caller then acts once and calls hang_reset(). */
bool hang_check(struct hang_watch *w, usec_t now, const struct hang_sample *s);

/* Forget the stretch (the server was killed or replaced). */
void hang_reset(struct hang_watch *w);

/* How long the current stretch has lasted at `now` (0: none), for the log. */
usec_t hang_stretch(const struct hang_watch *w, usec_t now);

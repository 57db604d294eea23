/* pressure.h — when to restart the server before the kernel kills it
 * ([pressure] proactive).  Pure: every function takes the time (CLOCK_MONOTONIC
 * usec) and what the guard observed, changes the state and returns a
 * verdict; no I/O, no clock reads, so the rules are tested with tables
 * (tests/unit/test-pressure.c).
 *
 * Three signals call for a restart (DESIGN.md [pressure]):
 *   - memory.current (or, degraded, the tree's RSS) at or above
 *     `restart_above` without a break for `above_for`;
 *   - the memory.events `high` counter climbing steadily for `above_for`
 *     (each rise within HIGH_GAP of the last one: the kernel is reclaiming
 *     without pause) while the usage stays over memory.high (by more than
 *     1/64: the per-CPU charge batches) — reclaim that keeps the usage at
 *     `high` (page cache of the files gopls reads) counts `high` events all
 *     the time and is no reason to restart;
 *   - the PSI trigger on the leaf's memory.pressure firing — where
 *     memory.high lies below memory.max, only with the usage over high as
 *     for the high rule: reclaim at high stalls the server too, also when
 *     it only keeps the page cache at high.
 * and one calls for it at once: the forecast.  While above `restart_above`,
 * the growth rate of the last samples says when `max` would be reached; if
 * that is before `above_for` runs out (or within `urgent_within` from now),
 * waiting would hand the server to the OOM killer, so the restart is due
 * now.  With memory.high equal to memory.max the kernel does not throttle
 * the growth, and this is what wins the race.
 *
 * A restart that is due but not urgent waits for a quiet moment: no editor
 * request in flight (`busy` false), or `quiet_wait` after it became due,
 * whichever comes first; the forecast turning urgent ends the wait too.
 *
 * Growth must be seen early to be forecast: pressure_next_sample() says
 * when to sample next — `fast_interval` at or above the watermark (3/4 of
 * restart_above), while `high` events come in, or while a restart is due;
 * below it, no later than the moment the current growth rate would reach
 * the watermark (half of that time, since the rate may still rise).
 *
 * A server that needs more than restart_above right after each start
 * would be restarted forever, and a proactive restart never counts toward
 * giving up: after PRESSURE_MAX_QUICK proactive restarts in a row of
 * servers that each ran less than `healthy_after`, proactive restarts are
 * suspended (the kernel's limit and the crash-loop rules take over) until
 * a server runs `healthy_after`. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

/* A gap longer than this between two rises of the `high` counter ends a
 * streak: the kernel counts `high` on every charge over memory.high it
 * reclaims for, so under steady pressure rises come many times a second
 * (coalesced to ~10 ms notifications); a second without one means the
 * pressure let up. */
#define PRESSURE_HIGH_GAP_USEC (1000 * 1000ULL)
#define PRESSURE_MAX_QUICK 3

enum pressure_verdict {
        PRESSURE_KEEP,        /* nothing to do */
        PRESSURE_WHEN_QUIET,  /* due; waiting for no request in flight */
        PRESSURE_RESTART_NOW, /* restart now (the caller then calls pressure_restarting()) */
};

enum pressure_reason {
        PRESSURE_NONE,
        PRESSURE_ABOVE,    /* above restart_above for above_for */
        PRESSURE_FORECAST, /* the growth rate reaches max before above_for runs out */
        PRESSURE_HIGH,     /* memory.events high climbing for above_for */
        PRESSURE_PSI,      /* the PSI trigger fired */
};

struct pressure_config {
        bool enabled;           /* [pressure] proactive */
        uint64_t restart_above; /* bytes; POLICY_NO_LIMIT: no size rule, no forecast */
        uint64_t max;  /* memory.max (degraded: the kill at [memory] max); POLICY_NO_LIMIT */
        uint64_t high; /* memory.high; POLICY_NO_LIMIT: no `high` rule */
        usec_t above_for;
        usec_t quiet_wait;    /* bounded wait for no request in flight */
        usec_t urgent_within; /* forecast: restart now when max is this close */
        usec_t fast_interval; /* sampling near the threshold */
        usec_t healthy_after; /* a run this long ends a suspension ([restart] reset_after) */
};

struct pressure {
        usec_t spawned_at;
        /* memory.current */
        usec_t above_since; /* 0: below restart_above */
        uint64_t last_bytes;
        usec_t last_at; /* 0: no sample yet */
        double rate;    /* bytes per usec, smoothed; >= 0 */
        /* memory.events high */
        uint64_t high_count;
        bool high_known;
        usec_t high_since, high_last; /* streak; 0: none */
        /* the restart */
        enum pressure_reason due; /* NONE: not due */
        usec_t due_at;
        bool restarted; /* this generation was restarted proactively */
        unsigned quick; /* proactive restarts in a row of short runs */
        bool suspended;
};

/* A new server generation was spawned at `now`: the samples start over;
 * counts whether the previous one was a quick proactive restart. */
void pressure_spawned(struct pressure *ps, const struct pressure_config *c, usec_t now);

/* A memory sample (bytes) at `now`; `busy`: an editor request is in flight. */
enum pressure_verdict pressure_sample(struct pressure *ps, const struct pressure_config *c,
                                      usec_t now, uint64_t bytes, bool busy);

/* memory.events `high` read at `now` (the whole counter; the first call of
 * a generation only sets the baseline). */
enum pressure_verdict pressure_high(struct pressure *ps, const struct pressure_config *c,
                                    usec_t now, uint64_t high_count, bool busy);

/* The PSI trigger fired at `now`. */
enum pressure_verdict pressure_psi(struct pressure *ps, const struct pressure_config *c, usec_t now,
                                   bool busy);

/* Re-check a due restart (a timer, or the last request answered). */
enum pressure_verdict pressure_check(struct pressure *ps, const struct pressure_config *c,
                                     usec_t now, bool busy);

/* The caller carries out a restart for which RESTART_NOW was returned. */
void pressure_restarting(struct pressure *ps, usec_t now);

/* When to sample memory next, relative to `now`: at most `slow`. */
usec_t pressure_next_sample(const struct pressure *ps, const struct pressure_config *c, usec_t now,
                            usec_t slow);

/* The forecast: usec until `max` at the current rate; USEC_INFINITY-like
 * UINT64_MAX when not growing or max is unlimited. */
uint64_t pressure_eta(const struct pressure *ps, const struct pressure_config *c);

const char *pressure_reason_name(enum pressure_reason r);

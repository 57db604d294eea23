/* pressure.c — the proactive-restart decider (contract in pressure.h). */
#include "pressure.h"

#include <string.h>

/* Samples closer than this give no usable rate: two reads of
 * memory.current a few usec apart differ by noise only. */
#define MIN_RATE_SPAN_USEC (10 * USEC_PER_MSEC)

static bool active(const struct pressure *ps, const struct pressure_config *c)
{
        return c->enabled && !ps->suspended && !ps->restarted;
}

static bool size_rule(const struct pressure_config *c)
{
        return c->restart_above != POLICY_NO_LIMIT;
}

void pressure_spawned(struct pressure *ps, const struct pressure_config *c, usec_t now)
{
        struct pressure next = {.spawned_at = now, .quick = ps->quick, .suspended = ps->suspended};

        if (ps->restarted) {
                usec_t ran = now > ps->spawned_at ? now - ps->spawned_at : 0;
                next.quick = ran < c->healthy_after ? ps->quick + 1 : 0;
                if (next.quick >= PRESSURE_MAX_QUICK)
                        next.suspended = true;
        } else if (ps->spawned_at && now - ps->spawned_at >= c->healthy_after) {
                /* The previous server ended otherwise after a healthy run. */
                next.quick = 0;
                next.suspended = false;
        }
        *ps = next;
}

uint64_t pressure_eta(const struct pressure *ps, const struct pressure_config *c)
{
        if (c->max == POLICY_NO_LIMIT || ps->last_at == 0)
                return UINT64_MAX;
        if (ps->last_bytes >= c->max)
                return 0;
        if (!(ps->rate > 0.0))
                return UINT64_MAX;
        double eta = (double)(c->max - ps->last_bytes) / ps->rate;
        return eta >= 1.8e19 ? UINT64_MAX : (uint64_t)eta;
}

/* Whether waiting any longer risks the OOM killer. */
static bool urgent(const struct pressure *ps, const struct pressure_config *c, usec_t now)
{
        if (!size_rule(c) || ps->above_since == 0)
                return false;
        uint64_t eta = pressure_eta(ps, c);
        if (eta <= c->urgent_within)
                return true;
        /* Reaches max before above_for would run out. */
        usec_t due = ps->above_since + c->above_for;
        return due > now && eta < due - now;
}

/* Reclaim failed to bring the usage back under memory.high. */
static bool over_high(const struct pressure *ps, const struct pressure_config *c)
{
        return c->high != POLICY_NO_LIMIT && ps->last_at && ps->last_bytes > c->high + c->high / 64;
}

static void make_due(struct pressure *ps, enum pressure_reason why, usec_t now)
{
        if (ps->due != PRESSURE_NONE)
                return;
        ps->due = why;
        ps->due_at = now;
}

enum pressure_verdict pressure_check(struct pressure *ps, const struct pressure_config *c,
                                     usec_t now, bool busy)
{
        if (!active(ps, c))
                return PRESSURE_KEEP;
        if (urgent(ps, c, now)) {
                /* The forecast overrides any reason already due, so that the
                 * log says why it could not wait. */
                if (ps->due == PRESSURE_NONE || ps->due == PRESSURE_ABOVE)
                        ps->due = PRESSURE_FORECAST;
                if (!ps->due_at)
                        ps->due_at = now;
                return PRESSURE_RESTART_NOW;
        }
        if (size_rule(c) && ps->above_since && now - ps->above_since >= c->above_for)
                make_due(ps, PRESSURE_ABOVE, now);
        if (ps->high_since && now - ps->high_since >= c->above_for && over_high(ps, c))
                make_due(ps, PRESSURE_HIGH, now);
        if (ps->due == PRESSURE_NONE)
                return PRESSURE_KEEP;
        if (!busy || now - ps->due_at >= c->quiet_wait)
                return PRESSURE_RESTART_NOW;
        return PRESSURE_WHEN_QUIET;
}

enum pressure_verdict pressure_sample(struct pressure *ps, const struct pressure_config *c,
                                      usec_t now, uint64_t bytes, bool busy)
{
        if (ps->suspended && now - ps->spawned_at >= c->healthy_after) {
                /* This server outlived the start-up growth: watch it again. */
                ps->suspended = false;
                ps->quick = 0;
        }
        if (ps->last_at && now >= ps->last_at + MIN_RATE_SPAN_USEC) {
                double inst =
                    ((double)bytes - (double)ps->last_bytes) / (double)(now - ps->last_at);
                if (inst < 0.0)
                        inst = 0.0; /* freed memory: no growth, not a negative ETA */
                /* Half the weight on the newest span: a steady leak is seen
                 * within two samples, one burst (a GC cycle's swing) fades. */
                ps->rate = ps->rate > 0.0 ? (ps->rate + inst) / 2.0 : inst;
                ps->last_bytes = bytes;
                ps->last_at = now;
        } else if (!ps->last_at) {
                ps->last_bytes = bytes;
                ps->last_at = now;
        } else if (bytes > ps->last_bytes) {
                /* Too close for a rate, but the level counts. */
                ps->last_bytes = bytes;
        }

        if (size_rule(c) && bytes >= c->restart_above) {
                if (!ps->above_since)
                        ps->above_since = now;
        } else {
                ps->above_since = 0;
                /* Dropped back below: a restart due to the size rule or the
                 * forecast is no longer called for. */
                if (ps->due == PRESSURE_ABOVE || ps->due == PRESSURE_FORECAST)
                        ps->due = PRESSURE_NONE, ps->due_at = 0;
        }
        /* A high streak with no rise for HIGH_GAP is over. */
        if (ps->high_since && now - ps->high_last > PRESSURE_HIGH_GAP_USEC)
                ps->high_since = ps->high_last = 0;
        return pressure_check(ps, c, now, busy);
}

enum pressure_verdict pressure_high(struct pressure *ps, const struct pressure_config *c,
                                    usec_t now, uint64_t high_count, bool busy)
{
        bool rose = ps->high_known && high_count > ps->high_count;

        ps->high_count = high_count;
        ps->high_known = true;
        if (rose) {
                if (!ps->high_since || now - ps->high_last > PRESSURE_HIGH_GAP_USEC)
                        ps->high_since = now;
                ps->high_last = now;
        }
        return pressure_check(ps, c, now, busy);
}

enum pressure_verdict pressure_psi(struct pressure *ps, const struct pressure_config *c, usec_t now,
                                   bool busy)
{
        /* Below memory.high's reach the stall is reclaim at high keeping
         * the usage there (page cache), as for the high rule; with no high
         * under max the stall can only be reclaim at max. */
        bool throttled_by_high = c->high != POLICY_NO_LIMIT && c->max != POLICY_NO_LIMIT
                                     ? c->high < c->max
                                     : c->high != POLICY_NO_LIMIT;
        if (active(ps, c) && (!throttled_by_high || over_high(ps, c)))
                make_due(ps, PRESSURE_PSI, now);
        return pressure_check(ps, c, now, busy);
}

void pressure_restarting(struct pressure *ps, usec_t now)
{
        (void)now;
        ps->restarted = true;
}

usec_t pressure_next_sample(const struct pressure *ps, const struct pressure_config *c, usec_t now,
                            usec_t slow)
{
        usec_t fast = c->fast_interval < slow ? c->fast_interval : slow;

        if (!active(ps, c))
                return slow;
        if (ps->due != PRESSURE_NONE || ps->high_since)
                return fast;
        if (!size_rule(c) || !ps->last_at)
                return slow;
        uint64_t watermark = c->restart_above / 4 * 3;
        if (ps->last_bytes >= watermark)
                return fast;
        if (!(ps->rate > 0.0))
                return slow;
        double until = (double)(watermark - ps->last_bytes) / ps->rate / 2.0;
        (void)now;
        if (until < (double)fast)
                return fast;
        if (until >= (double)slow)
                return slow;
        return (usec_t)until;
}

const char *pressure_reason_name(enum pressure_reason r)
{
        switch (r) {
        case PRESSURE_NONE:
                return "none";
        case PRESSURE_ABOVE:
                return "above";
        case PRESSURE_FORECAST:
                return "forecast";
        case PRESSURE_HIGH:
                return "high";
        case PRESSURE_PSI:
                return "psi";
        }
        return "invalid";
}

/* supervisor.c — the restart state machine (contract in supervisor.h).
 *
 * Every transition is one small function per (state, event) pair that the
 * table in the header marks; anything else is a no-op returning NONE, so a
 * late or duplicated event (a timer that fired after a stop, a second
 * start) can never restart a server the user asked to stop. */
#include "supervisor.h"

#include <math.h>
#include <string.h>

#define RING_SIZE (SV_MAX_RESTARTS_LIMIT + 1)

static struct sv_action act_none(void)
{
        return (struct sv_action){.kind = SV_ACT_NONE};
}

static struct sv_action act_exit(struct supervisor *sv, int code, bool gave_up)
{
        sv->state = SV_DONE;
        return (struct sv_action){.kind = SV_ACT_EXIT, .exit_code = code, .gave_up = gave_up};
}

static struct sv_action act_spawn(struct supervisor *sv, usec_t now)
{
        sv->state = SV_RUNNING;
        /* Provisional: if the spawn fails the caller reports an exit (127)
         * without ever calling sv_spawned(), and that failed attempt must
         * count as a run of zero length, not as a healthy run lasting since
         * the previous server started (which would reset the backoff and
         * let a missing binary be retried every backoff_initial). */
        sv->started_at = now;
        sv->hang_kill = false; /* about the server that went */
        sv->restart_by_user = false;
        return (struct sv_action){.kind = SV_ACT_SPAWN};
}

/* Out of COOLDOWN: the server gets a whole new window. */
static struct sv_action act_spawn_fresh(struct supervisor *sv, usec_t now)
{
        sv->n_restarts_at = 0;
        sv->first_restart_at = 0;
        sv->consecutive = 0;
        return act_spawn(sv, now);
}

void sv_init(struct supervisor *sv, const struct policy *p)
{
        memset(sv, 0, sizeof(*sv));
        sv->on = p->restart.on;
        sv->backoff_initial = p->restart.backoff_initial;
        sv->backoff_factor = p->restart.backoff_factor;
        sv->backoff_max = p->restart.backoff_max;
        sv->reset_after = p->restart.reset_after;
        sv->window = p->restart.window;
        sv->stop_grace = p->restart.stop_grace;
        sv->wait_after_give_up = p->restart.after_give_up == AFTER_GIVE_UP_WAIT;
        sv->cooldown = p->restart.cooldown;
        /* The ring of restart times is sized for the limit; the policy
         * should already refuse more, this only keeps the ring in bounds. */
        sv->max_restarts = p->restart.max_restarts > SV_MAX_RESTARTS_LIMIT
                               ? SV_MAX_RESTARTS_LIMIT
                               : p->restart.max_restarts;
        sv->state = SV_IDLE;
}

struct sv_action sv_start(struct supervisor *sv, usec_t now)
{
        if (sv->state != SV_IDLE)
                return act_none();
        return act_spawn(sv, now);
}

void sv_spawned(struct supervisor *sv, usec_t now)
{
        /* Only a spawn this machine asked for counts; anything else is a
         * caller bug that must not disturb the bookkeeping. */
        if (sv->state != SV_RUNNING)
                return;
        sv->started_at = now;
        sv->generation++;
}

enum sv_end_kind sv_classify(const struct sv_exit *e)
{
        /* OOM first: the OOM killer's SIGKILL is indistinguishable from any
         * other SIGKILL in the wait status, only memory.events tells. */
        if (e->oom)
                return SV_END_OOM;
        if (e->signal != 0)
                return SV_END_SIGNAL;
        if (e->status != 0)
                return SV_END_FAILURE;
        return SV_END_CLEAN;
}

bool sv_restarts_after(enum restart_on on, enum sv_end_kind kind)
{
        switch (on) {
        case RESTART_ON_OOM:
                /* A hang kill is the guard's doing, not the server's end. */
                return kind == SV_END_OOM || kind == SV_END_HANG;
        case RESTART_ON_CRASH:
                return kind != SV_END_CLEAN;
        case RESTART_ON_ALWAYS:
                /* Ends the editor asked for never reach here: they happen in
                 * STOPPING, which exits without asking. */
                return true;
        case RESTART_ON_NEVER:
        default:
                return false;
        }
}

usec_t sv_backoff_delay(const struct supervisor *sv, unsigned n, double jitter)
{
        double max = (double)sv->backoff_max;
        double d = (double)sv->backoff_initial;
        double scale;

        /* In double: initial * factor^n for n = 1000, factor = 10 is far
         * beyond a usec_t, and pow() then returns +inf, which the cap below
         * absorbs.  0 * inf would be NaN, hence the test on d. */
        if (d > 0.0)
                d *= pow(sv->backoff_factor, (double)n);
        if (!(d <= max))
                d = max;

        if (isnan(jitter))
                jitter = 0.5;
        else if (jitter < 0.0)
                jitter = 0.0;
        else if (jitter > 1.0)
                jitter = 1.0;
        /* +-10%: enough to keep guards that crashed together (one OOM kill
         * taking several workspaces' servers) from restarting in lockstep. */
        scale = 0.9 + 0.2 * jitter;
        d *= scale;

        /* Compare in double and return the integer cap itself: converting a
         * double at or above 2^64 back to usec_t is undefined. */
        if (d >= max)
                return sv->backoff_max;
        return (usec_t)(d + 0.5);
}

int sv_exit_code(const struct sv_exit *e)
{
        /* The shell's convention, which editors and systemd's status
         * display already understand. */
        if (e->signal != 0)
                return 128 + e->signal;
        return e->status;
}

/* Forget restart times that fell out of the window, so that a slow crash
 * loop (one crash per window or less) never gives up. */
static void forget_old_restarts(struct supervisor *sv, usec_t now)
{
        while (sv->n_restarts_at > 0) {
                usec_t t = sv->restarts_at[sv->first_restart_at];
                /* A time from the future (caller clock misuse) counts as
                 * just now rather than wrapping to a huge age. */
                usec_t age = now > t ? now - t : 0;

                if (age <= sv->window)
                        break;
                sv->first_restart_at = (sv->first_restart_at + 1) % RING_SIZE;
                sv->n_restarts_at--;
        }
}

static void record_restart(struct supervisor *sv, usec_t now)
{
        unsigned slot = (sv->first_restart_at + sv->n_restarts_at) % RING_SIZE;

        sv->restarts_at[slot] = now;
        sv->n_restarts_at++;
}

static struct sv_action running_exited(struct supervisor *sv, usec_t now, const struct sv_exit *e,
                                       double jitter)
{
        enum sv_end_kind kind = sv_classify(e);
        usec_t ran, delay;

        /* An OOM kill that beat the guard's own kill stays an OOM kill. */
        if (sv->hang_kill && kind != SV_END_OOM)
                kind = SV_END_HANG;
        if (sv->hang_kill)
                sv->hangs++;
        sv->hang_kill = false;
        sv->last_end = kind;
        if (!sv_restarts_after(sv->on, kind))
                return act_exit(sv, sv_exit_code(e), false);

        forget_old_restarts(sv, now);
        if (sv->n_restarts_at >= sv->max_restarts) {
                sv->give_ups++;
                if (!sv->wait_after_give_up)
                        return act_exit(sv, 4, true);
                sv->state = SV_COOLDOWN;
                return (struct sv_action){
                    .kind = SV_ACT_WAIT, .delay = sv->cooldown, .gave_up = true};
        }
        record_restart(sv, now);

        ran = now > sv->started_at ? now - sv->started_at : 0;
        if (ran >= sv->reset_after)
                sv->consecutive = 0;
        delay = sv_backoff_delay(sv, sv->consecutive, jitter);
        sv->consecutive++;
        sv->total_restarts++;

        sv->state = SV_BACKOFF;
        return (struct sv_action){.kind = SV_ACT_WAIT, .delay = delay};
}

struct sv_action sv_exited(struct supervisor *sv, usec_t now, const struct sv_exit *e,
                           double jitter)
{
        switch (sv->state) {
        case SV_RUNNING:
                return running_exited(sv, now, e, jitter);
        case SV_STOPPING:
                /* We asked it to stop: however it went (SIGTERM, the KILL
                 * after stop_grace, its own status) the guard ends normally. */
                sv->last_end = sv_classify(e);
                return act_exit(sv, 0, false);
        case SV_RESTARTING:
                if (e->oom) {
                        /* The kernel was faster: an OOM kill like any other. */
                        sv->state = SV_RUNNING;
                        return running_exited(sv, now, e, jitter);
                }
                sv->last_end = sv_classify(e);
                if (sv->restart_by_user) {
                        /* The end the user asked for: a fresh backoff too
                         * (the crash loop, if any, was interrupted). */
                        sv->consecutive = 0;
                        sv->requested_restarts++;
                } else
                        sv->proactive_restarts++;
                return act_spawn(sv, now);
        case SV_IDLE:
        case SV_BACKOFF:
        case SV_DONE:
        default:
                return act_none();
        }
}

struct sv_action sv_restart(struct supervisor *sv, usec_t now)
{
        (void)now;
        if (sv->state != SV_RUNNING)
                return act_none();
        sv->state = SV_RESTARTING;
        return (struct sv_action){.kind = SV_ACT_TERMINATE, .delay = sv->stop_grace};
}

struct sv_action sv_timer(struct supervisor *sv, usec_t now)
{
        switch (sv->state) {
        case SV_BACKOFF:
                return act_spawn(sv, now);
        case SV_COOLDOWN:
                return act_spawn_fresh(sv, now);
        case SV_STOPPING:
        case SV_RESTARTING:
                /* stop_grace ran out; the state stays as it is so that the
                 * reap that follows the kill still ends the guard with 0,
                 * or starts the next server. */
                return (struct sv_action){.kind = SV_ACT_KILL};
        case SV_IDLE:
        case SV_RUNNING:
        case SV_DONE:
        default:
                return act_none();
        }
}

struct sv_action sv_stop(struct supervisor *sv, usec_t now)
{
        (void)now;
        switch (sv->state) {
        case SV_IDLE:
        case SV_BACKOFF:
        case SV_COOLDOWN:
                /* No server is running; the caller drops the backoff timer. */
                return act_exit(sv, 0, false);
        case SV_RUNNING:
                sv->state = SV_STOPPING;
                return (struct sv_action){.kind = SV_ACT_TERMINATE, .delay = sv->stop_grace};
        case SV_RESTARTING:
                /* SIGTERM is out and stop_grace armed: wait for the end. */
                sv->state = SV_STOPPING;
                return act_none();
        case SV_STOPPING:
        case SV_DONE:
        default:
                return act_none();
        }
}

struct sv_action sv_restart_requested(struct supervisor *sv, usec_t now)
{
        switch (sv->state) {
        case SV_RUNNING:
                sv->state = SV_RESTARTING;
                sv->restart_by_user = true;
                return (struct sv_action){.kind = SV_ACT_TERMINATE, .delay = sv->stop_grace};
        case SV_BACKOFF:
                /* The caller drops the backoff timer. */
                sv->consecutive = 0;
                sv->requested_restarts++;
                return act_spawn(sv, now);
        case SV_COOLDOWN:
                /* The user fixed the cause: no need to sit out the cooldown. */
                sv->requested_restarts++;
                return act_spawn_fresh(sv, now);
        case SV_IDLE:
        case SV_STOPPING:
        case SV_RESTARTING:
        case SV_DONE:
        default:
                return act_none();
        }
}

struct sv_action sv_hung(struct supervisor *sv, usec_t now)
{
        (void)now;
        if (sv->state != SV_RUNNING || sv->on == RESTART_ON_NEVER || sv->hang_kill)
                return act_none();
        sv->hang_kill = true;
        return (struct sv_action){.kind = SV_ACT_KILL};
}

const char *sv_state_name(enum sv_state s)
{
        switch (s) {
        case SV_IDLE:
                return "idle";
        case SV_RUNNING:
                return "running";
        case SV_BACKOFF:
                return "backoff";
        case SV_STOPPING:
                return "stopping";
        case SV_DONE:
                return "done";
        case SV_RESTARTING:
                return "restarting";
        case SV_COOLDOWN:
                return "cooldown";
        }
        return "invalid";
}

const char *sv_end_kind_name(enum sv_end_kind k)
{
        switch (k) {
        case SV_END_OOM:
                return "oom";
        case SV_END_SIGNAL:
                return "signal";
        case SV_END_FAILURE:
                return "failure";
        case SV_END_CLEAN:
                return "clean";
        case SV_END_HANG:
                return "hang";
        }
        return "invalid";
}

/* supervisor.h — when to start, restart, stop or give up on the server.
 *
 * A pure state machine: every function takes the current time (CLOCK_MONOTONIC
 * usec) and an event, changes the state and returns the one action the
 * caller must carry out.  No I/O, no clock reads, no randomness of its own
 * (the jitter is a parameter), so every decision is testable with literals.
 *
 *   state \ event   start    exited            timer          stop
 *   IDLE            SPAWN    -                 -              EXIT 0
 *   RUNNING         -        see below         -              TERMINATE (-> STOPPING)
 *   BACKOFF         -        -                 SPAWN          EXIT 0
 *   STOPPING        -        EXIT 0            KILL           -
 *   RESTARTING      -        SPAWN (see below) KILL           - (-> STOPPING)
 *   COOLDOWN        -        -                 SPAWN (fresh)  EXIT 0
 *   DONE            -        -                 -              -
 *
 * RUNNING + restart (sv_restart(): a restart the guard chose, such as
 * [pressure] proactive, not an end of the server): TERMINATE(stop_grace),
 * state RESTARTING.  Its end is then expected: SPAWN at once, with no
 * backoff, not recorded in the window (it never leads to giving up) and
 * counted in `proactive_restarts`, not `total_restarts`; only an OOM kill
 * in the meantime (the race was lost) is taken like an end in RUNNING.
 * A stop during RESTARTING turns it into STOPPING: the SIGTERM is out and
 * the stop_grace timer armed already.
 *
 *   state \ event   restart asked for by the user    hung
 *   RUNNING         TERMINATE (-> RESTARTING)         KILL (its end is a hang)
 *   BACKOFF         SPAWN                             -
 *   COOLDOWN        SPAWN (fresh)                     -
 *   others          -                                 -
 *
 * A restart the user asked for (sv_restart_requested(), `gopls-guard
 * restart`) goes like sv_restart() but is counted in `requested_restarts`
 * and also starts the backoff step over; out of BACKOFF or COOLDOWN it
 * starts the server at once.  A hang is an end of the server: the guard
 * kills it and its end (SV_END_HANG) is judged like a crash, except that
 * [restart] on = oom restarts after it too (the guard did the killing; only
 * on = never leaves the server dead, and the guard does not look for hangs
 * then).
 *
 * RUNNING + exited: the end is classified (sv_classify()); if the policy
 * restarts after that kind of end, and fewer than max_restarts restarts
 * happened within the last `window`, the action is WAIT(delay) and the
 * state BACKOFF; if the window is full, the guard gives up: with
 * [restart] after_give_up = exit, EXIT 4 (gave_up); with wait, WAIT
 * (cooldown, gave_up) and the state COOLDOWN, in which the editor stays
 * connected and is answered with errors; otherwise EXIT with the server's
 * own status (128+signal for a signal).  A SPAWN out of COOLDOWN ("fresh")
 * forgets the restarts in the window and the backoff step: the server
 * gets the whole max_restarts again.
 *
 * The backoff delay of the n-th consecutive restart (n = 0 first) is
 * min(backoff_max, backoff_initial * backoff_factor^n), then scaled by a
 * jitter of +-10% (jitter argument in [0,1), 0.5 = none) and clamped to
 * backoff_max again.  n goes back to 0 when the server that just ended had
 * run for at least reset_after. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"

enum sv_state {
        SV_IDLE,
        SV_RUNNING,
        SV_BACKOFF,
        SV_STOPPING,
        SV_DONE,
        SV_RESTARTING,
        SV_COOLDOWN, /* gave up, waiting ([restart] after_give_up = wait) */
};

enum sv_end_kind {
        SV_END_OOM,     /* killed by the kernel's OOM killer (or by the guard at the limit) */
        SV_END_SIGNAL,  /* any other signal */
        SV_END_FAILURE, /* exit status != 0 */
        SV_END_CLEAN,   /* exit status 0, not asked for */
        SV_END_HANG,    /* killed by the guard: a request unanswered, no CPU progress */
};

/* How the server ended, as the guard observed it. */
struct sv_exit {
        int status; /* exit status, when signal == 0 */
        int signal; /* terminating signal, or 0 */
        bool oom;   /* an OOM kill of the server itself (exit-class.h decides) */
};

enum sv_action_kind {
        SV_ACT_NONE,
        SV_ACT_SPAWN,     /* start the server now */
        SV_ACT_WAIT,      /* arm a timer for `delay`, then call sv_timer() */
        SV_ACT_TERMINATE, /* send SIGTERM, arm a timer for `delay` (stop_grace) */
        SV_ACT_KILL,      /* kill the whole cgroup now (cgroup.kill / SIGKILL) */
        SV_ACT_EXIT,      /* exit the guard with `exit_code` */
};

struct sv_action {
        enum sv_action_kind kind;
        usec_t delay;  /* WAIT, TERMINATE */
        int exit_code; /* EXIT: 0, 4 (gave up) or the server's status */
        bool gave_up;  /* EXIT, or WAIT for the cooldown, because of the crash-loop limit */
};

#define SV_MAX_RESTARTS_LIMIT 1000

struct supervisor {
        /* copied from the policy at init */
        enum restart_on on;
        usec_t backoff_initial, backoff_max, reset_after, window, stop_grace;
        double backoff_factor;
        unsigned max_restarts;
        bool wait_after_give_up; /* [restart] after_give_up = wait */
        usec_t cooldown;

        enum sv_state state;
        usec_t started_at;       /* when the current server was spawned */
        unsigned consecutive;    /* restarts since the last healthy run (backoff step) */
        unsigned generation;     /* servers spawned so far (1 for the first) */
        unsigned total_restarts; /* restarts over the guard's life */
        unsigned proactive_restarts; /* restarts by sv_restart() that completed */
        enum sv_end_kind last_end;
        unsigned hangs;              /* servers killed as hung */
        unsigned requested_restarts; /* sv_restart() restarts */
        unsigned give_ups;           /* times the crash-loop limit was hit */
        bool hang_kill;              /* the current server is being killed as hung */
        bool restart_by_user;        /* the RESTARTING is sv_restart_requested()'s */

        /* times of the restarts within the window, oldest first (ring) */
        usec_t restarts_at[SV_MAX_RESTARTS_LIMIT + 1];
        unsigned n_restarts_at, first_restart_at;
};

void sv_init(struct supervisor *sv, const struct policy *p);

/* The guard starts: SPAWN. */
struct sv_action sv_start(struct supervisor *sv, usec_t now);

/* The server was spawned (exec'd).  No action; records the start time. */
void sv_spawned(struct supervisor *sv, usec_t now);

/* The server ended (reaped). */
struct sv_action sv_exited(struct supervisor *sv, usec_t now, const struct sv_exit *e,
                           double jitter);

/* A timer armed by WAIT or TERMINATE fired. */
struct sv_action sv_timer(struct supervisor *sv, usec_t now);

/* Restart the running server now, not as a crash (see above):
 * TERMINATE(stop_grace), or NONE in any state but RUNNING. */
struct sv_action sv_restart(struct supervisor *sv, usec_t now);

/* `gopls-guard restart` (SIGUSR1): a new server now, see the table. */
struct sv_action sv_restart_requested(struct supervisor *sv, usec_t now);

/* The guard found the running server hung (hang.h): KILL, and the end that
 * follows is SV_END_HANG.  NONE in any other state or with on = never. */
struct sv_action sv_hung(struct supervisor *sv, usec_t now);

/* SIGTERM/SIGINT, or the editor went away. */
struct sv_action sv_stop(struct supervisor *sv, usec_t now);

enum sv_end_kind sv_classify(const struct sv_exit *e);

/* Whether `on` restarts after an end of this kind. */
bool sv_restarts_after(enum restart_on on, enum sv_end_kind kind);

/* The delay before the n-th consecutive restart (see above). */
usec_t sv_backoff_delay(const struct supervisor *sv, unsigned n, double jitter);

/* The exit code the guard reports for a server end it does not restart:
 * the status, or 128+signal. */
int sv_exit_code(const struct sv_exit *e);

const char *sv_state_name(enum sv_state s);
const char *sv_end_kind_name(enum sv_end_kind k);

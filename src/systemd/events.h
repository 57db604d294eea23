/* events.h — the guard's events as the journal carries them (DESIGN.md
 * "Journal"): each kind has a name (GOPLS_GUARD_EVENT=) and a fixed
 * MESSAGE_ID (message-ids.h) that units/gopls-guard.catalog explains, and
 * every event entry carries the same structured fields, so that
 * `journalctl GOPLS_GUARD_EVENT=oom-kill GOPLS_GUARD_WORKSPACE=/src/k8s`
 * finds what an administrator asks for.  Pure formatting; the guard logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum guard_event {
        GE_START,             /* a server generation started */
        GE_OOM_KILL,          /* the server was OOM-killed (or killed at the limit, degraded) */
        GE_CRASH,             /* any other end the editor did not ask for */
        GE_RESTART,           /* the guard will start the server again after a delay */
        GE_PROACTIVE_RESTART, /* restarted before the OOM killer acts ([pressure]) */
        GE_HANG,              /* a request unanswered with no CPU progress ([health]) */
        GE_GIVE_UP,           /* too many restarts in the window: the guard exits 4 */
        GE_STOP,              /* the server ended because it was asked to */
        GE__COUNT,
};

/* "start", "oom-kill", ...: GOPLS_GUARD_EVENT's value. */
const char *event_name(enum guard_event kind);
/* The 32 lowercase hex digits of the kind's MESSAGE_ID. */
const char *event_message_id(enum guard_event kind);

/* What an event entry says besides its message.  Sizes in bytes;
 * UINT64_MAX (POLICY_NO_LIMIT) for a limit that is not set. */
struct event_info {
        enum guard_event kind;
        const char *workspace; /* may be NULL */
        int server_pid;        /* 0: none running */
        unsigned generation, restarts;
        uint64_t memory_current, memory_peak, memory_high, memory_max;
        bool degraded;
        int exit_status;     /* >= 0: the server's exit status; -1: none */
        int signal;          /* > 0: the signal that ended it */
        uint64_t delay_usec; /* GE_RESTART: the backoff before the start */
};

/* The journal fields of `e`, "KEY=VALUE" lines joined by '\n' (what
 * log_fields() takes): MESSAGE_ID, GOPLS_GUARD_EVENT, _WORKSPACE (when
 * known; a newline in it becomes '?'), _SERVER_PID, _GENERATION,
 * _RESTARTS, _MEMORY_CURRENT, _MEMORY_PEAK, _MEMORY_HIGH, _MEMORY_MAX
 * (bytes, or "max"), _DEGRADED (yes|no), and when set _EXIT_STATUS,
 * _SIGNAL, _RESTART_DELAY_USEC.  Returns the length, or -ENOBUFS when
 * `len` is too small (the buffer then holds nothing usable). */
int event_fields(const struct event_info *e, char *buf, size_t len);

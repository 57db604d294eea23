/* exit-class.h — what one end of the server was, and the other small
 * decisions the guard takes around an end.  Pure: no I/O, no clock, so
 * every rule is tested with tables (tests/unit/test-exit-class.c).
 *
 * OOM attribution, per end.  memory.events of the server leaf counts every
 * process of the leaf that any OOM killer killed (the leaf's own memory.max,
 * an ancestor's, or the global one), the server and its `go list` children
 * alike.  The counter alone cannot say which process died, so an end is an
 * OOM kill only if both hold:
 *   - the server itself died by SIGKILL (the OOM killer sends nothing else;
 *     a clean exit or any other signal is never an OOM kill), and
 *   - oom_kill or oom_group_kill rose since the baseline.
 * The baseline is the counter set at the spawn of this generation, moved
 * forward each time an OOM kill was seen and the server was still alive a
 * moment later (the victim was a child: that kill is spent and must not be
 * pinned on a later end of the same server).
 * Why memory.events and not memory.events.local: the two differ only for
 * kills in cgroups below server/, which are still the server's processes.
 * Why "rose" and not a count: with memory.oom.group=1, 6.1 counts the
 * victim twice in oom_kill (FACTS.md); whether it rose is the same on every
 * kernel, and oom_group_kill (5.17+) is only consulted as "rose" too.
 *
 * Degraded mode (no cgroup): an end is an OOM kill only if the guard killed
 * the tree at [memory] max and the server died by SIGKILL (it may have
 * exited on its own in the moment between). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "supervisor.h"

struct ec_end {
        int status; /* exit status, when signal == 0 */
        int signal; /* terminating signal, or 0 */
        bool cgroup; /* the server ran in a cgroup leaf; false: degraded */
        struct cg_memory_events base; /* cgroup: the baseline (see above) */
        struct cg_memory_events now;  /* cgroup: counters read after the reap */
        bool killed_at_limit;         /* degraded: the guard killed it at [memory] max */
};

/* Whether OOM kill counters rose between two sets (oom_kill or
 * oom_group_kill). */
bool ec_oom_rose(const struct cg_memory_events *base, const struct cg_memory_events *now);

/* The observation turned into the supervisor's input. */
struct sv_exit ec_classify(const struct ec_end *e);

/* The baseline after the check that follows an OOM kill seen while the
 * server ran: `seen` (the counters that showed the kill) if the server was
 * still alive at the check, else `base` unchanged (the kill may be its own
 * and its end is about to be classified).  A group kill (oom_group_kill
 * rose) keeps `base` either way: it takes the server too, which may just
 * not have exited yet. */
struct cg_memory_events ec_baseline_after_check(const struct cg_memory_events *base,
                                                const struct cg_memory_events *seen,
                                                bool server_alive);

/* "Shutdown means stop": after the editor's `shutdown` or `exit`, the
 * server's end is the stop the editor asked for, whatever its status, and
 * is never restarted. */
bool ec_end_asked_for(bool shutdown_requested, bool exit_requested);

/* The guard's exit code once it stops: after the editor's `exit` the LSP
 * specification sets it (0 if shutdown came first, else 1), unless the
 * guard gave up (4 stays: the editor must learn about the crash loop);
 * otherwise what the supervisor decided. */
int ec_guard_exit_code(int decided, bool gave_up, bool exit_requested, int session_code);

/* Degraded mode: whether the tree's resident memory `rss` calls for the
 * kill at [memory] max (`max` = POLICY_NO_LIMIT: never), once per
 * generation. */
bool ec_over_limit(uint64_t rss, uint64_t max, bool already_killed);

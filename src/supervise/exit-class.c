/* exit-class.c — classification of the server's ends (contract in
 * exit-class.h). */
#include "exit-class.h"

#include <signal.h>

bool ec_oom_rose(const struct cg_memory_events *base, const struct cg_memory_events *now)
{
        return now->oom_kill > base->oom_kill || now->oom_group_kill > base->oom_group_kill;
}

struct sv_exit ec_classify(const struct ec_end *e)
{
        struct sv_exit x = {.status = e->signal ? 0 : e->status, .signal = e->signal};

        /* The OOM killer ends its victims with SIGKILL only; without it the
         * rise of the counter was some other process of the leaf. */
        if (e->signal != SIGKILL)
                return x;
        x.oom = e->cgroup ? ec_oom_rose(&e->base, &e->now) : e->killed_at_limit;
        return x;
}

struct cg_memory_events ec_baseline_after_check(const struct cg_memory_events *base,
                                                const struct cg_memory_events *seen,
                                                bool server_alive)
{
        /* A group kill (memory.oom.group=1) takes every process of the
         * leaf, the server included, even when it has not died yet at the
         * check: the OOM killer's victim may need a while to exit (seen
         * under TCG: more than 200 ms).  Its end is this kill's. */
        if (seen->oom_group_kill > base->oom_group_kill)
                return *base;
        return server_alive ? *seen : *base;
}

bool ec_end_asked_for(bool shutdown_requested, bool exit_requested)
{
        return shutdown_requested || exit_requested;
}

int ec_guard_exit_code(int decided, bool gave_up, bool exit_requested, int session_code)
{
        if (gave_up || !exit_requested)
                return decided;
        return session_code;
}

bool ec_over_limit(uint64_t rss, uint64_t max, bool already_killed)
{
        return max != POLICY_NO_LIMIT && rss > max && !already_killed;
}

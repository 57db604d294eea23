/* watch.h — the kernel's event files of the server leaf, watched with
 * inotify on one sd-event loop.
 *
 * memory.events and cgroup.events notify (IN_MODIFY) when they change, but
 * the kernel coalesces notifications (about one per 10 ms per file), so a
 * notification says only "re-read me": the counters are always re-read and
 * diffed against the last values, and watch_poll() lets the periodic
 * sampler re-read them too, as a safety net for a lost event.
 *
 * It works on any directory: tests point it at regular files, on which
 * inotify fires just the same. */
#pragma once

#include <systemd/sd-event.h>

#include "cgroup.h"

struct watch;
/* `before` and `now` are the whole counter sets; called only when at least
 * one counter grew.  `populated` is 1/0 from cgroup.events. */
typedef void (*watch_memory_fn)(void *userdata, const struct cg_memory_events *before,
                                const struct cg_memory_events *now);
typedef void (*watch_populated_fn)(void *userdata, int populated);

struct watch {
        int leaf_fd; /* borrowed */
        sd_event_source *mem_src, *events_src;
        struct cg_memory_events last;
        int populated;
        watch_memory_fn on_memory;
        watch_populated_fn on_populated;
        void *userdata;
};

/* Start watching LEAF (a path, for inotify) whose fd is `leaf_fd`; reads the
 * current counters as the baseline.  Returns 0 or a negative errno. */
int watch_start(struct watch *w, sd_event *e, const char *leaf, int leaf_fd,
                watch_memory_fn on_memory, watch_populated_fn on_populated, void *userdata);

/* Re-read both files now; calls the callbacks for what changed.  Returns
 * 1 if anything changed, 0 if not, negative errno if a file can't be read. */
int watch_poll(struct watch *w);

void watch_stop(struct watch *w);

/* Whether `now` shows an OOM kill that `base` did not (oom_kill or
 * oom_group_kill grew). */
bool watch_oom_since(const struct cg_memory_events *base, const struct cg_memory_events *now);

/* How many OOM kill events lie between two counter sets.  With
 * memory.oom.group=1 the kernel (6.1, measured in the VM tier) counts the
 * victim in oom_kill twice, once as the victim and once as a member of the
 * group it kills, so a group kill counts as one event. */
uint64_t watch_oom_events(const struct cg_memory_events *before,
                          const struct cg_memory_events *now);

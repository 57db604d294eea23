#include "watch.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static bool grew(const struct cg_memory_events *a, const struct cg_memory_events *b)
{
        return b->low > a->low || b->high > a->high || b->max > a->max || b->oom > a->oom ||
               b->oom_kill > a->oom_kill || b->oom_group_kill > a->oom_group_kill;
}

bool watch_oom_since(const struct cg_memory_events *base, const struct cg_memory_events *now)
{
        return now->oom_kill > base->oom_kill || now->oom_group_kill > base->oom_group_kill;
}

uint64_t watch_oom_events(const struct cg_memory_events *before,
                          const struct cg_memory_events *now)
{
        if (now->oom_group_kill > before->oom_group_kill)
                return now->oom_group_kill - before->oom_group_kill;
        return now->oom_kill > before->oom_kill ? now->oom_kill - before->oom_kill : 0;
}

static int read_memory(struct watch *w)
{
        struct cg_tree t = {.server_fd = w->leaf_fd};
        struct cg_memory_events now;
        int r = cg_read_memory_events(&t, &now);
        if (r < 0)
                return r;
        if (!grew(&w->last, &now))
                return 0;
        struct cg_memory_events before = w->last;
        w->last = now;
        if (w->on_memory)
                w->on_memory(w->userdata, &before, &now);
        return 1;
}

static int read_populated(struct watch *w)
{
        struct cg_tree t = {.server_fd = w->leaf_fd};
        int p = cg_populated(&t);
        if (p < 0)
                return p;
        if (p == w->populated)
                return 0;
        w->populated = p;
        if (w->on_populated)
                w->on_populated(w->userdata, p);
        return 1;
}

static int on_memory_events(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        (void)s;
        (void)ev;
        (void)read_memory(userdata);
        return 0;
}

static int on_cgroup_events(sd_event_source *s, const struct inotify_event *ev, void *userdata)
{
        (void)s;
        (void)ev;
        (void)read_populated(userdata);
        return 0;
}

int watch_start(struct watch *w, sd_event *e, const char *leaf, int leaf_fd,
                watch_memory_fn on_memory, watch_populated_fn on_populated, void *userdata)
{
        char path[PATH_MAX];
        struct cg_tree t = {.server_fd = leaf_fd};
        int r;

        *w = (struct watch){.leaf_fd = leaf_fd,
                            .populated = -1,
                            .on_memory = on_memory,
                            .on_populated = on_populated,
                            .userdata = userdata};
        r = cg_read_memory_events(&t, &w->last);
        if (r < 0)
                return r;
        w->populated = cg_populated(&t);

        snprintf(path, sizeof path, "%s/memory.events", leaf);
        r = sd_event_add_inotify(e, &w->mem_src, path, IN_MODIFY, on_memory_events, w);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "%s/cgroup.events", leaf);
        r = sd_event_add_inotify(e, &w->events_src, path, IN_MODIFY, on_cgroup_events, w);
        if (r < 0) {
                w->mem_src = sd_event_source_disable_unref(w->mem_src);
                return r;
        }
        return 0;
}

int watch_poll(struct watch *w)
{
        int a = read_memory(w);
        int b = read_populated(w);
        if (a < 0)
                return a;
        if (b < 0)
                return b;
        return a || b;
}

void watch_stop(struct watch *w)
{
        w->mem_src = sd_event_source_disable_unref(w->mem_src);
        w->events_src = sd_event_source_disable_unref(w->events_src);
}

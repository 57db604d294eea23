/* proactive.c — the decider on the event loop (contract in proactive.h). */
#include "proactive.h"

#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "psi.h"
#include "util.h"

/* 50 ms: at 50 MiB/s the server grows 2.5 MiB between two samples, well
 * inside the 10% of memory.max that restart_above leaves by default; a
 * read of memory.current costs a few usec, and this runs only near the
 * threshold. */
#define FAST_INTERVAL_USEC (50 * USEC_PER_MSEC)
/* The slowest sampling, whatever [cpu] sample_interval says: with
 * memory.high equal to memory.max nothing notifies before the kernel kills,
 * and a server growing 50 MiB/s crosses a 10% margin of a 1G max in 2 s;
 * 250 ms sees it on the way, for one read of memory.current (a few usec). */
#define SLOW_INTERVAL_USEC (250 * USEC_PER_MSEC)
/* How long a due restart waits for no request in flight: long enough for
 * a hover or completion to be answered, short enough that the memory it
 * is meant to save is still there. */
#define QUIET_WAIT_USEC (2 * USEC_PER_SEC)
/* Restart at once when max is this close at the current rate: the SIGTERM,
 * the exit and the kernel freeing the memory take a moment. */
#define URGENT_WITHIN_USEC (1 * USEC_PER_SEC)

void proactive_config(const struct policy *p, struct pressure_config *ret)
{
        *ret = (struct pressure_config){
            .enabled = p->pressure.proactive,
            .restart_above = p->pressure.restart_above,
            .max = p->memory.max,
            .high = p->memory.high,
            .above_for = p->pressure.above_for,
            .quiet_wait = QUIET_WAIT_USEC,
            .urgent_within = URGENT_WITHIN_USEC,
            .fast_interval = FAST_INTERVAL_USEC,
            .healthy_after = p->restart.reset_after,
        };
}

static void act(struct proactive *pr, enum pressure_verdict v)
{
        if (v != PRESSURE_RESTART_NOW || !pr->running)
                return;
        enum pressure_reason why = pr->ps.due;
        uint64_t eta = pressure_eta(&pr->ps, &pr->cfg);
        pressure_restarting(&pr->ps, now_usec());
        pr->ops.restart(pr->ops.userdata, why, pr->last_bytes, eta);
}

static void arm(struct proactive *pr, usec_t now)
{
        if (!pr->timer)
                return;
        usec_t next = pressure_next_sample(&pr->ps, &pr->cfg, now, pr->slow);
        (void)sd_event_source_set_time(pr->timer, now + next);
        (void)sd_event_source_set_enabled(pr->timer, pr->running ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct proactive *pr = userdata;
        uint64_t bytes;
        usec_t now = now_usec();
        (void)s;
        (void)usec;

        if (!pr->running)
                return 0;
        if (pr->ops.sample(pr->ops.userdata, &bytes) >= 0) {
                pr->last_bytes = bytes;
                act(pr,
                    pressure_sample(&pr->ps, &pr->cfg, now, bytes, pr->ops.busy(pr->ops.userdata)));
        } else
                act(pr, pressure_check(&pr->ps, &pr->cfg, now, pr->ops.busy(pr->ops.userdata)));
        arm(pr, now);
        return 0;
}

static int on_psi(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct proactive *pr = userdata;
        usec_t now = now_usec();
        (void)fd;

        if (revents & (EPOLLERR | EPOLLHUP)) {
                /* The leaf went away (the kernel ends its triggers). */
                (void)sd_event_source_set_enabled(s, SD_EVENT_OFF);
                return 0;
        }
        if (!pr->running)
                return 0;
        act(pr, pressure_psi(&pr->ps, &pr->cfg, now, pr->ops.busy(pr->ops.userdata)));
        arm(pr, now);
        return 0;
}

int proactive_init(struct proactive *pr, sd_event *e, const struct policy *p, usec_t slow,
                   const struct proactive_ops *ops)
{
        *pr = (struct proactive){.event = e, .ops = *ops, .slow = slow, .psi_fd = -1};
        if (pr->slow == 0 || pr->slow > SLOW_INTERVAL_USEC)
                pr->slow = SLOW_INTERVAL_USEC;
        proactive_config(p, &pr->cfg);
        if (!pr->cfg.enabled)
                return 0;
        /* Accuracy 1 usec: sd-event's default (250 ms) would swallow the
         * fast interval. */
        int r = sd_event_add_time(e, &pr->timer, CLOCK_MONOTONIC, 0, 1, on_timer, pr);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(pr->timer, SD_EVENT_OFF);
}

int proactive_psi(struct proactive *pr, int leaf_fd, const char *trigger)
{
        if (!pr->cfg.enabled)
                return 0;
        int fd = psi_trigger_open(leaf_fd, trigger);
        if (fd < 0)
                return fd;
        int r = sd_event_add_io(pr->event, &pr->psi_src, fd, EPOLLPRI, on_psi, pr);
        if (r < 0) {
                close(fd);
                return r;
        }
        pr->psi_fd = fd;
        return 0;
}

void proactive_psi_close(struct proactive *pr)
{
        pr->psi_src = sd_event_source_disable_unref(pr->psi_src);
        if (pr->psi_fd >= 0)
                close(pr->psi_fd);
        pr->psi_fd = -1;
}

void proactive_spawned(struct proactive *pr, usec_t now)
{
        if (!pr->cfg.enabled)
                return;
        pressure_spawned(&pr->ps, &pr->cfg, now);
        pr->running = true;
        /* The first sample at once: the new server's baseline. */
        if (pr->timer) {
                (void)sd_event_source_set_time(pr->timer, now);
                (void)sd_event_source_set_enabled(pr->timer, SD_EVENT_ONESHOT);
        }
}

void proactive_ended(struct proactive *pr)
{
        pr->running = false;
        if (pr->timer)
                (void)sd_event_source_set_enabled(pr->timer, SD_EVENT_OFF);
}

void proactive_high(struct proactive *pr, usec_t now, uint64_t high_count)
{
        if (!pr->cfg.enabled || !pr->running)
                return;
        act(pr, pressure_high(&pr->ps, &pr->cfg, now, high_count, pr->ops.busy(pr->ops.userdata)));
        arm(pr, now);
}

void proactive_done(struct proactive *pr)
{
        pr->timer = sd_event_source_disable_unref(pr->timer);
        proactive_psi_close(pr);
        pr->running = false;
}

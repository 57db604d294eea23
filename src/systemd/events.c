#include "events.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "message-ids.h"

static const struct {
        const char *name, *id;
} kinds[GE__COUNT] = {
    [GE_START] = {"start", GG_MESSAGE_START},
    [GE_OOM_KILL] = {"oom-kill", GG_MESSAGE_OOM_KILL},
    [GE_CRASH] = {"crash", GG_MESSAGE_CRASH},
    [GE_RESTART] = {"restart", GG_MESSAGE_RESTART},
    [GE_PROACTIVE_RESTART] = {"proactive-restart", GG_MESSAGE_PROACTIVE_RESTART},
    [GE_HANG] = {"hang", GG_MESSAGE_HANG},
    [GE_GIVE_UP] = {"give-up", GG_MESSAGE_GIVE_UP},
    [GE_STOP] = {"stop", GG_MESSAGE_STOP},
};

const char *event_name(enum guard_event kind)
{
        return kind < GE__COUNT ? kinds[kind].name : "unknown";
}

const char *event_message_id(enum guard_event kind)
{
        return kind < GE__COUNT ? kinds[kind].id : NULL;
}

struct out {
        char *buf;
        size_t len, used;
        bool full;
};

static void add(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct out *o, const char *fmt, ...)
{
        va_list ap;
        if (o->full)
                return;
        if (o->used > 0) {
                if (o->used + 1 >= o->len) {
                        o->full = true;
                        return;
                }
                o->buf[o->used++] = '\n';
                o->buf[o->used] = '\0';
        }
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= o->len - o->used) {
                o->full = true;
                return;
        }
        o->used += (size_t)n;
}

static void add_size(struct out *o, const char *key, uint64_t v)
{
        if (v == UINT64_MAX)
                add(o, "%s=max", key);
        else
                add(o, "%s=%" PRIu64, key, v);
}

int event_fields(const struct event_info *e, char *buf, size_t len)
{
        struct out o = {.buf = buf, .len = len};

        if (len == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        add(&o, "MESSAGE_ID=%s", event_message_id(e->kind));
        add(&o, "GOPLS_GUARD_EVENT=%s", event_name(e->kind));
        if (e->workspace) {
                size_t start = o.used + (o.used ? 1 : 0) + strlen("GOPLS_GUARD_WORKSPACE=");
                add(&o, "GOPLS_GUARD_WORKSPACE=%s", e->workspace);
                /* Fields are split at newlines on the way to the journal. */
                for (size_t i = start; !o.full && i < o.used; i++)
                        if (buf[i] == '\n')
                                buf[i] = '?';
        }
        add(&o, "GOPLS_GUARD_SERVER_PID=%d", e->server_pid);
        add(&o, "GOPLS_GUARD_GENERATION=%u", e->generation);
        add(&o, "GOPLS_GUARD_RESTARTS=%u", e->restarts);
        add_size(&o, "GOPLS_GUARD_MEMORY_CURRENT", e->memory_current);
        add_size(&o, "GOPLS_GUARD_MEMORY_PEAK", e->memory_peak);
        add_size(&o, "GOPLS_GUARD_MEMORY_HIGH", e->memory_high);
        add_size(&o, "GOPLS_GUARD_MEMORY_MAX", e->memory_max);
        add(&o, "GOPLS_GUARD_DEGRADED=%s", e->degraded ? "yes" : "no");
        if (e->exit_status >= 0)
                add(&o, "GOPLS_GUARD_EXIT_STATUS=%d", e->exit_status);
        if (e->signal > 0)
                add(&o, "GOPLS_GUARD_SIGNAL=%d", e->signal);
        if (e->kind == GE_RESTART)
                add(&o, "GOPLS_GUARD_RESTART_DELAY_USEC=%" PRIu64, e->delay_usec);
        if (o.full) {
                buf[0] = '\0';
                return -ENOBUFS;
        }
        return (int)o.used;
}

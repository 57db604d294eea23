/* hang.c — the hang decision (contract in hang.h). */
#include "hang.h"

void hang_init(struct hang_watch *w, usec_t timeout)
{
        *w = (struct hang_watch){.timeout = timeout};
}

void hang_reset(struct hang_watch *w)
{
        hang_init(w, w->timeout);
}

static void begin(struct hang_watch *w, usec_t now, const struct hang_sample *s)
{
        w->request = s->request;
        w->since = now;
        w->cpu_since = s->cpu_usec;
}

bool hang_check(struct hang_watch *w, usec_t now, const struct hang_sample *s)
{
        if (w->timeout == 0 || s->request == 0 || !s->cpu_known) {
                hang_reset(w);
                return false;
        }
        if (w->request != s->request || s->cpu_usec < w->cpu_since || now < w->since) {
                begin(w, now, s);
                return false;
        }
        usec_t len = now - w->since;
        uint64_t used = s->cpu_usec - w->cpu_since;
        /* used > len * per_mille / 1000, without overflow for any usec_t */
        if (used > len / 1000 * HANG_IDLE_PER_MILLE + len % 1000 * HANG_IDLE_PER_MILLE / 1000) {
                begin(w, now, s); /* it worked: a new stretch from here */
                return false;
        }
        return len >= w->timeout;
}

usec_t hang_stretch(const struct hang_watch *w, usec_t now)
{
        return w->request && now > w->since ? now - w->since : 0;
}

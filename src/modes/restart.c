/* restart.c — gopls-guard restart (contract in restart.h). */
#include "restart.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

struct found {
        pid_t pid;
        uid_t owner;
        unsigned long long starttime;
        char *workspace;
};

struct collect {
        struct found *v;
        size_t n;
        bool oom;
};

static void collect(const struct status_entry *e, void *userdata)
{
        struct collect *c = userdata;
        struct found *n = realloc(c->v, (c->n + 1) * sizeof *n);
        if (!n) {
                c->oom = true;
                return;
        }
        c->v = n;
        c->v[c->n] = (struct found){.pid = e->pid,
                                    .owner = e->owner,
                                    .starttime = e->pid_starttime,
                                    .workspace = strdup(e->workspace ? e->workspace : "-")};
        if (!c->v[c->n].workspace)
                c->oom = true;
        else
                c->n++;
}

enum outcome { SIGNALLED, GONE, REFUSED };

static enum outcome restart_one(const struct restart_options *o, const struct found *f)
{
        char path[PATH_MAX];
        struct stat st;

        if (f->starttime == 0) {
                fprintf(o->err,
                        "gopls-guard: not signalling guard %d (%s): its status file records no "
                        "start time (a gopls-guard from before restart existed?), so its pid "
                        "may belong to another process now; restart the server from the "
                        "editor\n",
                        (int)f->pid, f->workspace);
                return REFUSED;
        }
        /* The status file's owner is the guard's user: a process of anyone
         * else is not that guard, whatever its pid. */
        snprintf(path, sizeof path, "%s/%d", o->proc_root, (int)f->pid);
        if (stat(path, &st) < 0 || st.st_uid != f->owner) {
                fprintf(o->err, "gopls-guard: guard %d (%s) is gone\n", (int)f->pid, f->workspace);
                return GONE;
        }
        int r = proc_signal_verified(o->proc_root, f->pid, f->starttime, o->signal);
        if (r == -ESRCH) {
                fprintf(o->err, "gopls-guard: guard %d (%s) is gone\n", (int)f->pid, f->workspace);
                return GONE;
        }
        if (r == -EPERM || r == -EACCES) {
                fprintf(o->err,
                        "gopls-guard: permission denied: guard %d (%s) runs as uid %u; run "
                        "gopls-guard restart as that user or as root\n",
                        (int)f->pid, f->workspace, (unsigned)f->owner);
                return REFUSED;
        }
        if (r < 0) {
                fprintf(o->err, "gopls-guard: cannot signal guard %d (%s): %s\n", (int)f->pid,
                        f->workspace, strerror(-r));
                return REFUSED;
        }
        fprintf(o->out,
                "Restarting the server of guard %d (%s); the editor's session is "
                "replayed.\n",
                (int)f->pid, f->workspace);
        return SIGNALLED;
}

int restart_command_with(const struct restart_options *o)
{
        struct collect c = {0};
        int code;

        if (o->places)
                (void)status_foreach_at(o->places, o->override, o->uid, o->workspace, collect, &c);
        else
                (void)status_foreach(o->override, o->workspace, collect, &c);
        if (c.oom) {
                fprintf(o->err, "gopls-guard: out of memory\n");
                code = 1;
        } else if (c.n == 0) {
                if (o->workspace)
                        fprintf(o->err,
                                "gopls-guard: no guard serves %s (gopls-guard status "
                                "lists the running ones)\n",
                                o->workspace);
                else
                        fprintf(o->err, "gopls-guard: no guard is running\n");
                code = 1;
        } else if (!o->workspace && c.n > 1) {
                fprintf(o->err,
                        "gopls-guard: %zu guards are running; name the WORKSPACE whose server "
                        "to restart:\n",
                        c.n);
                for (size_t i = 0; i < c.n; i++)
                        fprintf(o->err, "  %-8d %s\n", (int)c.v[i].pid, c.v[i].workspace);
                code = 2;
        } else {
                unsigned signalled = 0, refused = 0;
                for (size_t i = 0; i < c.n; i++) {
                        enum outcome w = restart_one(o, &c.v[i]);
                        signalled += w == SIGNALLED;
                        refused += w == REFUSED;
                }
                code = refused ? 3 : signalled ? 0 : 1;
        }
        for (size_t i = 0; i < c.n; i++)
                free(c.v[i].workspace);
        free(c.v);
        return code;
}

int restart_command(const char *override, const char *proc_root, const char *workspace)
{
        const struct restart_options o = {
            .override = override,
            .uid = geteuid(),
            .proc_root = proc_root,
            .workspace = workspace,
            .signal = RESTART_SIGNAL,
            .out = stdout,
            .err = stderr,
        };
        return restart_command_with(&o);
}

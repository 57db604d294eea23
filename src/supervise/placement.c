/* placement.c — see placement.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"
#include "placement.h"
#include "util.h"

/* The caller's own cgroup, read (again) from /proc: pl->own_dir, or "". */
static void read_own(const struct placement_request *rq, struct placement *pl, char **own)
{
        free(*own);
        *own = NULL;
        pl->own_dir[0] = '\0';
        if (cg_pid_cgroup(rq->proc_root, 0, own) >= 0)
                snprintf(pl->own_dir, sizeof pl->own_dir, "%s%s", pl->mount,
                         strcmp(*own, "/") ? *own : "");
}

/* Its own cgroup is delegated to it (else pl->not_delegated says why). */
static bool own_delegated(struct placement *pl, const char *own)
{
        snprintf(pl->not_delegated, sizeof pl->not_delegated, "%s",
                 own ? "it is the root cgroup" : "its cgroup is unknown");
        return own && strcmp(own, "/") != 0 &&
               cg_is_delegated(pl->own_dir, geteuid(), pl->not_delegated) > 0;
}

/* Whether to ask for a transient scope (pl->scope_decision, and
 * pl->no_scope when not), and unless dry, ask: true once the caller is in
 * the scope. */
static bool try_scope(const struct placement_request *rq, struct placement *pl)
{
        const char *rt = getenv("XDG_RUNTIME_DIR");
        struct scope_situation s = {
            .scope_off = !rq->scope,
            .have_v2_memory = true,
            .root = geteuid() == 0,
            .bus_given = rq->scope_bus && *rq->scope_bus,
            .bus_forbidden = rq->scope_bus && !*rq->scope_bus,
            .systemd_booted = sd_booted() > 0,
            .have_runtime_dir = rt && *rt,
        };
        const char *reason = NULL;

        pl->scope_decision = scope_decide(&s, &reason);
        if (pl->scope_decision != SCOPE_ASK_USER && pl->scope_decision != SCOPE_ASK_SYSTEM) {
                snprintf(pl->no_scope, sizeof pl->no_scope, "%s",
                         reason ? reason : "not applicable");
                return false;
        }
        if (rq->dry)
                return true;

        char desc[512];
        snprintf(desc, sizeof desc, "gopls-guard for %s",
                 rq->workspace ? rq->workspace : "(current directory)");
        struct scope_request req = {
            .system = pl->scope_decision == SCOPE_ASK_SYSTEM,
            .bus_address = s.bus_given ? rq->scope_bus : NULL,
            .slice = rq->slice,
            .description = desc,
        };
        return scope_start(&req, pl->no_scope) >= 0;
}

struct placement_request placement_request_for(const char *cgroup, const struct policy *p,
                                               const struct guard_roots *roots,
                                               const char *workspace)
{
        return (struct placement_request){
            .given = cgroup ? cgroup : (p ? p->cgroup.path : NULL),
            .given_from = cgroup ? "--cgroup" : "[cgroup] path",
            .cgroup_mount = roots->cgroup_mount,
            .proc_root = roots->proc,
            .scope_bus = roots->scope_bus,
            .scope = !p || p->cgroup.scope,
            .slice = p ? p->cgroup.slice : NULL,
            .workspace = workspace,
        };
}

enum placement_kind placement_find(const struct placement_request *rq, struct placement *pl)
{
        _cleanup_free_ char *mount = NULL, *own = NULL;

        *pl = (struct placement){.kind = PLACEMENT_NONE};
        if (cg_find_mount(rq->cgroup_mount, &mount) >= 0) {
                snprintf(pl->mount, sizeof pl->mount, "%s", mount);
                read_own(rq, pl, &own);
        }

        if (rq->given) {
                struct stat st;
                /* An absolute path is a directory as it is; a relative one
                 * is taken below the v2 mount. */
                if (rq->given[0] == '/' || !mount)
                        snprintf(pl->dir, sizeof pl->dir, "%s", rq->given);
                else
                        snprintf(pl->dir, sizeof pl->dir, "%s/%s", mount, rq->given);
                if (stat(pl->dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        pl->given_missing = true;
                        snprintf(pl->why, sizeof pl->why, "the cgroup %s does not exist (from %s)",
                                 pl->dir, rq->given_from);
                        return pl->kind;
                }
                pl->self_inside = strcmp(pl->dir, pl->own_dir) == 0;
                return pl->kind = PLACEMENT_GIVEN;
        }
        if (!mount) {
                snprintf(pl->why, sizeof pl->why,
                         "no cgroup v2 hierarchy with the memory controller is mounted (the "
                         "memory controller is on cgroup v1 or absent)");
                return pl->kind;
        }
        if (own_delegated(pl, own)) {
                snprintf(pl->dir, sizeof pl->dir, "%s", pl->own_dir);
                pl->self_inside = true;
                return pl->kind = PLACEMENT_OWN;
        }
        if (try_scope(rq, pl)) {
                if (rq->dry)
                        return pl->kind = PLACEMENT_SCOPE;
                pl->scope_started = true;
                read_own(rq, pl, &own);
                if (own_delegated(pl, own)) {
                        snprintf(pl->dir, sizeof pl->dir, "%s", pl->own_dir);
                        pl->self_inside = true;
                        return pl->kind = PLACEMENT_SCOPE;
                }
                snprintf(pl->no_scope, sizeof pl->no_scope,
                         "the transient scope did not give a delegated cgroup");
        }

        /* Last: the subtree `gopls-guard init` prepared in this container. */
        _cleanup_free_ char *found = NULL;
        int r = rq->dry ? container_find_quiet(mount, own, geteuid(), &found, pl->no_container)
                        : container_guard_leaf(mount, own, geteuid(), getpid(), &found,
                                               pl->no_container);
        if (r > 0) {
                snprintf(pl->dir, sizeof pl->dir, "%s", found);
                pl->made_dir = !rq->dry;
                return pl->kind = PLACEMENT_CONTAINER;
        }
        const char *ro = container_mount_hint(mount);
        if (ro) {
                pl->read_only = true;
                snprintf(pl->why, sizeof pl->why, "%s", ro);
        } else if (pl->no_container[0])
                snprintf(pl->why, sizeof pl->why, "%s", pl->no_container);
        else
                snprintf(pl->why, sizeof pl->why,
                         "the guard's own cgroup %s is not delegated to it (%s), and no transient "
                         "scope: %s; run it with --cgroup DIR, from a unit with Delegate=yes, "
                         "or under systemd-run --user --scope -p Delegate=yes",
                         pl->own_dir[0] ? pl->own_dir : "(unknown)", pl->not_delegated,
                         pl->no_scope);
        return pl->kind;
}

int placement_open(const struct placement_request *rq, const struct policy *p, const char *who,
                   struct cg_tree *cg, char why[CG_WHY_MAX])
{
        struct placement pl;
        char warn[CG_WHY_MAX];
        int r;

        placement_find(rq, &pl);
        if (pl.scope_started) {
                char unit[64];
                scope_unit_name((int)getpid(), unit, sizeof unit);
                log_info("%s started the transient scope %s for %s; its cgroup is now %s.",
                         pl.scope_decision == SCOPE_ASK_SYSTEM ? "The system manager"
                                                               : "The user manager",
                         unit, who, pl.own_dir[0] ? pl.own_dir : "unknown");
        }
        if (pl.kind == PLACEMENT_NONE) {
                snprintf(why, CG_WHY_MAX, "%s", pl.why);
                return 0;
        }
        r = cg_open(pl.dir, cg, why);
        if (r < 0)
                return r;
        cg->made_dir = pl.made_dir;
        r = cg_setup(cg, p, pl.self_inside, why, warn);
        if (r < 0) {
                char ignored[CG_WHY_MAX];
                (void)cg_teardown(cg, USEC_PER_SEC, ignored);
                cg_close(cg);
                return r;
        }
        if (warn[0])
                log_warning("%s", warn);
        return 1;
}

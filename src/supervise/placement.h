/* placement.h — where a guard works: DESIGN.md's "cgroup layout" order,
 * in one place for the guard, for `serve` with share = no (the daemon
 * whose connections each get a guard below it) and for doctor's dry run.
 *
 * The order: --cgroup DIR / [cgroup] path; the caller's own cgroup when it
 * is delegated to it; a transient scope from systemd (scope.h); a leaf of
 * the subtree `gopls-guard init` prepared in a container (container.h).
 * With none of them the caller runs degraded, and `why` says why in one
 * line.
 *
 * A dry run (doctor) creates nothing and asks nobody: it stops at "would
 * ask for a scope" and finds the container subtree without making a leaf
 * in it. */
#pragma once

#include <limits.h>
#include <stdbool.h>

#include "cgroup.h"
#include "container.h"
#include "policy.h"
#include "roots.h"
#include "scope.h"

enum placement_kind {
        PLACEMENT_NONE,      /* degraded; `why` */
        PLACEMENT_GIVEN,     /* --cgroup DIR / [cgroup] path */
        PLACEMENT_OWN,       /* the caller's own cgroup, delegated */
        PLACEMENT_SCOPE,     /* a transient scope (dry: would be asked for) */
        PLACEMENT_CONTAINER, /* in `init`'s subtree (dry: the subtree itself) */
};

struct placement_request {
        const char *given;        /* --cgroup or [cgroup] path, or NULL */
        const char *given_from;   /* "--cgroup" or "[cgroup] path", for messages */
        const char *cgroup_mount; /* guard_roots: the v2 mount, or NULL to find it */
        const char *proc_root;    /* guard_roots: "/proc" */
        const char *scope_bus;    /* guard_roots: see roots.h */
        bool scope;               /* [cgroup] scope */
        const char *slice;        /* [cgroup] slice, or NULL */
        const char *workspace;    /* named in the scope's description, or NULL */
        bool dry;
};

struct placement {
        enum placement_kind kind;
        /* The cgroup to work in (not for NONE, nor for a dry SCOPE). */
        char dir[PATH_MAX];
        bool self_inside; /* dir is the caller's own cgroup */
        bool made_dir;    /* dir was made for the caller (a container leaf) */

        /* What was found on the way, for messages (doctor's above all). */
        char mount[PATH_MAX];           /* the v2 mount with memory, "" if none */
        char own_dir[PATH_MAX];         /* the caller's own cgroup, "" if unknown */
        bool given_missing;             /* NONE: the given cgroup does not exist */
        bool read_only;                 /* NONE: the cgroup mount is read-only (why: the hint) */
        char not_delegated[CG_WHY_MAX]; /* why its own cgroup is not its own */
        enum scope_decision scope_decision;
        bool scope_started; /* the manager started the scope (own_dir: the caller's cgroup since) */
        char no_scope[SCOPE_WHY_MAX];         /* why no scope, "" if asked */
        char no_container[CONTAINER_WHY_MAX]; /* why not init's subtree, "" if none */
        char why[CG_WHY_MAX];                 /* NONE: the one line */
};

/* The request of a guard or a daemon given `cgroup` (--cgroup, or NULL)
 * and policy `p` (NULL: the defaults), on `roots`, for `workspace` (or
 * NULL); not dry. */
struct placement_request placement_request_for(const char *cgroup, const struct policy *p,
                                               const struct guard_roots *roots,
                                               const char *workspace);

/* Fills `pl` (kind and all).  Returns the kind: PLACEMENT_NONE (0) when
 * the caller is to run degraded. */
enum placement_kind placement_find(const struct placement_request *rq, struct placement *pl);

/* placement_find(), then that cgroup opened and set up for `p` (cg_open(),
 * with made_dir; cg_setup()): 1 with `cg` ready, 0 when there is none
 * (`why`), a negative errno when it cannot be used (`why`; nothing is left
 * set up).  Logs the scope's start, naming the caller `who` ("the guard",
 * "the daemon"), and cg_setup()'s warnings. */
int placement_open(const struct placement_request *rq, const struct policy *p, const char *who,
                   struct cg_tree *cg, char why[CG_WHY_MAX]);

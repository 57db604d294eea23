/* scope.h — a delegated cgroup from systemd, for a guard the editor starts
 * directly: a transient scope with Delegate=yes, as
 * `systemd-run --user --scope -p Delegate=yes` makes one.
 *
 * The guard asks (DESIGN.md "cgroup layout", third place) only when it has
 * no cgroup yet: none was named (--cgroup, [cgroup] path), its own cgroup
 * is not delegated, and there is a v2 hierarchy with the memory controller
 * for the scope to be of use.  It asks the user manager, or the system
 * manager when it runs as root, over sd-bus:
 *
 *   StartTransientUnit("gopls-guard-PID.scope", "fail",
 *                      [PIDs=[0] (the caller), Delegate=true, CollectMode=
 *                       "inactive-or-failed", Description=..., Slice=...], [])
 *
 * with a match on the manager's JobRemoved signal added before the call,
 * and waits (bounded) for the returned job to be removed with result
 * "done".  The guard is then in the scope's cgroup; the caller reads
 * /proc/self/cgroup again and uses it as the delegated subtree.  No module
 * here logs: failures come back with `why` for the caller's one line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCOPE_WHY_MAX 512
/* How long the manager may take to start the scope: a few ms on an idle
 * machine; more means it is stuck, and the editor is waiting. */
#define SCOPE_TIMEOUT_USEC (5 * 1000 * 1000ULL)

/* What the guard knows when it has to decide whether to ask. */
struct scope_situation {
        bool cgroup_named;     /* --cgroup or [cgroup] path */
        bool scope_off;        /* [cgroup] scope = no */
        bool have_v2_memory;   /* a v2 hierarchy with the memory controller */
        bool own_delegated;    /* its own cgroup is delegated to it already */
        bool root;             /* euid 0: the system manager, else the user's */
        bool bus_given;        /* an explicit bus address (tests) */
        bool bus_forbidden;    /* test build on fixture roots: never a real manager */
        bool systemd_booted;   /* /run/systemd/system exists (sd_booted()) */
        bool have_runtime_dir; /* $XDG_RUNTIME_DIR is set (the user manager's sockets) */
};

enum scope_decision {
        SCOPE_NOT_NEEDED, /* a cgroup is named or already delegated */
        SCOPE_OFF,        /* [cgroup] scope = no */
        SCOPE_USELESS,    /* no v2 memory controller: a scope would not help */
        SCOPE_NO_MANAGER, /* no manager to ask (`why` says which is missing) */
        SCOPE_ASK_USER,   /* ask the user manager */
        SCOPE_ASK_SYSTEM, /* ask the system manager */
};

/* The pure decision: whether and whom to ask.  `why` (may be NULL) gets a
 * reason for SCOPE_OFF, SCOPE_USELESS and SCOPE_NO_MANAGER. */
enum scope_decision scope_decide(const struct scope_situation *s, const char **why);
const char *scope_decision_name(enum scope_decision d);

struct scope_request {
        bool system;             /* the system manager, else the user manager */
        const char *bus_address; /* NULL: the manager's private socket, then its bus */
        const char *slice;       /* NULL: the manager's default */
        const char *description; /* Description= */
        uint64_t timeout_usec;   /* 0: SCOPE_TIMEOUT_USEC */
};

/* The scope's unit name for `pid`: "gopls-guard-PID.scope". */
void scope_unit_name(int pid, char *buf, size_t len);

/* Ask for the scope and wait for its job.  Returns 0 once the job is done
 * (the calling process is in the scope), or a negative errno with `why`
 * saying what failed and where: -ECONNREFUSED/-ENOENT no bus, a D-Bus
 * error's errno (with its name and message in `why`) when the manager
 * refuses, -ETIMEDOUT when the job did not finish in time, -EIO when it
 * ended with another result than "done". */
int scope_start(const struct scope_request *req, char why[SCOPE_WHY_MAX]);

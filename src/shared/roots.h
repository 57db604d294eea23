/* roots.h — where the guard finds the system's files.
 *
 * main.c fills one struct guard_roots with the fixed production values and
 * hands it down; nothing below main.c reads the environment for a root.
 * Only the test executable (gopls-guard-test, built from the same sources
 * with GUARD_TEST_ROOTS and never installed) lets the GOPLS_GUARD_*
 * variables point the roots at fixtures: an installed gopls-guard has no
 * way around /etc/gopls-guard or the real cgroup mount. */
#pragma once

struct guard_roots {
        const char *sysconfdir;   /* holds gopls-guard/: GUARD_SYSCONFDIR ("/etc") */
        const char *cgroup_mount; /* the cgroup v2 mount, or NULL to find it */
        const char *proc;         /* "/proc" */
        const char *runtime_dir;  /* the status directory itself, or NULL for the
                                   * standard choice (status.h) */
        /* The bus to ask for a transient scope (scope.h): NULL for the
         * manager's own; test builds only: an address, or "" for never
         * (fixture roots must not reach a real manager). */
        const char *scope_bus;
};

/* test-scope.c — when the guard asks systemd for a transient scope, and
 * whom (scope_decide), as a table; and what scope_start() says when there
 * is no bus at all.  The protocol itself (JobRemoved, results, timeout) is
 * tested in integration/scope against a scripted manager on a private bus,
 * and for real in the systemd VM tier. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "scope.h"

enum { N = 0, Y = 1 };

static void test_decide_table(void)
{
        static const struct {
                struct scope_situation s;
                enum scope_decision want;
                const char *why; /* a part of the reason, or NULL for none */
        } t[] = {
            /* a cgroup named or delegated: nothing to ask, whatever else */
            {{.cgroup_named = Y, .have_v2_memory = Y, .systemd_booted = Y, .have_runtime_dir = Y},
             SCOPE_NOT_NEEDED, NULL},
            {{.cgroup_named = Y}, SCOPE_NOT_NEEDED, NULL},
            {{.own_delegated = Y, .have_v2_memory = Y, .systemd_booted = Y, .root = Y},
             SCOPE_NOT_NEEDED, NULL},
            /* [cgroup] scope = no: never asked, and said so */
            {{.scope_off = Y, .have_v2_memory = Y, .systemd_booted = Y, .have_runtime_dir = Y},
             SCOPE_OFF, "[cgroup] scope = no"},
            {{.scope_off = Y, .have_v2_memory = Y, .bus_given = Y, .root = Y}, SCOPE_OFF,
             "scope = no"},
            {{.scope_off = Y, .own_delegated = Y}, SCOPE_NOT_NEEDED, NULL},
            /* no v2 memory controller (a hybrid host): a scope would not help */
            {{.have_v2_memory = N, .systemd_booted = Y, .have_runtime_dir = Y}, SCOPE_USELESS,
             "cgroup v2 memory controller"},
            {{.have_v2_memory = N, .bus_given = Y}, SCOPE_USELESS, "would not help"},
            /* fixture roots in the test build: never a real manager */
            {{.have_v2_memory = Y, .bus_forbidden = Y, .systemd_booted = Y, .have_runtime_dir = Y},
             SCOPE_NO_MANAGER, "fixture roots"},
            {{.have_v2_memory = Y, .bus_forbidden = Y, .root = Y, .systemd_booted = Y},
             SCOPE_NO_MANAGER, "fixture roots"},
            /* an explicit bus: asked whatever else is there */
            {{.have_v2_memory = Y, .bus_given = Y}, SCOPE_ASK_USER, NULL},
            {{.have_v2_memory = Y, .bus_given = Y, .root = Y}, SCOPE_ASK_SYSTEM, NULL},
            /* no systemd */
            {{.have_v2_memory = Y, .have_runtime_dir = Y}, SCOPE_NO_MANAGER,
             "not the init system"},
            {{.have_v2_memory = Y, .root = Y}, SCOPE_NO_MANAGER, "/run/systemd/system"},
            /* root asks the system manager, runtime directory or not */
            {{.have_v2_memory = Y, .root = Y, .systemd_booted = Y}, SCOPE_ASK_SYSTEM, NULL},
            {{.have_v2_memory = Y, .root = Y, .systemd_booted = Y, .have_runtime_dir = Y},
             SCOPE_ASK_SYSTEM, NULL},
            /* a user asks the user manager, found through XDG_RUNTIME_DIR */
            {{.have_v2_memory = Y, .systemd_booted = Y, .have_runtime_dir = Y}, SCOPE_ASK_USER,
             NULL},
            {{.have_v2_memory = Y, .systemd_booted = Y}, SCOPE_NO_MANAGER,
             "XDG_RUNTIME_DIR is not set"},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                const char *why = "unset";
                enum scope_decision d = scope_decide(&t[i].s, &why);
                if (d != t[i].want)
                        fprintf(stderr, "row %zu: got %s, want %s\n", i, scope_decision_name(d),
                                scope_decision_name(t[i].want));
                CHECK_INT(d, t[i].want);
                if (t[i].why)
                        CHECK_CONTAINS(why ? why : "(null)", t[i].why);
                else
                        CHECK(why == NULL);
                /* the reason is optional for callers */
                CHECK_INT(scope_decide(&t[i].s, NULL), t[i].want);
        }
}

static void test_unit_name(void)
{
        char buf[64];
        scope_unit_name(4242, buf, sizeof buf);
        CHECK_STR(buf, "gopls-guard-4242.scope");
}

/* No one listens at the address: the error names it. */
static void test_no_bus(void)
{
        char why[SCOPE_WHY_MAX];
        struct scope_request req = {.bus_address = "unix:path=/nonexistent/gopls-guard-test/bus"};
        int r = scope_start(&req, why);
        CHECK(r < 0);
        CHECK_CONTAINS(why, "cannot connect to the bus unix:path=/nonexistent/gopls-guard-test/bus");
}

int main(void)
{
        RUN(test_decide_table);
        RUN(test_unit_name);
        RUN(test_no_bus);
        return check_summary();
}

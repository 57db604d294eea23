#include "scope.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "util.h"

enum scope_decision scope_decide(const struct scope_situation *s, const char **why)
{
        const char *ignored;
        if (!why)
                why = &ignored;
        *why = NULL;
        if (s->cgroup_named || s->own_delegated)
                return SCOPE_NOT_NEEDED;
        if (s->scope_off) {
                *why = "[cgroup] scope = no";
                return SCOPE_OFF;
        }
        if (!s->have_v2_memory) {
                /* A scope's cgroup would be on the same hierarchy, where the
                 * memory controller is not. */
                *why = "a scope would not help without a cgroup v2 memory controller";
                return SCOPE_USELESS;
        }
        if (s->bus_forbidden) {
                *why = "this test build runs on fixture roots and asks no real manager";
                return SCOPE_NO_MANAGER;
        }
        if (s->bus_given)
                return s->root ? SCOPE_ASK_SYSTEM : SCOPE_ASK_USER;
        if (!s->systemd_booted) {
                *why = "systemd is not the init system (no /run/systemd/system)";
                return SCOPE_NO_MANAGER;
        }
        if (s->root)
                return SCOPE_ASK_SYSTEM;
        if (!s->have_runtime_dir) {
                /* The user manager's sockets live in the runtime directory
                 * that pam_systemd sets up; without it there is no session. */
                *why = "XDG_RUNTIME_DIR is not set, so there is no user manager to ask";
                return SCOPE_NO_MANAGER;
        }
        return SCOPE_ASK_USER;
}

const char *scope_decision_name(enum scope_decision d)
{
        switch (d) {
        case SCOPE_NOT_NEEDED:
                return "not-needed";
        case SCOPE_OFF:
                return "off";
        case SCOPE_USELESS:
                return "useless";
        case SCOPE_NO_MANAGER:
                return "no-manager";
        case SCOPE_ASK_USER:
                return "ask-user";
        case SCOPE_ASK_SYSTEM:
                return "ask-system";
        }
        return "?";
}

void scope_unit_name(int pid, char *buf, size_t len)
{
        snprintf(buf, len, "gopls-guard-%d.scope", pid);
}

static const char *manager_name(const struct scope_request *req)
{
        return req->system ? "the system manager" : "the user manager";
}

/* A connection to the manager: the explicit address, else its private
 * socket (what systemctl and systemd-run use; it needs no dbus-daemon),
 * else the bus.  `*ret_client`: whether it is a bus (then signals carry a
 * sender to match). */
static int connect_manager(const struct scope_request *req, sd_bus **ret, bool *ret_client,
                           char why[SCOPE_WHY_MAX])
{
        sd_bus *bus = NULL;
        int r;

        if (req->bus_address) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, req->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r < 0) {
                        snprintf(why, SCOPE_WHY_MAX, "cannot connect to the bus %s: %s",
                                 req->bus_address, strerror(-r));
                        sd_bus_unref(bus);
                        return r;
                }
                *ret = bus;
                *ret_client = true;
                return 0;
        }

        char private_path[4096];
        const char *rt = getenv("XDG_RUNTIME_DIR");
        if (req->system)
                snprintf(private_path, sizeof private_path, "/run/systemd/private");
        else
                snprintf(private_path, sizeof private_path, "%s/systemd/private", rt ? rt : "");
        if (req->system || (rt && *rt)) {
                char address[4200];
                snprintf(address, sizeof address, "unix:path=%s", private_path);
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, address);
                if (r >= 0)
                        r = sd_bus_start(bus);
                if (r >= 0) {
                        *ret = bus;
                        *ret_client = false;
                        return 0;
                }
                bus = sd_bus_unref(bus);
        }
        r = req->system ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
        if (r < 0) {
                snprintf(why, SCOPE_WHY_MAX, "cannot reach %s (neither %s nor the %s bus: %s)",
                         manager_name(req), private_path, req->system ? "system" : "user",
                         strerror(-r));
                return r;
        }
        *ret = bus;
        *ret_client = true;
        return 0;
}

struct job_wait {
        const char *job; /* the path the manager returned, NULL before */
        bool done;
        char result[32];
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct job_wait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;
        (void)error;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->job && strcmp(path, w->job) == 0) {
                w->done = true;
                snprintf(w->result, sizeof w->result, "%s", result);
        }
        return 0;
}

static int append_properties(sd_bus_message *m, const struct scope_request *req)
{
        int r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                /* 0: "the caller", which the manager resolves from the
                 * connection's credentials: right even when the guard's
                 * pid namespace is not the manager's. */
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t)0);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "Delegate", "b", 1);
        if (r >= 0)
                /* Gone once it is empty, failed or not: nothing to clean. */
                r = sd_bus_message_append(m, "(sv)", "CollectMode", "s", "inactive-or-failed");
        if (r >= 0 && req->description)
                r = sd_bus_message_append(m, "(sv)", "Description", "s", req->description);
        if (r >= 0 && req->slice)
                r = sd_bus_message_append(m, "(sv)", "Slice", "s", req->slice);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0) /* no auxiliary units */
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        return r;
}

int scope_start(const struct scope_request *req, char why[SCOPE_WHY_MAX])
{
        sd_bus *bus = NULL;
        sd_bus_slot *slot = NULL;
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error error = SD_BUS_ERROR_NULL;
        struct job_wait w = {0};
        char unit[64];
        bool client;
        uint64_t timeout = req->timeout_usec ? req->timeout_usec : SCOPE_TIMEOUT_USEC;
        uint64_t deadline = now_usec() + timeout;
        int r;

        why[0] = '\0';
        scope_unit_name((int)getpid(), unit, sizeof unit);
        r = connect_manager(req, &bus, &client, why);
        if (r < 0)
                return r;

        /* Before the call: the job may be done before its reply is read. */
        r = sd_bus_match_signal(bus, &slot, client ? "org.freedesktop.systemd1" : NULL,
                                "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "JobRemoved", on_job_removed, &w);
        if (r < 0) {
                snprintf(why, SCOPE_WHY_MAX, "cannot subscribe to %s's JobRemoved signal: %s",
                         manager_name(req), strerror(-r));
                goto out;
        }
        r = sd_bus_message_new_method_call(
            bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
            "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = append_properties(m, req);
        if (r < 0) {
                snprintf(why, SCOPE_WHY_MAX, "cannot build the request for %s: %s", unit,
                         strerror(-r));
                goto out;
        }
        r = sd_bus_call(bus, m, timeout, &error, &reply);
        if (r < 0) {
                if (sd_bus_error_is_set(&error))
                        snprintf(why, SCOPE_WHY_MAX, "%s refused the scope %s: %s (%s)",
                                 manager_name(req), unit,
                                 error.message ? error.message : strerror(-r), error.name);
                else
                        snprintf(why, SCOPE_WHY_MAX, "%s did not answer the request for %s: %s",
                                 manager_name(req), unit, strerror(-r));
                goto out;
        }
        const char *job;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                snprintf(why, SCOPE_WHY_MAX, "%s answered the request for %s with no job: %s",
                         manager_name(req), unit, strerror(-r));
                goto out;
        }
        w.job = job;
        while (!w.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        snprintf(why, SCOPE_WHY_MAX,
                                 "lost the connection to %s while waiting for %s: %s",
                                 manager_name(req), unit, strerror(-r));
                        goto out;
                }
                if (r > 0)
                        continue;
                uint64_t now = now_usec();
                if (now >= deadline) {
                        char d[32];
                        snprintf(d, sizeof d, "%.1f s", (double)timeout / 1e6);
                        snprintf(why, SCOPE_WHY_MAX,
                                 "%s did not finish starting %s within %s (job %s)",
                                 manager_name(req), unit, d, job);
                        r = -ETIMEDOUT;
                        goto out;
                }
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0) {
                        snprintf(why, SCOPE_WHY_MAX, "cannot wait for %s: %s", manager_name(req),
                                 strerror(-r));
                        goto out;
                }
        }
        if (strcmp(w.result, "done") != 0) {
                snprintf(why, SCOPE_WHY_MAX,
                         "%s could not start %s: its job ended with result \"%s\" (journalctl "
                         "%s-u %s says why)",
                         manager_name(req), unit, w.result, req->system ? "" : "--user ", unit);
                r = -EIO;
                goto out;
        }
        r = 0;
out:
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
        sd_bus_message_unref(m);
        sd_bus_slot_unref(slot);
        sd_bus_flush_close_unref(bus);
        return r;
}

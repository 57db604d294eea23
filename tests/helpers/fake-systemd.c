/* fake-systemd.c — a scripted stand-in for systemd's manager on a private
 * bus, for integration/scope: it owns org.freedesktop.systemd1, records
 * each StartTransientUnit request in LOG (one KEY=VALUE a line) and
 * answers as MODE says:
 *
 *   done    JobRemoved "done" for the job, sent BEFORE the method's reply
 *           (a client that subscribes only after the call misses it),
 *           preceded by a JobRemoved "failed" for another job
 *   failed  the same with result "failed"
 *   silent  the job path, and no JobRemoved ever
 *   refuse  an org.freedesktop.DBus.Error.AccessDenied error
 *
 *   fake-systemd ADDRESS MODE LOG     (prints "ready" once it owns the name)
 *
 * It moves no process anywhere: it is a protocol partner, not a manager. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

static const char *mode;
static FILE *logf_;

static int print_variant(sd_bus_message *m, const char *key)
{
        const char *contents;
        char type;
        int r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'v', contents);
        if (r < 0)
                return r;
        if (strcmp(contents, "b") == 0) {
                int b;
                r = sd_bus_message_read(m, "b", &b);
                fprintf(logf_, "%s=%s\n", key, b ? "true" : "false");
        } else if (strcmp(contents, "s") == 0) {
                const char *s;
                r = sd_bus_message_read(m, "s", &s);
                fprintf(logf_, "%s=%s\n", key, s);
        } else if (strcmp(contents, "au") == 0) {
                uint32_t u;
                fprintf(logf_, "%s=[", key);
                r = sd_bus_message_enter_container(m, 'a', "u");
                for (int i = 0; r >= 0 && (r = sd_bus_message_read(m, "u", &u)) > 0; i++)
                        fprintf(logf_, "%s%u", i ? "," : "", u);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                fprintf(logf_, "]\n");
        } else {
                fprintf(logf_, "%s=(type %s)\n", key, contents);
                r = sd_bus_message_skip(m, contents);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

static int start_transient_unit(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        static const char job[] = "/org/freedesktop/systemd1/job/42";
        sd_bus *bus = sd_bus_message_get_bus(m);
        const char *name, *jmode, *key;
        int r;
        (void)userdata;

        r = sd_bus_message_read(m, "ss", &name, &jmode);
        if (r < 0)
                return r;
        fprintf(logf_, "unit=%s\nmode=%s\n", name, jmode);
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                r = sd_bus_message_read(m, "s", &key);
                if (r >= 0)
                        r = print_variant(m, key);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        fprintf(logf_, "parsed=%s\n", r < 0 ? "no" : "yes");
        fflush(logf_);
        if (r < 0)
                return r;

        if (strcmp(mode, "refuse") == 0)
                return sd_bus_error_set(error, "org.freedesktop.DBus.Error.AccessDenied",
                                        "Access denied by the test's manager");
        if (strcmp(mode, "done") == 0 || strcmp(mode, "failed") == 0) {
                (void)sd_bus_emit_signal(bus, "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                                         (uint32_t)41, "/org/freedesktop/systemd1/job/41",
                                         "other.service", "failed");
                (void)sd_bus_emit_signal(bus, "/org/freedesktop/systemd1",
                                         "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss",
                                         (uint32_t)42, job, name, mode);
        }
        return sd_bus_reply_method_return(m, "o", job);
}

static const sd_bus_vtable manager_vtable[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_METHOD("StartTransientUnit", "ssa(sv)a(sa(sv))", "o", start_transient_unit,
                  SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
    SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
        sd_bus *bus = NULL;
        int r;

        if (argc != 4) {
                fprintf(stderr, "usage: fake-systemd ADDRESS MODE LOG\n");
                return 2;
        }
        mode = argv[2];
        logf_ = fopen(argv[3], "a");
        if (!logf_) {
                perror(argv[3]);
                return 1;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", manager_vtable,
                                             NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "fake-systemd: %s: %s\n", argv[1], strerror(-r));
                return 1;
        }
        printf("ready\n");
        fflush(stdout);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "fake-systemd: %s\n", strerror(-r));
                        return 1;
                }
                if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
                        return 1;
        }
}

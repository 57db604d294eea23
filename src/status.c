#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "util.h"

int status_dir(const char *override, char **ret)
{
        const char *env = override;
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char *dir = NULL;
        int n;

        if (env && *env)
                n = asprintf(&dir, "%s", env);
        else if (xdg && *xdg)
                n = asprintf(&dir, "%s/gopls-guard", xdg);
        else if (geteuid() == 0)
                n = asprintf(&dir, "/run/gopls-guard");
        else
                n = asprintf(&dir, "/tmp/gopls-guard-%u", (unsigned)geteuid());
        if (n < 0)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                int e = errno;
                free(dir);
                return -e;
        }
        *ret = dir;
        return 0;
}

static json_t *limit_json(uint64_t v)
{
        return v == POLICY_NO_LIMIT ? json_string("max") : json_integer((json_int_t)v);
}

int status_format(const struct status *s, char **ret_json)
{
        json_t *o = json_pack(
                "{s:I, s:s?, s:s?, s:s?, s:s, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:s?}",
                "pid", (json_int_t)s->guard_pid, "workspace", s->workspace, "cgroup", s->cgroup,
                "command", s->command, "state", s->state, "server_pid",
                (json_int_t)s->server_pid, "generation", (json_int_t)s->generation, "restarts",
                (json_int_t)s->restarts, "oom_kills", (json_int_t)s->oom_kills, "degraded",
                s->degraded, "started_usec", (json_int_t)s->started_usec, "last_exit_usec",
                (json_int_t)s->last_exit_usec, "last_spawn_usec", (json_int_t)s->last_spawn_usec,
                "updated_usec", (json_int_t)s->updated_usec,
                "last_end", s->last_end);
        if (!o)
                return -ENOMEM;
        json_object_set_new(o, "memory",
                            json_pack("{s:I, s:I, s:o, s:o}", "current",
                                      (json_int_t)s->memory_current, "peak",
                                      (json_int_t)s->memory_peak, "high",
                                      limit_json(s->memory_high), "max",
                                      limit_json(s->memory_max)));
        json_object_set_new(o, "cpu",
                            json_pack("{s:I, s:I}", "usage_usec", (json_int_t)s->cpu_usage_usec,
                                      "throttled_usec", (json_int_t)s->cpu_throttled_usec));
        json_object_set_new(o, "pids",
                            json_pack("{s:I, s:o}", "current", (json_int_t)s->pids_current, "max",
                                      limit_json(s->pids_max)));
        char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!text)
                return -ENOMEM;
        *ret_json = text;
        return 0;
}

int status_write(const char *path, const struct status *s)
{
        _cleanup_free_ char *json = NULL;
        int r = status_format(s, &json);
        if (r < 0)
                return r;
        size_t len = strlen(json);
        _cleanup_free_ char *line = malloc(len + 2);
        if (!line)
                return -ENOMEM;
        memcpy(line, json, len);
        line[len] = '\n';
        return write_file_atomic(path, line, len + 1);
}

static void human_size(json_t *v, char *buf, size_t len)
{
        if (json_is_string(v)) {
                snprintf(buf, len, "%s", json_string_value(v));
                return;
        }
        (void)format_size_human((uint64_t)json_integer_value(v), buf, len);
}

int status_command(const char *runtime_dir, FILE *out, bool json, const char *workspace)
{
        _cleanup_free_ char *dir = NULL;
        char real_ws[4096];
        unsigned shown = 0;
        int r = status_dir(runtime_dir, &dir);
        if (r < 0) {
                fprintf(stderr, "gopls-guard: cannot open the status directory: %s\n",
                        strerror(-r));
                return 1;
        }
        if (workspace && !realpath(workspace, real_ws))
                snprintf(real_ws, sizeof real_ws, "%s", workspace);

        DIR *d = opendir(dir);
        if (!d)
                return 1;
        if (!json)
                fprintf(out, "%-8s %-10s %-8s %-5s %-9s %-9s %-9s %s\n", "GUARD", "STATE", "SERVER",
                        "GEN", "MEMORY", "PEAK", "MAX", "WORKSPACE");
        if (json)
                fputc('[', out);
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
                        continue;
                char path[4400];
                snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                json_t *o = json_load_file(path, 0, NULL);
                if (!o)
                        continue;
                pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
                if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
                        /* A guard that was SIGKILLed cannot remove its own file. */
                        (void)unlink(path);
                        json_decref(o);
                        continue;
                }
                const char *ws = json_string_value(json_object_get(o, "workspace"));
                if (workspace && (!ws || strcmp(ws, real_ws) != 0)) {
                        json_decref(o);
                        continue;
                }
                if (json) {
                        char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                        fprintf(out, "%s%s", shown ? "," : "", t ? t : "{}");
                        free(t);
                } else {
                        json_t *m = json_object_get(o, "memory");
                        char cur[32], peak[32], max[32];
                        human_size(json_object_get(m, "current"), cur, sizeof cur);
                        human_size(json_object_get(m, "peak"), peak, sizeof peak);
                        human_size(json_object_get(m, "max"), max, sizeof max);
                        fprintf(out, "%-8d %-10s %-8" JSON_INTEGER_FORMAT " %-5" JSON_INTEGER_FORMAT
                                     " %-9s %-9s %-9s %s%s\n",
                                (int)pid, json_string_value(json_object_get(o, "state")),
                                json_integer_value(json_object_get(o, "server_pid")),
                                json_integer_value(json_object_get(o, "generation")), cur, peak,
                                max, ws ? ws : "-",
                                json_is_true(json_object_get(o, "degraded")) ? " (degraded)" : "");
                }
                shown++;
                json_decref(o);
        }
        closedir(d);
        if (json)
                fputs("]\n", out);
        return workspace && shown == 0 ? 1 : 0;
}

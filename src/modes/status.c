#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "openmetrics.h"
#include "policy.h"
#include "util.h"

const struct status_places status_places_default = {
        .run_user = "/run/user",
        .run = "/run",
        .tmp = "/tmp",
};

bool status_is_system_dir(const char *path, const char *run)
{
        size_t n = run ? strlen(run) : 0;
        return n > 0 && strncmp(path, run, n) == 0 && strcmp(path + n, "/gopls-guard") == 0;
}

bool status_dir_mode_ok(const char *path, uid_t uid, mode_t mode, const char *run)
{
        /* RUN/gopls-guard of root: the system socket units create it 0755
         * (DirectoryMode=) so that every user's editor reaches its socket
         * there.  It stays safe while only root can write to it: nobody
         * else can plant or replace an entry, and the files inside are
         * 0600.  Users' directories must stay closed (0700). */
        if (uid == 0 && status_is_system_dir(path, run))
                return (mode & 022) == 0;
        return (mode & 077) == 0;
}

/* Check an open directory: ours and private (for root's RUN/gopls-guard,
 * `run` being RUN: writable by root alone; NULL: no such exception).  0,
 * or -EPERM/-ENOTDIR with `why` naming `path` and the fix. */
static int check_private(int fd, const char *path, uid_t uid, const char *run,
                         char why[STATUS_WHY_MAX])
{
        struct stat st;

        if (fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(why, STATUS_WHY_MAX, "cannot check %s: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                snprintf(why, STATUS_WHY_MAX, "%s is not a directory: remove it", path);
                return -ENOTDIR;
        }
        if (st.st_uid != uid) {
                snprintf(why, STATUS_WHY_MAX,
                         "%s belongs to uid %u, not to uid %u: someone else created it, and a "
                         "status file there could be read or replaced by them; have it removed "
                         "(as root: rm -r %s) or set XDG_RUNTIME_DIR to a private directory",
                         path, (unsigned)st.st_uid, (unsigned)uid, path);
                return -EPERM;
        }
        if (!status_dir_mode_ok(path, uid, st.st_mode, run)) {
                if (uid == 0 && status_is_system_dir(path, run))
                        snprintf(why, STATUS_WHY_MAX,
                                 "%s can be written by users other than root (mode %04o): "
                                 "chmod 755 %s",
                                 path, (unsigned)(st.st_mode & 07777), path);
                else
                        snprintf(why, STATUS_WHY_MAX,
                                 "%s can be entered by other users (mode %04o): chmod 700 %s", path,
                                 (unsigned)(st.st_mode & 07777), path);
                return -EPERM;
        }
        return 0;
}

/* Open PARENT/NAME as a private directory of `uid`, creating it 0700 when
 * `create` (and only then setting its mode: umask may have taken bits). */
static int open_private(const char *parent, const char *name, uid_t uid, const char *run,
                        bool create, int *ret_fd, char **ret_path, char why[STATUS_WHY_MAX])
{
        _cleanup_close_ int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *path = NULL;
        bool made = false;
        int r;

        if (asprintf(&path, "%s/%s", parent, name) < 0)
                return -ENOMEM;
        if (pfd < 0) {
                r = -errno;
                snprintf(why, STATUS_WHY_MAX, "cannot open %s: %s", parent, strerror(-r));
                return r;
        }
        if (create) {
                if (mkdirat(pfd, name, 0700) == 0)
                        made = true;
                else if (errno != EEXIST) {
                        r = -errno;
                        snprintf(why, STATUS_WHY_MAX, "cannot create %s: %s", path, strerror(-r));
                        return r;
                }
        }
        int fd = open_dir_at(pfd, name);
        if (fd < 0) {
                r = fd;
                if (r == -ELOOP)
                        snprintf(why, STATUS_WHY_MAX,
                                 "%s is a symbolic link, not a directory: remove it (rm %s) and "
                                 "gopls-guard creates the directory itself",
                                 path, path);
                else if (r == -ENOTDIR)
                        snprintf(why, STATUS_WHY_MAX, "%s is not a directory: remove it", path);
                else
                        snprintf(why, STATUS_WHY_MAX, "cannot open %s: %s", path, strerror(-r));
                return r;
        }
        if (made)
                (void)fchmod(fd, 0700);
        r = check_private(fd, path, uid, run, why);
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_path = path;
        path = NULL;
        return 0;
}

/* Whether DIR itself is a private directory of `uid` (XDG_RUNTIME_DIR,
 * /run/user/UID): the base is taken only then. */
static bool is_private_base(const char *dir, uid_t uid)
{
        char why[STATUS_WHY_MAX];
        int fd = open_dir_at(AT_FDCWD, dir);
        if (fd < 0)
                return false;
        bool ok = check_private(fd, dir, uid, NULL, why) == 0;
        close(fd);
        return ok;
}

int status_dir_at(const struct status_places *pl, const char *override, uid_t uid, bool create,
                  char **ret, char why[STATUS_WHY_MAX])
{
        _cleanup_free_ char *parent = NULL, *name = NULL;
        _cleanup_free_ char *path = NULL;
        int fd = -1, r;

        why[0] = '\0';
        /* The directory itself, named outright: split into parent and name. */
        const char *itself = override;
        if (!itself && !(pl->xdg && *pl->xdg && is_private_base(pl->xdg, uid)) && pl->unit_dir &&
            *pl->unit_dir && is_private_base(pl->unit_dir, uid))
                itself = pl->unit_dir;
        if (itself) {
                const char *slash = strrchr(itself, '/');
                if (!slash || slash[1] == '\0') {
                        snprintf(why, STATUS_WHY_MAX, "%s: not a path to a directory", itself);
                        return -EINVAL;
                }
                parent = slash == itself ? strdup("/") : strndup(itself, (size_t)(slash - itself));
                name = strdup(slash + 1);
        } else if (pl->xdg && *pl->xdg && is_private_base(pl->xdg, uid)) {
                parent = strdup(pl->xdg);
                name = strdup("gopls-guard");
        } else {
                char user[64];
                snprintf(user, sizeof user, "%s/%u", pl->run_user, (unsigned)uid);
                if (is_private_base(user, uid)) {
                        parent = strdup(user);
                        name = strdup("gopls-guard");
                } else if (uid == 0) {
                        parent = strdup(pl->run);
                        name = strdup("gopls-guard");
                } else {
                        parent = strdup(pl->tmp);
                        if (asprintf(&name, "gopls-guard-%u", (unsigned)uid) < 0)
                                name = NULL;
                }
        }
        if (!parent || !name)
                return -ENOMEM;
        r = open_private(parent, name, uid, pl->run, create, &fd, &path, why);
        if (r < 0)
                return r;
        close(fd);
        *ret = path;
        path = NULL;
        return 0;
}

/* The places of this process: its XDG_RUNTIME_DIR, and the first of the
 * directories systemd's RuntimeDirectory= made for its unit. */
static struct status_places places_of_env(char unit_dir[PATH_MAX])
{
        struct status_places pl = status_places_default;
        const char *rd = getenv("RUNTIME_DIRECTORY");
        pl.xdg = getenv("XDG_RUNTIME_DIR");
        if (rd && *rd) {
                snprintf(unit_dir, PATH_MAX, "%.*s", (int)strcspn(rd, ":"), rd);
                pl.unit_dir = unit_dir;
        }
        return pl;
}

int status_dir(const char *override, char **ret, char why[STATUS_WHY_MAX])
{
        char unit_dir[PATH_MAX];
        struct status_places pl = places_of_env(unit_dir);
        return status_dir_at(&pl, override, geteuid(), true, ret, why);
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
        json_object_set_new(o, "proactive_restarts", json_integer((json_int_t)s->proactive_restarts));
        json_object_set_new(o, "last_incident",
                            s->last_incident ? json_string(s->last_incident) : json_null());
        json_object_set_new(o, "hangs", json_integer((json_int_t)s->hangs));
        json_object_set_new(o, "requested_restarts",
                            json_integer((json_int_t)s->requested_restarts));
        json_object_set_new(o, "poisoned_requests", json_integer((json_int_t)s->poisoned));
        json_object_set_new(o, "pid_starttime", json_integer((json_int_t)s->pid_starttime));
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

/* Write all of `data` to `fd`. */
static int write_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int status_write(const char *path, const struct status *s)
{
        return status_write_at(status_places_default.run, path, s);
}

int status_write_at(const char *run, const char *path, const struct status *s)
{
        _cleanup_free_ char *json = NULL, *dir = NULL, *tmp = NULL;
        char why[STATUS_WHY_MAX];
        int r = status_format(s, &json);
        if (r < 0)
                return r;
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return -EINVAL;
        const char *base = slash + 1;
        dir = strndup(path, (size_t)(slash - path));
        if (!dir || asprintf(&tmp, "%s.tmp", base) < 0)
                return -ENOMEM;

        /* The directory was checked when the guard chose it; checked again
         * here because it is opened again by name. */
        _cleanup_close_ int dfd = open_dir_at(AT_FDCWD, dir);
        if (dfd < 0)
                return dfd;
        r = check_private(dfd, dir, geteuid(), run, why);
        if (r < 0)
                return r;
        /* O_EXCL|O_NOFOLLOW: never write through whatever sits at the
         * temporary name; a leftover (a guard with this pid was killed
         * mid-write) is removed once, a link itself and not its target. */
        int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && unlinkat(dfd, tmp, 0) == 0)
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        size_t len = strlen(json);
        r = write_all(fd, json, len);
        if (r == 0)
                r = write_all(fd, "\n", 1);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && renameat(dfd, tmp, dfd, base) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dfd, tmp, 0);
        return r;
}

static void human_size(json_t *v, char *buf, size_t len)
{
        if (json_is_string(v)) {
                snprintf(buf, len, "%s", json_string_value(v));
                return;
        }
        (void)format_size_human((uint64_t)json_integer_value(v), buf, len);
}

/* A status file is one line of JSON; anything much larger is not one. */
#define STATUS_FILE_MAX (64 * 1024)

/* Read DFD/NAME as a status file: a regular file, opened without following
 * a link or waiting on a FIFO; its owner in `ret_uid`.  NULL (with a note
 * on stderr) for anything else. */
static json_t *read_status_file(int dfd, const char *dir, const char *name, uid_t *ret_uid)
{
        struct stat st;
        int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT) /* a guard that just ended */
                        fprintf(stderr, "gopls-guard: skipping %s/%s: %s\n", dir, name,
                                errno == ELOOP ? "a symbolic link" : strerror(errno));
                return NULL;
        }
        if (fstat(fd, &st) < 0) {
                fprintf(stderr, "gopls-guard: skipping %s/%s: %s\n", dir, name, strerror(errno));
                close(fd);
                return NULL;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > STATUS_FILE_MAX) {
                fprintf(stderr, "gopls-guard: skipping %s/%s: not a status file (%s)\n", dir,
                        name, S_ISREG(st.st_mode) ? "too large" : "not a regular file");
                close(fd);
                return NULL;
        }
        *ret_uid = st.st_uid;
        json_error_t e;
        json_t *o = json_loadfd(fd, 0, &e);
        close(fd);
        if (!o || !json_is_object(o)) {
                fprintf(stderr, "gopls-guard: skipping %s/%s: not a status file (%s)\n", dir,
                        name, o ? "not a JSON object" : e.text);
                json_decref(o);
                return NULL;
        }
        return o;
}

struct listing {
        FILE *out;
        enum status_output fmt;
        const char *workspace; /* the resolved WORKSPACE, or NULL */
        bool users;            /* STATUS_TEXT: a USER column (root's view of everyone's) */
        unsigned shown;
        struct om_guard *om; /* STATUS_OPENMETRICS: written at the end */
        size_t n_om;
        status_visit_fn visit; /* status_foreach(): called instead of printing */
        void *visit_data;
};

static uint64_t json_u64(json_t *v)
{
        if (json_is_string(v)) /* "max" */
                return UINT64_MAX;
        json_int_t i = json_integer_value(v);
        return i > 0 ? (uint64_t)i : 0;
}

/* The user of a guard: the owner of its status file, by name if it has one. */
static char *user_name(uid_t uid)
{
        char buf[4096], *name = NULL;
        struct passwd pw, *res = NULL;
        if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
                return strdup(res->pw_name);
        if (asprintf(&name, "%u", (unsigned)uid) < 0)
                return NULL;
        return name;
}

static void add_metrics(struct listing *l, json_t *o, pid_t pid, const char *ws, uid_t owner)
{
        struct om_guard *n = realloc(l->om, (l->n_om + 1) * sizeof *n);
        if (!n)
                return;
        l->om = n;
        json_t *m = json_object_get(o, "memory"), *cpu = json_object_get(o, "cpu");
        l->om[l->n_om++] = (struct om_guard){
                .workspace = strdup(ws ? ws : ""),
                .user = user_name(owner),
                .pid = (int)pid,
                .memory_current = json_u64(json_object_get(m, "current")),
                .memory_peak = json_u64(json_object_get(m, "peak")),
                .memory_high = json_u64(json_object_get(m, "high")),
                .memory_max = json_u64(json_object_get(m, "max")),
                .restarts = json_u64(json_object_get(o, "restarts")),
                .oom_kills = json_u64(json_object_get(o, "oom_kills")),
                /* absent until the guard restarts proactively */
                .proactive_restarts = json_u64(json_object_get(o, "proactive_restarts")),
                .cpu_usage_usec = json_u64(json_object_get(cpu, "usage_usec")),
                .cpu_throttled_usec = json_u64(json_object_get(cpu, "throttled_usec")),
                .generation = json_u64(json_object_get(o, "generation")),
                .degraded = json_is_true(json_object_get(o, "degraded")),
        };
}

static void show(struct listing *l, json_t *o, pid_t pid, const char *ws, uid_t owner)
{
        if (l->visit) {
                const struct status_entry e = {
                    .pid = pid,
                    .workspace = ws,
                    .owner = owner,
                    .pid_starttime = json_u64(json_object_get(o, "pid_starttime")),
                    .state = json_string_value(json_object_get(o, "state")),
                };
                l->visit(&e, l->visit_data);
        } else if (l->fmt == STATUS_OPENMETRICS) {
                add_metrics(l, o, pid, ws, owner);
        } else if (l->fmt == STATUS_JSON) {
                char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
                fprintf(l->out, "%s%s", l->shown ? "," : "", t ? t : "{}");
                free(t);
        } else {
                json_t *m = json_object_get(o, "memory");
                const char *state = json_string_value(json_object_get(o, "state"));
                char cur[32], peak[32], max[32];
                human_size(json_object_get(m, "current"), cur, sizeof cur);
                human_size(json_object_get(m, "peak"), peak, sizeof peak);
                human_size(json_object_get(m, "max"), max, sizeof max);
                fprintf(l->out,
                        "%-8d %-10s %-8" JSON_INTEGER_FORMAT " %-5" JSON_INTEGER_FORMAT
                        " %-9s %-9s %-9s ",
                        (int)pid, state ? state : "?",
                        json_integer_value(json_object_get(o, "server_pid")),
                        json_integer_value(json_object_get(o, "generation")), cur, peak, max);
                if (l->users) {
                        char *user = user_name(owner);
                        fprintf(l->out, "%-10s ", user ? user : "?");
                        free(user);
                }
                fprintf(l->out, "%s%s\n", ws ? ws : "-",
                        json_is_true(json_object_get(o, "degraded")) ? " (degraded)" : "");
                const char *inc = json_string_value(json_object_get(o, "last_incident"));
                if (inc)
                        fprintf(l->out, "%8s last incident: %s\n", "", inc);
        }
        l->shown++;
}

/* List the live guards of one directory `dfd` (named `dir`).  `own`: this
 * user's own directory, where files of guards that are gone are removed
 * (a SIGKILLed guard cannot remove its own). */
static void list_dir(struct listing *l, int dfd, const char *dir, bool own)
{
        DIR *d = opendir_at(dfd, ".");
        if (!d) {
                fprintf(stderr, "gopls-guard: cannot list %s: %s\n", dir, strerror(errno));
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (n < 6 || strcmp(de->d_name + n - 5, ".json") != 0)
                        continue;
                uid_t owner = 0;
                json_t *o = read_status_file(dfd, dir, de->d_name, &owner);
                if (!o)
                        continue;
                pid_t pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
                if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH)) {
                        if (own)
                                (void)unlinkat(dfd, de->d_name, 0);
                        json_decref(o);
                        continue;
                }
                const char *ws = json_string_value(json_object_get(o, "workspace"));
                if (!l->workspace || (ws && strcmp(ws, l->workspace) == 0))
                        show(l, o, pid, ws, owner);
                json_decref(o);
        }
        closedir(d);
}

/* Another user's directory, for root: PARENT/NAME must be a private
 * directory of `uid` (the uid its path claims). */
static void list_other(struct listing *l, const char *parent, const char *name, uid_t uid,
                       dev_t own_dev, ino_t own_ino)
{
        _cleanup_free_ char *path = NULL;
        char why[STATUS_WHY_MAX];
        struct stat st;
        int fd;

        int r = open_private(parent, name, uid, NULL, false, &fd, &path, why);
        if (r < 0) {
                if (r != -ENOENT)
                        fprintf(stderr, "gopls-guard: skipping a status directory: %s\n", why);
                return;
        }
        if (fstat(fd, &st) == 0 && !(st.st_dev == own_dev && st.st_ino == own_ino))
                list_dir(l, fd, path, false);
        close(fd);
}

/* RUN/gopls-guard, for root: root's own status files (when it is not the
 * directory already listed) and the system units' RuntimeDirectory=
 * subdirectories (RUN/gopls-guard/ESC, owned by the unit's user, and its
 * gopls-guard/ when the unit points XDG_RUNTIME_DIR there).  Only
 * root may create anything there (it is root's and closed to writes by
 * others), so each subdirectory's owner is who its files belong to; one
 * that others may enter is skipped as for any user. */
static void list_system(struct listing *l, const char *run, dev_t own_dev, ino_t own_ino)
{
        _cleanup_free_ char *path = NULL;
        struct stat st;
        _cleanup_close_ int pfd = open(run, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0 || asprintf(&path, "%s/gopls-guard", run) < 0)
                return;
        _cleanup_close_ int fd = open_dir_at(pfd, "gopls-guard");
        if (fd < 0) {
                if (fd != -ENOENT)
                        fprintf(stderr, "gopls-guard: skipping %s: %s\n", path,
                                fd == -ELOOP ? "a symbolic link" : strerror(-fd));
                return;
        }
        if (fstat(fd, &st) < 0)
                return;
        if (st.st_uid != 0 || (st.st_mode & 022)) {
                fprintf(stderr,
                        "gopls-guard: skipping %s: it should belong to root and be writable by "
                        "root alone (it is uid %u's, mode %04o)\n",
                        path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                return;
        }
        if (!(st.st_dev == own_dev && st.st_ino == own_ino))
                list_dir(l, fd, path, false);

        DIR *d = opendir_at(fd, ".");
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN))
                        continue;
                int sfd = open_dir_at(fd, de->d_name);
                if (sfd < 0)
                        continue; /* a socket, a link, a file */
                char sub[PATH_MAX], why[STATUS_WHY_MAX] = "";
                snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
                if (fstat(sfd, &st) == 0 && check_private(sfd, sub, st.st_uid, NULL, why) == 0) {
                        list_dir(l, sfd, sub, false);
                        /* A unit that sets XDG_RUNTIME_DIR to its
                         * RuntimeDirectory= has its guard write one level
                         * down, in gopls-guard/ (of the same owner). */
                        uid_t owner = st.st_uid;
                        int gfd = open_dir_at(sfd, "gopls-guard");
                        char nested[PATH_MAX + 16];
                        snprintf(nested, sizeof nested, "%s/gopls-guard", sub);
                        if (gfd >= 0 && check_private(gfd, nested, owner, NULL, why) == 0)
                                list_dir(l, gfd, nested, false);
                        else if (gfd >= 0)
                                fprintf(stderr, "gopls-guard: skipping a status directory: %s\n",
                                        why);
                        if (gfd >= 0)
                                close(gfd);
                } else {
                        fprintf(stderr, "gopls-guard: skipping a status directory: %s\n", why);
                }
                close(sfd);
        }
        closedir(d);
}

/* "1000" -> 1000; false for anything that is not a plain uid. */
static bool parse_uid(const char *s, uid_t *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || end == s || *end || *s < '0' || *s > '9' || v > UINT32_MAX - 1)
                return false;
        *ret = (uid_t)v;
        return true;
}

/* As root: every user's guards.  Each directory must belong to the uid
 * its name claims, so that no user can pass their files off as another's. */
static void list_all_users(struct listing *l, const struct status_places *pl, dev_t own_dev,
                           ino_t own_ino)
{
        DIR *d = opendir(pl->run_user);
        struct dirent *de;
        uid_t uid;

        if (d) {
                while ((de = readdir(d))) {
                        if (!parse_uid(de->d_name, &uid))
                                continue;
                        char base[PATH_MAX];
                        snprintf(base, sizeof base, "%s/%s", pl->run_user, de->d_name);
                        if (is_private_base(base, uid))
                                list_other(l, base, "gopls-guard", uid, own_dev, own_ino);
                }
                closedir(d);
        }
        list_system(l, pl->run, own_dev, own_ino);
        d = opendir(pl->tmp);
        if (d) {
                while ((de = readdir(d))) {
                        if (strncmp(de->d_name, "gopls-guard-", 12) != 0 ||
                            !parse_uid(de->d_name + 12, &uid))
                                continue;
                        list_other(l, pl->tmp, de->d_name, uid, own_dev, own_ino);
                }
                closedir(d);
        }
}

/* Every directory `status` reads, into `l`. */
static void list_everything(struct listing *l, const struct status_places *pl, const char *override,
                            uid_t uid)
{
        _cleanup_free_ char *dir = NULL;
        char why[STATUS_WHY_MAX];
        dev_t own_dev = 0;
        ino_t own_ino = 0;

        int r = status_dir_at(pl, override, uid, false, &dir, why);
        if (r >= 0) {
                int fd = open_dir_at(AT_FDCWD, dir);
                struct stat st;
                if (fd >= 0 && fstat(fd, &st) == 0) {
                        own_dev = st.st_dev;
                        own_ino = st.st_ino;
                        list_dir(l, fd, dir, true);
                }
                if (fd >= 0)
                        close(fd);
        } else if (r != -ENOENT && !(uid == 0 && !override)) {
                /* (root reads /run/gopls-guard below with the checks for
                 * the system units' directories, and says what it skips) */
                fprintf(stderr, "gopls-guard: not reading the status directory: %s\n", why);
        }
        if (uid == 0 && !override)
                list_all_users(l, pl, own_dev, own_ino);
}

int status_command_at(const struct status_places *pl, const char *override, uid_t uid, FILE *out,
                      enum status_output fmt, const char *workspace)
{
        char real_ws[PATH_MAX];
        struct listing l = {.out = out, .fmt = fmt};

        if (workspace) {
                if (!realpath(workspace, real_ws))
                        snprintf(real_ws, sizeof real_ws, "%s", workspace);
                l.workspace = real_ws;
        }
        /* Root sees every user's guards: say whose each one is. */
        l.users = uid == 0 && !override;
        if (fmt == STATUS_TEXT)
                fprintf(out, "%-8s %-10s %-8s %-5s %-9s %-9s %-9s %s%s\n", "GUARD", "STATE",
                        "SERVER", "GEN", "MEMORY", "PEAK", "MAX", l.users ? "USER       " : "",
                        "WORKSPACE");
        else if (fmt == STATUS_JSON)
                fputc('[', out);

        list_everything(&l, pl, override, uid);
        if (fmt == STATUS_JSON)
                fputs("]\n", out);
        int ret = workspace && l.shown == 0 ? 1 : 0;
        if (fmt == STATUS_OPENMETRICS && om_write(out, l.om, l.n_om) < 0)
                ret = 1;
        for (size_t i = 0; i < l.n_om; i++) {
                free((char *)l.om[i].workspace);
                free((char *)l.om[i].user);
        }
        free(l.om);
        return ret;
}

int status_command(const char *override, FILE *out, enum status_output fmt, const char *workspace)
{
        char unit_dir[PATH_MAX];
        struct status_places pl = places_of_env(unit_dir);
        return status_command_at(&pl, override, geteuid(), out, fmt, workspace);
}

unsigned status_foreach_at(const struct status_places *pl, const char *override, uid_t uid,
                           const char *workspace, status_visit_fn visit, void *userdata)
{
        char real_ws[PATH_MAX];
        struct listing l = {.fmt = STATUS_TEXT, .visit = visit, .visit_data = userdata};

        if (workspace) {
                if (!realpath(workspace, real_ws))
                        snprintf(real_ws, sizeof real_ws, "%s", workspace);
                l.workspace = real_ws;
        }
        list_everything(&l, pl, override, uid);
        return l.shown;
}

unsigned status_foreach(const char *override, const char *workspace, status_visit_fn visit,
                        void *userdata)
{
        char unit_dir[PATH_MAX];
        struct status_places pl = places_of_env(unit_dir);
        return status_foreach_at(&pl, override, geteuid(), workspace, visit, userdata);
}

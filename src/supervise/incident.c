#include "incident.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "policy.h"
#include "util.h"

/* memory.stat has about 50 lines; nothing the kernel writes there comes
 * near this. */
#define CGROUP_FILE_MAX (64 * 1024)
/* A profile of a server that grew to many GiB is still a few MiB. */
#define HEAP_PROFILE_MAX ((size_t)32 << 20)
#define INCIDENT_DIR_MAX 1024

void incident_places_from_env(struct incident_places *ret)
{
        *ret = (struct incident_places){
            .state_directory = getenv("STATE_DIRECTORY"),
            .xdg_state_home = getenv("XDG_STATE_HOME"),
            .home = getenv("HOME"),
        };
}

/* An open directory that only the user may use (see incident.h).  Root
 * listing (`foreign`) may read another user's, as long as it is private:
 * a system unit's StateDirectory= belongs to its dynamic user. */
static int check_private(int fd, const char *path, bool foreign, char why[INCIDENT_WHY_MAX])
{
        struct stat st;
        uid_t uid = geteuid();

        if (fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(why, INCIDENT_WHY_MAX, "cannot check %s: %s", path, strerror(-r));
                return r;
        }
        if (!S_ISDIR(st.st_mode)) {
                snprintf(why, INCIDENT_WHY_MAX, "%s is not a directory: remove it", path);
                return -ENOTDIR;
        }
        if (st.st_uid != uid && !foreign) {
                snprintf(why, INCIDENT_WHY_MAX,
                         "%s belongs to uid %u, not to uid %u: someone else could read or "
                         "replace incidents there; have it removed (as root: rm -r %s)",
                         path, (unsigned)st.st_uid, (unsigned)uid, path);
                return -EPERM;
        }
        if (st.st_mode & 077) {
                snprintf(why, INCIDENT_WHY_MAX,
                         "%s can be entered by other users (mode %04o): chmod 700 %s", path,
                         (unsigned)(st.st_mode & 07777), path);
                return -EPERM;
        }
        return 0;
}

/* Open (and make) NAME below `parent` without following a link. */
static int open_private_child(int parent, const char *name, const char *path, bool create,
                              bool foreign, char why[INCIDENT_WHY_MAX])
{
        if (create && mkdirat(parent, name, 0700) < 0 && errno != EEXIST) {
                int r = -errno;
                snprintf(why, INCIDENT_WHY_MAX, "cannot create %s: %s", path, strerror(-r));
                return r;
        }
        int fd = open_dir_at(parent, name);
        if (fd < 0) {
                int r = fd;
                if (r == -ELOOP || r == -ENOTDIR) {
                        snprintf(why, INCIDENT_WHY_MAX, "%s is %s, not a directory: remove it",
                                 path, r == -ELOOP ? "a symbolic link" : "a file");
                } else {
                        snprintf(why, INCIDENT_WHY_MAX, "cannot open %s: %s", path, strerror(-r));
                }
                return r;
        }
        int r = check_private(fd, path, foreign, why);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* mkdir -p for the base (~/.local/state): made 0700 where missing. */
static int make_base(const char *path)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int incident_dir_open(const struct incident_places *pl, bool create, char **ret_path,
                      char why[INCIDENT_WHY_MAX])
{
        char base[PATH_MAX], unit[PATH_MAX] = "", path[PATH_MAX];
        bool in_unit = false, foreign = !create && geteuid() == 0;
        int r;

        if (pl->state_directory && pl->state_directory[0] == '/') {
                /* StateDirectory=a b: the first one is ours. */
                snprintf(unit, sizeof unit, "%.*s", (int)strcspn(pl->state_directory, ":"),
                         pl->state_directory);
                in_unit = true;
        }
        if (in_unit)
                snprintf(base, sizeof base, "%s", unit);
        else if (pl->xdg_state_home && pl->xdg_state_home[0] == '/')
                snprintf(base, sizeof base, "%s", pl->xdg_state_home);
        else if (pl->home && pl->home[0] == '/')
                snprintf(base, sizeof base, "%s/.local/state", pl->home);
        else {
                snprintf(why, INCIDENT_WHY_MAX,
                         "no state directory: neither STATE_DIRECTORY, XDG_STATE_HOME nor HOME "
                         "is set to an absolute path");
                return -ENOENT;
        }

        if (create && !in_unit && (r = make_base(base)) < 0) {
                snprintf(why, INCIDENT_WHY_MAX, "cannot create %s: %s", base, strerror(-r));
                return r;
        }
        _cleanup_close_ int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0) {
                r = -errno;
                snprintf(why, INCIDENT_WHY_MAX, "cannot open %s: %s", base, strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(bfd, &st) < 0)
                return -errno;
        if (in_unit) {
                /* The unit's own directory: systemd made it for this user. */
                if ((r = check_private(bfd, base, foreign, why)) < 0)
                        return r;
        } else if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & 022)) {
                snprintf(why, INCIDENT_WHY_MAX,
                         "%s may be written by other users (owner uid %u, mode %04o): fix it or "
                         "set XDG_STATE_HOME to a directory of your own",
                         base, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }

        _cleanup_close_ int gfd = -1;
        int parent = bfd;
        if (!in_unit) {
                snprintf(path, sizeof path, "%s/gopls-guard", base);
                gfd = open_private_child(bfd, "gopls-guard", path, create, foreign, why);
                if (gfd < 0)
                        return gfd;
                parent = gfd;
        }
        snprintf(path, sizeof path, "%s%s/incidents", base, in_unit ? "" : "/gopls-guard");
        int fd = open_private_child(parent, "incidents", path, create, foreign, why);
        if (fd < 0)
                return fd;
        if (ret_path && !(*ret_path = strdup(path))) {
                close(fd);
                return -ENOMEM;
        }
        return fd;
}

void incident_name(const struct incident_facts *f, char ret[INCIDENT_NAME_MAX])
{
        time_t t = (time_t)(f->realtime_usec / 1000000);
        struct tm tm;
        char when[32] = "00000000T000000Z";

        if (gmtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
        snprintf(ret, INCIDENT_NAME_MAX, "%s-%d-%u-%s", when, (int)f->guard_pid, f->generation,
                 f->kind);
}

/* "key value" lines as an object of numbers (strings where a value is not
 * a number, e.g. "max"). */
static json_t *kv_object(const char *text)
{
        json_t *o = json_object();
        if (!o)
                return NULL;
        for (const char *line = text; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *sp = memchr(line, ' ', len);
                if (sp && sp > line) {
                        char key[128], val[64];
                        snprintf(key, sizeof key, "%.*s", (int)(sp - line), line);
                        snprintf(val, sizeof val, "%.*s", (int)(line + len - sp - 1), sp + 1);
                        char *e;
                        errno = 0;
                        unsigned long long v = strtoull(val, &e, 10);
                        if (!errno && e != val && !*e && v <= (unsigned long long)INT64_MAX)
                                json_object_set_new(o, key, json_integer((json_int_t)v));
                        else
                                json_object_set_new(o, key, json_string(val));
                }
                line = end ? end + 1 : NULL;
        }
        return o;
}

static void set_file(json_t *o, const char *key, int leaf_fd, const char *file)
{
        _cleanup_free_ char *text = NULL;
        if (leaf_fd < 0 || read_file_at(leaf_fd, file, &text, CGROUP_FILE_MAX) < 0)
                return;
        if (strcmp(file, "memory.peak") == 0) {
                uint64_t v;
                if (cg_parse_u64_or_max(text, &v) == 0 && v != POLICY_NO_LIMIT)
                        json_object_set_new(o, key, json_integer((json_int_t)v));
                return;
        }
        json_t *v = kv_object(text);
        if (v)
                json_object_set_new(o, key, v);
}

static json_t *limit_json(uint64_t v)
{
        return v == POLICY_NO_LIMIT ? json_null() : json_integer((json_int_t)v);
}

static int write_all_at(int dirfd, const char *name, const char *data, size_t len)
{
        _cleanup_close_ int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Move (or, across filesystems, copy) the server's profile in. */
static int take_profile(int dirfd, const char *from)
{
        /* The server created it with its own umask. */
        (void)chmod(from, 0600);
        if (renameat(AT_FDCWD, from, dirfd, INCIDENT_HEAP) == 0)
                return 0;
        if (errno != EXDEV)
                return -errno;
        _cleanup_free_ char *data = NULL;
        int n = read_file_at(AT_FDCWD, from, &data, HEAP_PROFILE_MAX);
        if (n < 0)
                return n;
        int r = write_all_at(dirfd, INCIDENT_HEAP, data, (size_t)n);
        if (r == 0)
                (void)unlink(from);
        return r;
}

static json_t *facts_json(const struct incident_facts *f, const char *name, bool have_heap)
{
        json_t *o = json_object(), *a;
        char when[32] = "";
        time_t t = (time_t)(f->realtime_usec / 1000000);
        struct tm tm;

        if (!o)
                return NULL;
        if (gmtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        json_object_set_new(o, "name", json_string(name));
        json_object_set_new(o, "time", json_string(when));
        json_object_set_new(o, "kind", json_string(f->kind));
        json_object_set_new(o, "workspace", f->workspace ? json_string(f->workspace) : json_null());
        json_object_set_new(o, "command", f->command ? json_string(f->command) : json_null());
        json_object_set_new(o, "cgroup", f->cgroup ? json_string(f->cgroup) : json_null());
        json_object_set_new(o, "degraded", json_boolean(!f->cgroup));
        json_object_set_new(o, "guard_pid", json_integer(f->guard_pid));
        json_object_set_new(o, "server_pid", json_integer(f->server_pid));
        json_object_set_new(o, "generation", json_integer(f->generation));
        json_object_set_new(o, "oom", json_boolean(f->oom));
        json_object_set_new(o, "exit_status", f->signal ? json_null() : json_integer(f->status));
        json_object_set_new(o, "signal", f->signal ? json_integer(f->signal) : json_null());
        json_t *mem = json_object();
        json_object_set_new(mem, "peak", json_integer((json_int_t)f->peak));
        json_object_set_new(mem, "high", limit_json(f->memory_high));
        json_object_set_new(mem, "max", limit_json(f->memory_max));
        set_file(mem, "leaf_peak", f->leaf_fd, "memory.peak");
        json_object_set_new(o, "memory", mem);
        set_file(o, "memory_events", f->leaf_fd, "memory.events");
        set_file(o, "memory_stat", f->leaf_fd, "memory.stat");
        if (f->memory_stat_at_peak) {
                json_t *last = kv_object(f->memory_stat_at_peak);
                if (last) {
                        json_object_set_new(o, "memory_stat_at_peak", last);
                        json_object_set_new(
                            o, "memory_stat_at_peak_age_ms",
                            json_integer((json_int_t)(f->memory_stat_at_peak_age_usec / 1000)));
                }
        }
        set_file(o, "cpu_stat", f->leaf_fd, "cpu.stat");
        a = json_array();
        for (size_t i = 0; i < f->n_methods; i++)
                json_array_append_new(a, json_string(f->methods[i]));
        json_object_set_new(o, "methods_in_flight", a);
        a = json_array();
        for (const char *line = f->stderr_tail; line && *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                json_array_append_new(a, json_stringn_nocheck(line, len));
                line = end ? end + 1 : NULL;
        }
        json_object_set_new(o, "stderr_tail", a);
        json_object_set_new(o, "heap_profile",
                            have_heap ? json_string(INCIDENT_HEAP) : json_null());
        if (!have_heap && f->heap_note)
                json_object_set_new(o, "heap_profile_note", json_string(f->heap_note));
        return o;
}

int incident_capture(int dirfd, const struct incident_facts *f, char ret_name[INCIDENT_NAME_MAX])
{
        char name[INCIDENT_NAME_MAX], tmp[INCIDENT_NAME_MAX + 8];
        int r;

        incident_name(f, name);
        snprintf(tmp, sizeof tmp, ".%s.tmp", name);
        if (mkdirat(dirfd, tmp, 0700) < 0)
                return -errno;
        _cleanup_close_ int fd = open_dir_at(dirfd, tmp);
        if (fd < 0) {
                r = fd;
                goto fail;
        }
        bool have_heap = f->heap_profile && take_profile(fd, f->heap_profile) == 0;
        json_t *o = facts_json(f, name, have_heap);
        char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (!text) {
                r = -ENOMEM;
                goto fail;
        }
        /* One more byte: the text ends with a newline, for cat. */
        size_t len = strlen(text);
        char *nl = realloc(text, len + 2);
        if (!nl) {
                free(text);
                r = -ENOMEM;
                goto fail;
        }
        text = nl;
        memcpy(text + len, "\n", 2);
        r = write_all_at(fd, INCIDENT_JSON, text, len + 1);
        free(text);
        if (r < 0)
                goto fail;
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                r = -errno;
                goto fail;
        }
        snprintf(ret_name, INCIDENT_NAME_MAX, "%s", name);
        return 0;
fail:
        if (fd >= 0) {
                (void)unlinkat(fd, INCIDENT_JSON, 0);
                (void)unlinkat(fd, INCIDENT_HEAP, 0);
        }
        (void)unlinkat(dirfd, tmp, AT_REMOVEDIR);
        return r;
}

size_t incident_prune_count(const uint64_t *sizes, size_t n, unsigned keep, uint64_t max_size)
{
        size_t drop = 0;
        uint64_t total = 0;

        if (n == 0)
                return 0;
        if (keep == 0)
                keep = 1;
        if (n > keep)
                drop = n - keep;
        for (size_t i = drop; i < n; i++)
                total = total + sizes[i] < total ? UINT64_MAX : total + sizes[i];
        while (drop < n - 1 && total > max_size)
                total -= sizes[drop++];
        return drop;
}

struct entry {
        char name[INCIDENT_NAME_MAX];
        uint64_t size;
};

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* An incident's directory name: not hidden (those are being written). */
static bool is_incident_name(const char *n)
{
        return n[0] >= '0' && n[0] <= '9' && strlen(n) < INCIDENT_NAME_MAX && !strchr(n, '/');
}

/* Sum of the regular files in one incident directory. */
static uint64_t incident_size(int parent, const char *name)
{
        DIR *d = opendir_at(parent, name);
        if (!d)
                return 0;
        uint64_t total = 0;
        struct dirent *de;
        struct stat st;
        while ((de = readdir(d)))
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISREG(st.st_mode))
                        total += (uint64_t)st.st_size;
        closedir(d);
        return total;
}

/* The incidents, oldest first (caller frees). */
static int list_entries(int dirfd, struct entry **ret, size_t *ret_n)
{
        DIR *d = opendir_at(dirfd, ".");
        if (!d)
                return -errno;
        struct entry *v = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!is_incident_name(de->d_name) || n >= INCIDENT_DIR_MAX)
                        continue;
                if (n == cap) {
                        cap = cap ? 2 * cap : 16;
                        struct entry *nv = realloc(v, cap * sizeof *nv);
                        if (!nv) {
                                free(v);
                                closedir(d);
                                return -ENOMEM;
                        }
                        v = nv;
                }
                snprintf(v[n].name, sizeof v[n].name, "%s", de->d_name);
                v[n].size = incident_size(dirfd, de->d_name);
                n++;
        }
        closedir(d);
        if (n)
                qsort(v, n, sizeof *v, cmp_entry);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Remove one incident directory: only regular files inside, never
 * following a link someone put there. */
static int remove_incident(int parent, const char *name)
{
        DIR *d = opendir_at(parent, name);
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        (void)unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        return unlinkat(parent, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

int incident_prune(int dirfd, unsigned keep, uint64_t max_size)
{
        _cleanup_free_ struct entry *v = NULL;
        size_t n;
        int r = list_entries(dirfd, &v, &n);
        if (r < 0)
                return r;
        _cleanup_free_ uint64_t *sizes = calloc(n ? n : 1, sizeof *sizes);
        if (!sizes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                sizes[i] = v[i].size;
        size_t drop = incident_prune_count(sizes, n, keep, max_size);
        int removed = 0;
        for (size_t i = 0; i < drop; i++)
                if (remove_incident(dirfd, v[i].name) == 0)
                        removed++;
        return removed;
}

static json_t *load_incident(int dirfd, const char *name)
{
        int fd = open_dir_at(dirfd, name);
        if (fd < 0)
                return NULL;
        _cleanup_free_ char *text = NULL;
        int n = -ENOENT;
        struct stat st;
        /* The directory is the user's own (0700): only they could swap
         * the file between the check and the read. */
        if (fstatat(fd, INCIDENT_JSON, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                n = read_file_at(fd, INCIDENT_JSON, &text, 16 << 20);
        close(fd);
        if (n < 0)
                return NULL;
        json_t *o = json_loads(text, 0, NULL);
        if (o && !json_is_object(o)) {
                json_decref(o);
                o = NULL;
        }
        return o;
}

static bool same_workspace(json_t *o, const char *workspace)
{
        if (!workspace)
                return true;
        const char *w = json_string_value(json_object_get(o, "workspace"));
        char a[PATH_MAX], b[PATH_MAX];
        if (!w)
                return false;
        if (strcmp(w, workspace) == 0)
                return true;
        return realpath(w, a) && realpath(workspace, b) && strcmp(a, b) == 0;
}

int incident_last(int dirfd, const char *workspace, char ret_name[INCIDENT_NAME_MAX])
{
        _cleanup_free_ struct entry *v = NULL;
        size_t n;
        int r = list_entries(dirfd, &v, &n);
        if (r < 0)
                return r;
        for (size_t i = n; i-- > 0;) {
                json_t *o = workspace ? load_incident(dirfd, v[i].name) : NULL;
                bool match = !workspace || (o && same_workspace(o, workspace));
                json_decref(o);
                if (match) {
                        snprintf(ret_name, INCIDENT_NAME_MAX, "%s", v[i].name);
                        return 1;
                }
        }
        return 0;
}

static void print_text(FILE *out, json_t *o, const char *path, uint64_t size)
{
        char peak[32] = "?", sz[32];
        json_t *p = json_object_get(json_object_get(o, "memory"), "peak");
        if (json_is_integer(p))
                format_size_human((uint64_t)json_integer_value(p), peak, sizeof peak);
        format_size_human(size, sz, sizeof sz);
        const char *ws = json_string_value(json_object_get(o, "workspace"));
        fprintf(out, "%s  %-17s %s  peak %s  %zu in flight  %s%s\n    %s (%s)\n",
                json_string_value(json_object_get(o, "time")) ?: "?",
                json_string_value(json_object_get(o, "kind")) ?: "?", ws ? ws : "(no workspace)",
                peak, json_array_size(json_object_get(o, "methods_in_flight")),
                json_is_string(json_object_get(o, "heap_profile")) ? "heap profile"
                                                                   : "no heap profile",
                json_object_get(o, "degraded") == json_true() ? ", degraded" : "", path, sz);
}

int incidents_command(const struct incident_places *pl, FILE *out, bool json, const char *workspace)
{
        char why[INCIDENT_WHY_MAX];
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int dirfd = incident_dir_open(pl, false, &path, why);
        json_t *all = json_array();

        if (!all)
                return 1;
        if (dirfd == -ENOENT) {
                /* Nothing captured yet: an empty list, not an error. */
                if (json) {
                        fputs("[]\n", out);
                } else {
                        fputs("No incidents.\n", out);
                }
                json_decref(all);
                return 0;
        }
        if (dirfd < 0) {
                fprintf(stderr, "gopls-guard: incidents: %s\n", why);
                json_decref(all);
                return 1;
        }
        _cleanup_free_ struct entry *v = NULL;
        size_t n;
        int r = list_entries(dirfd, &v, &n);
        if (r < 0) {
                fprintf(stderr, "gopls-guard: incidents: cannot list %s: %s\n", path, strerror(-r));
                json_decref(all);
                return 1;
        }
        size_t shown = 0;
        for (size_t i = 0; i < n; i++) {
                json_t *o = load_incident(dirfd, v[i].name);
                char full[PATH_MAX];
                snprintf(full, sizeof full, "%s/%s", path, v[i].name);
                if (!o) {
                        fprintf(stderr, "gopls-guard: incidents: %s has no readable %s; skipped\n",
                                full, INCIDENT_JSON);
                        continue;
                }
                if (!same_workspace(o, workspace)) {
                        json_decref(o);
                        continue;
                }
                json_object_set_new(o, "name", json_string(v[i].name));
                json_object_set_new(o, "path", json_string(full));
                json_object_set_new(o, "size", json_integer((json_int_t)v[i].size));
                if (json)
                        json_array_append(all, o);
                else
                        print_text(out, o, full, v[i].size);
                json_decref(o);
                shown++;
        }
        if (json) {
                char *s = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                if (s)
                        fprintf(out, "%s\n", s);
                free(s);
        } else if (!shown) {
                fputs("No incidents.\n", out);
        }
        json_decref(all);
        return 0;
}

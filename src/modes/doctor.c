#include "doctor.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "incident.h"
#include "placement.h"
#include "scope.h"
#include "server.h"
#include "util.h"

/* A go or gopls that answers `version` takes well under a second; one that
 * hangs (a stuck network file system, a toolchain download) must not hang
 * CI. */
#define COMMAND_TIMEOUT_MS 20000
#define COMMAND_OUTPUT_MAX (256 * 1024)
/* Below this a build or gopls's cache fills the disk soon. */
#define FREE_SPACE_WARN ((uint64_t)1 << 30)
/* A cache is measured up to this many entries (GOMODCACHE holds millions
 * on a big machine); beyond, the size is a lower bound. */
#define CACHE_WALK_MAX 200000

struct doctor {
        const struct doctor_options *o;
        struct doctor_finding *f;
        size_t n, cap;
        /* what the checks learn for the later ones */
        char *gopls_path, *go_path;
        int gopls_v[3], go_v[3];
        bool have_gopls_v, have_go_v;
        json_t *go_env; /* `go env -json`, or NULL */
};

__attribute__((format(printf, 5, 6))) static void add(struct doctor *d, const char *id,
                                                      enum doctor_status st, const char *remedy,
                                                      const char *fmt, ...)
{
        if (d->n == d->cap) {
                size_t cap = d->cap ? 2 * d->cap : 16;
                struct doctor_finding *nf = realloc(d->f, cap * sizeof *nf);
                if (!nf)
                        return;
                d->f = nf;
                d->cap = cap;
        }
        struct doctor_finding *f = &d->f[d->n++];
        memset(f, 0, sizeof *f);
        snprintf(f->id, sizeof f->id, "%s", id);
        f->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->message, sizeof f->message, fmt, ap);
        va_end(ap);
        snprintf(f->remedy, sizeof f->remedy, "%s", remedy ? remedy : "");
}

/* ---- pure parts ---------------------------------------------------- */

static int parse_triplet(const char *p, int *major, int *minor, int *patch)
{
        char *end;
        long a = strtol(p, &end, 10);
        if (end == p || *end != '.')
                return -EINVAL;
        const char *q = end + 1;
        long b = strtol(q, &end, 10);
        if (end == q)
                return -EINVAL;
        long c = 0;
        if (*end == '.') {
                q = end + 1;
                c = strtol(q, &end, 10);
                if (end == q)
                        c = 0;
        }
        if (a < 0 || b < 0 || c < 0 || a > 1000 || b > 100000 || c > 100000)
                return -EINVAL;
        *major = (int)a;
        *minor = (int)b;
        *patch = (int)c;
        return 0;
}

int doctor_parse_gopls_version(const char *text, int *major, int *minor, int *patch)
{
        /* "golang.org/x/tools/gopls v0.16.1" (first line), or a bare
         * "v0.16.1". */
        const char *p = strstr(text, "gopls v");
        if (p)
                p += 6;
        else if (text[0] == 'v')
                p = text;
        else
                return -EINVAL;
        return parse_triplet(p + 1, major, minor, patch);
}

int doctor_parse_go_version(const char *text, int *major, int *minor, int *patch)
{
        const char *p = strstr(text, "go1.");
        if (p)
                p += 2;
        else if (strncmp(text, "1.", 2) == 0)
                p = text;
        else
                return -EINVAL;
        return parse_triplet(p, major, minor, patch);
}

/* Which go commands each gopls series supports.  Source: gopls's own
 * table, golang.org/x/tools/gopls/internal/util/goversion (Supported), at
 * the tags gopls/v0.15.x and gopls/v0.16.x (it is kept in sync with
 * gopls/README.md "Supported Go versions"):
 *   v0.15: Go 1.12..1.17 unsupported; 1.18 deprecated in v0.16.0 (warning)
 *   v0.16: Go 1.12..1.18 unsupported; 1.19, 1.20 deprecated in v0.17.0
 *   v0.17: follows from v0.16's table: 1.19 and 1.20 unsupported.
 * "Unsupported" means gopls shows an error in the editor and does not
 * promise to work; "deprecated" a warning.  gopls before v0.15 is not in
 * the table (Debian 12 ships v0.5.0, from 2020: it predates generics, so
 * Go 1.18+ code is not fully understood). */
static const struct {
        int gopls_minor_from, gopls_minor_to; /* gopls 0.X, inclusive */
        int unsupported_through;              /* Go 1.N and older: failure */
        int warn_through;                     /* Go 1.N and older: warning */
} pair_table[] = {
    {15, 15, 17, 18},
    {16, 16, 18, 20},
    {17, 17, 20, 20},
};

enum doctor_status doctor_pair_support(int gopls_major, int gopls_minor, int go_minor, char *why,
                                       size_t len)
{
        if (gopls_major == 0) {
                for (size_t i = 0; i < sizeof pair_table / sizeof pair_table[0]; i++) {
                        if (gopls_minor < pair_table[i].gopls_minor_from ||
                            gopls_minor > pair_table[i].gopls_minor_to)
                                continue;
                        if (go_minor <= pair_table[i].unsupported_through) {
                                snprintf(why, len,
                                         "gopls v0.%d does not support Go 1.%d (it supports Go "
                                         "1.%d and newer, without warnings 1.%d and newer)",
                                         gopls_minor, go_minor,
                                         pair_table[i].unsupported_through + 1,
                                         pair_table[i].warn_through + 1);
                                return DOCTOR_FAILURE;
                        }
                        if (go_minor <= pair_table[i].warn_through) {
                                snprintf(why, len,
                                         "gopls v0.%d works with Go 1.%d but warns that its "
                                         "support ends with the next gopls release",
                                         gopls_minor, go_minor);
                                return DOCTOR_WARNING;
                        }
                        snprintf(why, len, "gopls v0.%d supports Go 1.%d", gopls_minor, go_minor);
                        return DOCTOR_OK;
                }
                if (gopls_minor < pair_table[0].gopls_minor_from) {
                        snprintf(why, len,
                                 "gopls v0.%d is older than the support table (v0.%d and "
                                 "newer); it may not understand code for Go 1.%d",
                                 gopls_minor, pair_table[0].gopls_minor_from, go_minor);
                        return DOCTOR_WARNING;
                }
        }
        snprintf(why, len,
                 "gopls v%d.%d is newer than the support table; gopls itself warns about an "
                 "unsupported Go in the editor",
                 gopls_major, gopls_minor);
        return DOCTOR_OK;
}

enum doctor_status doctor_goflags(const char *goflags, char *why, size_t len)
{
        enum doctor_status st = DOCTOR_OK;
        why[0] = '\0';
        if (!goflags)
                return DOCTOR_OK;
        const char *p = goflags;
        while (*p) {
                while (*p == ' ' || *p == '\t' || *p == '\n')
                        p++;
                if (!*p)
                        break;
                size_t n = strcspn(p, " \t\n");
                if (*p != '-') {
                        snprintf(why, len,
                                 "'%.*s' is not a flag (each word of GOFLAGS must "
                                 "start with '-'); the go command refuses to run",
                                 (int)n, p);
                        return DOCTOR_FAILURE;
                }
                const char *flag = p + (p[1] == '-' ? 2 : 1);
                if (st == DOCTOR_OK && strncmp(flag, "modfile=", 8) == 0) {
                        snprintf(why, len,
                                 "%.*s: gopls does not support -modfile, and reads "
                                 "go.mod instead",
                                 (int)n, p);
                        st = DOCTOR_WARNING;
                } else if (st == DOCTOR_OK && strncmp(flag, "mod=mod", 7) == 0 &&
                           (flag[7] == '\0' || flag[7] == ' ' || flag[7] == '\t')) {
                        snprintf(why, len,
                                 "%.*s: every go list gopls runs may rewrite go.mod "
                                 "and go.sum",
                                 (int)n, p);
                        st = DOCTOR_WARNING;
                }
                p += n;
        }
        return st;
}

/* ---- running go and gopls ------------------------------------------ */

/* Run argv (argv[0] a path) in `cwd` with stdin /dev/null; stdout and
 * stderr together into *ret (malloc'd).  Returns the exit status (128+N
 * for a signal), or a negative errno; -ETIME after COMMAND_TIMEOUT_MS
 * (the command is killed). */
static int run_capture(char *const argv[], const char *cwd, char **ret)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                dup2(p[1], STDOUT_FILENO);
                dup2(p[1], STDERR_FILENO);
                if (cwd && chdir(cwd) < 0)
                        _exit(126);
                execv(argv[0], argv);
                _exit(127);
        }
        close(p[1]);
        size_t len = 0, cap = 4096;
        char *buf = malloc(cap);
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        int r = 0;
        for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &now);
                long spent =
                    (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
                if (spent >= COMMAND_TIMEOUT_MS) {
                        r = -ETIME;
                        break;
                }
                struct pollfd pf = {.fd = p[0], .events = POLLIN};
                if (poll(&pf, 1, (int)(COMMAND_TIMEOUT_MS - spent)) < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (!buf || len + 1 >= cap) {
                        char *nb = cap < COMMAND_OUTPUT_MAX ? realloc(buf, cap * 2) : NULL;
                        if (!nb) {
                                char sink[4096];
                                if (read(p[0], sink, sizeof sink) <= 0)
                                        break;
                                continue;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(p[0], buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(p[0]);
        if (r == -ETIME)
                (void)kill(pid, SIGKILL);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (!buf) {
                *ret = NULL;
                return -ENOMEM;
        }
        buf[len] = '\0';
        *ret = buf;
        if (r < 0)
                return r;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char *first_line(char *s)
{
        s[strcspn(s, "\n")] = '\0';
        return s;
}

/* PATH the server gets: [server] env's PATH= if set, else ours. */
static const char *server_path(const struct policy *p)
{
        for (size_t i = 0; p && i < p->server.n_env; i++)
                if (strncmp(p->server.env[i], "PATH=", 5) == 0)
                        return p->server.env[i] + 5;
        return getenv("PATH");
}

/* ---- the checks ---------------------------------------------------- */

static void check_policy(struct doctor *d)
{
        const struct policy *p = d->o->policy;
        if (!p) {
                add(d, "policy", DOCTOR_FAILURE,
                    "Fix the file and line the message names (gopls-guard.ini(5) lists every key), "
                    "then run "
                    "gopls-guard check-policy.",
                    "The policy does not load: %s", d->o->policy_error ? d->o->policy_error : "?");
                return;
        }
        char files[DOCTOR_TEXT_MAX] = "";
        size_t off = 0;
        for (size_t i = 0; i < p->n_files && off < sizeof files; i++)
                off += (size_t)snprintf(files + off, sizeof files - off, "%s%s", i ? ", " : "",
                                        p->files[i]);
        add(d, "policy", DOCTOR_OK, NULL, "The policy is valid; read from %s%s.",
            files[0] ? files : "no file (built-in defaults)",
            files[0] ? " (gopls-guard check-policy shows each value's origin)" : "");
}

static void check_gopls(struct doctor *d)
{
        const char *cmd = d->o->policy ? d->o->policy->server.command : "gopls";
        int r = server_find_command(cmd, server_path(d->o->policy), &d->gopls_path);
        if (r < 0) {
                add(d, "gopls", DOCTOR_FAILURE,
                    "Install gopls (go install golang.org/x/tools/gopls@latest, or your "
                    "distribution's package) and put its directory on PATH, or set [server] "
                    "command to its full path.",
                    "%s: %s", cmd,
                    r == -ELOOP ? "the only one found is gopls-guard itself" : "not found on PATH");
                return;
        }
        char *argv[] = {d->gopls_path, (char *)"version", NULL};
        _cleanup_free_ char *out = NULL;
        r = run_capture(argv, NULL, &out);
        if (r != 0) {
                add(d, "gopls", DOCTOR_FAILURE,
                    "Run 'gopls version' by hand to see why it fails; reinstall gopls.",
                    "%s version %s%s%s", d->gopls_path,
                    r == -ETIME ? "did not answer in time" : "failed", out && *out ? ": " : "",
                    out ? first_line(out) : "");
                return;
        }
        if (doctor_parse_gopls_version(out, &d->gopls_v[0], &d->gopls_v[1], &d->gopls_v[2]) < 0) {
                /* Debian 12's gopls 0.5.0 says "golang.org/x/tools/gopls master". */
                add(d, "gopls", DOCTOR_WARNING,
                    "Install a released gopls (go install golang.org/x/tools/gopls@latest) so "
                    "that its version, and the Go versions it supports, are known.",
                    "%s reports no release version ('%s'): a distribution build, e.g. Debian "
                    "12's gopls 0.5.0 (2020), which predates generics.",
                    d->gopls_path, first_line(out));
                return;
        }
        d->have_gopls_v = true;
        add(d, "gopls", DOCTOR_OK, NULL, "%s is gopls v%d.%d.%d.", d->gopls_path, d->gopls_v[0],
            d->gopls_v[1], d->gopls_v[2]);
}

static void check_go(struct doctor *d)
{
        int r = server_find_command("go", server_path(d->o->policy), &d->go_path);
        if (r < 0) {
                add(d, "go", DOCTOR_FAILURE,
                    "Install Go (https://go.dev/dl or your distribution's golang package) and "
                    "put its bin directory on PATH: gopls runs the go command for every "
                    "package it loads.",
                    "The go command is not on PATH.");
                return;
        }
        char *argv[] = {d->go_path, (char *)"version", NULL};
        _cleanup_free_ char *out = NULL;
        r = run_capture(argv, d->o->workspace, &out);
        if (r != 0 || doctor_parse_go_version(out, &d->go_v[0], &d->go_v[1], &d->go_v[2]) < 0) {
                add(d, "go", DOCTOR_FAILURE,
                    "Run 'go version' in the workspace by hand to see why it fails (GOTOOLCHAIN "
                    "may ask for a toolchain that cannot be downloaded).",
                    "%s version %s%s%s", d->go_path,
                    r == -ETIME ? "did not answer in time"
                    : r != 0    ? "failed"
                                : "printed no version",
                    out && *out ? ": " : "", out ? first_line(out) : "");
                return;
        }
        d->have_go_v = true;
        add(d, "go", DOCTOR_OK, NULL, "%s is Go %d.%d.%d.", d->go_path, d->go_v[0], d->go_v[1],
            d->go_v[2]);

        char *envargv[] = {d->go_path, (char *)"env", (char *)"-json", NULL};
        _cleanup_free_ char *env = NULL;
        if (run_capture(envargv, d->o->workspace, &env) == 0)
                d->go_env = json_loads(env, 0, NULL);
        if (!json_is_object(d->go_env)) {
                json_decref(d->go_env);
                d->go_env = NULL;
                add(d, "go-env", DOCTOR_FAILURE,
                    "Run 'go env' in the workspace by hand and fix what it reports (often a "
                    "malformed GOFLAGS or go.env).",
                    "'go env -json' failed%s%s", env && *env ? ": " : "",
                    env ? first_line(env) : "");
        }
}

static void check_pair(struct doctor *d)
{
        char why[512];
        if (!d->have_go_v || !d->have_gopls_v)
                return; /* said above */
        enum doctor_status st =
            doctor_pair_support(d->gopls_v[0], d->gopls_v[1], d->go_v[1], why, sizeof why);
        add(d, "gopls-go-pair", st,
            st == DOCTOR_OK ? NULL
                            : "Use a gopls and a Go that support each other: upgrade Go, or "
                              "install the gopls release the gopls README names for your Go "
                              "(go install golang.org/x/tools/gopls@vX.Y.Z).",
            "%s.", why);
}

static const char *go_env(struct doctor *d, const char *key)
{
        return json_string_value(json_object_get(d->go_env, key));
}

static void check_goroot(struct doctor *d)
{
        if (!d->go_env)
                return;
        const char *goroot = go_env(d, "GOROOT");
        char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
        struct stat st;
        if (!goroot || !*goroot) {
                add(d, "goroot", DOCTOR_FAILURE,
                    "Reinstall Go: the go command does not know its own GOROOT.",
                    "go env reports no GOROOT.");
                return;
        }
        snprintf(path, sizeof path, "%s/src/runtime", goroot);
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
                add(d, "goroot", DOCTOR_FAILURE,
                    "Install the standard library's source (Debian: the golang-1.N-src package "
                    "of your Go) or set GOROOT to a complete Go installation.",
                    "GOROOT %s has no standard library source (%s is missing): gopls cannot "
                    "type-check any package that imports it.",
                    goroot, path);
                return;
        }
        const char *env_goroot = getenv("GOROOT");
        if (env_goroot && *env_goroot &&
            (!realpath(env_goroot, a) || !realpath(goroot, b) || strcmp(a, b) != 0)) {
                add(d, "goroot", DOCTOR_WARNING,
                    "Unset GOROOT (the go command finds its own) or make it name the "
                    "installation of the go on PATH.",
                    "GOROOT=%s is set in the environment, but the go command reports %s.",
                    env_goroot, goroot);
                return;
        }
        snprintf(path, sizeof path, "%s/bin/go", goroot);
        if (d->go_path && realpath(d->go_path, a) && realpath(path, b) && strcmp(a, b) != 0) {
                add(d, "goroot", DOCTOR_WARNING,
                    "Put GOROOT's bin directory first on PATH, or remove the other go.",
                    "The go on PATH (%s) is not GOROOT's (%s): gopls and your builds may see "
                    "different toolchains.",
                    a, b);
                return;
        }
        add(d, "goroot", DOCTOR_OK, NULL, "GOROOT %s is complete and belongs to the go on PATH.",
            goroot);
}

static void check_goflags(struct doctor *d)
{
        /* Without go env (it fails on a malformed GOFLAGS), the
         * environment's. */
        const char *flags = d->go_env ? go_env(d, "GOFLAGS") : getenv("GOFLAGS");
        char why[512];
        enum doctor_status st = doctor_goflags(flags, why, sizeof why);
        if (st == DOCTOR_OK)
                add(d, "goflags", DOCTOR_OK, NULL, "GOFLAGS is %s%s%s.",
                    flags && *flags ? "'" : "empty", flags && *flags ? flags : "",
                    flags && *flags ? "'" : "");
        else
                add(d, "goflags", st,
                    "Change GOFLAGS (go env -w GOFLAGS=..., or the environment) for the "
                    "editor's gopls, e.g. in [server] env.",
                    "GOFLAGS='%s': %s.", flags ? flags : "", why);
}

static uint64_t walk_total, walk_entries;
static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)path;
        (void)type;
        (void)ftw;
        walk_total += (uint64_t)st->st_blocks * 512;
        return ++walk_entries >= CACHE_WALK_MAX ? 1 : 0;
}

/* One cache directory: size, writable, free space.  A directory that does
 * not exist yet is fine when it can be created. */
static void check_cache_dir(struct doctor *d, const char *id, const char *what, const char *dir)
{
        char probe[PATH_MAX], sz[32], fr[32], existing[PATH_MAX];
        struct stat st;
        struct statvfs vfs;

        if (!dir || dir[0] != '/') {
                add(d, id, DOCTOR_WARNING,
                    "Set HOME, or the variable named, to an absolute directory.",
                    "%s: no absolute directory (%s).", what, dir && *dir ? dir : "unset");
                return;
        }
        bool exists = stat(dir, &st) == 0;
        if (exists && !S_ISDIR(st.st_mode)) {
                add(d, id, DOCTOR_FAILURE, "Remove it, or point the cache elsewhere.",
                    "%s %s is not a directory.", what, dir);
                return;
        }
        /* The nearest existing ancestor is where it would be created. */
        snprintf(existing, sizeof existing, "%s", dir);
        while (!exists) {
                char *slash = strrchr(existing, '/');
                if (!slash || slash == existing) {
                        snprintf(existing, sizeof existing, "/");
                        break;
                }
                *slash = '\0';
                if (stat(existing, &st) == 0)
                        break;
        }
        if (!exists && !S_ISDIR(st.st_mode)) {
                add(d, id, DOCTOR_FAILURE,
                    "Point the cache at a directory that can be created, or remove the file "
                    "in its way.",
                    "%s %s cannot be created: %s is not a directory.", what, dir, existing);
                return;
        }
        /* Writable for real: access() says yes to root on a read-only
         * mount's permission bits, a file created and removed does not lie. */
        snprintf(probe, sizeof probe, "%s/.gopls-guard-doctor-XXXXXX", exists ? dir : existing);
        int fd = mkstemp(probe);
        if (fd < 0) {
                int e = errno;
                add(d, id, DOCTOR_FAILURE,
                    "Make it writable for this user (chown/chmod), or point the cache at a "
                    "writable directory.",
                    "%s %s is not writable%s%s: %s.", what, dir,
                    exists ? "" : " (it would be created in ", exists ? "" : existing, strerror(e));
                return;
        }
        close(fd);
        unlink(probe);
        uint64_t free_bytes = statvfs(exists ? dir : existing, &vfs) == 0
                                  ? (uint64_t)vfs.f_bavail * vfs.f_frsize
                                  : UINT64_MAX;
        walk_total = walk_entries = 0;
        if (exists)
                (void)nftw(dir, walk_one, 16, FTW_PHYS | FTW_MOUNT);
        format_size_human(walk_total, sz, sizeof sz);
        format_size_human(free_bytes, fr, sizeof fr);
        if (free_bytes < FREE_SPACE_WARN) {
                add(d, id, DOCTOR_WARNING,
                    "Free space on that file system, or move the cache (gopls: GOPLSCACHE; Go: "
                    "go env -w GOCACHE=... / GOMODCACHE=...).",
                    "%s %s: %s%s used, only %s free.", what, dir,
                    walk_entries >= CACHE_WALK_MAX ? "at least " : "", sz, fr);
                return;
        }
        if (exists)
                add(d, id, DOCTOR_OK, NULL, "%s %s: %s%s, writable, %s free.", what, dir,
                    walk_entries >= CACHE_WALK_MAX ? "at least " : "", sz, fr);
        else
                add(d, id, DOCTOR_OK, NULL, "%s %s: not created yet; %s is writable, %s free.",
                    what, dir, existing, fr);
}

static void check_caches(struct doctor *d)
{
        /* gopls's file cache (gopls 0.12+): $GOPLSCACHE, else
         * os.UserCacheDir()/gopls, i.e. $XDG_CACHE_HOME/gopls or
         * ~/.cache/gopls.  gopls 0.5.0 keeps no file cache. */
        char dir[PATH_MAX];
        const char *e = getenv("GOPLSCACHE"), *xdg = getenv("XDG_CACHE_HOME"),
                   *home = getenv("HOME");
        if (e && *e)
                snprintf(dir, sizeof dir, "%s", e);
        else if (xdg && xdg[0] == '/')
                snprintf(dir, sizeof dir, "%s/gopls", xdg);
        else
                snprintf(dir, sizeof dir, "%s/.cache/gopls", home ? home : "");
        check_cache_dir(d, "cache-gopls", "gopls's cache", dir);
        /* [recovery] cache_dirs: what purge_cache would move aside. */
        const struct policy *p = d->o->policy;
        for (size_t i = 0; p && i < p->recovery.n_cache_dirs; i++)
                check_cache_dir(d, "cache-recovery", "[recovery] cache_dirs entry",
                                p->recovery.cache_dirs[i]);
        if (d->go_env) {
                check_cache_dir(d, "cache-go-build", "Go's build cache (GOCACHE)",
                                go_env(d, "GOCACHE"));
                check_cache_dir(d, "cache-go-mod", "Go's module cache (GOMODCACHE)",
                                go_env(d, "GOMODCACHE"));
        }
}

/* Where the guard would work: placement.h's order, run dry (nothing
 * created, no scope asked for). */
static void check_cgroup(struct doctor *d)
{
        const struct policy *p = d->o->policy;
        const struct guard_roots *roots = d->o->roots;
        bool require = p && p->cgroup.require;
        const char *remedy_none =
            "Run the guard from a unit with Delegate=yes (the gopls-guard@ units), under "
            "systemd-run --user --scope -p Delegate=yes, or give it a delegated cgroup with "
            "--cgroup DIR / [cgroup] path; on a host without a v2 memory controller, boot "
            "with systemd.unified_cgroup_hierarchy=1.";
        struct placement_request rq = placement_request_for(NULL, p, roots, NULL);
        struct placement pl;
        const char *own_dir;

        rq.dry = true;
        placement_find(&rq, &pl);
        own_dir = pl.own_dir[0] ? pl.own_dir : "(unknown)";
        switch (pl.kind) {
        case PLACEMENT_GIVEN:
                add(d, "cgroup", DOCTOR_OK, NULL, "The guard would work in %s ([cgroup] path).",
                    pl.dir);
                return;
        case PLACEMENT_OWN:
                add(d, "cgroup", DOCTOR_OK, NULL,
                    "The guard would work in its own cgroup %s, which is delegated to it.", pl.dir);
                return;
        case PLACEMENT_SCOPE:
                add(d, "cgroup", DOCTOR_OK, NULL,
                    "The guard's own cgroup %s is not delegated (%s); it would ask the %s "
                    "manager for a transient scope with Delegate=yes (see the systemd "
                    "finding).",
                    own_dir, pl.not_delegated,
                    pl.scope_decision == SCOPE_ASK_SYSTEM ? "system" : "user");
                return;
        case PLACEMENT_CONTAINER:
                add(d, "cgroup", DOCTOR_OK, NULL,
                    "The guard's own cgroup %s is not delegated (%s), and it would not ask for "
                    "a transient scope (%s); it would work in a leaf of %s, the subtree "
                    "`gopls-guard init` prepared in this container for this user.",
                    own_dir, pl.not_delegated, pl.no_scope, pl.dir);
                return;
        case PLACEMENT_NONE:
                break;
        }
        if (pl.given_missing)
                add(d, "cgroup", require ? DOCTOR_FAILURE : DOCTOR_WARNING,
                    "Create that cgroup and delegate it to this user, or fix [cgroup] path.",
                    "[cgroup] path %s does not exist: the guard would run degraded (memory "
                    "polled, not limited)%s.",
                    pl.dir, require ? " — no: with [cgroup] require = yes it exits 3" : "");
        else if (!pl.mount[0])
                add(d, "cgroup", require ? DOCTOR_FAILURE : DOCTOR_WARNING, remedy_none,
                    "No cgroup v2 hierarchy with the memory controller is mounted: the guard "
                    "would run degraded (memory polled from /proc, not limited)%s.",
                    require ? "; with [cgroup] require = yes it exits 3" : "");
        else if (pl.read_only)
                add(d, "cgroup", require ? DOCTOR_FAILURE : DOCTOR_WARNING, pl.why,
                    "The cgroup mount %s is read-only: the guard would run degraded (memory "
                    "polled, not limited)%s.",
                    pl.mount, require ? "; with [cgroup] require = yes it exits 3" : "");
        else
                add(d, "cgroup", require ? DOCTOR_FAILURE : DOCTOR_WARNING, remedy_none,
                    "The guard's own cgroup %s is not delegated (%s), it would not ask for a "
                    "transient scope (%s)%s%s: it would run degraded (memory polled, not "
                    "limited)%s.",
                    own_dir, pl.not_delegated, pl.no_scope, pl.no_container[0] ? ", and " : "",
                    pl.no_container, require ? "; with [cgroup] require = yes it exits 3" : "");
}

static void check_systemd(struct doctor *d)
{
        const char *bus_addr = d->o->roots->scope_bus;
        if (bus_addr && !*bus_addr) {
                add(d, "systemd", DOCTOR_WARNING,
                    "Run the installed gopls-guard (this test build never contacts a manager).",
                    "Not checked: this build runs on fixture roots and asks no real manager.");
                return;
        }
        bool root = geteuid() == 0;
        sd_bus *bus = NULL;
        int r;
        if (bus_addr && *bus_addr) {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, bus_addr);
                if (r >= 0)
                        r = sd_bus_start(bus);
        } else {
                r = root ? sd_bus_open_system(&bus) : sd_bus_open_user(&bus);
        }
        if (r >= 0) {
                sd_bus_error err = SD_BUS_ERROR_NULL;
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.DBus.Peer", "Ping", &err, NULL, "");
                sd_bus_error_free(&err);
        }
        sd_bus_flush_close_unref(bus);
        if (r < 0) {
                add(d, "systemd", DOCTOR_WARNING,
                    root ? "Boot with systemd, or give the guard a delegated cgroup (--cgroup)."
                         : "Log in through a session that starts the user manager (or "
                           "loginctl enable-linger USER), with XDG_RUNTIME_DIR set; or give "
                           "the guard a delegated cgroup (--cgroup).",
                    "The %s manager cannot be reached over D-Bus (%s): no transient scope, and "
                    "the gopls-guard@ %s units cannot be used.",
                    root ? "system" : "user", strerror(-r), root ? "system" : "user");
                return;
        }
        add(d, "systemd", DOCTOR_OK, NULL, "The %s manager answers over D-Bus.",
            root ? "system" : "user");
}

static void check_cgroup_mount(struct doctor *d)
{
        _cleanup_free_ char *mount = NULL, *own = NULL;
        struct statvfs vfs;
        if (cg_find_mount(d->o->roots->cgroup_mount, &mount) < 0)
                return; /* the cgroup finding said it */
        bool ro = statvfs(mount, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
        bool at_root = cg_pid_cgroup(d->o->roots->proc, 0, &own) >= 0 && strcmp(own, "/") == 0;
        if (ro) {
                add(d, "cgroup-mount", DOCTOR_FAILURE,
                    "In a container: run it with a writable cgroup mount (podman: --security-opt "
                    "unmask=/sys/fs/cgroup; docker: --cgroupns=private with a writable "
                    "/sys/fs/cgroup, or gopls-guard init as PID 1); on a host, remount it "
                    "read-write.",
                    "The cgroup mount %s is read-only: the guard can create no server leaf.",
                    mount);
                return;
        }
        if (at_root) {
                add(d, "cgroup-mount", DOCTOR_WARNING,
                    "In a container with its own cgroup namespace, start it with gopls-guard "
                    "init as PID 1, which prepares a subtree.",
                    "This process is in the root cgroup of its namespace (%s, a container's "
                    "private cgroup namespace or the host's root): controllers cannot be "
                    "enabled for children while processes sit there.",
                    mount);
                return;
        }
        add(d, "cgroup-mount", DOCTOR_OK, NULL, "The cgroup mount %s is writable.", mount);
}

static void check_psi(struct doctor *d)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/pressure/memory", d->o->roots->proc);
        _cleanup_free_ char *text = NULL;
        if (read_file_at(AT_FDCWD, path, &text, 4096) < 0) {
                add(d, "psi", DOCTOR_WARNING,
                    "Boot a kernel with CONFIG_PSI=y (and without psi=0 on its command line) "
                    "for [pressure] psi; the other pressure signals work without it.",
                    "%s cannot be read: no pressure stall information, [pressure] psi does "
                    "nothing.",
                    path);
                return;
        }
        add(d, "psi", DOCTOR_OK, NULL, "Pressure stall information is available (%s).", path);
}

static void check_state_dir(struct doctor *d)
{
        struct incident_places pl;
        char why[INCIDENT_WHY_MAX];
        _cleanup_free_ char *path = NULL;
        incident_places_from_env(&pl);
        int fd = incident_dir_open(&pl, false, &path, why);
        if (fd == -ENOENT) {
                add(d, "incidents", DOCTOR_OK, NULL,
                    "No incidents kept yet (the directory is made at the first one).");
                return;
        }
        if (fd < 0) {
                add(d, "incidents", DOCTOR_WARNING,
                    "Fix the directory as said, or set XDG_STATE_HOME to a private directory.",
                    "Incidents cannot be kept: %s.", why);
                return;
        }
        close(fd);
        add(d, "incidents", DOCTOR_OK, NULL,
            "Incidents are kept in %s (gopls-guard incidents lists them).", path);
}

static void check_workspace(struct doctor *d)
{
        const char *ws = d->o->workspace;
        char mod[PATH_MAX], work[PATH_MAX];
        struct stat st;
        if (!ws)
                return;
        if (stat(ws, &st) < 0 || !S_ISDIR(st.st_mode)) {
                add(d, "workspace", DOCTOR_FAILURE, "Name an existing directory.",
                    "The workspace %s is not a directory.", ws);
                return;
        }
        /* go.mod or go.work here or above: module mode. */
        _cleanup_free_ char *real = realpath(ws, NULL);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", real ? real : ws);
        for (;;) {
                snprintf(mod, sizeof mod, "%s/go.mod", dir);
                snprintf(work, sizeof work, "%s/go.work", dir);
                if (access(mod, F_OK) == 0 || access(work, F_OK) == 0) {
                        add(d, "workspace", DOCTOR_OK, NULL,
                            "The workspace %s is in the module at %s.", ws,
                            access(work, F_OK) == 0 ? work : mod);
                        return;
                }
                char *slash = strrchr(dir, '/');
                if (!slash || slash == dir)
                        break;
                *slash = '\0';
        }
        add(d, "workspace", DOCTOR_WARNING,
            "Run 'go mod init' in the workspace, or open the module's directory instead.",
            "The workspace %s has no go.mod or go.work here or above: gopls works in GOPATH "
            "mode, with less precise results.",
            ws);
}

/* ---- output -------------------------------------------------------- */

static const char *status_name(enum doctor_status s)
{
        return s == DOCTOR_OK ? "ok" : s == DOCTOR_WARNING ? "warning" : "failure";
}

static void print(const struct doctor *d, unsigned fails, unsigned warns)
{
        FILE *out = d->o->out;
        if (d->o->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < d->n; i++) {
                        const struct doctor_finding *f = &d->f[i];
                        json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?}", "id", f->id,
                                                           "status", status_name(f->status),
                                                           "message", f->message, "remedy",
                                                           f->remedy[0] ? f->remedy : NULL));
                }
                json_t *o =
                    json_pack("{s:o, s:I, s:I, s:b}", "findings", a, "failures", (json_int_t)fails,
                              "warnings", (json_int_t)warns, "ok", fails == 0);
                char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
                if (s)
                        fprintf(out, "%s\n", s);
                free(s);
                json_decref(o);
                return;
        }
        for (size_t i = 0; i < d->n; i++) {
                const struct doctor_finding *f = &d->f[i];
                fprintf(out, "%-8s %-15s %s\n", status_name(f->status), f->id, f->message);
                if (f->remedy[0])
                        fprintf(out, "%-8s %-15s remedy: %s\n", "", "", f->remedy);
        }
        fprintf(out, "%u failure%s, %u warning%s.\n", fails, fails == 1 ? "" : "s", warns,
                warns == 1 ? "" : "s");
}

int doctor_run(const struct doctor_options *o)
{
        struct doctor d = {.o = o};
        void (*const checks[])(struct doctor *) = {
            check_policy,  check_workspace, check_gopls,     check_go,     check_pair,
            check_goroot,  check_goflags,   check_caches,    check_cgroup, check_cgroup_mount,
            check_systemd, check_psi,       check_state_dir,
        };
        for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
                checks[i](&d);
        unsigned fails = 0, warns = 0;
        for (size_t i = 0; i < d.n; i++) {
                fails += d.f[i].status == DOCTOR_FAILURE;
                warns += d.f[i].status == DOCTOR_WARNING;
        }
        print(&d, fails, warns);
        free(d.f);
        free(d.gopls_path);
        free(d.go_path);
        json_decref(d.go_env);
        return fails ? 1 : 0;
}

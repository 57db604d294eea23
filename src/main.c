/* main.c — the command line: which mode, which policy, then hand over. */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "connect.h"
#include "doctor.h"
#include "escape.h"
#include "guard.h"
#include "init.h"
#include "incident.h"
#include "log.h"
#include "masquerade.h"
#include "policy.h"
#include "roots.h"
#include "restart.h"
#include "serve.h"
#include "server.h"
#include "status.h"
#include "util.h"

#define EXIT_USAGE 2

static void usage(FILE *f)
{
        fputs("Usage:\n"
              "  gopls-guard [--policy FILE]... [--workspace DIR] [--cgroup DIR] [-- COMMAND [ARG...]]\n"
              "  gopls-guard check-policy [--policy FILE]...\n"
              "  gopls-guard status [--json | --openmetrics] [WORKSPACE]\n"
              "  gopls-guard restart [WORKSPACE]  # restart the server now, session replayed\n"
              "  gopls-guard serve --workspace DIR [--policy FILE]...   # daemon mode, on a socket\n"
              "  gopls-guard connect DIR          # stdio bridge to the guard serving DIR\n"
              "  gopls-guard init [--user USER] [--] COMMAND [ARG...]   # container PID 1\n"
              "  gopls-guard doctor [--json] [--policy FILE]... [WORKSPACE]   # precheck, exit 1 on a failure\n"
              "  gopls-guard incidents [--json] [WORKSPACE]   # what was kept at each OOM kill or crash\n"
              "\n"
              "Runs a language server (gopls unless COMMAND or [server] command says otherwise)\n"
              "in its own cgroup v2 leaf with the policy's memory, cpu and pids limits, relays\n"
              "the editor's stdio to it, and restarts it with backoff when the kernel OOM-kills it.\n"
              "\n"
              "Options:\n"
              "  --policy FILE     read FILE after the standard policy files (repeatable)\n"
              "  --workspace DIR   the workspace the server serves (its working directory)\n"
              "  --cgroup DIR      the delegated cgroup to work in (overrides [cgroup] path)\n"
              "  -h, --help        show this help\n"
              "  --version         show the version\n"
              "\n"
              "Policy files, later overriding earlier: /etc/gopls-guard/policy.ini,\n"
              "/etc/gopls-guard/policy.d/*.ini, $XDG_CONFIG_HOME/gopls-guard/policy.ini, --policy.\n"
              "Exit status: 0 normal end, 2 usage or policy error, 3 no usable cgroup with\n"
              "[cgroup] require = yes, 4 gave up after a crash loop, else the server's own status.\n"
              "See gopls-guard(1).\n",
              f);
}

/* The production roots; gopls-guard-test (GUARD_TEST_ROOTS, never
 * installed) lets the tests point them at fixtures. */
static struct guard_roots roots_get(void)
{
        struct guard_roots r = {
                .sysconfdir = GUARD_SYSCONFDIR,
                .cgroup_mount = NULL,
                .proc = "/proc",
                .runtime_dir = NULL,
        };
#ifdef GUARD_TEST_ROOTS
        const char *e;
        if ((e = getenv("GOPLS_GUARD_SYSCONFDIR")) && *e)
                r.sysconfdir = e;
        if ((e = getenv("GOPLS_GUARD_CGROUP_ROOT")) && *e)
                r.cgroup_mount = e;
        if ((e = getenv("GOPLS_GUARD_PROC")) && *e)
                r.proc = e;
        if ((e = getenv("GOPLS_GUARD_RUNTIME_DIR")) && *e)
                r.runtime_dir = e;
        /* A fixture cgroup mount must never lead to a real scope. */
        if ((e = getenv("GOPLS_GUARD_SCOPE_BUS")))
                r.scope_bus = e;
        else if (r.cgroup_mount)
                r.scope_bus = "";
#endif
        return r;
}

struct cli {
        char **policies;
        size_t n_policies;
        const char *workspace, *cgroup;
        bool json, openmetrics;
        char **rest; /* after -- (or positional) */
        int n_rest;
};

/* Parse options common to the modes; `allowed` lists which long options
 * this mode takes. Returns 0, 1 for "exit 0 now" (help/version), or
 * -EINVAL after printing the error. */
static int parse(int argc, char **argv, const char *mode, const char *allowed, struct cli *c)
{
        enum { OPT_POLICY = 1000, OPT_WORKSPACE, OPT_CGROUP, OPT_JSON, OPT_VERSION, OPT_OPENMETRICS };
        static const struct option opts[] = {
                {"policy", required_argument, NULL, OPT_POLICY},
                {"workspace", required_argument, NULL, OPT_WORKSPACE},
                {"cgroup", required_argument, NULL, OPT_CGROUP},
                {"json", no_argument, NULL, OPT_JSON},
                {"openmetrics", no_argument, NULL, OPT_OPENMETRICS},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {},
        };
        /* What each option's value is, for "needs a value" messages. */
        static const char *const values[] = {"a policy file", "a directory", "a cgroup directory"};
        int opt, idx = 0;

        optind = 1;
        opterr = 0;
        /* "+": stop at the first non-option, so a server's own options after
         * COMMAND are never taken for ours.  ":": a missing value comes back
         * as ':' with optopt naming the option, not as '?'. */
        while ((opt = getopt_long(argc, argv, "+:h", opts, &idx)) != -1) {
                /* For ':' and '?', optopt is the option's val (long options)
                 * or its letter; 0 for a long option that is not known. */
                int which = opt == ':' || opt == '?' ? optopt : opt;
                const char *name = NULL;
                for (const struct option *o = opts; o->name; o++)
                        if (o->val == which)
                                name = o->name;
                if (opt != '?' && opt != 'h' && opt != OPT_VERSION && name &&
                    !strstr(allowed, name)) {
                        fprintf(stderr, "gopls-guard: %s does not take --%s\nTry 'gopls-guard --help'.\n",
                                mode, name);
                        return -EINVAL;
                }
                switch (opt) {
                case OPT_POLICY: {
                        char **np = realloc(c->policies, (c->n_policies + 1) * sizeof *np);
                        if (!np)
                                return -ENOMEM;
                        c->policies = np;
                        c->policies[c->n_policies++] = optarg;
                        break;
                }
                case OPT_WORKSPACE:
                        c->workspace = optarg;
                        break;
                case OPT_CGROUP:
                        c->cgroup = optarg;
                        break;
                case OPT_JSON:
                        c->json = true;
                        break;
                case OPT_OPENMETRICS:
                        c->openmetrics = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 1;
                case OPT_VERSION:
                        printf("gopls-guard %s\n", GUARD_VERSION);
                        return 1;
                case ':':
                        fprintf(stderr, "gopls-guard: option --%s needs a value (%s)\n",
                                name ? name : "?",
                                which >= OPT_POLICY && which <= OPT_CGROUP
                                        ? values[which - OPT_POLICY]
                                        : "see --help");
                        fprintf(stderr, "Try 'gopls-guard --help'.\n");
                        return -EINVAL;
                default:
                        if (name) /* a known option, given a value it does not take */
                                fprintf(stderr, "gopls-guard: option --%s takes no value\n", name);
                        else if (which > 0 && which < 128)
                                fprintf(stderr, "gopls-guard: option -%c is not known\n", which);
                        else
                                fprintf(stderr, "gopls-guard: option %s is not known\n",
                                        argv[optind - 1]);
                        fprintf(stderr, "Try 'gopls-guard --help'.\n");
                        return -EINVAL;
                }
        }
        c->rest = argv + optind;
        c->n_rest = argc - optind;
        if (c->n_rest > 0 && strcmp(c->rest[0], "--") == 0) {
                c->rest++;
                c->n_rest--;
        }
        return 0;
}

/* Load the policy as every mode does; on failure `err` says why (not
 * printed) and `p` is freed. */
static int load_policy_err(struct policy *p, const struct cli *c, const struct guard_roots *roots,
                           char err[POLICY_ERR_MAX])
{
        const char *xdg = getenv("XDG_CONFIG_HOME");
        const char *home = getenv("HOME");
        char etc_dir[4096], user_dir[4096];
        int r;

        snprintf(etc_dir, sizeof etc_dir, "%s/gopls-guard", roots->sysconfdir);
        if (xdg && *xdg)
                snprintf(user_dir, sizeof user_dir, "%s/gopls-guard", xdg);
        else if (home && *home)
                snprintf(user_dir, sizeof user_dir, "%s/.config/gopls-guard", home);
        else
                user_dir[0] = '\0';

        r = policy_init(p);
        if (r < 0) {
                snprintf(err, POLICY_ERR_MAX, "out of memory");
                return r;
        }
        r = policy_load_all(p, etc_dir, user_dir[0] ? user_dir : NULL, c->policies,
                            c->n_policies, err);
        if (r >= 0)
                r = policy_finish(p, err);
        if (r < 0) {
                if (!err[0])
                        snprintf(err, POLICY_ERR_MAX, "%s", strerror(-r));
                policy_done(p);
                return r;
        }
        return 0;
}

static int load_policy(struct policy *p, const struct cli *c, const struct guard_roots *roots)
{
        char err[POLICY_ERR_MAX] = "";
        int r = load_policy_err(p, c, roots, err);
        if (r < 0)
                fprintf(stderr, "gopls-guard: %s\n", err);
        return r;
}

/* What the command line may not override once the administrator pinned
 * it: --cgroup ([cgroup] path) and, with `command`, a COMMAND ([server]
 * command and args).  Prints the error; returns 0 or EXIT_USAGE. */
static int refuse_pinned(const struct policy *p, const struct cli *c, bool command)
{
        char err[POLICY_ERR_MAX];

        if ((c->cgroup && policy_check_unpinned(p, PK_CGROUP_PATH, "--cgroup", err) < 0) ||
            (command && (policy_check_unpinned(p, PK_SERVER_COMMAND, "a COMMAND", err) < 0 ||
                         policy_check_unpinned(p, PK_SERVER_ARGS, "a COMMAND", err) < 0))) {
                fprintf(stderr, "gopls-guard: %s\n", err);
                return EXIT_USAGE;
        }
        return 0;
}

/* The real gopls for a guard invoked as gopls: the first on PATH that is
 * not this program.  Prints the error; returns 0 or EXIT_USAGE. */
static int find_real_gopls(char **ret)
{
        int r = server_find_command("gopls", NULL, ret);
        if (r == -ELOOP || r == -ENOENT) {
                fprintf(stderr,
                        "gopls-guard: invoked as gopls, but no other gopls is on PATH to run "
                        "(PATH=%s); install gopls or put its directory on PATH after this one\n",
                        getenv("PATH") ? getenv("PATH") : "");
                return EXIT_USAGE;
        }
        if (r < 0) {
                fprintf(stderr, "gopls-guard: cannot look for gopls on PATH: %s\n", strerror(-r));
                return EXIT_USAGE;
        }
        return 0;
}

/* Invoked through a symlink named gopls.  A language server on stdio is
 * guarded, with every argument the real gopls's and the policy from the
 * standard files only; any other command line (gopls version, gopls
 * format, -remote, ...) becomes the real gopls in this very process, so
 * that its output and exit status are exactly gopls's own.  Returns 0 to
 * guard, or an exit code. */
static int masquerade(int argc, char **argv, struct cli *c)
{
        char *real = NULL;
        int r = find_real_gopls(&real);
        if (r != 0)
                return r;
        if (!masquerade_serves_stdio(argc, argv)) {
                execv(real, argv);
                r = errno;
                fprintf(stderr, "gopls-guard: cannot run %s: %s\n", real, strerror(r));
                free(real);
                return r == ENOENT ? 127 : 126;
        }
        /* `real` lives as long as the process: it is the server's argv[0]. */
        argv[0] = real;
        c->rest = argv;
        c->n_rest = argc;
        return 0;
}

/* The server command as execvp would find it, but never this guard itself
 * (a `gopls` symlink to the guard earlier on PATH would otherwise start a
 * guard inside the guard).  [server] env may set PATH for the server, so
 * that PATH is searched.  A command found nowhere is left as it is: the
 * server's start then fails, and the supervisor reports it.  Returns 0, or
 * an exit code after printing the error. */
static int resolve_server(char **argv, const struct policy *p, char **ret_owned)
{
        const char *path = NULL;
        char *found = NULL;

        for (size_t i = 0; i < p->server.n_env; i++)
                if (strncmp(p->server.env[i], "PATH=", 5) == 0)
                        path = p->server.env[i] + 5;
        int r = server_find_command(argv[0], path, &found);
        if (r == -ELOOP) {
                fprintf(stderr,
                        "gopls-guard: the server command '%s' is this gopls-guard itself%s; a "
                        "guard must not run itself as its server: install the real %s, or put "
                        "its directory on PATH, or name it by its full path\n",
                        argv[0], strchr(argv[0], '/') ? "" : " (the only match on PATH)",
                        argv[0]);
                return EXIT_USAGE;
        }
        if (r < 0)
                return 0;
        argv[0] = found;
        *ret_owned = found;
        return 0;
}

static int cmd_guard(int argc, char **argv, bool as_gopls, const struct guard_roots *roots)
{
        struct cli c = {0};
        struct policy p;
        int r;

        if (as_gopls) {
                r = masquerade(argc, argv, &c);
                if (r != 0)
                        return r;
        } else {
                r = parse(argc, argv, "running a server", "policy workspace cgroup", &c);
                if (r != 0)
                        return r > 0 ? 0 : EXIT_USAGE;
        }
        if (load_policy(&p, &c, roots) < 0) {
                free(c.policies);
                return EXIT_USAGE;
        }
        log_setup(p.log.target, p.log.level);

        char **server_argv = NULL, *resolved = NULL;
        r = refuse_pinned(&p, &c, !as_gopls && c.n_rest > 0);
        if (r != 0)
                goto out;
        if (c.n_rest > 0) {
                server_argv = c.rest;
        } else {
                server_argv = calloc(p.server.n_args + 2, sizeof *server_argv);
                if (!server_argv) {
                        fprintf(stderr, "gopls-guard: out of memory\n");
                        r = 1;
                        goto out;
                }
                server_argv[0] = p.server.command;
                for (size_t i = 0; i < p.server.n_args; i++)
                        server_argv[i + 1] = p.server.args[i];
        }
        if (c.workspace && chdir(c.workspace) < 0) {
                fprintf(stderr, "gopls-guard: --workspace %s: %s\n", c.workspace, strerror(errno));
                r = EXIT_USAGE;
                goto out;
        }
        /* After the chdir: relative names mean what they mean to the server. */
        if (!as_gopls) {
                r = resolve_server(server_argv, &p, &resolved);
                if (r != 0)
                        goto out;
        }
        char ws[4096];
        const char *workspace = getcwd(ws, sizeof ws) ? ws : c.workspace;

        struct guard_options o = {
                .policy = &p,
                .argv = server_argv,
                .workspace = workspace,
                .cgroup = c.cgroup,
                .proc_root = roots->proc,
                .roots = roots,
        };
        r = guard_run(&o);
out:
        free(resolved);
        if (server_argv != c.rest)
                free(server_argv);
        free(c.policies);
        policy_done(&p);
        return r;
}

static int cmd_check_policy(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        struct policy p;
        int r = parse(argc, argv, "check-policy", "policy", &c);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest > 0) {
                fprintf(stderr, "gopls-guard: check-policy takes no arguments (got '%s')\n",
                        c.rest[0]);
                return EXIT_USAGE;
        }
        r = load_policy(&p, &c, roots);
        free(c.policies);
        if (r < 0)
                return EXIT_USAGE;
        policy_print(&p, stdout);
        policy_done(&p);
        return 0;
}

static int cmd_status(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        int r = parse(argc, argv, "status", "json openmetrics", &c);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest > 1) {
                fprintf(stderr, "gopls-guard: status takes at most one WORKSPACE\n");
                return EXIT_USAGE;
        }
        if (c.json && c.openmetrics) {
                fprintf(stderr, "gopls-guard: status takes --json or --openmetrics, not both\n");
                return EXIT_USAGE;
        }
        return status_command(roots->runtime_dir, stdout,
                              c.openmetrics ? STATUS_OPENMETRICS
                              : c.json      ? STATUS_JSON
                                            : STATUS_TEXT,
                              c.n_rest ? c.rest[0] : NULL);
}

/* A container's PID 1 (init.h): its own few options, parsed there. */
static int cmd_init(int argc, char **argv, const struct guard_roots *roots)
{
        struct init_args a;
        char err[256];

        if (init_parse_args(argc, argv, &a, err) < 0) {
                fprintf(stderr,
                        "gopls-guard: %s\nUsage: gopls-guard init [--user USER] [--] "
                        "COMMAND [ARG...]\n",
                        err);
                return EXIT_USAGE;
        }
        if (a.help) {
                usage(stdout);
                return 0;
        }
        /* --user wins over [container] user.  A policy error is said (by
         * load_policy) but does not keep the container from starting:
         * PID 1 must run its command whatever the policy says. */
        struct cli c = {0};
        struct policy p;
        bool have_policy = load_policy(&p, &c, roots) >= 0;
        if (!have_policy && !a.user)
                fprintf(stderr, "gopls-guard: init: going on without [container] user (root "
                                "gets the cgroup subtree)\n");
        const char *user = a.user ? a.user : have_policy ? p.container.user : NULL;
        int r = init_run(a.argv, user, roots);
        if (have_policy)
                policy_done(&p);
        return r;
}

/* Where the system units' StateDirectory=gopls-guard/%i lives. */
#define UNIT_STATE_ROOT "/var/lib/gopls-guard"

static int cmd_incidents(int argc, char **argv)
{
        struct cli c = {0};
        struct incident_places pl;
        int r = parse(argc, argv, "incidents", "json", &c);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest > 1) {
                fprintf(stderr, "gopls-guard: incidents takes at most one WORKSPACE\n");
                return EXIT_USAGE;
        }
        incident_places_from_env(&pl);
        /* Root asking after a workspace, with no STATE_DIRECTORY of its
         * own: the system unit gopls-guard@ESC keeps that workspace's
         * incidents in its StateDirectory=, when there is one.  With
         * DynamicUser= that is systemd's link to /var/lib/private/...,
         * followed only inside a directory that root alone can write. */
        _cleanup_free_ char *unit_state = NULL;
        struct stat st;
        if (geteuid() == 0 && !pl.state_directory && c.n_rest && lstat(UNIT_STATE_ROOT, &st) == 0 &&
            S_ISDIR(st.st_mode) && stat_root_only(&st)) {
                char real[PATH_MAX];
                _cleanup_free_ char *esc = NULL;
                if (realpath(c.rest[0], real) && escape_path(real, &esc) == 0 &&
                    asprintf(&unit_state, "%s/%s", UNIT_STATE_ROOT, esc) >= 0 &&
                    stat(unit_state, &st) == 0 && S_ISDIR(st.st_mode))
                        pl.state_directory = unit_state;
        }
        return incidents_command(&pl, stdout, c.json, c.n_rest ? c.rest[0] : NULL);
}

static int cmd_doctor(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        struct policy p;
        char err[POLICY_ERR_MAX] = "";
        int r = parse(argc, argv, "doctor", "json policy", &c);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest > 1) {
                fprintf(stderr, "gopls-guard: doctor takes at most one WORKSPACE\n");
                free(c.policies);
                return EXIT_USAGE;
        }
        bool loaded = load_policy_err(&p, &c, roots, err) >= 0;
        const struct doctor_options o = {
                .policy = loaded ? &p : NULL,
                .policy_error = err,
                .workspace = c.n_rest ? c.rest[0] : NULL,
                .roots = roots,
                .json = c.json,
                .out = stdout,
        };
        r = doctor_run(&o);
        if (loaded)
                policy_done(&p);
        free(c.policies);
        return r;
}

static int cmd_restart(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        int r = parse(argc, argv, "restart", "", &c);
        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest > 1) {
                fprintf(stderr, "gopls-guard: restart takes at most one WORKSPACE\n"
                                "Usage: gopls-guard restart [WORKSPACE]\n");
                return EXIT_USAGE;
        }
        return restart_command(roots->runtime_dir, roots->proc, c.n_rest ? c.rest[0] : NULL);
}

/* ---- daemon mode: serve and connect (serve.h, connect.h) ---- */

static int cmd_serve(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        struct policy p;
        char ws[4096];
        char **server_argv = NULL, *resolved = NULL;
        int r = parse(argc, argv, "serve", "policy workspace cgroup", &c);

        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (!c.workspace || c.n_rest > 0) {
                fprintf(stderr, "gopls-guard: %s\nUsage: gopls-guard serve --workspace DIR "
                                "[--policy FILE]...\n",
                        c.n_rest > 0 ? "serve takes no command (set [server] command)"
                                     : "serve needs --workspace DIR");
                free(c.policies);
                return EXIT_USAGE;
        }
        if (load_policy(&p, &c, roots) < 0) {
                free(c.policies);
                return EXIT_USAGE;
        }
        log_setup(p.log.target, p.log.level);
        r = refuse_pinned(&p, &c, false);
        if (r != 0)
                goto out;
        r = EXIT_USAGE;
        if (chdir(c.workspace) < 0 || !getcwd(ws, sizeof ws)) {
                fprintf(stderr, "gopls-guard: --workspace %s: %s\n", c.workspace, strerror(errno));
                goto out;
        }
        server_argv = calloc(p.server.n_args + 2, sizeof *server_argv);
        if (!server_argv) {
                r = 1;
                goto out;
        }
        server_argv[0] = p.server.command;
        for (size_t i = 0; i < p.server.n_args; i++)
                server_argv[i + 1] = p.server.args[i];
        r = resolve_server(server_argv, &p, &resolved);
        if (r != 0)
                goto out;
        const struct serve_options o = {
                .policy = &p,
                .workspace = ws,
                .server_argv = server_argv,
                .cgroup = c.cgroup,
                .roots = roots,
        };
        r = serve_run(&o);
out:
        free(resolved);
        free(server_argv);
        free(c.policies);
        policy_done(&p);
        return r;
}

static int cmd_connect(int argc, char **argv, const struct guard_roots *roots)
{
        struct cli c = {0};
        int r = parse(argc, argv, "connect", "", &c);

        if (r != 0)
                return r > 0 ? 0 : EXIT_USAGE;
        if (c.n_rest != 1) {
                fprintf(stderr, "gopls-guard: connect takes one workspace directory\n"
                                "Usage: gopls-guard connect DIR\n");
                return EXIT_USAGE;
        }
        return connect_run(c.rest[0], roots);
}

int main(int argc, char **argv)
{
        const char *name = basename(argv[0]);
        const struct guard_roots roots = roots_get();

        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        if (strcmp(name, "gopls") == 0)
                return cmd_guard(argc, argv, true, &roots);
        if (argc > 1 && strcmp(argv[1], "check-policy") == 0)
                return cmd_check_policy(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "status") == 0)
                return cmd_status(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "doctor") == 0)
                return cmd_doctor(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "incidents") == 0)
                return cmd_incidents(argc - 1, argv + 1);
        if (argc > 1 && strcmp(argv[1], "restart") == 0)
                return cmd_restart(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "serve") == 0)
                return cmd_serve(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "connect") == 0)
                return cmd_connect(argc - 1, argv + 1, &roots);
        if (argc > 1 && strcmp(argv[1], "init") == 0)
                return cmd_init(argc - 1, argv + 1, &roots);
        if (argc > 1 && argv[1][0] != '-') {
                fprintf(stderr,
                        "gopls-guard: unknown command '%s'; put the server's command line after "
                        "'--' (gopls-guard -- %s ...)\nTry 'gopls-guard --help'.\n",
                        argv[1], argv[1]);
                return EXIT_USAGE;
        }
        return cmd_guard(argc, argv, false, &roots);
}

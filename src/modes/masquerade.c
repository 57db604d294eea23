#include "masquerade.h"

#include <stddef.h>
#include <string.h>

/* Flags that leave gopls a stdio server, from `gopls help` and
 * `gopls help serve` of 0.5.0 (Debian 12) and of 0.16.1's usage text.
 * Left out on purpose: remote (forwards to a daemon instead of serving),
 * listen and port (serve on a socket, not stdio), mcp.listen (a second
 * server on a socket), h/help (print usage).  A flag not listed sends the
 * command line to the real gopls, which is always safe: at worst a server
 * runs unguarded, never is a gopls command broken. */
static const struct flag {
        const char *name;
        bool value;       /* takes a value (`-name=v` or `-name v`) */
        bool server_flag; /* also accepted after `serve` */
} flags[] = {
    /* serve's own flags (accepted before `serve` too) */
    {"debug", true, true},
    {"listen.timeout", true, true},
    {"logfile", true, true},
    {"mode", true, true},
    {"remote.debug", true, true},
    {"remote.listen.timeout", true, true},
    {"remote.logfile", true, true},
    {"rpc.trace", false, true},
    /* gopls's application flags (before `serve` only) */
    {"ocagent", true, false},
    {"otel", true, false},
    {"profile.alloc", true, false},
    {"profile.block", true, false},
    {"profile.cpu", true, false},
    {"profile.mem", true, false},
    {"profile.trace", true, false},
    {"v", false, false},
    {"verbose", false, false},
    {"vv", false, false},
    {"veryverbose", false, false},
};

static const struct flag *find_flag(const char *name, size_t len, bool after_serve)
{
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
                if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0)
                        return after_serve && !flags[i].server_flag ? NULL : &flags[i];
        return NULL;
}

/* What Go's strconv.ParseBool accepts. */
static bool go_bool(const char *s)
{
        static const char *const ok[] = {"1", "t", "T", "TRUE",  "true",  "True",
                                         "0", "f", "F", "FALSE", "false", "False"};
        for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                if (strcmp(s, ok[i]) == 0)
                        return true;
        return false;
}

/* Skip the flags from argv[*i] on, as Go's flag package reads them.
 * Returns false for a flag outside the list or a malformed one. */
static bool skip_flags(int argc, char *const *argv, int *i, bool after_serve)
{
        while (*i < argc) {
                const char *a = argv[*i];
                if (a[0] != '-' || a[1] == '\0')
                        return true; /* the first non-flag ("-" is one too) */
                if (strcmp(a, "--") == 0) {
                        (*i)++;
                        return true;
                }
                const char *name = a + (a[1] == '-' ? 2 : 1);
                if (*name == '\0' || *name == '-' || *name == '=')
                        return false; /* Go: "bad flag syntax" */
                const char *eq = strchr(name, '=');
                const struct flag *f =
                    find_flag(name, eq ? (size_t)(eq - name) : strlen(name), after_serve);
                if (!f)
                        return false;
                if (f->value && !eq) {
                        if (*i + 1 >= argc)
                                return false; /* Go: "flag needs an argument" */
                        (*i)++;
                } else if (!f->value && eq && !go_bool(eq + 1)) {
                        return false;
                }
                (*i)++;
        }
        return true;
}

bool masquerade_serves_stdio(int argc, char *const *argv)
{
        int i = 1;

        if (!skip_flags(argc, argv, &i, false))
                return false;
        if (i == argc)
                return true;
        if (strcmp(argv[i], "serve") != 0)
                return false;
        i++;
        if (!skip_flags(argc, argv, &i, true))
                return false;
        /* gopls serve takes no arguments and says so itself. */
        return i == argc;
}

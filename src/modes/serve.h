/* serve.h — daemon mode: `gopls-guard serve --workspace DIR`.
 *
 * The guard listens on RUNTIME/gopls-guard/ESC.sock (ESC: escape.h;
 * RUNTIME: the user's runtime directory as status.h chooses it, /run for
 * root outside a session), or on the socket systemd passes (LISTEN_FDS, one listening
 * AF_UNIX stream socket).  A socket it made itself is created 0600 in the
 * 0700 directory (bind() never follows a link) and removed when it ends;
 * one from systemd is left to systemd.
 *
 * Each accepted connection is an editor with its own LSP session
 * (lsp-session.h, full replay).  With [serve] share = yes there is one
 * server for all of them, in the guard's one cgroup leaf:
 *     COMMAND serve -listen=unix;PRIVATE -listen.timeout=0 [ARGS]
 * with PRIVATE a socket in the guard's own 0700 runtime directory, and
 * each editor gets its own connection to it (gopls keeps one session per
 * connection over one cache).  When that server ends (a kill, an OOM
 * kill) the guard restarts it as in stdio mode and replays every
 * connected session onto it.  An editor's exit is never forwarded (gopls
 * would end the whole daemon); its leaving closes its documents and shuts
 * down only its own session (session_leave()).
 *
 * With [serve] share = no each connection gets a guard of its own, a child
 * process running guard_run() on the connection as its stdio, with its
 * server in DIR/conn-N/server of the guard's cgroup DIR (laid out as in
 * stdio mode, so that the children can enable controllers there), or
 * degraded without one.
 *
 * With no connection for [serve] idle_timeout (0: never) the guard stops
 * its server(s) and exits 0; socket activation brings it back. */
#pragma once

#include "policy.h"
#include "roots.h"

struct serve_options {
        const struct policy *policy;
        const char *workspace;    /* absolute, resolved (realpath) */
        char *const *server_argv; /* the server command line as in stdio mode */
        const char *cgroup;       /* --cgroup, may be NULL */
        const struct guard_roots *roots;
};

/* Exit codes beyond guard_run()'s: */
#define SERVE_EXIT_SOCKET 2 /* cannot listen: another guard serves DIR, or a bad path */

/* Serve until stopped; returns the exit code (0 after idle_timeout or
 * SIGTERM, else as guard_run(), or SERVE_EXIT_SOCKET). */
int serve_run(const struct serve_options *o);

/* The socket directory of this user: `override` (tests) as it is, else
 * /run/gopls-guard for root without XDG_RUNTIME_DIR (the system units),
 * else the status directory (status.h: $XDG_RUNTIME_DIR/gopls-guard).
 * Created when `create`.  Returns 0 with a malloc'd path, or a negative
 * errno with `why` filled. */
int serve_socket_dir(const char *override, bool create, char **ret, char why[512]);

/* The shared server's command line for the stdio one `argv`:
 *     COMMAND serve -listen=unix;PRIV -listen.timeout=0 [ARGS]
 * (a leading "serve" in ARGS is not repeated).  The strings of `argv` are
 * borrowed; free with serve_shared_argv_free().  NULL on -ENOMEM. */
char **serve_shared_argv(char *const *argv, const char *priv);
void serve_shared_argv_free(char **argv);

/* DIR/ESC.sock for `workspace` (absolute).  -ENAMETOOLONG when it does
 * not fit a sockaddr_un. */
int serve_socket_path(const char *dir, const char *workspace, char **ret);

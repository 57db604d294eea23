/* connect.h — `gopls-guard connect DIR`: the stdio bridge an editor runs
 * instead of gopls, to the guard serving DIR (serve.h).
 *
 * It looks for DIR's socket (RUNTIME/gopls-guard/ESC.sock) in the user's
 * runtime directory, then in /run/gopls-guard/ (the system units), and
 * pumps bytes both ways unchanged: the serving guard does the LSP work.
 * When the editor closes stdin the socket's sending side is shut down and
 * the guard's last answers still reach stdout; when the guard closes the
 * connection, it ends. */
#pragma once

#include "roots.h"

/* Exit status when no guard serves DIR (after saying how to start one). */
#define CONNECT_EXIT_NO_GUARD 2

/* roots->runtime_dir (tests) replaces the user's directory.  Returns the exit code: 0 once either
 * side ended, CONNECT_EXIT_NO_GUARD with the message on stderr, 1 for an I/O failure (said on
 * stderr). */
int connect_run(const char *dir, const struct guard_roots *roots);

/* server.h — starting one generation of the language server.
 *
 * The server gets fresh pipes for stdin and stdout (the guard relays the
 * editor's stdio across generations).  Its stderr is either the guard's
 * own, inherited, or (capture_stderr) a pipe whose read end the guard
 * passes through to its own stderr unchanged while keeping the last lines
 * (stderr-tail.h). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct server_spec {
        char *const *argv;  /* argv[0] is looked up on PATH */
        char *const *env;   /* extra NAME=VALUE, set on top of the guard's environ */
        int cgroup_fd;      /* O_DIRECTORY fd of the server leaf, or -1 (degraded) */
        int cgroup_procs_fd; /* fallback placement: O_WRONLY server/cgroup.procs, or -1 */
        bool capture_stderr; /* stderr into a pipe (ret->stderr_fd), not inherited */
};

struct server_proc {
        pid_t pid;
        int pidfd;
        int stdin_fd;  /* guard writes, non-blocking */
        int stdout_fd; /* guard reads, non-blocking */
        int stderr_fd; /* guard reads (capture_stderr), or -1 */
};

/* Start the server.  It is placed in the leaf before it runs a single
 * instruction of its own (clone3 CLONE_INTO_CGROUP, 5.7+; otherwise the
 * child writes itself into cgroup.procs before exec), so everything it
 * starts is in the leaf too.  The child also asks for SIGKILL when the
 * guard dies, and gets its own process group, so the degraded mode can
 * signal the whole tree.  It inherits no descriptor beyond 0-2.
 *
 * Failure to exec (no such command) is not reported here: the child exits
 * with 127 after writing "cannot run COMMAND: REASON" to stderr, which the
 * supervisor sees as a failed start.  Returns 0 or a negative errno for
 * failures in the guard itself (pipes, clone). */
int server_spawn(const struct server_spec *spec, struct server_proc *ret);

/* Resolve `name` on `path` (NULL: $PATH) like execvp does, skipping every
 * candidate that is this program itself (same file as /proc/self/exe,
 * through any symlink): a `gopls` symlink to the guard earlier on PATH must
 * never make the guard run itself as its server.  A name with a '/' is
 * taken as it is.  Returns 0 with a malloc'd path, -ELOOP when the only
 * match (or the path named) is the guard itself, -ENOENT when nothing
 * matches, or another negative errno. */
int server_find_command(const char *name, const char *path, char **ret_path);

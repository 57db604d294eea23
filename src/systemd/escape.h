/* escape.h — unit-name escaping of a path, as `systemd-escape --path`
 * does it (systemd's unit_name_path_escape()): the instance name of
 * gopls-guard@.service and the name of a workspace's socket.
 *
 * The path is simplified first (repeated slashes and "." components
 * dropped, leading and trailing slashes removed; "/" alone becomes "-"),
 * then each '/' becomes '-', and every byte other than ASCII letters,
 * digits, ':', '_' and '.' becomes "\xNN" (lowercase hex), as does a '.'
 * at the very start.  Done here, not by running systemd-escape, so that
 * `connect` works where systemd is not installed (a container). */
#pragma once

#include <stddef.h>

/* Escape the absolute path `path`.  Returns 0 with a malloc'd string, or
 * -EINVAL for a path that is not absolute or has a ".." component
 * (systemd-escape refuses those too: the escaping would not name the
 * directory the unit serves), -ENOMEM. */
int escape_path(const char *path, char **ret);

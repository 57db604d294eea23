/* recovery.h — [recovery] purge_cache: after repeated crashes, gopls's
 * cache directories are moved aside before the next start, in case a
 * corrupt cache is what crashes it.
 *
 * "Repeated": RECOVERY_ENDS or more ends counted toward giving up within
 * [restart] window (the supervisor's restarts_at ring), once per such
 * streak.  A directory is renamed to DIR.gopls-guard-YYYYmmddTHHMMSSZ next
 * to itself (UTC; "-2", "-3" ... added if that exists), never deleted:
 * the user decides what to do with it.  Only a real directory owned by the
 * guard's user is moved (not a link, not someone else's).  Nothing here
 * logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define RECOVERY_ENDS 2U

/* Pure: purge now?  `ends_in_window` counts the end just seen. */
bool recovery_should_purge(bool enabled, unsigned ends_in_window, bool purged_this_streak);

/* gopls's own cache directory, as gopls 0.12+ finds it: $GOPLSCACHE, else
 * os.UserCacheDir()/gopls ($XDG_CACHE_HOME/gopls, else
 * $HOME/.cache/gopls).  Each value as the server sees it (the caller
 * passes [server] env's over the guard's).  0, or -ENOENT when none can be
 * formed (no HOME). */
int recovery_gopls_cache_dir(const char *goplscache, const char *xdg_cache_home, const char *home,
                             char *buf, size_t len);

/* Pure: the name DIR is moved to at `t`, with `n` > 1 the n-th try. */
void recovery_aside_name(const char *dir, time_t t, unsigned n, char *buf, size_t len);

/* Move DIR aside (see above).  Returns 1 with the new path in `ret`, 0
 * when DIR does not exist, -ELOOP for a link, -ENOTDIR, -EPERM for a
 * directory of another user, or another negative errno. */
int recovery_move_aside(const char *dir, time_t t, char *ret, size_t len);

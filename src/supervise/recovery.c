#include "recovery.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool recovery_should_purge(bool enabled, unsigned ends_in_window, bool purged_this_streak)
{
        return enabled && ends_in_window >= RECOVERY_ENDS && !purged_this_streak;
}

int recovery_gopls_cache_dir(const char *goplscache, const char *xdg_cache_home, const char *home,
                             char *buf, size_t len)
{
        /* os.UserCacheDir: XDG_CACHE_HOME only when absolute, else HOME. */
        if (goplscache && *goplscache)
                snprintf(buf, len, "%s", goplscache);
        else if (xdg_cache_home && xdg_cache_home[0] == '/')
                snprintf(buf, len, "%s/gopls", xdg_cache_home);
        else if (home && *home)
                snprintf(buf, len, "%s/.cache/gopls", home);
        else
                return -ENOENT;
        return 0;
}

void recovery_aside_name(const char *dir, time_t t, unsigned n, char *buf, size_t len)
{
        struct tm tm;
        char when[32] = "00000000T000000Z";
        size_t l = strlen(dir);

        /* "DIR/" names the same directory as "DIR". */
        while (l > 1 && dir[l - 1] == '/')
                l--;
        if (gmtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
        if (n > 1)
                snprintf(buf, len, "%.*s.gopls-guard-%s-%u", (int)l, dir, when, n);
        else
                snprintf(buf, len, "%.*s.gopls-guard-%s", (int)l, dir, when);
}

int recovery_move_aside(const char *dir, time_t t, char *ret, size_t len)
{
        struct stat st;
        char to[4096], from[4096];
        size_t l = strlen(dir);

        while (l > 1 && dir[l - 1] == '/')
                l--;
        snprintf(from, sizeof from, "%.*s", (int)l, dir);
        if (lstat(from, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (st.st_uid != geteuid())
                return -EPERM;
        for (unsigned n = 1; n < 100; n++) {
                recovery_aside_name(from, t, n, to, sizeof to);
                /* RENAME_NOREPLACE: never over something already there. */
                if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) {
                        snprintf(ret, len, "%s", to);
                        return 1;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

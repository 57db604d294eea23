/* fake.h — scratch directories standing in for /proc and cgroup leaves. */
#pragma once
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline char *fake_dir(void)
{
        char tmpl[] = "/tmp/guard-test-XXXXXX";
        char *d = mkdtemp(tmpl);
        return d ? strdup(d) : NULL;
}

static inline void fake_write(const char *dir, const char *name, const char *text)
{
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        /* Truncate-and-write in place, as the kernel's files change in place
         * (a rename would not fire IN_MODIFY on the watched inode). */
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
                if (write(fd, text, strlen(text)) < 0)
                        perror(path);
                close(fd);
        }
}

static inline void fake_mkdir(const char *dir, const char *name)
{
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        mkdir(path, 0755);
}

static inline void fake_rm_rf(const char *dir)
{
        char cmd[1100];
        if (dir && strncmp(dir, "/tmp/guard-test-", 16) == 0) {
                snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
                if (system(cmd) != 0)
                        fprintf(stderr, "cannot remove %s\n", dir);
        }
}

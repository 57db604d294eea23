#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

int read_file_at(int dirfd, const char *path, char **ret, size_t max)
{
        int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = 0, cap = 4096;
        char *buf;

        if (fd < 0)
                return -errno;
        buf = malloc(cap);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap > max) {
                                free(buf);
                                close(fd);
                                return -EFBIG;
                        }
                        char *nb = realloc(buf, cap * 2);
                        if (!nb) {
                                free(buf);
                                close(fd);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap *= 2;
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        free(buf);
                        close(fd);
                        return -e;
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (len > max) {
                free(buf);
                return -EFBIG;
        }
        buf[len] = '\0';
        *ret = buf;
        return (int)len;
}

int write_file_at(int dirfd, const char *path, const char *value)
{
        int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, value, len);
        int e = errno;
        close(fd);
        if (n < 0)
                return -e;
        return (size_t)n == len ? 0 : -EIO;
}

uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sleep_usec(uint64_t usec)
{
        struct timespec ts = {.tv_sec = (time_t)(usec / 1000000u),
                              .tv_nsec = (long)(usec % 1000000u) * 1000};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int open_dir_at(int dirfd, const char *name)
{
        struct stat st;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        int r = -errno;
        if (r == -ENOTDIR && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode))
                return -ELOOP;
        return r;
}

DIR *opendir_at(int dirfd, const char *name)
{
        int fd = open_dir_at(dirfd, name);
        if (fd < 0) {
                errno = -fd;
                return NULL;
        }
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = errno;
                close(fd);
                errno = e;
        }
        return d;
}

/* util.h — small helpers shared by the modules: file I/O relative to a
 * directory fd, time, cleanup attributes.  All return 0/positive or a
 * negative errno and never log. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static inline void freep(void *p)
{
        free(*(void **)p);
}
static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))

/* Only root can change what st describes: root owns it, and neither group
 * nor others may write it. */
static inline bool stat_root_only(const struct stat *st)
{
        return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Read all of DIRFD/PATH (AT_FDCWD for plain paths) into a NUL-terminated
 * malloc'd string; -EFBIG if larger than `max`.  Returns the length. */
int read_file_at(int dirfd, const char *path, char **ret, size_t max);

/* Write `value` to DIRFD/PATH in one write(2), as the kernel's control
 * files want it.  Does not create the file. */
int write_file_at(int dirfd, const char *path, const char *value);

/* The directory `name` under `dirfd`, opened without following a link: an
 * fd, or a negative errno, -ELOOP when `name` is a symbolic link (which
 * openat() reports as ENOTDIR), so that callers can say what is in the
 * way. */
int open_dir_at(int dirfd, const char *name);

/* The same opened for listing ("." for dirfd itself, with an offset of
 * its own): NULL with errno set.  closedir() closes its fd. */
DIR *opendir_at(int dirfd, const char *name);

uint64_t now_usec(void); /* CLOCK_MONOTONIC */
void sleep_usec(uint64_t usec);

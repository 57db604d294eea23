#define SD_JOURNAL_SUPPRESS_LOCATION
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#include <unistd.h>

static int max_level = LOG_INFO;
static bool use_journal;

static bool stderr_is_journal(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(enum log_target target, int level)
{
        max_level = level;
        switch (target) {
        case LOG_TARGET_JOURNAL:
                use_journal = true;
                break;
        case LOG_TARGET_STDERR:
                use_journal = false;
                break;
        case LOG_TARGET_AUTO:
                use_journal = stderr_is_journal();
                break;
        }
}

int log_get_max_level(void)
{
        return max_level;
}

bool log_to_journal(void)
{
        return use_journal;
}

/* Send MESSAGE, PRIORITY, CODE_* and the caller's extra fields as one entry. */
static void journal_send(int level, const char *file, int line, const char *func,
                         const char *fields, const char *msg)
{
        struct iovec iov[32];
        char *parts[32];
        size_t n = 0;
        char *copy = NULL;

        if (asprintf(&parts[n], "MESSAGE=%s", msg) >= 0)
                n++;
        if (asprintf(&parts[n], "PRIORITY=%d", level) >= 0)
                n++;
        if (asprintf(&parts[n], "CODE_FILE=%s", file) >= 0)
                n++;
        if (asprintf(&parts[n], "CODE_LINE=%d", line) >= 0)
                n++;
        if (asprintf(&parts[n], "CODE_FUNC=%s", func) >= 0)
                n++;
        if (asprintf(&parts[n], "SYSLOG_IDENTIFIER=gopls-guard") >= 0)
                n++;
        if (fields && (copy = strdup(fields))) {
                char *save = NULL;
                for (char *f = strtok_r(copy, "\n", &save); f && n < 32;
                     f = strtok_r(NULL, "\n", &save))
                        parts[n++] = strdup(f);
        }
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
                if (parts[i])
                        iov[m++] = (struct iovec){.iov_base = parts[i], .iov_len = strlen(parts[i])};
        (void)sd_journal_sendv(iov, (int)m);
        for (size_t i = 0; i < n; i++)
                free(parts[i]);
        free(copy);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fields, const char *format, ...)
{
        int saved = errno;
        int e = error < 0 ? -error : error;

        if (level <= max_level) {
                char msg[2048];
                va_list ap;

                errno = e; /* for %m */
                va_start(ap, format);
                vsnprintf(msg, sizeof msg, format, ap);
                va_end(ap);

                if (use_journal)
                        journal_send(level, file, line, func, fields, msg);
                else
                        fprintf(stderr, "gopls-guard: %s\n", msg);
        }
        errno = saved;
        return e ? -e : -EIO;
}

/* log.h — the guard's one place that talks to the user about what it did.
 *
 * Messages go to the journal (with structured fields) or to stderr as
 * "gopls-guard: MESSAGE".  `auto` picks the journal when stderr is
 * connected to it (JOURNAL_STREAM matches stderr's device and inode, as
 * systemd sets it for services), else stderr: an editor shows a language
 * server's stderr in its log window, which is where its users look.
 *
 * Only the guard's decision points log (STYLE.md habit 2); library-like
 * modules return errors instead. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <syslog.h>

#include "policy.h"

void log_setup(enum log_target target, int max_level);
int log_get_max_level(void);
/* True when messages go to the journal. */
bool log_to_journal(void);

/* Log at `level`; `error` (a positive or negative errno, or 0) fills "%m".
 * Returns -abs(error), or -EIO when error is 0, so that callers can write
 * `return log_error_errno(r, "...: %m");`. */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *fields, const char *format, ...)
        __attribute__((format(printf, 7, 8)));

#define log_full_errno(level, error, ...)                                                          \
        log_internal(level, error, __FILE__, __LINE__, __func__, NULL, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)
#define log_debug_errno(error, ...) log_full_errno(LOG_DEBUG, error, __VA_ARGS__)

/* With extra journal fields: `fields` is "KEY=VALUE\nKEY=VALUE" (no trailing
 * newline), sent as separate fields to the journal and not printed to stderr. */
#define log_fields(level, fields, ...)                                                             \
        log_internal(level, 0, __FILE__, __LINE__, __func__, fields, __VA_ARGS__)

/* units.c — sizes, durations, booleans and percentages as policy values.
 *
 * Numbers are parsed here by hand rather than with strtod()/strtoull():
 * strtod() follows LC_NUMERIC (a guard started under a German locale would
 * reject "1.5G"), and strtoull() quietly accepts "-1" as 2^64-1 and leading
 * whitespace.  Fractions are exact: "1.5G" is 1610612736 bytes, not
 * whatever a double rounds it to. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "policy.h"

#define KIB UINT64_C(1024)

/* Fraction digits beyond this are dropped (rounding towards zero): nine
 * digits are below a microsecond of a second and below a byte of a GiB. */
#define FRAC_DIGITS_MAX 9

struct decimal {
        uint64_t whole;
        uint64_t frac;       /* the digits after the point, as an integer */
        uint64_t frac_scale; /* 10^(number of those digits), 1 if none */
};

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* "123", "1.5", "0.25": at least one digit before the point and, if there
 * is a point, at least one after it.  Advances *s past the number.  A
 * leading '-' is -ERANGE (a negative amount, not a malformed one). */
static int parse_decimal(const char **s, struct decimal *ret)
{
        const char *p = *s;
        struct decimal d = {.frac_scale = 1};

        if (*p == '-')
                return -ERANGE;
        if (!is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                unsigned digit = (unsigned)(*p - '0');
                if (d.whole > (UINT64_MAX - digit) / 10)
                        return -ERANGE;
                d.whole = d.whole * 10 + digit;
        }
        if (*p == '.') {
                p++;
                if (!is_digit(*p))
                        return -EINVAL;
                for (unsigned n = 0; is_digit(*p); p++, n++) {
                        if (n >= FRAC_DIGITS_MAX)
                                continue;
                        d.frac = d.frac * 10 + (unsigned)(*p - '0');
                        d.frac_scale *= 10;
                }
        }
        *s = p;
        *ret = d;
        return 0;
}

/* d * unit, rounded towards zero; -ERANGE if it does not fit.  The
 * fraction part is split as unit = q * scale + r so that no intermediate
 * product overflows: frac * q < unit, and frac * r < scale^2 <= 10^18. */
static int decimal_scale(const struct decimal *d, uint64_t unit, uint64_t *ret)
{
        uint64_t whole, q, r, frac;

        if (__builtin_mul_overflow(d->whole, unit, &whole))
                return -ERANGE;
        q = unit / d->frac_scale;
        r = unit % d->frac_scale;
        frac = d->frac * q + d->frac * r / d->frac_scale;
        if (__builtin_add_overflow(whole, frac, ret))
                return -ERANGE;
        return 0;
}

static bool is_unlimited(const char *s)
{
        return strcmp(s, "max") == 0 || strcmp(s, "infinity") == 0;
}

int parse_size(const char *s, uint64_t mem_total, uint64_t *ret_bytes)
{
        struct decimal d;
        uint64_t unit, bytes;
        const char *p = s;
        int r;

        if (is_unlimited(s)) {
                *ret_bytes = POLICY_NO_LIMIT;
                return 0;
        }
        r = parse_decimal(&p, &d);
        if (r < 0)
                return r;

        if (strcmp(p, "%") == 0) {
                /* A share of memory outside 1..100% is always a mistake:
                 * 0% would stop the server at once, and more than all of
                 * memory is what "max" is for. */
                if (d.whole < 1 || d.whole > 100 || (d.whole == 100 && d.frac > 0))
                        return -ERANGE;
                if (mem_total == 0)
                        return -EINVAL;
                r = decimal_scale(&d, mem_total, &bytes);
                if (r < 0)
                        return r;
                bytes /= 100;
        } else {
                switch (*p) {
                case '\0':
                        unit = 1;
                        break;
                case 'K':
                case 'k':
                        unit = KIB;
                        break;
                case 'M':
                case 'm':
                        unit = KIB * KIB;
                        break;
                case 'G':
                case 'g':
                        unit = KIB * KIB * KIB;
                        break;
                case 'T':
                case 't':
                        unit = KIB * KIB * KIB * KIB;
                        break;
                default:
                        return -EINVAL;
                }
                if (*p != '\0' && p[1] != '\0')
                        return -EINVAL;
                /* "1.5" bytes is a forgotten suffix, not half a byte. */
                if (unit == 1 && d.frac_scale > 1)
                        return -EINVAL;
                r = decimal_scale(&d, unit, &bytes);
                if (r < 0)
                        return r;
        }
        /* UINT64_MAX is POLICY_NO_LIMIT; a number must not alias it. */
        if (bytes == POLICY_NO_LIMIT)
                return -ERANGE;
        *ret_bytes = bytes;
        return 0;
}

static const struct {
        const char *suffix;
        usec_t usec;
} duration_units[] = {
    /* "min" before "ms" and "s" only matters for readability: matching
     * is on the whole run of letters. */
    {"h", 3600 * USEC_PER_SEC},
    {"min", 60 * USEC_PER_SEC},
    {"s", USEC_PER_SEC},
    {"ms", USEC_PER_MSEC},
};

int parse_duration(const char *s, usec_t *ret_usec)
{
        const char *p = s;
        usec_t total = 0;
        unsigned n_parts = 0;

        if (*p == '\0')
                return -EINVAL;
        while (*p != '\0') {
                struct decimal d;
                usec_t unit = 0, part;
                size_t len = 0;
                int r;

                r = parse_decimal(&p, &d);
                if (r < 0)
                        return r;
                while ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z'))
                        len++;
                if (len == 0) {
                        /* A bare number is seconds, but only on its own:
                         * in "1min 30" the 30 is more likely a typo. */
                        if (n_parts > 0 || *p != '\0')
                                return -EINVAL;
                        unit = USEC_PER_SEC;
                } else {
                        for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]);
                             i++) {
                                if (strlen(duration_units[i].suffix) == len &&
                                    strncmp(p, duration_units[i].suffix, len) == 0) {
                                        unit = duration_units[i].usec;
                                        break;
                                }
                        }
                        if (unit == 0)
                                return -EINVAL;
                        p += len;
                }
                r = decimal_scale(&d, unit, &part);
                if (r < 0)
                        return r;
                if (__builtin_add_overflow(total, part, &total))
                        return -ERANGE;
                n_parts++;
                while (*p == ' ' || *p == '\t')
                        p++;
        }
        *ret_usec = total;
        return 0;
}

int parse_bool(const char *s, bool *ret)
{
        static const char *const yes[] = {"yes", "true", "on", "1"};
        static const char *const no[] = {"no", "false", "off", "0"};

        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_percent(const char *s, uint64_t *ret_percent)
{
        struct decimal d;
        const char *p = s;
        int r;

        r = parse_decimal(&p, &d);
        if (r < 0)
                return r;
        /* Whole percents only: cpu.max is written as a quota of whole
         * percent of a period, and go_memlimit needs no finer grain. */
        if (d.frac_scale > 1)
                return -EINVAL;
        if (*p == '%')
                p++;
        if (*p != '\0')
                return -EINVAL;
        *ret_percent = d.whole;
        return 0;
}

static int format_checked(size_t len, int n)
{
        if (n < 0)
                return -EINVAL;
        if ((size_t)n >= len)
                return -ENOBUFS;
        return 0;
}

int format_size(uint64_t bytes, char *buf, size_t len)
{
        static const char suffixes[] = "KMGT";
        unsigned exp = 0;
        uint64_t v = bytes;

        if (bytes == POLICY_NO_LIMIT)
                return format_checked(len, snprintf(buf, len, "max"));
        while (v != 0 && v % KIB == 0 && exp < sizeof(suffixes) - 1) {
                v /= KIB;
                exp++;
        }
        if (exp == 0)
                return format_checked(len, snprintf(buf, len, "%" PRIu64, v));
        return format_checked(len, snprintf(buf, len, "%" PRIu64 "%c", v, suffixes[exp - 1]));
}

int format_size_human(uint64_t bytes, char *buf, size_t len)
{
        static const char suffixes[] = "KMGT";
        unsigned exp = 0;
        uint64_t unit = 1;

        if (bytes == POLICY_NO_LIMIT)
                return format_checked(len, snprintf(buf, len, "max"));
        while (exp < sizeof(suffixes) - 1 && bytes >= unit * KIB) {
                unit *= KIB;
                exp++;
        }
        if (exp == 0)
                return format_checked(len, snprintf(buf, len, "%" PRIu64, bytes));
        uint64_t tenths = bytes / (unit / 10) % 10; /* unit is >= 1024, so unit/10 > 0 */
        if (tenths == 0)
                return format_checked(len, snprintf(buf, len, "%" PRIu64 "%c", bytes / unit,
                                                    suffixes[exp - 1]));
        return format_checked(len, snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "%c", bytes / unit,
                                            tenths, suffixes[exp - 1]));
}

int format_duration_human(usec_t usec, char *buf, size_t len)
{
        if (usec < USEC_PER_SEC)
                return format_checked(len, snprintf(buf, len, "%" PRIu64 "ms",
                                                    (usec + USEC_PER_MSEC / 2) / USEC_PER_MSEC));
        if (usec < 60 * USEC_PER_SEC) {
                uint64_t tenths = usec / (USEC_PER_SEC / 10) % 10;
                if (tenths == 0)
                        return format_checked(len, snprintf(buf, len, "%" PRIu64 "s",
                                                            usec / USEC_PER_SEC));
                return format_checked(len, snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s",
                                                    usec / USEC_PER_SEC, tenths));
        }
        return format_duration(usec - usec % USEC_PER_SEC, buf, len);
}

int format_duration(usec_t usec, char *buf, size_t len)
{
        size_t used = 0;
        usec_t rest = usec;
        int r;

        if (len == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        if (usec == 0)
                return format_checked(len, snprintf(buf, len, "0"));
        /* Whole hours, minutes and seconds from the parser's own table;
         * what is left below a second is written as milliseconds below. */
        for (size_t i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
                usec_t unit = duration_units[i].usec;
                if (unit < USEC_PER_SEC || rest < unit)
                        continue;
                r = format_checked(len - used, snprintf(buf + used, len - used, "%" PRIu64 "%s",
                                                        rest / unit, duration_units[i].suffix));
                if (r < 0)
                        return r;
                used += strlen(buf + used);
                rest %= unit;
        }
        if (rest == 0)
                return 0;
        /* Below a second: milliseconds, with the microseconds as a decimal
         * fraction ("1.5ms") so that parse_duration() reads back the exact
         * value without needing a microsecond unit. */
        if (rest % USEC_PER_MSEC == 0)
                r = snprintf(buf + used, len - used, "%" PRIu64 "ms", rest / USEC_PER_MSEC);
        else {
                char frac[8];
                size_t n;

                snprintf(frac, sizeof(frac), "%03" PRIu64, rest % USEC_PER_MSEC);
                for (n = strlen(frac); n > 0 && frac[n - 1] == '0'; n--)
                        frac[n - 1] = '\0';
                r = snprintf(buf + used, len - used, "%" PRIu64 ".%sms", rest / USEC_PER_MSEC,
                             frac);
        }
        return format_checked(len - used, r);
}

int parse_factor(const char *s, double *ret)
{
        struct decimal d;
        const char *p = s;
        int r;

        r = parse_decimal(&p, &d);
        if (r < 0)
                return r;
        if (*p != '\0')
                return -EINVAL;
        *ret = (double)d.whole + (double)d.frac / (double)d.frac_scale;
        return 0;
}

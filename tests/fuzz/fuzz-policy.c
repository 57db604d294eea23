/* fuzz-policy.c — libFuzzer target for the INI policy parser
 * (policy_load_string(), policy_finish(), policy_print(): src/shared/policy.h).
 *
 * Input layout (every byte string is valid):
 *
 *   byte 0   flags: bit 0 = the first file is an administrator's file
 *            (may hold [limits]); bit 1 = the input holds two files, split
 *            at the first byte 0x00 (the first is the administrator's, the
 *            second the user's, as /etc then ~/.config); bits 2-3 pick the
 *            physical memory that "%" sizes refer to
 *   rest     the file text(s); a file ends at a NUL (the string API reads
 *            C strings, as the file loader does after rejecting NULs)
 *
 * Checked:
 *   - every failure returns a negative errno and one error line, shorter
 *     than POLICY_ERR_MAX, that starts with the name of the file it is
 *     about ("a.ini:LINE: ...", "u.ini: ...") or, from policy_finish(), a
 *     place or the word of the key;
 *   - success leaves no error text;
 *   - a policy that loads and finishes prints as INI that loads back (as an
 *     administrator's file, for [limits]) and finishes without error, and
 *     prints again to the same values: check-policy's output is itself a
 *     valid policy file (policy.h).  Comments ("  ; from ...") differ and
 *     are cut before comparing.  Not checked when a printed line is longer
 *     than the reader takes (199 characters before a comment): a value
 *     within a few characters of that limit may print a little longer than
 *     it was written ("command=x" prints as "command = x"), which policy.h
 *     documents. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-input.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint64_t mem_totals[] = {
    UINT64_C(16) << 30, /* an ordinary machine */
    UINT64_C(1) << 20,  /* tiny: every % rounds to a few bytes */
    UINT64_C(3) << 40,  /* large */
    UINT64_C(123456789),
};

/* The error line must be a line, bounded, and name where it is about. */
static void check_error(int r, const char *err, const char *file)
{
        FZ_CHECK(r < 0, "r = %d", r);
        size_t len = strnlen(err, POLICY_ERR_MAX);
        FZ_CHECK(len > 0 && len < POLICY_ERR_MAX, "error text of length %zu", len);
        FZ_CHECK(!strchr(err, '\n'), "error with a newline: %s", err);
        FZ_CHECK(strncmp(err, file, strlen(file)) == 0 || strncmp(err, "out of memory", 13) == 0,
                 "error that does not start with %s: %s", file, err);
}

/* Whether every line, up to its comment, fits the policy reader. */
static bool lines_fit(const char *text)
{
        for (const char *s = text; *s;) {
                const char *e = strchrnul(s, '\n');
                const char *c = strstr(s, "  ; ");
                const char *stop = c && c < e ? c : e;
                if (stop - s > 199)
                        return false;
                s = *e ? e + 1 : e;
        }
        return true;
}

/* policy_print() into a malloc'd string. */
static char *print(const struct policy *p)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        FZ_CHECK(f != NULL, "open_memstream");
        FZ_CHECK(policy_print(p, f) == 0, "policy_print failed");
        fclose(f);
        return text;
}

/* Each line up to its "  ; " comment. */
static char *strip_comments(const char *text)
{
        char *out = malloc(strlen(text) + 1), *o = out;
        FZ_CHECK(out != NULL, "malloc");
        for (const char *s = text; *s;) {
                const char *e = strchrnul(s, '\n');
                const char *c = strstr(s, "  ; ");
                const char *stop = c && c < e ? c : e;
                memcpy(o, s, (size_t)(stop - s));
                o += stop - s;
                *o++ = '\n';
                s = *e ? e + 1 : e;
        }
        *o = '\0';
        return out;
}

static int load_one(struct policy *p, const char *name, const char *text, bool admin)
{
        char err[POLICY_ERR_MAX];
        memset(err, 'x', sizeof err); /* unterminated unless the code writes it */
        int r = policy_load_string(p, name, text, admin, err);
        if (r < 0)
                check_error(r, err, name);
        else
                FZ_CHECK(r == 0 && err[0] == '\0', "r = %d, error text \"%.*s\"", r,
                         (int)strnlen(err, POLICY_ERR_MAX), err);
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct fz in = {data, size};
        uint8_t flags = fz_u8(&in);
        const uint8_t *rest;
        size_t n = fz_take(&in, SIZE_MAX, &rest);
        char *text = malloc(n + 2);
        if (!text)
                return 0;
        memcpy(text, rest, n);
        text[n] = '\0';
        text[n + 1] = '\0';
        const char *first = text, *second = NULL;
        if (flags & 2)
                second = text + strlen(text) + 1; /* "" when there is no NUL */

        struct policy p;
        char err[POLICY_ERR_MAX];
        FZ_CHECK(policy_init(&p) == 0, "policy_init");
        p.mem_total = mem_totals[(flags >> 2) & 3];
        p.root_only = false;

        int r = load_one(&p, "a.ini", first, second || (flags & 1));
        if (r == 0 && second)
                r = load_one(&p, "u.ini", second, false);
        if (r == 0) {
                memset(err, 'x', sizeof err);
                r = policy_finish(&p, err);
                if (r < 0) {
                        size_t len = strnlen(err, POLICY_ERR_MAX);
                        FZ_CHECK(len > 0 && len < POLICY_ERR_MAX && !strchr(err, '\n'),
                                 "policy_finish error text of length %zu", len);
                } else {
                        FZ_CHECK(r == 0 && err[0] == '\0', "policy_finish: r = %d", r);
                }
        }
        char *once = r == 0 ? print(&p) : NULL;
        if (once && !lines_fit(once)) {
                free(once);
                once = NULL;
        }
        if (once) {
                struct policy q;
                FZ_CHECK(policy_init(&q) == 0, "policy_init");
                q.mem_total = p.mem_total;
                q.root_only = false;
                r = policy_load_string(&q, "printed", once, true, err);
                FZ_CHECK(r == 0,
                         "the printed policy does not load back: %s\n--- input\n%s\n"
                         "--- printed\n%s",
                         err, text, once);
                r = policy_finish(&q, err);
                FZ_CHECK(r == 0, "the printed policy does not finish: %s\n--- printed\n%s", err,
                         once);
                char *twice = print(&q);
                char *a = strip_comments(once), *b = strip_comments(twice);
                FZ_CHECK(strcmp(a, b) == 0, "printing is not stable\n--- first\n%s--- second\n%s",
                         a, b);
                free(a);
                free(b);
                free(once);
                free(twice);
                policy_done(&q);
        }
        policy_done(&p);
        free(text);
        return 0;
}

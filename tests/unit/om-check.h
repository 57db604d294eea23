/* om-check.h — an OpenMetrics text checker for the tests (the rules of
 * the OpenMetrics 1.0 text format that `status --openmetrics` can break),
 * shared by test-openmetrics and the om-check helper that integration
 * tests pipe the real output through:
 *
 *   - every line ends in '\n', none is empty, the last is "# EOF";
 *   - "# TYPE NAME TYPE", "# HELP NAME TEXT", "# UNIT NAME UNIT" only,
 *     each at most once per family, before the family's samples; a
 *     family's metadata and samples are contiguous (never interleaved);
 *   - names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
 *     [a-zA-Z_][a-zA-Z0-9_]*, no label twice in a sample;
 *   - a UNIT is the family name's suffix (_UNIT);
 *   - a gauge's samples carry the family name, a counter's NAME_total (a
 *     counter family's name itself must not end in _total), its value
 *     not negative and not NaN;
 *   - label values escape only \\, \" and \n; values are numbers, +Inf,
 *     -Inf or NaN;
 *   - no two samples of a family with the same label set.
 *
 * om_check() returns 0, or -1 with `err` saying "line N: what". */
#pragma once

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OM_MAX_FAMILIES 64
#define OM_MAX_SAMPLES 4096

struct om_family {
        char name[128];
        char type[16];
        bool help, unit, has_samples, closed;
        char *labelsets[OM_MAX_SAMPLES];
        size_t n;
};

static bool om_name_char(char c, bool first, bool colon)
{
        return isalpha((unsigned char)c) || c == '_' || (colon && c == ':') ||
               (!first && isdigit((unsigned char)c));
}

static size_t om_name_len(const char *s, bool colon)
{
        size_t n = 0;
        while (s[n] && om_name_char(s[n], n == 0, colon))
                n++;
        return n;
}

static bool om_value_ok(const char *v, bool counter)
{
        if (!strcmp(v, "+Inf") || !strcmp(v, "-Inf"))
                return !counter || v[0] == '+';
        if (!strcmp(v, "NaN"))
                return !counter;
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end)
                return false;
        /* strtod takes "inf", "nan", hex: OpenMetrics does not */
        for (const char *p = v; *p; p++)
                if (!strchr("0123456789.eE+-", *p))
                        return false;
        return !counter || d >= 0;
}

static int om_fail(char *err, size_t len, int line, const char *what, const char *text)
{
        snprintf(err, len, "line %d: %s: \"%.80s\"", line, what, text);
        return -1;
}

static void om_free(struct om_family *fams, size_t n)
{
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < fams[i].n; j++)
                        free(fams[i].labelsets[j]);
        free(fams);
}

static int om_check(const char *text, char *err, size_t errlen)
{
        struct om_family *fams = calloc(OM_MAX_FAMILIES, sizeof *fams);
        size_t nf = 0;
        struct om_family *cur = NULL;
        int line = 0, r = -1;
        bool eof = false;
        char buf[4096];

        if (!fams)
                return om_fail(err, errlen, 0, "out of memory", "");
        if (!*text || text[strlen(text) - 1] != '\n') {
                r = om_fail(err, errlen, 0, "the text does not end with a newline", "");
                goto out;
        }
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = (size_t)(nl - p);
                line++;
                if (len >= sizeof buf) {
                        r = om_fail(err, errlen, line, "line too long", p);
                        goto out;
                }
                memcpy(buf, p, len);
                buf[len] = '\0';
                p = nl + 1;
                if (eof) {
                        r = om_fail(err, errlen, line, "text after # EOF", buf);
                        goto out;
                }
                if (len == 0) {
                        r = om_fail(err, errlen, line, "empty line", buf);
                        goto out;
                }
                if (!strcmp(buf, "# EOF")) {
                        eof = true;
                        continue;
                }
                if (buf[0] == '#') {
                        char kw[8] = "", name[256] = "";
                        int off = 0;
                        if (sscanf(buf, "# %7s %255s %n", kw, name, &off) < 2 || buf[1] != ' ') {
                                r = om_fail(err, errlen, line, "not a metadata line", buf);
                                goto out;
                        }
                        const char *rest = off ? buf + off : "";
                        if (om_name_len(name, true) != strlen(name) || strlen(name) >= 128) {
                                r = om_fail(err, errlen, line, "bad family name", buf);
                                goto out;
                        }
                        if (!cur || strcmp(cur->name, name) != 0) {
                                for (size_t i = 0; i < nf; i++)
                                        if (!strcmp(fams[i].name, name)) {
                                                r = om_fail(err, errlen, line,
                                                            "family metadata again, after other "
                                                            "families",
                                                            buf);
                                                goto out;
                                        }
                                if (cur)
                                        cur->closed = true;
                                if (nf == OM_MAX_FAMILIES) {
                                        r = om_fail(err, errlen, line, "too many families", buf);
                                        goto out;
                                }
                                cur = &fams[nf++];
                                snprintf(cur->name, sizeof cur->name, "%s", name);
                        }
                        if (cur->has_samples) {
                                r = om_fail(err, errlen, line,
                                            "metadata after the family's samples", buf);
                                goto out;
                        }
                        if (!strcmp(kw, "TYPE")) {
                                static const char *const types[] = {
                                    "counter",  "gauge", "histogram", "gaugehistogram",
                                    "stateset", "info",  "summary",   "unknown"};
                                bool known = false;
                                for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
                                        known |= !strcmp(rest, types[i]);
                                if (!known || cur->type[0]) {
                                        r = om_fail(err, errlen, line,
                                                    cur->type[0] ? "a second TYPE" : "unknown TYPE",
                                                    buf);
                                        goto out;
                                }
                                snprintf(cur->type, sizeof cur->type, "%s", rest);
                                size_t nl2 = strlen(name);
                                if (!strcmp(rest, "counter") && nl2 > 6 &&
                                    !strcmp(name + nl2 - 6, "_total")) {
                                        r = om_fail(err, errlen, line,
                                                    "a counter family named *_total (its samples "
                                                    "add _total)",
                                                    buf);
                                        goto out;
                                }
                        } else if (!strcmp(kw, "HELP")) {
                                if (cur->help) {
                                        r = om_fail(err, errlen, line, "a second HELP", buf);
                                        goto out;
                                }
                                cur->help = true;
                        } else if (!strcmp(kw, "UNIT")) {
                                size_t nn = strlen(name), un = strlen(rest);
                                if (cur->unit || un == 0 || nn <= un + 1 ||
                                    strcmp(name + nn - un, rest) != 0 || name[nn - un - 1] != '_') {
                                        r = om_fail(err, errlen, line,
                                                    "UNIT twice or not the name's suffix", buf);
                                        goto out;
                                }
                                cur->unit = true;
                        } else {
                                r = om_fail(err, errlen, line,
                                            "unknown metadata (TYPE, HELP, UNIT)", buf);
                                goto out;
                        }
                        continue;
                }
                /* A sample: NAME{LABELS} VALUE */
                size_t n = om_name_len(buf, true);
                if (n == 0) {
                        r = om_fail(err, errlen, line, "not a sample", buf);
                        goto out;
                }
                char sname[256];
                snprintf(sname, sizeof sname, "%.*s", (int)n, buf);
                if (!cur || !cur->type[0]) {
                        r = om_fail(err, errlen, line, "a sample before its family's TYPE", buf);
                        goto out;
                }
                bool counter = !strcmp(cur->type, "counter");
                char want[160];
                snprintf(want, sizeof want, "%s%s", cur->name, counter ? "_total" : "");
                if (strcmp(sname, want) != 0) {
                        r = om_fail(err, errlen, line,
                                    counter ? "a counter's sample must be FAMILY_total"
                                            : "a sample of another family",
                                    buf);
                        goto out;
                }
                cur->has_samples = true;
                const char *q = buf + n;
                char labels[4096] = "";
                if (*q == '{') {
                        const char *start = ++q;
                        char seen[16][64];
                        int nseen = 0;
                        while (*q != '}') {
                                size_t ln = om_name_len(q, false);
                                if (ln == 0 || ln >= 64 || q[ln] != '=' || q[ln + 1] != '"') {
                                        r = om_fail(err, errlen, line, "bad label", buf);
                                        goto out;
                                }
                                for (int i = 0; i < nseen; i++)
                                        if (strlen(seen[i]) == ln && !strncmp(seen[i], q, ln)) {
                                                r = om_fail(err, errlen, line, "a label twice",
                                                            buf);
                                                goto out;
                                        }
                                if (nseen < 16)
                                        snprintf(seen[nseen++], 64, "%.*s", (int)ln, q);
                                q += ln + 2;
                                while (*q && *q != '"') {
                                        if (*q == '\\') {
                                                if (q[1] != '\\' && q[1] != '"' && q[1] != 'n') {
                                                        r = om_fail(err, errlen, line,
                                                                    "bad escape in a label value",
                                                                    buf);
                                                        goto out;
                                                }
                                                q++;
                                        }
                                        q++;
                                }
                                if (*q != '"') {
                                        r = om_fail(err, errlen, line, "unterminated label value",
                                                    buf);
                                        goto out;
                                }
                                q++;
                                if (*q == ',')
                                        q++;
                                else if (*q != '}') {
                                        r = om_fail(err, errlen, line, "bad label list", buf);
                                        goto out;
                                }
                        }
                        snprintf(labels, sizeof labels, "%.*s", (int)(q - start), start);
                        q++;
                }
                if (*q != ' ') {
                        r = om_fail(err, errlen, line, "no single space before the value", buf);
                        goto out;
                }
                q++;
                if (!om_value_ok(q, counter)) {
                        r = om_fail(err, errlen, line,
                                    counter ? "not a counter value (a number >= 0)" : "not a value",
                                    buf);
                        goto out;
                }
                for (size_t i = 0; i < cur->n; i++)
                        if (!strcmp(cur->labelsets[i], labels)) {
                                r = om_fail(err, errlen, line, "the same label set twice", buf);
                                goto out;
                        }
                if (cur->n < OM_MAX_SAMPLES)
                        cur->labelsets[cur->n++] = strdup(labels);
        }
        if (!eof) {
                r = om_fail(err, errlen, line, "no # EOF at the end", "");
                goto out;
        }
        r = 0;
out:
        om_free(fams, nf);
        return r;
}

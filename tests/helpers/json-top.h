/* json-top.h — the top-level keys of one JSON-RPC message, for the
 * benchmark's own programs (lsp-echo, bench-proxy).
 *
 * Deliberately separate from the guard's lsp_peek(): the programs that
 * measure and check the guard do not lean on the code under test.  Finds
 * the raw text of "id", "method", "params", "result" and "error" at the top
 * level; nested values are skipped by bracket depth and strings by their
 * escapes.  Enough for the messages these programs exchange. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct span {
        const char *p; /* NULL: absent */
        size_t len;
};

struct message {
        struct span id, method, params, result, error;
};

static const char *skip_ws(const char *p, const char *end)
{
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
                p++;
        return p;
}

static const char *skip_string(const char *p, const char *end)
{
        for (p++; p < end;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                size_t bs = 0;

                if (!q)
                        return NULL;
                while (q - bs > p && *(q - bs - 1) == '\\')
                        bs++;
                if (bs % 2 == 0)
                        return q + 1;
                p = q + 1;
        }
        return NULL;
}

static const char *skip_value(const char *p, const char *end)
{
        int depth = 0;

        while (p < end) {
                char c = *p;

                if (c == '"') {
                        if (!(p = skip_string(p, end)))
                                return NULL;
                } else if (c == '{' || c == '[') {
                        depth++;
                        p++;
                } else if (c == '}' || c == ']') {
                        if (depth == 0)
                                return p;
                        depth--;
                        p++;
                } else if (c == ',' && depth == 0) {
                        return p;
                } else {
                        p++;
                }
                if (depth == 0 && (c == '"' || c == '}' || c == ']'))
                        return p;
        }
        return depth == 0 ? p : NULL;
}

static bool key_is(const char *k, size_t len, const char *want)
{
        return strlen(want) == len && memcmp(k, want, len) == 0;
}

static bool parse_top(const char *body, size_t len, struct message *m)
{
        const char *end = body + len;
        const char *p = skip_ws(body, end);

        memset(m, 0, sizeof(*m));
        if (p == end || *p != '{')
                return false;
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}')
                return true;
        while (p < end && *p == '"') {
                const char *k = p + 1, *ke = skip_string(p, end);
                if (!ke)
                        return false;
                size_t klen = (size_t)(ke - 1 - k);
                p = skip_ws(ke, end);
                if (p == end || *p != ':')
                        return false;
                const char *v = skip_ws(p + 1, end), *ve = skip_value(v, end);
                if (!ve || ve == v)
                        return false;
                struct span s = {v, (size_t)(ve - v)};
                while (s.len > 0 && (s.p[s.len - 1] == ' ' || s.p[s.len - 1] == '\t' ||
                                     s.p[s.len - 1] == '\n' || s.p[s.len - 1] == '\r'))
                        s.len--;
                if (key_is(k, klen, "id"))
                        m->id = s;
                else if (key_is(k, klen, "method"))
                        m->method = s;
                else if (key_is(k, klen, "params"))
                        m->params = s;
                else if (key_is(k, klen, "result"))
                        m->result = s;
                else if (key_is(k, klen, "error"))
                        m->error = s;
                p = skip_ws(ve, end);
                if (p < end && *p == '}')
                        return true;
                if (p == end || *p != ',')
                        return false;
                p = skip_ws(p + 1, end);
        }
        return false;
}


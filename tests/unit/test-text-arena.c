/* test-text-arena.c — chunks are reused, unmapped and marked sparse as
 * text-arena.h says, and documents in a sparse chunk move out intact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lsp-docsync.h"
#include "text-arena.h"

static void test_reuse_and_limits(void)
{
        struct text_arena a = {0};
        struct text_chunk *c1, *c2;
        char *p, *q;

        CHECK(!text_arena_get(&a, 0, &c1));
        CHECK(!text_arena_get(&a, TEXT_ARENA_MAX_TEXT + 1, &c1));
        CHECK_INT(a.chunks, 0); /* nothing mapped for a refusal */

        p = text_arena_get(&a, 100, &c1);
        CHECK(p != NULL);
        CHECK_INT(a.chunks, 1);
        memset(p, 'x', 100); /* writable */
        q = text_arena_get(&a, TEXT_ARENA_MAX_TEXT, &c2);
        CHECK(q != NULL && c2 == c1 && q >= p + 100);
        text_arena_put(&a, c1, 100);
        text_arena_put(&a, c2, TEXT_ARENA_MAX_TEXT);
        /* The current chunk, once empty, is reused from its start. */
        CHECK(text_arena_get(&a, 100, &c2) == p && c2 == c1);
        text_arena_put(&a, c2, 100);
        CHECK_INT(a.chunks, 1);
        text_arena_done(&a);
        CHECK_INT(a.chunks, 0);
}

static void test_rollover_unmap_and_sparse(void)
{
        enum { N = TEXT_ARENA_MAX_TEXT };
        struct text_arena a = {0};
        struct text_chunk *cs[64], *first = NULL;
        unsigned in_first = 0, k = 0;

        /* Fill the first chunk and start a second one. */
        while (a.chunks < 2 && k < 64) {
                CHECK(text_arena_get(&a, N, &cs[k]) != NULL);
                if (!first)
                        first = cs[k];
                in_first += cs[k] == first;
                k++;
        }
        CHECK_INT(a.chunks, 2);
        CHECK(in_first >= 14); /* 4 MiB less the header, in 256 KiB texts */
        /* Put back all but one of the first chunk's texts: under a quarter
         * is live, so it is sparse. */
        for (unsigned i = 0; i + 1 < in_first; i++)
                text_arena_put(&a, cs[i], N);
        CHECK(text_arena_sparse(first));
        CHECK_INT(a.nsparse, 1);
        /* Its last text back: unmapped, and no longer counted sparse. */
        text_arena_put(&a, cs[in_first - 1], N);
        CHECK_INT(a.chunks, 1);
        CHECK_INT(a.nsparse, 0);
        for (unsigned i = in_first; i < k; i++)
                text_arena_put(&a, cs[i], N);
        text_arena_done(&a);
}

/* JSON string contents of about n bytes, different per seed. */
static char *text_of(size_t n, unsigned seed)
{
        char *t = malloc(n + 1);

        for (size_t i = 0; i < n; i++)
                t[i] = (i % 40 == 39) ? ' ' : (char)('a' + (i * 7 + seed) % 26);
        t[n] = '\0';
        return t;
}

static void test_documents_leave_sparse_chunks(void)
{
        enum { DOCS = 200, SIZE = 100000 };
        struct lsp_docs s;
        char uri[64];
        char *keep = text_of(SIZE, 3);

        lsp_docs_init(&s, 0);
        for (unsigned i = 0; i < DOCS; i++) {
                char *t = text_of(SIZE, i);
                snprintf(uri, sizeof uri, "file:///d%u.go", i);
                CHECK_INT(lsp_docs_open_escaped(&s, uri, "go", 1, t, SIZE), 0);
                free(t);
        }
        CHECK(s.arena.chunks >= 4);
        size_t before = s.arena.chunks;
        /* Close every document but the fourth: the chunks behind it become
         * sparse, and the one left moves out of its chunk, intact. */
        for (unsigned i = 0; i < DOCS; i++) {
                if (i == 3)
                        continue;
                snprintf(uri, sizeof uri, "file:///d%u.go", i);
                CHECK_INT(lsp_docs_close(&s, uri), 0);
        }
        CHECK_INT(s.arena.nsparse, 0);
        CHECK(s.arena.chunks < before);
        CHECK(s.arena.chunks <= 1); /* at most the current one */
        const struct lsp_doc *d = lsp_docs_find(&s, "file:///d3.go");
        CHECK(d && d->len == SIZE && memcmp(d->text, keep, SIZE) == 0);
        lsp_docs_done(&s);
        free(keep);
}

static void test_growing_edit_leaves_the_arena(void)
{
        struct lsp_docs s;
        struct lsp_change ch = {.range = {{0, 2}, {0, 2}}};
        char big[5000];

        memset(big, 'z', sizeof big);
        lsp_docs_init(&s, 0);
        CHECK_INT(lsp_docs_open_escaped(&s, "file:///a.go", "go", 1, "ab\\tcd", 6), 0);
        ch.text = big;
        ch.len = sizeof big;
        CHECK_INT(lsp_docs_change(&s, "file:///a.go", 2, &ch, 1), 0);
        const struct lsp_doc *d = lsp_docs_find(&s, "file:///a.go");
        CHECK(d && d->len == 5 + sizeof big);
        CHECK(d && memcmp(d->text, "ab", 2) == 0 && d->text[2] == 'z' &&
              memcmp(d->text + 2 + sizeof big, "\tcd", 4) == 0);
        lsp_docs_done(&s);
}

int main(void)
{
        RUN(test_reuse_and_limits);
        RUN(test_rollover_unmap_and_sparse);
        RUN(test_documents_leave_sparse_chunks);
        RUN(test_growing_edit_leaves_the_arena);
        return check_summary();
}

/* text-arena.c — document texts in huge-page chunks; see text-arena.h. */
#include <stdint.h>
#include <sys/mman.h>

#include "text-arena.h"

#define HUGE_PAGE ((size_t)2 << 20)
#define ALIGN 16

/* At the start of its own mapping. */
struct text_chunk {
        size_t used;   /* bytes from the chunk's start, this header included */
        size_t handed; /* bytes handed out since the chunk was last empty */
        size_t live;   /* of those, not yet put back */
        bool sparse;
};

#define HEADER ((sizeof(struct text_chunk) + ALIGN - 1) & ~(size_t)(ALIGN - 1))

static size_t rounded(size_t n)
{
        return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* A chunk on a huge-page boundary: map one huge page more than needed and
 * give back the ends. */
static struct text_chunk *chunk_map(bool huge)
{
        size_t len = TEXT_ARENA_CHUNK + HUGE_PAGE;
        char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *base;
        size_t head;

        if (p == MAP_FAILED)
                return NULL;
        base = (char *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
        head = (size_t)(base - p);
        if (head)
                (void)munmap(p, head);
        if (len - head > TEXT_ARENA_CHUNK)
                (void)munmap(base + TEXT_ARENA_CHUNK, len - head - TEXT_ARENA_CHUNK);
        /* Advice only: without THP the chunk is ordinary memory. */
        if (huge)
                (void)madvise(base, TEXT_ARENA_CHUNK, MADV_HUGEPAGE);
        struct text_chunk *c = (struct text_chunk *)(void *)base;
        *c = (struct text_chunk){.used = HEADER};
        return c;
}

static void chunk_unmap(struct text_arena *a, struct text_chunk *c)
{
        if (c->sparse)
                a->nsparse--;
        a->chunks--;
        (void)munmap(c, TEXT_ARENA_CHUNK);
}

/* A chunk that is not current: gone when empty, else maybe sparse. */
static void settle(struct text_arena *a, struct text_chunk *c)
{
        if (c->live == 0)
                chunk_unmap(a, c);
        else if (!c->sparse && c->live < c->handed / 4) {
                c->sparse = true;
                a->nsparse++;
        }
}

char *text_arena_get(struct text_arena *a, size_t n, struct text_chunk **ret_chunk)
{
        struct text_chunk *c = a->cur;
        char *p;

        if (n == 0 || n > TEXT_ARENA_MAX_TEXT)
                return NULL;
        n = rounded(n);
        if (!c || TEXT_ARENA_CHUNK - c->used < n) {
                struct text_chunk *fresh = chunk_map(a->chunks > 0);

                if (!fresh)
                        return NULL;
                a->chunks++;
                a->cur = fresh;
                if (c)
                        settle(a, c);
                c = fresh;
        }
        p = (char *)c + c->used;
        c->used += n;
        c->handed += n;
        c->live += n;
        *ret_chunk = c;
        return p;
}

void text_arena_put(struct text_arena *a, struct text_chunk *c, size_t n)
{
        n = rounded(n);
        c->live -= n;
        if (c != a->cur) {
                settle(a, c);
                return;
        }
        if (c->live == 0) {
                /* The bytes stay mapped (and faulted in): the next texts
                 * reuse them. */
                c->used = HEADER;
                c->handed = 0;
        }
}

bool text_arena_sparse(const struct text_chunk *c)
{
        return c->sparse;
}

void text_arena_done(struct text_arena *a)
{
        if (a->cur)
                chunk_unmap(a, a->cur);
        *a = (struct text_arena){0};
}

/* text-arena.h — where the texts of opened documents live.
 *
 * An editor opening a workspace sends hundreds of didOpen notifications
 * of tens of kilobytes each, and the guard keeps every text for the
 * replay.  Taken from malloc(), that is tens of megabytes of fresh 4 KiB
 * pages, each faulted in on its first write: on a virtual machine the
 * faults cost more than everything else the guard does with the text
 * (bench/bench-replay).  The arena hands out texts from 4 MiB chunks
 * placed on 2 MiB boundaries and, from the second chunk on, marked for
 * transparent huge pages: two faults per chunk instead of a thousand.  A
 * session with less than one chunk of text never asks for huge pages, so
 * a small guard stays small.
 *
 * Allocation is a bump of the current chunk; a chunk is unmapped when its
 * last text is put back.  One long-lived text must not pin a chunk of
 * closed ones: a chunk that is no longer current and whose live bytes
 * fall under a quarter of what it handed out is marked sparse, and its
 * owner (lsp-docsync) moves the texts still in it elsewhere
 * (text_arena_sparse()).  Texts larger than TEXT_ARENA_MAX_TEXT go to
 * malloc(): they would waste up to their own size at the end of a chunk.
 *
 * No I/O but mmap/munmap/madvise, no logging: a failed mmap is a NULL
 * that the caller answers with malloc(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define TEXT_ARENA_CHUNK ((size_t)4 << 20)
#define TEXT_ARENA_MAX_TEXT (TEXT_ARENA_CHUNK / 16)

struct text_chunk;

struct text_arena {
        struct text_chunk *cur; /* where the next text goes; NULL before the first */
        size_t chunks;          /* mapped, the current one included */
        size_t nsparse;         /* mapped chunks marked sparse */
};

/* A zeroed struct is an empty arena. */

/* n bytes (n > 0) from the current chunk (a new one when it is full), and
 * the chunk they came from in *ret_chunk.  NULL when n is larger than
 * TEXT_ARENA_MAX_TEXT or a chunk cannot be mapped: use malloc(). */
char *text_arena_get(struct text_arena *a, size_t n, struct text_chunk **ret_chunk);

/* Gives back the n bytes taken from chunk c (the same n as text_arena_get).
 * The chunk is unmapped once nothing in it is live, unless it is the
 * current one (which is then reused from its start). */
void text_arena_put(struct text_arena *a, struct text_chunk *c, size_t n);

/* Whether c is marked sparse: its texts should move out (then it goes). */
bool text_arena_sparse(const struct text_chunk *c);

/* Unmaps the current chunk; every text must have been put back. */
void text_arena_done(struct text_arena *a);

/* fuzz-input.h — reading a fuzzer's input as a stream of decisions.
 *
 * Every target decodes its input with these helpers: they never fail and
 * read zeros once the input is exhausted, so any byte string is a valid
 * script and libFuzzer's mutations always reach the code under test. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

struct fz {
        const uint8_t *p;
        size_t n;
};

static inline bool fz_empty(const struct fz *f)
{
        return f->n == 0;
}

static inline uint8_t fz_u8(struct fz *f)
{
        if (!f->n)
                return 0;
        f->n--;
        return *f->p++;
}

static inline uint32_t fz_u32(struct fz *f)
{
        uint32_t v = 0;

        for (int i = 0; i < 4; i++)
                v = v << 8 | fz_u8(f);
        return v;
}

/* Up to `want` bytes of the input, in place; returns how many there are. */
static inline size_t fz_take(struct fz *f, size_t want, const uint8_t **ret)
{
        size_t n = want < f->n ? want : f->n;

        *ret = f->p;
        f->p += n;
        f->n -= n;
        return n;
}

/* A broken invariant: say which, then abort so that libFuzzer saves the
 * input as a crash (ASan prints the stack). */
#define FZ_CHECK(cond, ...)                                                                       \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__,       \
                                #cond);                                                            \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

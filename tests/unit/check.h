/* check.h — the unit tests' assertion helpers.
 *
 * Each test-*.c is one executable: it calls its test functions from main()
 * through RUN(), and ends with `return check_summary();`, which prints
 * "N passed, N failed" and returns 0 only if nothing failed.  A failed CHECK
 * prints file:line and the expression (and the values, for the typed
 * variants) and lets the test function go on, so one run shows every
 * failure. */
#pragma once
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned check_failed_, check_passed_, check_test_failed_;

#define CHECK(expr)                                                                                \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #expr);   \
                        check_test_failed_++;                                                      \
                }                                                                                  \
        } while (0)

#define CHECK_INT(a, b)                                                                            \
        do {                                                                                       \
                long long va_ = (long long)(a), vb_ = (long long)(b);                              \
                if (va_ != vb_) {                                                                  \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,        \
                                __LINE__, #a, #b, va_, vb_);                                       \
                        check_test_failed_++;                                                      \
                }                                                                                  \
        } while (0)

#define CHECK_U64(a, b)                                                                            \
        do {                                                                                       \
                uint64_t va_ = (uint64_t)(a), vb_ = (uint64_t)(b);                                 \
                if (va_ != vb_) {                                                                  \
                        fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",    \
                                __FILE__, __LINE__, #a, #b, va_, vb_);                             \
                        check_test_failed_++;                                                      \
                }                                                                                  \
        } while (0)

#define CHECK_STR(a, b)                                                                            \
        do {                                                                                       \
                const char *va_ = (a), *vb_ = (b);                                                 \
                if (!va_ || !vb_ || strcmp(va_, vb_) != 0) {                                       \
                        fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,    \
                                __LINE__, #a, #b, va_ ? va_ : "(null)", vb_ ? vb_ : "(null)");     \
                        check_test_failed_++;                                                      \
                }                                                                                  \
        } while (0)

/* Substring match: error messages are checked for what they name, not
 * for every word. */
#define CHECK_CONTAINS(haystack, needle)                                                           \
        do {                                                                                       \
                const char *vh_ = (haystack), *vn_ = (needle);                                     \
                if (!vh_ || !strstr(vh_, vn_)) {                                                   \
                        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
                                __LINE__, vh_ ? vh_ : "(null)", vn_);                              \
                        check_test_failed_++;                                                      \
                }                                                                                  \
        } while (0)

#define RUN(fn)                                                                                    \
        do {                                                                                       \
                check_test_failed_ = 0;                                                            \
                fn();                                                                              \
                if (check_test_failed_) {                                                          \
                        fprintf(stderr, "FAIL %s\n", #fn);                                         \
                        check_failed_++;                                                           \
                } else {                                                                           \
                        check_passed_++;                                                           \
                }                                                                                  \
        } while (0)

static inline int check_summary(void)
{
        printf("%u passed, %u failed\n", check_passed_, check_failed_);
        return check_failed_ ? 1 : 0;
}

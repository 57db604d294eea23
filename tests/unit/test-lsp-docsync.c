/* test-lsp-docsync.c — open documents and LSP text edits (UTF-16 positions,
 * all three line breaks, clamping), against literal expectations and
 * against a deliberately naive model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lsp-docsync.h"
#include "lsp-framing.h"

#define URI "file:///w/main.go"
#define EMOJI "\xf0\x9f\x98\x80"                     /* U+1F600: 4 bytes, 2 UTF-16 units */
#define NIHON "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" /* 日本語: 3 x (3 bytes, 1 unit) */
#define E_ACUTE "\xc3\xa9"                           /* é: 2 bytes, 1 unit */

/* ---- naive model: rescans everything from the start, every time ---- */

static size_t naive_lines(const char *t, size_t len, size_t *starts)
{
        size_t n = 0;

        starts[n++] = 0;
        for (size_t i = 0; i < len; i++) {
                if (t[i] == '\r' && i + 1 < len && t[i + 1] == '\n')
                        i++;
                if (t[i] == '\n' || t[i] == '\r')
                        starts[n++] = i + 1;
        }
        return n;
}

static size_t naive_offset(const char *t, size_t len, uint32_t line, uint32_t ch)
{
        size_t *starts = malloc((len + 1) * sizeof(*starts));
        size_t n = naive_lines(t, len, starts), p, units = 0;

        if (line >= n) {
                free(starts);
                return len;
        }
        p = starts[line];
        free(starts);
        while (p < len && t[p] != '\n' && t[p] != '\r') {
                unsigned char c = (unsigned char)t[p];
                size_t b = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
                size_t u = b == 4 ? 2 : 1;
                if (units + u > ch)
                        break;
                units += u;
                p += b;
        }
        return p;
}

/* The document's line index agrees with a fresh scan of its text: every
 * line's start, and its end (before the break) for a huge character. */
static void check_index(const struct lsp_doc *d)
{
        size_t *starts = malloc((d->len + 1) * sizeof(*starts));
        size_t n = naive_lines(d->text, d->len, starts);

        CHECK_INT(lsp_doc_line_count(d), n);
        CHECK_INT(strlen(d->text), d->len); /* NUL-terminated (no NULs in these texts) */
        for (size_t i = 0; i < n + 2; i++) {
                size_t end = i < n ? starts[i] : d->len;
                while (end < d->len && d->text[end] != '\n' && d->text[end] != '\r')
                        end++;
                CHECK_INT(lsp_doc_offset(d, (struct lsp_position){(uint32_t)i, 0}),
                          i < n ? starts[i] : d->len);
                CHECK_INT(lsp_doc_offset(d, (struct lsp_position){(uint32_t)i, UINT32_MAX}), end);
        }
        free(starts);
}

/* ---- table of single edits ---- */

struct edit_case {
        const char *name;
        const char *before;
        uint32_t l1, c1, l2, c2;
        const char *text;
        const char *after;
};

static const struct edit_case edit_cases[] = {
    /* ASCII */
    {"replace word", "hello world", 0, 6, 0, 11, "there", "hello there"},
    {"insert at start", "hello", 0, 0, 0, 0, ">", ">hello"},
    {"insert in middle", "hello", 0, 2, 0, 2, "--", "he--llo"},
    {"delete", "hello world", 0, 0, 0, 6, "", "world"},
    {"delete all", "hello", 0, 0, 0, 5, "", ""},
    {"append", "hello", 0, 5, 0, 5, "!", "hello!"},
    {"no-op", "hello", 0, 3, 0, 3, "", "hello"},
    {"reversed range is swapped", "hello world", 0, 11, 0, 6, "there", "hello there"},
    /* multi-line */
    {"join lines", "a\nb\nc", 0, 1, 2, 0, "-", "a-c"},
    {"insert lines", "a\nb\nc", 1, 0, 1, 0, "x\ny\n", "a\nx\ny\nb\nc"},
    {"replace across lines", "func f() {\n\treturn 1\n}\n", 0, 9, 2, 1, "{}", "func f() {}\n"},
    {"delete a line", "one\ntwo\nthree\n", 1, 0, 2, 0, "", "one\nthree\n"},
    {"reversed multi-line", "a\nb\nc", 2, 0, 0, 1, "-", "a-c"},
    /* clamping */
    {"character past line end", "ab\ncd", 0, 100, 0, 100, "X", "abX\ncd"},
    {"range end past line end", "ab\ncd", 0, 1, 0, 100, "", "a\ncd"},
    {"line past the end", "ab\ncd", 5, 0, 5, 0, "Z", "ab\ncdZ"},
    {"range to far past the end", "abc\ndef\n", 0, 1, 99, 99, "", "a"},
    {"whole document by (0,0)-(max,max)", "x\ny\n", 0, 0, UINT32_MAX, UINT32_MAX, "new", "new"},
    /* end of file */
    {"newline at end", "abc", 0, 3, 0, 3, "\n", "abc\n"},
    {"type on the empty last line", "abc\n", 1, 0, 1, 0, "d", "abc\nd"},
    {"delete the final newline", "abc\n", 0, 3, 1, 0, "", "abc"},
    /* empty document */
    {"empty: insert", "", 0, 0, 0, 0, "hi", "hi"},
    {"empty: clamped range", "", 3, 4, 5, 6, "x", "x"},
    {"empty: delete nothing", "", 0, 0, 0, 9, "", ""},
    /* emoji: a surrogate pair */
    {"after emoji", "a" EMOJI "b", 0, 3, 0, 3, "X", "a" EMOJI "Xb"},
    {"delete emoji", "a" EMOJI "b", 0, 1, 0, 3, "", "ab"},
    {"replace emoji", EMOJI EMOJI, 0, 2, 0, 4, "!", EMOJI "!"},
    {"inside a pair rounds down", "a" EMOJI "b", 0, 2, 0, 2, "X", "aX" EMOJI "b"},
    {"range from inside a pair", "a" EMOJI "b", 0, 2, 0, 3, "", "ab"},
    {"range ending inside a pair", "a" EMOJI "b", 0, 0, 0, 2, "", EMOJI "b"},
    {"emoji on second line", "x\n" EMOJI EMOJI "y", 1, 4, 1, 5, "Y", "x\n" EMOJI EMOJI "Y"},
    /* CJK and Latin-1: one unit, several bytes */
    {"CJK replace", NIHON, 0, 1, 0, 2, "X", "\xe6\x97\xa5X\xe8\xaa\x9e"},
    {"CJK past end", NIHON, 0, 9, 0, 9, "!", NIHON "!"},
    {"mixed units", E_ACUTE NIHON EMOJI "z", 0, 6, 0, 7, "", E_ACUTE NIHON EMOJI},
    /* CRLF */
    {"CRLF: edit second line", "a\r\nb\r\nc", 1, 0, 1, 1, "B", "a\r\nB\r\nc"},
    {"CRLF: past end stops before CR", "a\r\nb", 0, 5, 0, 5, "X", "aX\r\nb"},
    {"CRLF: delete the break", "a\r\nb\r\nc", 0, 1, 1, 0, "", "ab\r\nc"},
    {"CRLF: insert CRLF", "ab", 0, 1, 0, 1, "\r\n", "a\r\nb"},
    /* lone CR */
    {"CR: third line", "a\rb\rc", 2, 0, 2, 0, "X", "a\rb\rXc"},
    {"CR: past end", "a\rb", 0, 9, 0, 9, "X", "aX\rb"},
    {"CR: delete the break", "a\rb", 0, 1, 1, 0, "", "ab"},
    /* breaks that change kind at the edges of an edit */
    {"LF after a lone CR joins it", "a\rb", 1, 0, 1, 0, "\n", "a\r\nb"},
    {"CR before an LF joins it", "a\nb", 0, 1, 0, 1, "\r", "a\r\nb"},
    {"deleting between CR and LF joins them", "a\rX\nb", 1, 0, 1, 1, "", "a\r\nb"},
    {"splitting CR LF apart", "a\r\nb", 0, 1, 0, 1, "x", "ax\r\nb"},
    {"text between CR and LF", "a\rX\nb", 1, 0, 1, 1, "YZ", "a\rYZ\nb"},
    {"delete the last char after CR", "a\rb", 1, 0, 1, 1, "", "a\r"},
    {"mixed breaks", "1\n2\r\n3\r4", 1, 1, 3, 0, "|", "1\n2|4"},
};

static void test_edit_table(void)
{
        for (size_t i = 0; i < sizeof(edit_cases) / sizeof(edit_cases[0]); i++) {
                const struct edit_case *c = &edit_cases[i];
                struct lsp_docs s;
                struct lsp_doc *d;
                struct lsp_change ch = {
                    .range = {{c->l1, c->c1}, {c->l2, c->c2}},
                    .text = c->text,
                    .len = strlen(c->text),
                };
                unsigned before = check_test_failed_;

                lsp_docs_init(&s, 0);
                CHECK_INT(lsp_docs_open(&s, URI, "go", 1, c->before, strlen(c->before)), 0);
                CHECK_INT(lsp_docs_change(&s, URI, 2, &ch, 1), 0);
                d = lsp_docs_find(&s, URI);
                CHECK_STR(d->text, c->after);
                CHECK_INT(d->version, 2);
                check_index(d);
                if (check_test_failed_ != before)
                        fprintf(stderr, "  in case \"%s\"\n", c->name);
                lsp_docs_done(&s);
        }
}

static void test_line_model(void)
{
        static const struct {
                const char *text;
                size_t lines;
        } cases[] = {
            {"", 1},     {"a", 1},        {"a\n", 2},  {"a\r\n", 2},  {"a\r", 2},
            {"\n\n", 3}, {"\r\r\n\n", 4}, {"\n\r", 3}, {"a\r\nb", 2}, {"a\rb\nc\r\nd", 4},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct lsp_docs s;

                lsp_docs_init(&s, 0);
                lsp_docs_open(&s, URI, "go", 0, cases[i].text, strlen(cases[i].text));
                CHECK_INT(lsp_doc_line_count(lsp_docs_find(&s, URI)), cases[i].lines);
                check_index(lsp_docs_find(&s, URI));
                lsp_docs_done(&s);
        }
}

static void test_offsets(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        const char *t = "a" EMOJI NIHON "\r\n" E_ACUTE;

        lsp_docs_init(&s, 0);
        lsp_docs_open(&s, URI, "go", 0, t, strlen(t));
        d = lsp_docs_find(&s, URI);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 0}), 0);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 1}), 1);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 2}), 1); /* inside the pair */
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 3}), 5);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 4}), 8);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 6}), 14);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 7}), 14); /* before CR LF */
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){1, 0}), 16);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){1, 1}), 18);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){1, 2}), 18);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){2, 0}), 18);
        lsp_docs_done(&s);
}

static void test_invalid_utf8_counts_bytes(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        /* a lone continuation byte, a truncated 3-byte sequence, an overlong
           '/', a truncated surrogate form, then 'x' */
        const char *t = "\x80\xe6\x97"
                        "\xc0\xaf"
                        "\xed\xa0"
                        "x";

        lsp_docs_init(&s, 0);
        lsp_docs_open(&s, URI, "go", 0, t, strlen(t));
        d = lsp_docs_find(&s, URI);
        for (uint32_t i = 0; i <= 8; i++)
                CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, i}), i);
        lsp_docs_done(&s);
}

/* A lone surrogate ("\ud800" in the editor's JSON) is one UTF-16 unit to
 * the editor; it is kept as ED A0 80 and counted so, so that the edits
 * after it land where the editor meant them. */
static void test_lone_surrogate_one_unit(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        const char *t = "a\xed\xa0\x80" "b\xed\xbf\xbf" "c\n\xed\x9f\xbf" "d";
        struct lsp_change c = {.range = {{0, 3}, {0, 4}}, .text = "X", .len = 1};

        lsp_docs_init(&s, 0);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, t, strlen(t)), 0);
        d = lsp_docs_find(&s, URI);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 1}), 1);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 2}), 4);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 3}), 5);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 4}), 8);
        /* U+D7FF (ED 9F BF) is an ordinary character: one unit too */
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){1, 1}), 13);
        /* the low surrogate alone, replaced: what the editor's edit means */
        CHECK_INT(lsp_docs_change(&s, URI, 1, &c, 1), 0);
        CHECK_STR(d->text, "a\xed\xa0\x80" "bXc\n\xed\x9f\xbf" "d");
        lsp_docs_done(&s);
}

/* A lone high surrogate and a lone low one side by side are, to the
 * editor, the pair they make (U+1F600 is D83D DE00): the store keeps that
 * character's 4-byte form, as a JSON decoder gives it, whether the halves
 * meet at an edit's seam, inside one edit's text or in an opened text.
 * Otherwise the text would change when it is escaped for the replay and
 * decoded again, and a position between the halves would not round down
 * as it does inside a pair. */
static void test_split_pair_joined(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        const char *hi = "\xed\xa0\xbd", *lo = "\xed\xb8\x80", *pair = "\xf0\x9f\x98\x80";
        char buf[64];

        lsp_docs_init(&s, 0);
        /* the low half typed after the high one: the seam before the edit */
        snprintf(buf, sizeof buf, "a%sb\nline2", hi);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, buf, strlen(buf)), 0);
        d = lsp_docs_find(&s, URI);
        struct lsp_change c = {.range = {{0, 2}, {0, 2}}, .text = lo, .len = 3};
        CHECK_INT(lsp_docs_change(&s, URI, 1, &c, 1), 0);
        snprintf(buf, sizeof buf, "a%sb\nline2", pair);
        CHECK_STR(d->text, buf);
        CHECK_INT(d->len, strlen(buf));
        /* the line after it starts where it now is; inside the pair rounds down */
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){1, 0}), 7);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 2}), 1);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 3}), 5);
        char esc[64];
        size_t n = lsp_json_escape(d->text, d->len, esc);
        CHECK_INT(lsp_json_contents_decode(esc, n, esc), (ssize_t)d->len);
        CHECK(!memcmp(esc, d->text, d->len));

        /* the high half typed before the low one: the seam after the edit */
        snprintf(buf, sizeof buf, "a%sb", lo);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, buf, strlen(buf)), 1);
        d = lsp_docs_find(&s, URI);
        c = (struct lsp_change){.range = {{0, 1}, {0, 1}}, .text = hi, .len = 3};
        CHECK_INT(lsp_docs_change(&s, URI, 2, &c, 1), 0);
        snprintf(buf, sizeof buf, "a%sb", pair);
        CHECK_STR(d->text, buf);

        /* a deletion that brings the halves together */
        snprintf(buf, sizeof buf, "%sxy%s\n", hi, lo);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, buf, strlen(buf)), 1);
        d = lsp_docs_find(&s, URI);
        c = (struct lsp_change){.range = {{0, 1}, {0, 3}}, .text = "", .len = 0};
        CHECK_INT(lsp_docs_change(&s, URI, 3, &c, 1), 0);
        snprintf(buf, sizeof buf, "%s\n", pair);
        CHECK_STR(d->text, buf);
        CHECK_INT(lsp_doc_line_count(d), 2);

        /* both halves in one inserted text, and in an opened one */
        snprintf(buf, sizeof buf, "<%s%s>", hi, lo);
        c = (struct lsp_change){.range = {{0, 0}, {0, 0}}, .text = buf, .len = strlen(buf)};
        CHECK_INT(lsp_docs_change(&s, URI, 4, &c, 1), 0);
        snprintf(buf, sizeof buf, "<%s>%s\n", pair, pair);
        CHECK_STR(d->text, buf);
        snprintf(buf, sizeof buf, "%s%s", hi, lo);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, buf, strlen(buf)), 1);
        d = lsp_docs_find(&s, URI);
        CHECK_STR(d->text, pair);
        /* a lone half stays as it is */
        snprintf(buf, sizeof buf, "%s%s", lo, hi);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, buf, strlen(buf)), 1);
        CHECK_STR(lsp_docs_find(&s, URI)->text, buf);
        lsp_docs_done(&s);
}

/* A Go file typed the way an editor reports it: character by character,
 * with a completion inserted, a paste of several lines and a deletion. */
static void test_incremental_session(void)
{
        static const struct {
                uint32_t l1, c1, l2, c2;
                const char *text;
        } steps[] = {
            {0, 0, 0, 0, "p"},
            {0, 1, 0, 1, "a"},
            {0, 2, 0, 2, "ckage main\n"},
            {1, 0, 1, 0, "\n"},
            {2, 0, 2, 0, "func main() {\n}\n"},
            {3, 0, 3, 0, "\tfmt.Pr\n"},
            {3, 5, 3, 7, "Println(\"h\xc3\xa9llo " EMOJI "\")"},
            {3, 22, 3, 22, "!"}, /* after the emoji: 2 units */
            {1, 0, 1, 0, "import \"fmt\"\n"},
            {5, 1, 5, 1, "\n\n// end\n"},
            {7, 0, 8, 0, ""},
        };
        const char *expected = "package main\n"
                               "import \"fmt\"\n"
                               "\n"
                               "func main() {\n"
                               "\tfmt.Println(\"h\xc3\xa9llo " EMOJI "!\")\n"
                               "}\n"
                               "\n"
                               "\n";
        struct lsp_docs s;
        struct lsp_doc *d;

        lsp_docs_init(&s, 0);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, "", 0), 0);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                struct lsp_change c = {
                    .range = {{steps[i].l1, steps[i].c1}, {steps[i].l2, steps[i].c2}},
                    .text = steps[i].text,
                    .len = strlen(steps[i].text),
                };
                CHECK_INT(lsp_docs_change(&s, URI, (int64_t)i + 1, &c, 1), 0);
                check_index(lsp_docs_find(&s, URI));
        }
        d = lsp_docs_find(&s, URI);
        CHECK_STR(d->text, expected);
        CHECK_INT(d->version, 11);
        CHECK_INT(lsp_doc_line_count(d), 9);
        lsp_docs_done(&s);
}

/* Several contentChanges in one didChange: each applies to the result of
 * the previous one. */
static void test_batched_changes(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        const struct lsp_change c[] = {
            {.range = {{0, 0}, {0, 0}}, .text = "// x\n", .len = 5},
            {.range = {{1, 0}, {1, 3}}, .text = "abc", .len = 3},
            {.range = {{2, 0}, {2, 0}}, .text = "!", .len = 1},
        };

        lsp_docs_init(&s, 0);
        lsp_docs_open(&s, URI, "go", 7, "foo\nbar", 7);
        CHECK_INT(lsp_docs_change(&s, URI, 8, c, 3), 0);
        d = lsp_docs_find(&s, URI);
        CHECK_STR(d->text, "// x\nabc\n!bar");
        CHECK_INT(d->version, 8);
        check_index(d);
        lsp_docs_done(&s);
}

static void test_full_change(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        const struct lsp_change c[] = {
            {.full = true, .text = "x\r\ny", .len = 4},
            {.range = {{1, 0}, {1, 0}}, .text = "+", .len = 1},
            {.full = true, .text = NULL, .len = 0},
            {.range = {{0, 0}, {0, 0}}, .text = "end", .len = 3},
        };

        lsp_docs_init(&s, 0);
        lsp_docs_open(&s, URI, "go", 1, "old text\n", 9);
        CHECK_INT(lsp_docs_change(&s, URI, 2, c, 2), 0);
        d = lsp_docs_find(&s, URI);
        CHECK_STR(d->text, "x\r\n+y");
        CHECK_INT(lsp_doc_line_count(d), 2);
        check_index(d);
        CHECK_INT(lsp_docs_change(&s, URI, 3, c + 2, 2), 0);
        CHECK_STR(d->text, "end");
        CHECK_INT(d->version, 3);
        check_index(d);
        lsp_docs_done(&s);
}

static void test_open_close_find(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        char uri[64];
        size_t n = 0;

        lsp_docs_init(&s, 0);
        CHECK(lsp_docs_find(&s, URI) == NULL);
        CHECK_INT(lsp_docs_close(&s, URI), -ENOENT);
        CHECK_INT(lsp_docs_change(&s, URI, 1, NULL, 0), -ENOENT);
        CHECK_INT(lsp_docs_open(&s, NULL, "go", 1, "", 0), -EINVAL);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 1, NULL, 3), -EINVAL);

        /* enough documents to make the table grow several times */
        for (int i = 0; i < 300; i++) {
                snprintf(uri, sizeof(uri), "file:///w/f%d.go", i);
                CHECK_INT(lsp_docs_open(&s, uri, i % 2 ? "go" : NULL, i, uri, strlen(uri)), 0);
        }
        CHECK_INT(lsp_docs_count(&s), 300);
        d = lsp_docs_find(&s, "file:///w/f123.go");
        CHECK(d != NULL);
        CHECK_STR(d->text, "file:///w/f123.go");
        CHECK_STR(d->language_id, "go");
        CHECK_INT(d->version, 123);
        CHECK_STR(lsp_docs_find(&s, "file:///w/f12.go")->language_id, "");
        /* URIs are compared exactly */
        CHECK(lsp_docs_find(&s, "file:///w/F123.go") == NULL);

        for (int i = 0; i < 300; i += 2) {
                snprintf(uri, sizeof(uri), "file:///w/f%d.go", i);
                CHECK_INT(lsp_docs_close(&s, uri), 0);
        }
        CHECK_INT(lsp_docs_close(&s, "file:///w/f0.go"), -ENOENT);
        CHECK_INT(lsp_docs_count(&s), 150);
        CHECK(lsp_docs_find(&s, "file:///w/f122.go") == NULL);

        /* open order survives closes; reopening replaces in place */
        CHECK_INT(lsp_docs_open(&s, "file:///w/f1.go", "gomod", 99, "new", 3), 1);
        CHECK_INT(lsp_docs_count(&s), 150);
        for (d = lsp_docs_first(&s); d; d = lsp_doc_next(d)) {
                snprintf(uri, sizeof(uri), "file:///w/f%zu.go", 2 * n + 1);
                CHECK_STR(d->uri, uri);
                n++;
        }
        CHECK_INT(n, 150);
        d = lsp_docs_first(&s);
        CHECK_STR(d->text, "new");
        CHECK_STR(d->language_id, "gomod");
        CHECK_INT(d->version, 99);
        lsp_docs_done(&s);
        CHECK_INT(lsp_docs_count(&s), 0);
        CHECK(lsp_docs_first(&s) == NULL);
}

static void test_size_limit(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        struct lsp_change grow = {.range = {{0, 0}, {0, 0}}, .text = "12345", .len = 5};
        struct lsp_change shrink = {.range = {{0, 0}, {0, 2}}, .text = "", .len = 0};
        struct lsp_change full = {.full = true, .text = "0123456789X", .len = 11};
        struct lsp_change batch[2] = {shrink, grow};

        lsp_docs_init(&s, 10);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 1, "0123456789X", 11), -EFBIG);
        CHECK(lsp_docs_find(&s, URI) == NULL);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 1, "0123456789", 10), 0); /* at the limit */
        d = lsp_docs_find(&s, URI);
        CHECK_INT(lsp_docs_change(&s, URI, 2, &grow, 1), -EFBIG);
        CHECK_STR(d->text, "0123456789"); /* unchanged */
        CHECK_INT(d->version, 1);
        CHECK_INT(lsp_docs_change(&s, URI, 2, &full, 1), -EFBIG);
        CHECK_STR(d->text, "0123456789");
        /* a failing change in a batch leaves the earlier ones applied and the
           version alone */
        CHECK_INT(lsp_docs_change(&s, URI, 3, batch, 2), -EFBIG);
        CHECK_STR(d->text, "23456789");
        CHECK_INT(d->version, 1);
        check_index(d);
        /* a replacement that stays within the limit is fine */
        grow.range.end.character = 5;
        CHECK_INT(lsp_docs_change(&s, URI, 4, &grow, 1), 0);
        CHECK_STR(d->text, "12345789");
        /* reopening too large leaves the old document */
        CHECK_INT(lsp_docs_open(&s, URI, "go", 5, "0123456789X", 11), -EFBIG);
        CHECK_STR(d->text, "12345789");
        CHECK_INT(d->version, 4);
        /* a change with NULL text is refused before anything is applied */
        batch[0] = shrink;
        batch[1] = (struct lsp_change){.text = NULL, .len = 1};
        CHECK_INT(lsp_docs_change(&s, URI, 6, batch, 2), -EINVAL);
        CHECK_STR(d->text, "12345789");
        lsp_docs_done(&s);
}

/* ---- random edits against the naive model ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint32_t rnd(uint32_t n)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t)(rng_state % n);
}

static size_t random_text(char *out, size_t max_pieces)
{
        static const char *pieces[] = {"a", "b", " ", "\n", "\r", "\r\n", EMOJI, NIHON, E_ACUTE};
        size_t n = rnd((uint32_t)max_pieces + 1), o = 0;

        for (size_t i = 0; i < n; i++) {
                const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
                memcpy(out + o, p, strlen(p));
                o += strlen(p);
        }
        out[o] = '\0';
        return o;
}

static void test_random_edits_match_naive_model(void)
{
        struct lsp_docs s;
        struct lsp_doc *d;
        char *model = malloc(1 << 20), ins[256];
        size_t mlen = random_text(model, 40);
        unsigned fails_before = check_test_failed_;

        lsp_docs_init(&s, 0);
        lsp_docs_open(&s, URI, "go", 0, model, mlen);
        d = lsp_docs_find(&s, URI);
        for (int i = 0; i < 5000 && check_test_failed_ == fails_before; i++) {
                struct lsp_change c = {0};
                size_t a, b, t;

                c.len = random_text(ins, rnd(4) == 0 ? 12 : 3);
                c.text = ins;
                if (rnd(200) == 0) {
                        c.full = true;
                        memcpy(model, ins, c.len);
                        mlen = c.len;
                } else {
                        c.range.start.line = rnd((uint32_t)lsp_doc_line_count(d) + 2);
                        c.range.start.character = rnd(12);
                        c.range.end.line = rnd((uint32_t)lsp_doc_line_count(d) + 2);
                        c.range.end.character = rnd(12);
                        a = naive_offset(model, mlen, c.range.start.line, c.range.start.character);
                        b = naive_offset(model, mlen, c.range.end.line, c.range.end.character);
                        if (c.range.start.line > c.range.end.line ||
                            (c.range.start.line == c.range.end.line &&
                             c.range.start.character > c.range.end.character)) {
                                t = a;
                                a = b;
                                b = t;
                        }
                        if (mlen - (b - a) + c.len > 4000)
                                continue; /* keep the model small */
                        memmove(model + a + c.len, model + b, mlen - b);
                        memcpy(model + a, ins, c.len);
                        mlen = mlen - (b - a) + c.len;
                }
                CHECK_INT(lsp_docs_change(&s, URI, i, &c, 1), 0);
                CHECK_INT(d->len, mlen);
                CHECK(memcmp(d->text, model, mlen) == 0);
                check_index(d);
                if (check_test_failed_ != fails_before)
                        fprintf(stderr, "  at random edit %d\n", i);
        }
        lsp_docs_done(&s);
        free(model);
}

/* Many small edits near the end of a large file: each one converts its
 * positions from the line index, not by rescanning the text. */
static void test_large_document(void)
{
        enum { LINES = 200000 };
        struct lsp_docs s;
        struct lsp_doc *d;
        char *t = malloc(LINES * 16 + 1);
        size_t o = 0;

        for (int i = 0; i < LINES; i++)
                o += (size_t)sprintf(t + o, "line %8d\n", i);
        lsp_docs_init(&s, 0);
        CHECK_INT(lsp_docs_open(&s, URI, "go", 0, t, o), 0);
        d = lsp_docs_find(&s, URI);
        CHECK_INT(lsp_doc_line_count(d), LINES + 1);
        for (uint32_t i = 0; i < 20000; i++) {
                struct lsp_change c = {
                    .range = {{LINES - 10 + i % 10, 5}, {LINES - 10 + i % 10, 6}},
                    .text = i % 2 ? "#" : "@\n",
                    .len = i % 2 ? 1 : 2,
                };
                CHECK_INT(lsp_docs_change(&s, URI, i, &c, 1), 0);
        }
        CHECK_INT(d->version, 19999);
        check_index(d);
        lsp_docs_done(&s);
        free(t);
}

/* A text kept as the editor escaped it and then edited by range ends up
 * exactly like the same text opened decoded and given the same edits:
 * escapes of every kind (short ones, \u of 1-3 bytes, a surrogate pair,
 * a lone surrogate, an escaped '/'), positions counted on the decoded
 * characters. */
static void test_escaped_then_edited_matches_decoded(void)
{
        /* "a\tb\"c\\d/é€😀\ud800x\nline2\r\nz" */
        static const char json[] = "a\\tb\\\"c\\\\d\\/\\u00e9\\u20ac\\ud83d\\ude00\\ud800x\\n"
                                   "line2\\r\\nz";
        static const char text[] = "a\tb\"c\\d/" E_ACUTE "\xe2\x82\xac" EMOJI "\xed\xa0\x80"
                                   "x\nline2\r\nz";
        const struct lsp_change edits[] = {
            /* after the emoji (2 units) and the lone surrogate (1 unit) */
            {.range = {{0, 12}, {0, 13}}, .text = "Y", .len = 1},
            {.range = {{1, 2}, {2, 0}}, .text = "\\n\\u00e9", .len = 8, .escaped = true},
            {.range = {{0, 0}, {0, 1}}, .text = "\\/", .len = 2, .escaped = true},
        };
        struct lsp_docs e, d;
        struct lsp_doc *de, *dd;

        lsp_docs_init(&e, 0);
        lsp_docs_init(&d, 0);
        CHECK_INT(lsp_docs_open_escaped(&e, URI, "go", 1, json, sizeof(json) - 1), 0);
        CHECK_INT(lsp_docs_open(&d, URI, "go", 1, text, sizeof(text) - 1), 0);
        de = lsp_docs_find(&e, URI);
        dd = lsp_docs_find(&d, URI);
        if (!de || !dd)
                return;
        /* kept as sent until something needs its characters */
        CHECK(de->escaped);
        CHECK_INT(de->len, sizeof(json) - 1);
        CHECK(memcmp(de->text, json, de->len) == 0);

        for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
                struct lsp_change plain = edits[i];
                char buf[16];

                if (plain.escaped) {
                        ssize_t n = lsp_json_contents_decode(plain.text, plain.len, buf);
                        CHECK(n >= 0);
                        plain = (struct lsp_change){.range = plain.range, .text = buf,
                                                    .len = (size_t)n};
                }
                CHECK_INT(lsp_docs_change(&e, URI, 2 + (int64_t)i, &edits[i], 1), 0);
                CHECK_INT(lsp_docs_change(&d, URI, 2 + (int64_t)i, &plain, 1), 0);
                CHECK(!de->escaped);
                CHECK_INT(de->len, dd->len);
                CHECK(de->len == dd->len && memcmp(de->text, dd->text, de->len) == 0);
                CHECK_INT(de->text[de->len], 0);
                check_index(de);
        }
        /* the lone surrogate replaced by Y; "ne2\r\n" by "\n" "é"; 'a' by '/' */
        CHECK_STR(de->text, "/\tb\"c\\d/" E_ACUTE "\xe2\x82\xac" EMOJI "Yx\nli\n" E_ACUTE "z");
        lsp_docs_done(&e);
        lsp_docs_done(&d);
}

/* Asking for a position or the line count decodes an escaped text first;
 * a whole-text change given escaped keeps it escaped, one given decoded
 * does not. */
static void test_escaped_queries_and_full_changes(void)
{
        static const char json[] = "x\\ny\\r\\n\\u00e9\\u00e9z";
        struct lsp_change full_esc = {.full = true, .text = "q\\tr", .len = 4, .escaped = true};
        struct lsp_change full = {.full = true, .text = "q\tr", .len = 3};
        struct lsp_docs s;
        struct lsp_doc *d;

        lsp_docs_init(&s, 0);
        CHECK_INT(lsp_docs_open_escaped(&s, URI, NULL, 1, json, sizeof(json) - 1), 0);
        d = lsp_docs_find(&s, URI);
        if (!d)
                return;
        CHECK_INT(lsp_doc_line_count(d), 3);
        CHECK(!d->escaped);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){2, 2}), 9); /* after "éé" */
        CHECK_INT(lsp_docs_change(&s, URI, 2, &full_esc, 1), 0);
        CHECK(d->escaped);
        CHECK_INT(d->len, 4);
        CHECK(memcmp(d->text, "q\\tr", 4) == 0);
        CHECK_INT(lsp_doc_offset(d, (struct lsp_position){0, 2}), 2);
        CHECK(!d->escaped);
        CHECK_STR(d->text, "q\tr");
        CHECK_INT(lsp_docs_change(&s, URI, 3, &full_esc, 1), 0);
        CHECK_INT(lsp_docs_change(&s, URI, 4, &full, 1), 0);
        CHECK(!d->escaped);
        CHECK_STR(d->text, "q\tr");
        CHECK_INT(lsp_doc_decode(d), 0); /* decoded already: nothing to do */
        CHECK_STR(d->text, "q\tr");
        lsp_docs_done(&s);
}

/* Malformed escaped texts are refused as a whole, before anything is
 * applied; the size limit counts decoded bytes. */
static void test_escaped_refused(void)
{
        static const char *const bad[] = {
            "a\\",       /* a lone backslash at the end */
            "a\\x",      /* no such escape */
            "\\u12G4",   /* not hex */
            "\\u12",     /* cut short */
            "a\"b",      /* a raw quote */
            "a\nb",      /* a raw control character */
            "\xc3",      /* truncated UTF-8 */
            "\xed\xa0\x80", /* a raw surrogate: only the escape may carry one */
        };
        struct lsp_change ok = {.range = {{0, 0}, {0, 1}}, .text = "Z", .len = 1};
        struct lsp_docs s;
        struct lsp_doc *d;

        lsp_docs_init(&s, 4);
        CHECK_INT(lsp_docs_open_escaped(&s, URI, NULL, 1, "ab", 2), 0);
        d = lsp_docs_find(&s, URI);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct lsp_change two[2] = {
                    ok, {.range = {{0, 0}, {0, 0}}, .text = bad[i], .len = strlen(bad[i]),
                         .escaped = true}};
                CHECK_INT(lsp_docs_open_escaped(&s, "other", NULL, 1, bad[i], strlen(bad[i])),
                          -EBADMSG);
                CHECK_INT(lsp_docs_change(&s, URI, 9, two, 2), -EBADMSG);
                CHECK_INT(lsp_docs_change(&s, "not open", 9, two, 2), -EBADMSG);
        }
        CHECK(lsp_docs_find(&s, "other") == NULL);
        CHECK_INT(lsp_docs_count(&s), 1);
        CHECK(d && d->escaped && d->len == 2 && memcmp(d->text, "ab", 2) == 0 && d->version == 1);

        /* 8 bytes of JSON, 4 of text: fits; 5 of text does not */
        CHECK_INT(lsp_docs_open_escaped(&s, URI, NULL, 2, "\\t\\t\\t\\t", 8), 1);
        CHECK_INT(lsp_docs_open_escaped(&s, URI, NULL, 3, "\\t\\t\\t\\t\\t", 10), -EFBIG);
        struct lsp_change big = {.full = true, .text = "\\n\\n\\n\\n\\n", .len = 10,
                                 .escaped = true};
        CHECK_INT(lsp_docs_change(&s, URI, 4, &big, 1), -EFBIG);
        big.len = 8;
        CHECK_INT(lsp_docs_change(&s, URI, 4, &big, 1), 0);
        CHECK_INT(lsp_doc_line_count(d), 5);
        lsp_docs_done(&s);
}

int main(void)
{
        RUN(test_edit_table);
        RUN(test_line_model);
        RUN(test_offsets);
        RUN(test_invalid_utf8_counts_bytes);
        RUN(test_lone_surrogate_one_unit);
        RUN(test_split_pair_joined);
        RUN(test_incremental_session);
        RUN(test_batched_changes);
        RUN(test_full_change);
        RUN(test_open_close_find);
        RUN(test_size_limit);
        RUN(test_random_edits_match_naive_model);
        RUN(test_large_document);
        RUN(test_escaped_then_edited_matches_decoded);
        RUN(test_escaped_queries_and_full_changes);
        RUN(test_escaped_refused);
        return check_summary();
}

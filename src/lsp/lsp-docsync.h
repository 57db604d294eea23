/* lsp-docsync.h — the editor's open documents, kept as the server sees them.
 *
 * The guard records every textDocument/didOpen, didChange and didClose it
 * forwards, so that after a restart it can open the same documents, with
 * the same text and versions, in the new server.  This module is the pure
 * part: it takes C values (the JSON message side lives elsewhere) and
 * applies them exactly as the LSP specification says.  No I/O, no
 * logging.
 *
 * Two forms of a text: decoded (UTF-8, what positions count in), or
 * escaped: the contents of the JSON string exactly as the editor sent them
 * (between the quotes, escapes not decoded).  Most documents are opened and
 * never edited, and a replay sends JSON again, so a text is kept escaped
 * as long as nothing needs its characters: copying it in and writing it
 * out is then a memcpy each, and it takes no more room than the editor's
 * own message did (source text grows by a few percent when escaped).  The
 * first edit by range, or the first position asked for, decodes it in
 * place, once, and from then on it stays decoded.  Escaped texts are
 * checked when they come in (lsp_json_contents_check()), so decoding them
 * later cannot fail.
 *
 * Text model (LSP 3.17, "Text Documents"):
 *   - text is UTF-8, stored as given (any bytes are kept; see below);
 *   - a position is (line, character), both 0-based; character counts
 *     UTF-16 code units: U+0000..U+FFFF (1 to 3 UTF-8 bytes) are one unit,
 *     U+10000 and above (4 bytes, e.g. U+1F600 😀) are two;
 *   - lines end at "\n", "\r\n" or a lone "\r"; the break is not part of
 *     the line.  A text ending in a break has an empty last line; "" has
 *     one line;
 *   - a character past the end of its line means the end of the line
 *     (before its break), as the specification says; a line past the last
 *     one means the end of the document (as vscode-languageserver's
 *     TextDocument does), so an edit may always reach the end of the text;
 *   - a character between the two units of a surrogate pair means the
 *     start of that character: UTF-8 cannot split it, and rounding down is
 *     what VS Code does when it validates such a position;
 *   - a range whose start comes after its end is swapped, like
 *     vscode-languageserver's TextDocument does;
 *   - a lone surrogate, which JSON can carry ("\ud800") and UTF-8 cannot,
 *     is kept in its 3-byte generalised UTF-8 form (ED A0..BF xx) and
 *     counts as the one UTF-16 unit it is to the editor;
 *   - a high surrogate's 3-byte form followed by a low one's (an edit that
 *     puts two lone halves side by side, or a text given so) is the pair
 *     they make to the editor: it is kept as that character's 4-byte form,
 *     as a JSON decoder gives "\ud83d\ude00", joined left to right.  The
 *     size limit applies to a text as it is given, before joining;
 *   - bytes that do not start a valid UTF-8 sequence count as one unit each
 *     (the text normally comes from a JSON parser that has checked it).
 *
 * Cost: a document once edited keeps the byte offset of every line start
 * (built at its first edit), so an edit converts its positions by walking
 * only the lines it touches, and
 * after the splice only the line starts it moved are rescanned; the rest
 * are shifted.  Replacing bytes costs one memmove of the text after the
 * edit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text-arena.h"

/* Largest document kept by default; matches the framing's message limit
 * (a larger document could not have been sent in one didOpen). */
#define LSP_DOC_MAX_DEFAULT ((size_t)64 << 20)

struct lsp_position {
        uint32_t line;
        uint32_t character; /* UTF-16 code units */
};

struct lsp_range {
        struct lsp_position start, end;
};

/* One element of didChange's contentChanges. */
struct lsp_change {
        bool full; /* TextDocumentContentChangeEvent without a range:
                      the new whole text; `range` is ignored */
        struct lsp_range range;
        const char *text; /* the replacement (need not be NUL-terminated) */
        size_t len;
        bool escaped; /* text is JSON string contents as sent; checked by
                         lsp_docs_change() */
};

/* An open document.  Read the public fields; change them only through the
 * functions below. */
struct lsp_doc {
        char *uri; /* as the editor sent it; documents are told apart by
                      exact byte comparison of their URIs */
        char *language_id;
        int64_t version;
        char *text; /* `len` bytes, followed by a NUL not counted in len */
        size_t len;
        bool escaped; /* text holds JSON string contents, see above;
                         lsp_doc_decode() makes it UTF-8 */

        /* private */
        size_t cap;
        struct text_chunk *chunk; /* where text lives: an arena chunk, or
                                     NULL for malloc() */
        size_t *lines; /* byte offset of each line's first byte; lines[0] == 0 */
        size_t nlines, lines_cap;
        uint64_t hash;
        struct lsp_doc *hnext;       /* bucket chain */
        struct lsp_doc *prev, *next; /* open order */
};

/* The store.  Private fields; a zeroed struct is not valid: lsp_docs_init(). */
struct lsp_docs {
        struct lsp_doc **buckets;
        size_t nbuckets, count;
        struct lsp_doc *first, *last;
        size_t max_size;
        struct text_arena arena; /* escaped texts as opened (text-arena.h) */
};

/* An empty store whose documents may grow to max_size bytes
 * (0 = LSP_DOC_MAX_DEFAULT).  Allocates nothing; never fails. */
void lsp_docs_init(struct lsp_docs *s, size_t max_size);

/* Frees every document. */
void lsp_docs_done(struct lsp_docs *s);

/* textDocument/didOpen.  Copies uri, language_id (NULL = "") and text.
 * The spec forbids opening an open document twice; servers such as gopls
 * then take the new text, so the store does too, keeping the document's
 * place in the open order.
 * Returns 0 (opened), 1 (was already open: replaced), -EINVAL (uri NULL, or
 * text NULL with len > 0), -EFBIG (len > max_size), -ENOMEM; on error the
 * store is unchanged. */
int lsp_docs_open(struct lsp_docs *s, const char *uri, const char *language_id, int64_t version,
                  const char *text, size_t len);

/* lsp_docs_open() taking `text` (malloc()ed, len bytes and room for one
 * more: the NUL written at text[len]) instead of copying it.  The store
 * owns text whatever it returns (it is freed on errors).  Same returns. */
int lsp_docs_open_take(struct lsp_docs *s, const char *uri, const char *language_id,
                       int64_t version, char *text, size_t len);

/* lsp_docs_open() with the text in escaped form (see above): json[0..len)
 * is the contents of the editor's JSON string, kept as is.  max_size
 * applies to the decoded length.  Also returns -EBADMSG (not valid string
 * contents, see lsp_json_string(); the store is unchanged). */
int lsp_docs_open_escaped(struct lsp_docs *s, const char *uri, const char *language_id,
                          int64_t version, const char *json, size_t len);

/* lsp_docs_open_escaped() for contents the caller has checked already:
 * decoded_len is what lsp_json_contents_check(json, len) returned (e.g.
 * through lsp_json_members_nested(), which checks as it parses).  Same
 * returns, without -EBADMSG. */
int lsp_docs_open_checked(struct lsp_docs *s, const char *uri, const char *language_id,
                          int64_t version, const char *json, size_t len, size_t decoded_len);

/* textDocument/didChange: applies changes[0..n) in order (each one to the
 * result of the previous, as the spec says), then sets the version.  A
 * whole-text change given escaped keeps the document escaped; a change by
 * range decodes the document first.
 * Returns 0, -ENOENT (not open), -EINVAL (a change with text NULL and
 * len > 0), -EBADMSG (an escaped text that is not valid string contents;
 * checked before anything is applied), -EFBIG (a result over max_size),
 * -ENOMEM.  Each change is
 * all-or-nothing, but when change k fails, changes 0..k-1 stay applied and
 * the version is not updated: the document no longer matches the editor's
 * and the caller should treat it as lost (e.g. close it and ask the editor
 * for a full text). */
int lsp_docs_change(struct lsp_docs *s, const char *uri, int64_t version,
                    const struct lsp_change *changes, size_t n);

/* textDocument/didClose.  Returns 0 or -ENOENT (not open). */
int lsp_docs_close(struct lsp_docs *s, const char *uri);

/* The open document with this URI, or NULL.  Valid until it is closed or
 * the store is freed (changes keep the struct, not its text pointer). */
struct lsp_doc *lsp_docs_find(const struct lsp_docs *s, const char *uri);

size_t lsp_docs_count(const struct lsp_docs *s);

/* Iteration in the order the documents were opened (replay reopens them
 * in that order):  for (d = lsp_docs_first(s); d; d = lsp_doc_next(d)) */
struct lsp_doc *lsp_docs_first(const struct lsp_docs *s);
struct lsp_doc *lsp_doc_next(const struct lsp_doc *d);

/* Makes an escaped document's text decoded UTF-8, in place (d->text and
 * d->len change; nothing is allocated).  Returns 0, also when it is
 * decoded already. */
int lsp_doc_decode(struct lsp_doc *d);

/* Number of lines by the rules above ("" has 1, "a\n" has 2).  Like
 * lsp_doc_offset(), it decodes an escaped document first. */
size_t lsp_doc_line_count(const struct lsp_doc *d);

/* The byte offset in d->text that a position designates, by the rules
 * above (clamping included); always <= d->len. */
size_t lsp_doc_offset(const struct lsp_doc *d, struct lsp_position pos);

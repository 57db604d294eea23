/* lsp-framing.h — LSP base protocol: message framing, output queue, JSON peek.
 *
 * The base protocol frames each JSON-RPC message as
 *
 *      Content-Length: 52\r\n
 *      Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n   (optional)
 *      \r\n
 *      {"jsonrpc":"2.0","id":1,"method":"shutdown"...}               (52 bytes)
 *
 * Three independent pieces live here, none of which does I/O except
 * lsp_outq_send()/lsp_outq_flush() (which write to the fd they are given):
 *
 *   lsp_decoder  turns a byte stream, read in chunks of any size, into
 *                message bodies;
 *   lsp_header_encode / lsp_outq
 *                frame outgoing bodies and write them to a non-blocking fd
 *                with writev(), queueing what the fd does not take yet;
 *   lsp_peek     finds "id", "method", "result", "error" of a body without
 *                parsing it, for routing on the hot path.
 *
 * Nothing here logs, exits or keeps global state.  Functions that can fail
 * return a negative errno. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---------------------------------------------------------------------- */
/* Decoder                                                                  */

/* Largest body accepted by default.  gopls sends whole files in didOpen
 * and large workspace/symbol or semantic-token results; 64 MiB is far
 * above anything seen in practice and still bounds a broken peer. */
#define LSP_MAX_MESSAGE_DEFAULT ((size_t)64 << 20)

/* Longest header line accepted (bytes, without the line break).  Real
 * headers are under 100 bytes; the bound only stops an unframed stream
 * from being buffered as one endless line. */
#define LSP_HEADER_LINE_MAX 8192

#define LSP_REASON_MAX 160

/* Decoder state.  Treat every field as private; use the functions below.
 * A zeroed struct is not valid: call lsp_decoder_init(). */
struct lsp_decoder {
        char *buf;
        size_t cap;
        size_t head;    /* first byte not consumed */
        size_t tail;    /* end of the bytes received */
        size_t scan;    /* where the search for a line break / header resumes */
        size_t release; /* bytes at head still lent to the caller (last body) */
        size_t max_message;
        uint64_t length; /* Content-Length of this message; bytes left to skip */
        int state;
        bool have_length;
        bool in_block; /* a header line of this message was seen */
        unsigned small_streak; /* reserves in a row that needed < cap/4 */
        char reason[LSP_REASON_MAX];
};

/* Prepares an empty decoder.  max_message is the largest body accepted
 * (0 = LSP_MAX_MESSAGE_DEFAULT).  Allocates nothing; never fails. */
void lsp_decoder_init(struct lsp_decoder *d, size_t max_message);

/* Frees the buffer.  The decoder may be initialised again afterwards. */
void lsp_decoder_done(struct lsp_decoder *d);

/* Zero-copy input: returns in *ret_ptr / *ret_avail a writable area at the
 * end of the buffer of at least `min` bytes and never less than 64 KiB (a
 * pipe's capacity: one read's worth), into which the caller read()s directly and then calls
 * lsp_decoder_commit() with the count.  While a body is incomplete the area
 * is made large enough for all of it, so a large message is received
 * without reallocation.  Invalidates the body returned last.
 * Returns 0, or -ENOMEM (nothing changed). */
int lsp_decoder_reserve(struct lsp_decoder *d, size_t min, char **ret_ptr, size_t *ret_avail);

/* Adds n bytes written into the area from lsp_decoder_reserve() (n may be 0,
 * never more than that area). */
void lsp_decoder_commit(struct lsp_decoder *d, size_t n);

/* Copies n bytes into the decoder: lsp_decoder_reserve() + memcpy +
 * lsp_decoder_commit().  Chunks may be split anywhere and may hold several
 * messages.  Invalidates the body returned last.  Returns 0 or -ENOMEM
 * (nothing buffered). */
int lsp_decoder_feed(struct lsp_decoder *d, const void *data, size_t n);

/* Takes the next complete message.  Call it until it returns 0 after every
 * feed/commit: bytes are only parsed here.
 *
 * Returns
 *   1  a body in *ret_body / *ret_len (not NUL-terminated; may be empty).
 *      It points into the decoder's buffer and stays valid until the next
 *      call of any lsp_decoder_* function on this decoder.
 *   0  no complete message buffered; feed more.
 *  <0  the stream held a malformed message; lsp_decoder_reason() says what,
 *      in one line.  The decoder has already resynchronised (below):
 *      call lsp_decoder_next() again as usual.
 *        -EBADMSG   header block ended without a Content-Length header
 *        -EINVAL    Content-Length value is not a plain decimal number, or
 *                   two Content-Length headers disagree
 *        -ERANGE    Content-Length value does not fit in 64 bits
 *        -EMSGSIZE  Content-Length is over max_message
 *        -E2BIG     a header line is longer than LSP_HEADER_LINE_MAX
 *        -EPROTO    a header line without ':', or whose name is not an
 *                   HTTP token (contains spaces, quotes, braces...)
 * *ret_body and *ret_len are set only when 1 is returned.
 *
 * Accepted leniently: header names in any case, lines ending in "\n" as well
 * as "\r\n", spaces or tabs around values, any header other than
 * Content-Length (Content-Type included, ignored), and empty lines between
 * messages (skipped, as HTTP servers skip them before a request line).
 *
 * Resynchronisation after an error:
 *   -EMSGSIZE: the length is known, so exactly that many body bytes are
 *      discarded as they arrive (never buffered) and the next message
 *      follows normally.
 *   -EPROTO on a line that follows a valid Content-Length in the same
 *      header block: that line is dropped and the block goes on; the
 *      message is still delivered after the error.
 *   all others: input is discarded up to the next well-formed length header
 *      — "Content-Length:" (any case), optional blanks, 1 to 20 digits,
 *      optional blanks, a real CR LF or LF — searched for anywhere, not only
 *      at line starts, because after a wrong length the next header often
 *      follows a body's last '}' directly.  That byte sequence cannot occur
 *      inside a JSON body (JSON strings cannot hold a raw CR or LF), so the
 *      rest of a broken message is never taken for a header, and the next
 *      well-formed message is always delivered.  When the offending line
 *      came before the Content-Length of its own block, that header is the
 *      one found, so the message itself is delivered after the error. */
int lsp_decoder_next(struct lsp_decoder *d, const char **ret_body, size_t *ret_len);

/* The reason for the last error returned by lsp_decoder_next(), e.g.
 * "Content-Length value \"12x\" is not a decimal number"; "" before any. */
const char *lsp_decoder_reason(const struct lsp_decoder *d);

/* Bytes buffered and not yet returned as bodies (for diagnostics and
 * back-pressure). */
size_t lsp_decoder_buffered(const struct lsp_decoder *d);

/* ---------------------------------------------------------------------- */
/* Encoder and output queue                                                 */

/* "Content-Length: " + 20 digits + "\r\n\r\n" + NUL fits. */
#define LSP_HEADER_MAX 48

/* Writes "Content-Length: <body_len>\r\n\r\n" (NUL-terminated) into buf and
 * returns its length without the NUL.  The body is sent next to it with
 * writev(), never copied behind it. */
size_t lsp_header_encode(char buf[static LSP_HEADER_MAX], size_t body_len);

/* Default high-water mark of an output queue: above it the caller should
 * stop reading from the side that feeds the queue. */
#define LSP_OUTQ_HIGH_WATER_DEFAULT ((size_t)16 << 20)

struct lsp_outq_seg;

/* Messages waiting to be written to one fd, in order.  Private fields. */
struct lsp_outq {
        struct lsp_outq_seg *first, *last;
        size_t queued; /* bytes not yet written, headers included */
        size_t high_water;
        bool full;
};

/* high_water 0 = LSP_OUTQ_HIGH_WATER_DEFAULT.  Never fails. */
void lsp_outq_init(struct lsp_outq *q, size_t high_water);

/* Frees every queued message without writing it. */
void lsp_outq_done(struct lsp_outq *q);

/* Queues a framed message whose body is a malloc()ed buffer: the queue
 * takes ownership and free()s it once written, at lsp_outq_done(), or at
 * once if this fails.  Writes nothing.  Returns 0 or -ENOMEM. */
int lsp_outq_push(struct lsp_outq *q, char *body, size_t len);

/* Like lsp_outq_push() with a copy of the body; the caller keeps its own. */
int lsp_outq_push_copy(struct lsp_outq *q, const void *body, size_t len);

/* Frames and sends a body now: when nothing is queued it is written to fd
 * directly from `body` (no copy), and only a part the fd did not take is
 * copied into the queue; otherwise a copy is queued behind the rest and a
 * flush is attempted.  fd should be non-blocking (a blocking fd simply
 * writes everything).  Returns 0 when the message was written or queued,
 * -ENOMEM (nothing queued), or the negative errno of a failed write other
 * than EAGAIN/EINTR (e.g. -EPIPE: the reader is gone; the message may be
 * partly written or queued, and the fd is of no further use: drop the
 * queue with lsp_outq_done()).  Ignore SIGPIPE in the process: a pipe
 * write cannot suppress it. */
int lsp_outq_send(struct lsp_outq *q, int fd, const void *body, size_t len);

/* Writes as much of the queue as fd takes now, with writev().  Returns
 *   1  the queue is empty;
 *   0  bytes remain: the fd is full (EAGAIN); wait for POLLOUT and call again;
 *  <0  a write failed (-EPIPE, -EBADF...); what was not written stays queued. */
int lsp_outq_flush(struct lsp_outq *q, int fd);

/* Bytes queued and not yet written, headers included. */
size_t lsp_outq_queued(const struct lsp_outq *q);

/* Back-pressure with hysteresis: becomes true when queued bytes reach the
 * high-water mark and stays true until they fall to half of it, so the
 * caller does not toggle its reader for every message.  While true, stop
 * reading the side whose messages go into this queue. */
bool lsp_outq_full(const struct lsp_outq *q);

/* ---------------------------------------------------------------------- */
/* JSON peek                                                                */

enum lsp_id_type {
        LSP_ID_NONE,   /* no "id" key */
        LSP_ID_INT,    /* a JSON integer that fits int64_t */
        LSP_ID_STRING, /* a JSON string */
        LSP_ID_NULL,   /* null (responses to messages whose id was unreadable) */
        LSP_ID_OTHER,  /* anything else (fraction, exponent, huge, object...) */
};

enum lsp_msg_kind {
        LSP_MSG_INVALID,      /* none of the shapes below */
        LSP_MSG_REQUEST,      /* method and id */
        LSP_MSG_NOTIFICATION, /* method, no id */
        LSP_MSG_RESPONSE,     /* result or error, id, no method */
};

/* What lsp_peek() found.  Pointers point into the body given to it. */
struct lsp_peek {
        enum lsp_id_type id_type;
        const char *id; /* raw JSON text of the value, as sent (strings
                           with their quotes and escapes), so it can be
                           copied into a reply verbatim; NULL if none */
        size_t id_len;
        int64_t id_int;     /* the value, for LSP_ID_INT */
        const char *method; /* between the quotes, escapes not decoded;
                               NULL if no "method" */
        size_t method_len;
        bool method_escaped; /* method contains a backslash escape */
        bool has_params, has_result, has_error;
        const char *params; /* the value of "params" as sent; NULL if none */
        size_t params_len;
};

/* Looks at the top-level object's keys only; nested values (params, result)
 * are skipped without being parsed or validated, strings by their escapes,
 * containers by bracket depth.  Keys are compared after decoding escapes
 * ("\u0069d" is "id").  If a key repeats, the last one counts, as in
 * jansson.  Returns 0, or -EBADMSG if the body is not one JSON object at
 * the top level (stray bytes, missing ':' or ',', a key that is not a
 * string, an unterminated string or container) or "method" is not a
 * string; *ret is filled only on success. */
int lsp_peek(const char *body, size_t len, struct lsp_peek *ret);

/* The message kind from the keys present (JSON-RPC 2.0 shapes). */
enum lsp_msg_kind lsp_peek_kind(const struct lsp_peek *p);

/* Whether the method equals `name` (NUL-terminated, UTF-8), decoding JSON
 * escapes if there are any.  False without a method. */
bool lsp_peek_method_is(const struct lsp_peek *p, const char *name);

/* The method with its JSON escapes decoded ("textDocument\/hover" is
 * "textDocument/hover": Neovim escapes '/'), NUL-terminated in buf.
 * Compare methods only in this form or with lsp_peek_method_is(), never
 * as sent.  Returns its length, -ENOENT without a method, -ENOBUFS when it
 * does not fit in size bytes with its NUL, -EINVAL for a malformed escape. */
ssize_t lsp_peek_method(const struct lsp_peek *p, char *buf, size_t size);

/* ---------------------------------------------------------------------- */
/* JSON values inside a body                                               */

/* For the recorder's hot path (didOpen, didChange): the few values it
 * needs are found and decoded in place, without building a tree, so a
 * document's text is copied once, into the document store.  Containers
 * are walked by bracket depth like lsp_peek(); only what is read is
 * validated. */

/* The text of one JSON value: [p, end). */
struct lsp_json {
        const char *p, *end;
};

/* The value of member `key` (NUL-terminated; keys are compared decoded) of
 * the object v.  If a key repeats, the last one counts.  Returns 1 (found,
 * *ret set), 0 (absent), -EBADMSG (v is not an object, or is malformed). */
int lsp_json_member(struct lsp_json v, const char *key, struct lsp_json *ret);

/* Several members in one pass over v (a document's text is walked over
 * once, not once per key): vals[i] is the value of keys[i], or {NULL,
 * NULL} when absent.  Returns how many were found, or -EBADMSG. */
int lsp_json_members(struct lsp_json v, const char *const *keys, struct lsp_json *vals, size_t n);

/* Iterates over the array v: start with *cursor = NULL.  Returns 1 (the
 * next element in *ret), 0 (no more), -EBADMSG (not an array, malformed). */
int lsp_json_next(struct lsp_json v, const char **cursor, struct lsp_json *ret);

/* lsp_json_members() that also finds, in the same single pass, the members
 * inner_keys of the object keys[into] (into < n; inner_vals stay empty
 * when that member is not an object), and checks the string member
 * inner_keys[check] (check < inner_n) as it skips it, as
 * lsp_json_contents_check() would: its decoded length in *checked_len, or
 * -1 when it was not found or is not a string.  A message whose members
 * hold a document's text is thus read once, not once per level and once
 * more to check the text.  An invalid checked string makes the whole
 * object -EBADMSG.  Returns the number of keys found at the outer level. */
int lsp_json_members_nested(struct lsp_json v, const char *const *keys, struct lsp_json *vals,
                            size_t n, size_t into, const char *const *inner_keys,
                            struct lsp_json *inner_vals, size_t inner_n, size_t check,
                            ssize_t *checked_len);

/* A JSON integer that fits int64_t.  Returns 0 or -EBADMSG. */
int lsp_json_int(struct lsp_json v, int64_t *ret);

bool lsp_json_is_string(struct lsp_json v);
bool lsp_json_is_object(struct lsp_json v);

/* Decodes the JSON string v into out, which must hold v.end - v.p bytes
 * (a decoded string is never longer than its JSON text).  Not
 * NUL-terminated.  The result is UTF-8, except that an escaped lone
 * surrogate ("\ud800", which editors send when a user's text holds one
 * and which is one UTF-16 unit to them) is kept as its 3-byte generalised
 * UTF-8 form (ED A0 80; "WTF-8"), so that nothing the editor sent is lost
 * and lsp_json_escape() gives back the same escape.  Returns the length,
 * or -EBADMSG: not a string, a bad escape, a raw control character, or
 * raw bytes that are not UTF-8. */
ssize_t lsp_json_string(struct lsp_json v, char *out);

/* The contents of a JSON string as sent (the bytes between its quotes,
 * s[0..n), escapes not decoded), checked by the rules of lsp_json_string()
 * without writing anything.  Returns the length it decodes to, or
 * -EBADMSG.  Lets a caller keep the text as the editor sent it and decode
 * it only when needed. */
ssize_t lsp_json_contents_check(const char *s, size_t n);

/* Finds the end of a JSON string whose contents start at p (just past
 * its opening quote), checking them as lsp_json_contents_check() does on
 * the way: returns the closing quote, with the decoded length in *len, or
 * NULL if there is no closing quote before end or the contents are not
 * valid.  The same rules, found faster: where SSE2 is available, the
 * bytes that need a look are found 64 at a time. */
const char *lsp_json_string_end(const char *p, const char *end, ssize_t *len);

/* Decodes string contents s[0..n) into out exactly as lsp_json_string()
 * does.  out may be s itself: decoding in place is safe (the result is
 * never longer, and no byte is written before it has been read).  Returns
 * the length or -EBADMSG (out then holds a partial result). */
ssize_t lsp_json_contents_decode(const char *s, size_t n, char *out);

/* JSON string contents (without quotes) for s[0..n): '"', '\\' and
 * control characters escaped, 3-byte surrogate forms written as "\udXXX",
 * all else as is.  Returns the length; writes it to out unless out is
 * NULL (call once with NULL to size the buffer). */
size_t lsp_json_escape(const char *s, size_t n, char *out);

/* Code point cp (at most U+10FFFF, not a surrogate) in UTF-8 into u; the
 * length, 1 to 4. */
size_t lsp_utf8_encode(unsigned cp, char u[static 4]);

/* lsp_json_escape() into out[0..cap): returns the whole length as well;
 * when that is more than cap, out holds only a prefix and is of no use.
 * Lets a caller guess a size and escape in one pass, most of the time. */
size_t lsp_json_escape_max(const char *s, size_t n, char *out, size_t cap);

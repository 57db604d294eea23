/* test-events.c — the journal's side of the contract: event names,
 * MESSAGE_IDs, the fields of each entry, and the catalog that explains
 * them.  `journalctl --update-catalog` cannot run on a build host without
 * touching its journal, so the catalog's format is checked here (the rules
 * of systemd's catalog.c), and every id of src/systemd/message-ids.h is matched
 * with an entry and every entry with an id.  The real `journalctl -x` runs
 * in the systemd VM tier. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "events.h"
#include "policy.h"
#include "util.h"

static char srcdir[4096];

/* The source tree, for the catalog and message-ids.h: GUARD_SOURCE_DIR
 * when the build defines it (package builds map __FILE__ away with
 * -ffile-prefix-map), else cut from __FILE__. */
static void find_srcdir(void)
{
#ifdef GUARD_SOURCE_DIR
        snprintf(srcdir, sizeof srcdir, "%s/", GUARD_SOURCE_DIR);
#else
        static const char self[] = "tests/unit/test-events.c";
        size_t n = strlen(__FILE__), m = strlen(self);
        CHECK(n >= m && strcmp(__FILE__ + n - m, self) == 0);
        snprintf(srcdir, sizeof srcdir, "%.*s", (int)(n - m), __FILE__);
#endif
}

static char *slurp(const char *rel)
{
        char path[8192];
        char *text = NULL;
        snprintf(path, sizeof path, "%s%s", srcdir, rel);
        int r = read_file_at(-100 /* AT_FDCWD */, path, &text, 1 << 20);
        if (r < 0)
                fprintf(stderr, "cannot read %s: %s\n", path, strerror(-r));
        CHECK(r >= 0);
        return text;
}

static bool is_id(const char *s, size_t n)
{
        if (n != 32)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
                        return false;
        return true;
}

/* DESIGN.md's list, in its order: the names are the contract. */
static void test_names_and_ids(void)
{
        static const char *const want[GE__COUNT] = {
            "start", "oom-kill", "crash", "restart", "proactive-restart", "hang", "give-up", "stop",
        };
        for (int k = 0; k < GE__COUNT; k++) {
                CHECK_STR(event_name((enum guard_event)k), want[k]);
                const char *id = event_message_id((enum guard_event)k);
                CHECK(id && is_id(id, strlen(id)));
                for (int j = 0; j < k; j++)
                        CHECK(strcmp(id, event_message_id((enum guard_event)j)) != 0);
        }
        CHECK_STR(event_name(GE__COUNT), "unknown");
        CHECK(event_message_id(GE__COUNT) == NULL);
}

static void test_fields(void)
{
        char buf[2048];
        struct event_info e = {
            .kind = GE_OOM_KILL,
            .workspace = "/src/k8s",
            .server_pid = 4242,
            .generation = 3,
            .restarts = 2,
            .memory_current = 0,
            .memory_peak = 6442450944ULL,
            .memory_high = POLICY_NO_LIMIT,
            .memory_max = 8589934592ULL,
            .exit_status = -1,
            .signal = 9,
        };
        int r = event_fields(&e, buf, sizeof buf);
        CHECK_INT(r, (int)strlen(buf));
        CHECK_STR(buf, "MESSAGE_ID=2dbeb7e8e21142c78c38147f02f12673\n"
                       "GOPLS_GUARD_EVENT=oom-kill\n"
                       "GOPLS_GUARD_WORKSPACE=/src/k8s\n"
                       "GOPLS_GUARD_SERVER_PID=4242\n"
                       "GOPLS_GUARD_GENERATION=3\n"
                       "GOPLS_GUARD_RESTARTS=2\n"
                       "GOPLS_GUARD_MEMORY_CURRENT=0\n"
                       "GOPLS_GUARD_MEMORY_PEAK=6442450944\n"
                       "GOPLS_GUARD_MEMORY_HIGH=max\n"
                       "GOPLS_GUARD_MEMORY_MAX=8589934592\n"
                       "GOPLS_GUARD_DEGRADED=no\n"
                       "GOPLS_GUARD_SIGNAL=9");

        /* A restart says its delay; an exit status is given when there is
         * one; a workspace with a newline cannot split into a new field. */
        e = (struct event_info){.kind = GE_RESTART,
                                .workspace = "/a\nMESSAGE_ID=0",
                                .exit_status = 2,
                                .delay_usec = 1500000,
                                .degraded = true};
        CHECK(event_fields(&e, buf, sizeof buf) > 0);
        CHECK_CONTAINS(buf, "GOPLS_GUARD_WORKSPACE=/a?MESSAGE_ID=0\n");
        CHECK_CONTAINS(buf, "GOPLS_GUARD_EXIT_STATUS=2\n");
        CHECK_CONTAINS(buf, "GOPLS_GUARD_DEGRADED=yes\n");
        CHECK_CONTAINS(buf, "\nGOPLS_GUARD_RESTART_DELAY_USEC=1500000");
        CHECK(strstr(buf, "GOPLS_GUARD_SIGNAL") == NULL);
        CHECK(strncmp(buf, "MESSAGE_ID=077b0dccb2864489b5bb6dba7f41f2fb\n", 44) == 0);

        /* No workspace: no field, rather than an empty one. */
        e = (struct event_info){.kind = GE_START, .exit_status = -1};
        CHECK(event_fields(&e, buf, sizeof buf) > 0);
        CHECK(strstr(buf, "WORKSPACE") == NULL);
        CHECK(strstr(buf, "EXIT_STATUS") == NULL);
        CHECK(strstr(buf, "RESTART_DELAY") == NULL);

        /* Too small: an error, never a cut-off field. */
        char small[64];
        CHECK_INT(event_fields(&e, small, sizeof small), -ENOBUFS);
        CHECK_STR(small, "");
        CHECK_INT(event_fields(&e, small, 0), -ENOBUFS);
}

/* Every field name event_fields() can give `kind`. */
static bool field_of(enum guard_event kind, const char *name, size_t n)
{
        char buf[2048];
        struct event_info e = {
            .kind = kind, .workspace = "/w", .exit_status = 1, .signal = 9, .delay_usec = 1};
        if (event_fields(&e, buf, sizeof buf) < 0)
                return false;
        for (char *l = buf; l && *l;) {
                char *eq = strchr(l, '=');
                if (eq && (size_t)(eq - l) == n && strncmp(l, name, n) == 0)
                        return true;
                l = strchr(l, '\n');
                l = l ? l + 1 : NULL;
        }
        return false;
}

static int kind_of_id(const char *id)
{
        for (int k = 0; k < GE__COUNT; k++)
                if (strncmp(event_message_id((enum guard_event)k), id, 32) == 0)
                        return k;
        return -1;
}

static bool is_policy_section(const char *s, size_t n)
{
        for (int k = 0; k < PK__COUNT; k++) {
                const char *full = policy_key_name((enum policy_key)k);
                if (strlen(full) > n && full[n] == '.' && strncmp(full, s, n) == 0)
                        return true;
        }
        return false;
}

static bool is_policy_key(const char *sec, size_t sn, const char *key, size_t kn)
{
        char want[256];
        snprintf(want, sizeof want, "%.*s.%.*s", (int)sn, sec, (int)kn, key);
        for (int k = 0; k < PK__COUNT; k++)
                if (strcmp(policy_key_name((enum policy_key)k), want) == 0)
                        return true;
        return false;
}

/* One entry's body: its @FIELD@s are fields of its event, and its
 * "[section] key" mentions name real keys (sections the policy does not
 * have yet, such as [health], are the features' own to check). */
static void check_body(int kind, const char *body, int line)
{
        for (const char *p = body; (p = strchr(p, '@'));) {
                const char *end = strchr(p + 1, '@');
                CHECK(end != NULL);
                if (!end)
                        break;
                size_t n = (size_t)(end - p - 1);
                if (!field_of((enum guard_event)kind, p + 1, n))
                        fprintf(stderr, "catalog line %d: @%.*s@ is not a field of %s\n", line,
                                (int)n, p + 1, event_name((enum guard_event)kind));
                CHECK(field_of((enum guard_event)kind, p + 1, n));
                p = end + 1;
        }
        for (const char *p = body; (p = strchr(p, '['));) {
                const char *close = strchr(p, ']');
                if (!close)
                        break;
                size_t sn = (size_t)(close - p - 1);
                const char *key = close + 1;
                while (*key == ' ' || *key == '\n')
                        key++;
                size_t kn = 0;
                while (key[kn] == '_' || islower((unsigned char)key[kn]))
                        kn++;
                if (is_policy_section(p + 1, sn) && !is_policy_key(p + 1, sn, key, kn)) {
                        fprintf(stderr, "catalog line %d: [%.*s] %.*s is not a policy key\n", line,
                                (int)sn, p + 1, (int)kn, key);
                        CHECK(false);
                }
                p = close + 1;
        }
}

struct entry {
        enum { OUTSIDE, HEADERS, BODY } state;
        int kind;
        bool subject, defined_by, documentation;
        size_t body_chars;
        char body[8192];
};

static void finish_entry(struct entry *e, int line)
{
        if (e->state == OUTSIDE)
                return;
        if (!(e->subject && e->defined_by && e->documentation))
                fprintf(stderr,
                        "catalog entry before line %d: needs Subject, Defined-By: "
                        "gopls-guard and Documentation: man:...\n",
                        line);
        CHECK(e->subject && e->defined_by && e->documentation);
        CHECK(e->state == BODY && e->body_chars > 0);
        if (e->kind >= 0)
                check_body(e->kind, e->body, line);
}

static void test_catalog(void)
{
        char *text = slurp("units/gopls-guard.catalog");
        char *ids = slurp("src/systemd/message-ids.h");
        bool seen[GE__COUNT] = {0};
        int entries = 0, line = 0;

        if (!text || !ids)
                goto out;
        /* Every id the header defines is one of the events' ids. */
        int defines = 0;
        for (const char *p = ids; (p = strstr(p, "#define GG_MESSAGE_")); p++) {
                const char *q = strchr(p, '"');
                CHECK(q && is_id(q + 1, strspn(q + 1, "0123456789abcdef")));
                CHECK(q && kind_of_id(q + 1) >= 0);
                defines++;
        }
        CHECK_INT(defines, GE__COUNT);

        /* catalog.c: "-- ID [LANG]" opens an entry; then "Key: value"
         * headers up to an empty line; then the body up to the next entry.
         * Lines starting with '#' are comments. */
        struct entry e = {.kind = -1};
        for (char *l = text; l;) {
                char *nl = strchr(l, '\n');
                if (nl)
                        *nl = '\0';
                line++;
                if (strncmp(l, "-- ", 3) == 0) {
                        finish_entry(&e, line);
                        const char *id = l + 3;
                        size_t n = strcspn(id, " ");
                        if (!is_id(id, n))
                                fprintf(stderr, "catalog line %d: \"%s\" is not an entry id\n",
                                        line, l);
                        CHECK(is_id(id, n));
                        CHECK(id[n] == '\0'); /* no language variants */
                        e = (struct entry){.state = HEADERS, .kind = kind_of_id(id)};
                        if (e.kind < 0)
                                fprintf(stderr, "catalog line %d: %.32s is not in message-ids.h\n",
                                        line, id);
                        CHECK(e.kind >= 0);
                        if (e.kind >= 0) {
                                CHECK(!seen[e.kind]); /* one entry per id */
                                seen[e.kind] = true;
                        }
                        entries++;
                } else if (l[0] == '#') {
                        /* a comment */
                } else if (e.state == HEADERS) {
                        if (l[0] == '\0') {
                                e.state = BODY;
                        } else {
                                const char *colon = strstr(l, ": ");
                                size_t hn = colon ? (size_t)(colon - l) : 0;
                                bool ok = colon && hn > 0 && isalpha((unsigned char)l[0]) &&
                                          strspn(l, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq"
                                                    "rstuvwxyz0123456789-") == hn;
                                if (!ok)
                                        fprintf(stderr, "catalog line %d: bad header \"%s\"\n",
                                                line, l);
                                CHECK(ok);
                                e.subject |= strncmp(l, "Subject: ", 9) == 0 && strlen(l) > 9;
                                e.defined_by |= strcmp(l, "Defined-By: gopls-guard") == 0;
                                e.documentation |= strncmp(l, "Documentation: man:", 19) == 0;
                                if (strncmp(l, "Subject: ", 9) == 0)
                                        check_body(e.kind, l, line);
                        }
                } else if (e.state == BODY) {
                        strncat(e.body, l, sizeof e.body - strlen(e.body) - 2);
                        strcat(e.body, "\n");
                        e.body_chars += strlen(l);
                } else if (l[0] != '\0') {
                        fprintf(stderr, "catalog line %d: text outside an entry\n", line);
                        CHECK(false);
                }
                l = nl ? nl + 1 : NULL;
        }
        finish_entry(&e, line);
        CHECK_INT(entries, GE__COUNT);
        for (int k = 0; k < GE__COUNT; k++) {
                if (!seen[k])
                        fprintf(stderr, "the catalog has no entry for %s (%s)\n",
                                event_name((enum guard_event)k),
                                event_message_id((enum guard_event)k));
                CHECK(seen[k]);
        }
out:
        free(text);
        free(ids);
}

/* The checks above can fail: their pieces tell right from wrong. */
static void test_catalog_checks_bite(void)
{
        CHECK(!is_id("6F203FD3C855483A98E3DA330ED40F33", 32)); /* upper case */
        CHECK(!is_id("6f203fd3c855483a98e3da330ed40f3", 31));
        CHECK(is_id("6f203fd3c855483a98e3da330ed40f33", 32));
        CHECK(field_of(GE_OOM_KILL, "GOPLS_GUARD_MEMORY_PEAK", 23));
        CHECK(!field_of(GE_OOM_KILL, "GOPLS_GUARD_RESTART_DELAY_USEC", 30));
        CHECK(field_of(GE_RESTART, "GOPLS_GUARD_RESTART_DELAY_USEC", 30));
        CHECK(is_policy_section("memory", 6));
        CHECK(!is_policy_section("healthz", 7));
        CHECK(is_policy_key("restart", 7, "max_restarts", 12));
        CHECK(!is_policy_key("restart", 7, "give_up_after", 13));
}

int main(void)
{
        find_srcdir();
        RUN(test_names_and_ids);
        RUN(test_fields);
        RUN(test_catalog);
        RUN(test_catalog_checks_bite);
        return check_summary();
}

/* The status directory and files: each way another user could turn them
 * against their owner is refused, on fixture directories standing in for
 * $XDG_RUNTIME_DIR, /run/user, /run and /tmp.  The "owned by another user"
 * cases chown files, so they need root; without it they are skipped (and
 * the test exits 77 if everything else passed). */
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "status.h"
#include "util.h"

#define NOBODY 65534

static bool root_skipped;

static char *path_of(const char *dir, const char *name)
{
        static char buf[4][1024];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, sizeof buf[0], "%s/%s", dir, name);
        return p;
}

/* What `status` prints for uid with these places (the command must
 * succeed); free() it. */
static char *status_text(const struct status_places *pl, uid_t uid, enum status_output fmt,
                         const char *workspace)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        CHECK_INT(status_command_at(pl, NULL, uid, f, fmt, workspace), 0);
        fclose(f);
        return out;
}

/* A fresh fixture: BASE/{xdg (0700), run/user, run, tmp (1777)}. */
static char *fixture(struct status_places *pl)
{
        char *base = fake_dir();
        mkdir(path_of(base, "xdg"), 0700);
        mkdir(path_of(base, "run"), 0755);
        mkdir(path_of(base, "run/user"), 0755);
        mkdir(path_of(base, "tmp"), 0755);
        chmod(path_of(base, "tmp"), 01777);
        static char xdg[1024], run_user[1024], run[1024], tmp[1024];
        snprintf(xdg, sizeof xdg, "%s/xdg", base);
        snprintf(run_user, sizeof run_user, "%s/run/user", base);
        snprintf(run, sizeof run, "%s/run", base);
        snprintf(tmp, sizeof tmp, "%s/tmp", base);
        *pl = (struct status_places){.xdg = xdg, .run_user = run_user, .run = run, .tmp = tmp};
        return base;
}

static mode_t mode_of(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_choice(void)
{
        struct status_places pl;
        char *base = fixture(&pl), *dir = NULL, why[STATUS_WHY_MAX];
        uid_t me = geteuid();
        mode_t old = umask(022);

        /* A private XDG_RUNTIME_DIR: its gopls-guard/, created 0700. */
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        CHECK_STR(dir, path_of(pl.xdg, "gopls-guard"));
        CHECK_INT(mode_of(dir), 0700);
        free(dir);

        /* XDG_RUNTIME_DIR that others may enter is not used; /run/user/UID
         * is, when it is the user's and private. */
        chmod(pl.xdg, 0755);
        char user[64];
        snprintf(user, sizeof user, "run/user/%u", (unsigned)me);
        mkdir(path_of(base, user), 0700);
        dir = NULL;
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        CHECK_STR(dir, path_of(path_of(base, user), "gopls-guard"));
        free(dir);

        /* Neither: /tmp/gopls-guard-UID for a user, /run/gopls-guard for root. */
        rmdir(path_of(path_of(base, user), "gopls-guard"));
        rmdir(path_of(base, user));
        dir = NULL;
        /* (uid 4242 cannot own what this process creates: refused, naming it) */
        CHECK_INT(status_dir_at(&pl, NULL, 4242, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, path_of(pl.tmp, "gopls-guard-4242"));
        CHECK_CONTAINS(why, "belongs to uid");
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        if (me == 0)
                CHECK_STR(dir, path_of(pl.run, "gopls-guard"));
        else {
                char name[64];
                snprintf(name, sizeof name, "gopls-guard-%u", (unsigned)me);
                CHECK_STR(dir, path_of(pl.tmp, name));
        }
        CHECK_INT(mode_of(dir), 0700);
        free(dir);

        /* Even with a umask that takes the owner's bits, it ends up 0700. */
        umask(0777);
        dir = NULL;
        CHECK_INT(status_dir_at(&pl, path_of(base, "odd-umask"), me, true, &dir, why), 0);
        CHECK_INT(mode_of(path_of(base, "odd-umask")), 0700);
        free(dir);
        umask(old);

        /* status does not create it. */
        CHECK_INT(status_dir_at(&pl, path_of(base, "absent"), me, false, &dir, why), -ENOENT);
        CHECK(access(path_of(base, "absent"), F_OK) < 0);
        fake_rm_rf(base);
        free(base);
}

static void test_refusals(void)
{
        struct status_places pl;
        char *base = fixture(&pl), *dir = NULL, why[STATUS_WHY_MAX];
        uid_t me = geteuid();

        /* 0755: others could read the files. */
        mkdir(path_of(base, "open"), 0755);
        chmod(path_of(base, "open"), 0755);
        CHECK_INT(status_dir_at(&pl, path_of(base, "open"), me, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, path_of(base, "open"));
        CHECK_CONTAINS(why, "mode 0755");
        CHECK_CONTAINS(why, "chmod 700");

        /* A symlink where the directory should be (to a private one, even). */
        mkdir(path_of(base, "target"), 0700);
        CHECK_INT(symlink(path_of(base, "target"), path_of(base, "link")), 0);
        CHECK_INT(status_dir_at(&pl, path_of(base, "link"), me, true, &dir, why), -ELOOP);
        CHECK_CONTAINS(why, path_of(base, "link"));
        CHECK_CONTAINS(why, "symbolic link");
        /* ...also as the gopls-guard/ below XDG_RUNTIME_DIR. */
        CHECK_INT(symlink(path_of(base, "target"), path_of(pl.xdg, "gopls-guard")), 0);
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), -ELOOP);
        CHECK_CONTAINS(why, path_of(pl.xdg, "gopls-guard"));

        /* A file where the directory should be. */
        fake_write(base, "file", "x");
        CHECK_INT(status_dir_at(&pl, path_of(base, "file"), me, true, &dir, why), -ENOTDIR);
        CHECK_CONTAINS(why, "not a directory");
        fake_rm_rf(base);
        free(base);
}

static void test_other_owner(void)
{
        struct status_places pl;
        char *base, *dir = NULL, why[STATUS_WHY_MAX];

        if (geteuid() != 0) {
                root_skipped = true;
                return;
        }
        base = fixture(&pl);
        /* Another user pre-created /tmp/gopls-guard-UID (0700, theirs). */
        char name[64];
        snprintf(name, sizeof name, "gopls-guard-%u", 1000u);
        mkdir(path_of(pl.tmp, name), 0700);
        CHECK_INT(chown(path_of(pl.tmp, name), NOBODY, NOBODY), 0);
        CHECK_INT(status_dir_at(&pl, NULL, 1000, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, path_of(pl.tmp, name));
        CHECK_CONTAINS(why, "belongs to uid 65534, not to uid 1000");
        /* An XDG_RUNTIME_DIR of someone else is passed over, not used. */
        CHECK_INT(chown(pl.xdg, NOBODY, NOBODY), 0);
        CHECK_INT(status_dir_at(&pl, NULL, 0, true, &dir, why), 0);
        CHECK_STR(dir, path_of(pl.run, "gopls-guard"));
        free(dir);
        fake_rm_rf(base);
        free(base);
}

static struct status sample(pid_t pid, const char *ws)
{
        return (struct status){.guard_pid = pid,
                               .workspace = ws,
                               .command = "gopls",
                               .state = "running",
                               .server_pid = 1,
                               .generation = 1};
}

/* status --json and --openmetrics read proactive restarts from the file,
 * apart from the crash restarts. */
static void test_format_proactive(void)
{
        struct status s = sample(42, "/w");
        char *json = NULL;
        s.restarts = 1;
        s.proactive_restarts = 3;
        CHECK_INT(status_format(&s, &json), 0);
        CHECK_CONTAINS(json, "\"restarts\":1,");
        CHECK_CONTAINS(json, "\"proactive_restarts\":3");
        free(json);
}

static void test_write(void)
{
        struct status_places pl;
        char *base = fixture(&pl), *dir = NULL, why[STATUS_WHY_MAX];
        uid_t me = geteuid();
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        struct status s = sample(getpid(), "/w");

        /* A symlink planted at the temporary name: the victim stays as it was. */
        fake_write(base, "victim", "precious\n");
        CHECK_INT(symlink(path_of(base, "victim"), path_of(dir, "77.json.tmp")), 0);
        CHECK_INT(status_write(path_of(dir, "77.json"), &s), 0);
        char *text = NULL;
        CHECK_INT(read_file_at(AT_FDCWD, path_of(base, "victim"), &text, 100), 9);
        CHECK_STR(text, "precious\n");
        free(text);
        CHECK_INT(mode_of(path_of(dir, "77.json")), 0600);
        struct stat st;
        CHECK(lstat(path_of(dir, "77.json"), &st) == 0 && S_ISREG(st.st_mode));
        CHECK(access(path_of(dir, "77.json.tmp"), F_OK) < 0 && errno == ENOENT);

        /* The directory turned into a link after it was chosen: refused. */
        char moved[1100];
        snprintf(moved, sizeof moved, "%s.moved", dir);
        CHECK_INT(rename(dir, moved), 0);
        mkdir(path_of(base, "elsewhere"), 0700);
        CHECK_INT(symlink(path_of(base, "elsewhere"), dir), 0);
        CHECK_INT(status_write(path_of(dir, "78.json"), &s), -ELOOP);
        CHECK(access(path_of(base, "elsewhere/78.json"), F_OK) < 0);
        free(dir);
        fake_rm_rf(base);
        free(base);
}

static void on_alarm(int sig)
{
        (void)sig;
        static const char msg[] = "test-status: status blocked (on a FIFO?)\n";
        if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0)
                _exit(1);
        _exit(1);
}

static void test_read(void)
{
        struct status_places pl;
        char *base = fixture(&pl), *dir = NULL, why[STATUS_WHY_MAX];
        uid_t me = geteuid();
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);

        struct status s = sample(getpid(), "/good");
        char good[64];
        snprintf(good, sizeof good, "%d.json", (int)getpid());
        CHECK_INT(status_write(path_of(dir, good), &s), 0);
        /* A FIFO (opening it for reading would block), a link to another
         * file, and a directory, all named like status files. */
        CHECK_INT(mkfifo(path_of(dir, "1.json"), 0600), 0);
        fake_write(base, "secret", "{\"pid\":1,\"workspace\":\"/secret\"}");
        CHECK_INT(symlink(path_of(base, "secret"), path_of(dir, "2.json")), 0);
        mkdir(path_of(dir, "3.json"), 0700);

        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        signal(SIGALRM, on_alarm);
        alarm(20);
        CHECK_INT(status_command_at(&pl, NULL, me, f, true, NULL), 0);
        alarm(0);
        fclose(f);
        CHECK_CONTAINS(out, "\"workspace\":\"/good\"");
        CHECK(!strstr(out, "/secret"));
        free(out);
        free(dir);
        fake_rm_rf(base);
        free(base);
}

/* As root, `status` lists every user's guards, from directories that
 * belong to the uid they claim, and no others. */
static void test_root_lists_all(void)
{
        struct status_places pl;
        char *base, *dir = NULL, why[STATUS_WHY_MAX];

        if (geteuid() != 0) {
                root_skipped = true;
                return;
        }
        base = fixture(&pl);
        pl.xdg = NULL;
        struct status s;
        /* uid 1000 under /run/user, uid 1001 under /tmp: genuine. */
        mkdir(path_of(pl.run_user, "1000"), 0700);
        CHECK_INT(chown(path_of(pl.run_user, "1000"), 1000, 1000), 0);
        CHECK_INT(status_dir_at(&pl, path_of(pl.run_user, "1000/gopls-guard"), 0, true, &dir, why),
                  0);
        s = sample(getpid(), "/ws-1000");
        CHECK_INT(status_write(path_of(dir, "10.json"), &s), 0);
        CHECK_INT(chown(path_of(dir, "10.json"), 1000, 1000), 0);
        CHECK_INT(chown(dir, 1000, 1000), 0);
        free(dir);
        CHECK_INT(status_dir_at(&pl, path_of(pl.tmp, "gopls-guard-1001"), 0, true, &dir, why), 0);
        s = sample(getpid(), "/ws-1001");
        CHECK_INT(status_write(path_of(dir, "11.json"), &s), 0);
        CHECK_INT(chown(path_of(dir, "11.json"), 1001, 1001), 0);
        CHECK_INT(chown(dir, 1001, 1001), 0);
        free(dir);
        /* uid 1002's name, but nobody's directory: not listed. */
        CHECK_INT(status_dir_at(&pl, path_of(pl.tmp, "gopls-guard-1002"), 0, true, &dir, why), 0);
        s = sample(getpid(), "/ws-fake");
        CHECK_INT(status_write(path_of(dir, "12.json"), &s), 0);
        CHECK_INT(chown(dir, NOBODY, NOBODY), 0);
        free(dir);

        char *out = status_text(&pl, 0, true, NULL);
        CHECK_CONTAINS(out, "/ws-1000");
        CHECK_CONTAINS(out, "/ws-1001");
        CHECK(!strstr(out, "/ws-fake"));
        free(out);
        /* whose each guard is: a USER column, by name where uid has one */
        out = status_text(&pl, 0, STATUS_TEXT, NULL);
        CHECK_CONTAINS(out, " MAX       USER       WORKSPACE\n");
        for (unsigned u = 1000; u <= 1001; u++) {
                struct passwd *pw = getpwuid(u);
                char want[128];

                snprintf(want, sizeof want, " %-10s /ws-%u\n", pw ? pw->pw_name : "", u);
                if (!pw)
                        snprintf(want, sizeof want, " %-10u /ws-%u\n", u, u);
                CHECK_CONTAINS(out, want);
        }
        free(out);
        /* An ordinary user sees only their own. */
        out = status_text(&pl, 1001, true, NULL);
        CHECK_CONTAINS(out, "/ws-1001");
        CHECK(!strstr(out, "/ws-1000"));
        free(out);
        out = status_text(&pl, 1001, STATUS_TEXT, NULL);
        CHECK_CONTAINS(out, "/ws-1001");
        CHECK(!strstr(out, "USER"));
        free(out);
        fake_rm_rf(base);
        free(base);
}

/* A system unit (no XDG_RUNTIME_DIR) with RuntimeDirectory=gopls-guard/%i
 * writes into $RUNTIME_DIRECTORY itself when it is private and its own;
 * a user unit's XDG_RUNTIME_DIR still comes first. */
static void test_unit_runtime_directory(void)
{
        struct status_places pl;
        char *base = fixture(&pl), *dir = NULL, why[STATUS_WHY_MAX];
        uid_t me = geteuid();
        char unit[1024];

        mkdir(path_of(pl.run, "gopls-guard"), 0755);
        snprintf(unit, sizeof unit, "%s", path_of(pl.run, "gopls-guard/-src-k8s"));
        mkdir(unit, 0700);
        pl.unit_dir = unit;
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        CHECK_STR(dir, path_of(pl.xdg, "gopls-guard"));
        free(dir);
        pl.xdg = NULL;
        dir = NULL;
        CHECK_INT(status_dir_at(&pl, NULL, me, true, &dir, why), 0);
        CHECK_STR(dir, unit);
        free(dir);
        /* one others may enter is passed over, as XDG_RUNTIME_DIR is */
        chmod(unit, 0755);
        dir = NULL;
        int r = status_dir_at(&pl, NULL, me, true, &dir, why);
        CHECK(r < 0 || strcmp(dir, unit) != 0);
        free(dir);
        fake_rm_rf(base);
        free(base);
}

/* Root's `status` lists the system units' guards from
 * RUN/gopls-guard/ESC (owned by the unit's user), as that user; not from
 * a subdirectory others may enter, nor when RUN/gopls-guard itself is not
 * root's alone.  --openmetrics labels each guard with its user. */
static void test_root_lists_units(void)
{
        struct status_places pl;
        char *base, *dir = NULL, why[STATUS_WHY_MAX];
        struct status s;

        if (geteuid() != 0) {
                root_skipped = true;
                return;
        }
        base = fixture(&pl);
        pl.xdg = NULL;
        /* systemd made these: the socket directory 0755 root, a unit's
         * RuntimeDirectory= 0700 of its User= (here nobody) */
        mkdir(path_of(pl.run, "gopls-guard"), 0755);
        char unit[1024], open_unit[1024];
        snprintf(unit, sizeof unit, "%s", path_of(pl.run, "gopls-guard/-src-k8s"));
        snprintf(open_unit, sizeof open_unit, "%s", path_of(pl.run, "gopls-guard/-src-open"));
        CHECK_INT(status_dir_at(&pl, unit, 0, true, &dir, why), 0);
        s = sample(getpid(), "/src/k8s");
        CHECK_INT(status_write(path_of(dir, "20.json"), &s), 0);
        CHECK_INT(chown(path_of(dir, "20.json"), NOBODY, NOBODY), 0);
        CHECK_INT(chown(dir, NOBODY, NOBODY), 0);
        free(dir);
        CHECK_INT(status_dir_at(&pl, open_unit, 0, true, &dir, why), 0);
        s = sample(getpid(), "/src/open");
        CHECK_INT(status_write(path_of(dir, "21.json"), &s), 0);
        chmod(dir, 0755);
        free(dir);
        /* A unit that sets XDG_RUNTIME_DIR=%t/gopls-guard/%i: its guard
         * writes one level down, in gopls-guard/. */
        char nested[1024];
        snprintf(nested, sizeof nested, "%s", path_of(pl.run, "gopls-guard/-src-xdg"));
        mkdir(nested, 0700);
        CHECK_INT(status_dir_at(&pl, path_of(nested, "gopls-guard"), 0, true, &dir, why), 0);
        s = sample(getpid(), "/src/xdg");
        CHECK_INT(status_write(path_of(dir, "22.json"), &s), 0);
        CHECK_INT(chown(path_of(dir, "22.json"), NOBODY, NOBODY), 0);
        CHECK_INT(chown(dir, NOBODY, NOBODY), 0);
        CHECK_INT(chown(nested, NOBODY, NOBODY), 0);
        free(dir);
        /* a socket-like entry and a plain file beside them are ignored */
        fake_write(pl.run, "gopls-guard/-src-k8s.sock", "");

        char *out = status_text(&pl, 0, STATUS_JSON, NULL);
        CHECK_CONTAINS(out, "\"workspace\":\"/src/k8s\"");
        CHECK_CONTAINS(out, "\"workspace\":\"/src/xdg\"");
        CHECK(!strstr(out, "/src/open"));
        free(out);

        out = status_text(&pl, 0, STATUS_OPENMETRICS, "/src/k8s");
        char label[128];
        snprintf(label, sizeof label, "{workspace=\"/src/k8s\",user=\"nobody\",pid=\"%d\"}",
                 (int)getpid());
        CHECK_CONTAINS(out, label);
        CHECK_CONTAINS(out, "# EOF\n");
        free(out);

        /* RUN/gopls-guard writable by others: nothing in it is trusted. */
        chmod(path_of(pl.run, "gopls-guard"), 0777);
        out = status_text(&pl, 0, STATUS_JSON, NULL);
        CHECK(!strstr(out, "/src/k8s"));
        free(out);
        fake_rm_rf(base);
        free(base);
}

/* Which directories may others enter: a table of the pure rule. */
static void test_dir_mode_rule(void)
{
        static const struct {
                const char *path;
                uid_t uid;
                mode_t mode;
                const char *run;
                bool ok;
        } t[] = {
            {"/run/gopls-guard", 0, 0700, "/run", true},
            {"/run/gopls-guard", 0, 0755, "/run", true}, /* the socket unit's */
            {"/run/gopls-guard", 0, 0711, "/run", true},
            {"/run/gopls-guard", 0, 0775, "/run", false}, /* group may write */
            {"/run/gopls-guard", 0, 0757, "/run", false}, /* others may write */
            {"/run/gopls-guard", 0, 01777, "/run", false},
            {"/run/gopls-guard", 1000, 0755, "/run", false}, /* root's rule only */
            {"/run/gopls-guard", 0, 0755, NULL, false},      /* no exception asked */
            {"/run/gopls-guard/x", 0, 0755, "/run", false},  /* a subdirectory */
            {"/run/gopls-guardx", 0, 0755, "/run", false},
            {"/run/user/0/gopls-guard", 0, 0755, "/run", false},
            {"/tmp/gopls-guard", 0, 0755, "/run", false},
            {"/run/user/1000/gopls-guard", 1000, 0700, "/run", true},
            {"/run/user/1000/gopls-guard", 1000, 0750, "/run", false},
            {"/tmp/gopls-guard-1000", 1000, 0701, "/run", false},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                bool ok = status_dir_mode_ok(t[i].path, t[i].uid, t[i].mode, t[i].run);
                if (ok != t[i].ok)
                        printf("case %zu: %s uid %u mode %04o\n", i, t[i].path, (unsigned)t[i].uid,
                               (unsigned)t[i].mode);
                CHECK(ok == t[i].ok);
        }
}

/* Root's RUN/gopls-guard made 0755 by the system socket unit: a guard or
 * `serve` run by root outside a unit takes it, and its files stay 0600;
 * one that others may write is refused, naming the fix. */
static void test_root_system_dir(void)
{
        struct status_places pl;
        char *base, *dir = NULL, why[STATUS_WHY_MAX];

        if (geteuid() != 0) {
                root_skipped = true;
                return;
        }
        base = fixture(&pl);
        pl.xdg = NULL; /* root outside a session: RUN/gopls-guard */
        char *sys = strdup(path_of(pl.run, "gopls-guard"));
        CHECK_INT(mkdir(sys, 0755), 0);
        CHECK_INT(chmod(sys, 0755), 0);
        CHECK_INT(status_dir_at(&pl, NULL, 0, true, &dir, why), 0);
        CHECK_STR(dir, sys);
        free(dir);
        dir = NULL;
        /* Named outright, as serve names it for root. */
        CHECK_INT(status_dir_at(&pl, sys, 0, true, &dir, why), 0);
        free(dir);
        dir = NULL;
        CHECK_INT(mode_of(sys), 0755); /* left as the unit made it */
        struct status s = sample(getpid(), "/w");
        CHECK_INT(status_write_at(pl.run, path_of(sys, "30.json"), &s), 0);
        CHECK_INT(mode_of(path_of(sys, "30.json")), 0600);

        CHECK_INT(chmod(sys, 0775), 0);
        CHECK_INT(status_dir_at(&pl, NULL, 0, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, sys);
        CHECK_CONTAINS(why, "can be written by users other than root (mode 0775): chmod 755");
        CHECK_INT(status_write_at(pl.run, path_of(sys, "31.json"), &s), -EPERM);

        /* A user's directory (root's own elsewhere too) still needs 0700. */
        char *other = strdup(path_of(base, "gopls-guard"));
        CHECK_INT(mkdir(other, 0755), 0);
        CHECK_INT(chmod(other, 0755), 0);
        CHECK_INT(status_dir_at(&pl, other, 0, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, "can be entered by other users");
        char name[64];
        snprintf(name, sizeof name, "gopls-guard-%u", 1000u);
        CHECK_INT(mkdir(path_of(pl.tmp, name), 0755), 0);
        CHECK_INT(chmod(path_of(pl.tmp, name), 0755), 0);
        CHECK_INT(chown(path_of(pl.tmp, name), 1000, 1000), 0);
        CHECK_INT(status_dir_at(&pl, NULL, 1000, true, &dir, why), -EPERM);
        CHECK_CONTAINS(why, "can be entered by other users");
        free(other);
        free(sys);
        fake_rm_rf(base);
        free(base);
}

int main(void)
{
        RUN(test_choice);
        RUN(test_refusals);
        RUN(test_other_owner);
        RUN(test_format_proactive);
        RUN(test_write);
        RUN(test_read);
        RUN(test_root_lists_all);
        RUN(test_unit_runtime_directory);
        RUN(test_root_lists_units);
        RUN(test_dir_mode_rule);
        RUN(test_root_system_dir);
        int r = check_summary();
        if (r == 0 && root_skipped) {
                printf("SKIP: the cases with another user's files need root\n");
                return 77;
        }
        return r;
}

/* A guard running as root reads no policy file or directory that another
 * user owns or that group and others can write: real files, chowned to
 * nobody.  Needs root (chown); exits 77 (skipped) without it. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "fake.h"
#include "policy.h"

#define NOBODY 65534

static char *base;

static const char *at(const char *rel)
{
        static char buf[4][1024];
        static unsigned i;
        char *p = buf[i++ % 4];
        snprintf(p, sizeof buf[0], "%s/%s", base, rel);
        return p;
}

/* etc/gopls-guard/{policy.ini, policy.d/10-a.ini}, all root's and 0644/0755. */
static void make_etc(void)
{
        fake_rm_rf(base);
        free(base);
        base = fake_dir();
        mkdir(at("etc"), 0755);
        mkdir(at("etc/gopls-guard"), 0755);
        mkdir(at("etc/gopls-guard/policy.d"), 0755);
        fake_write(base, "etc/gopls-guard/policy.ini", "[limits]\nmemory.max = 8G\n");
        fake_write(base, "etc/gopls-guard/policy.d/10-a.ini", "[memory]\nhigh = 1G\n");
        fake_write(base, "user.ini", "[server]\nenv = LD_PRELOAD=/tmp/evil.so\n");
        chmod(at("etc/gopls-guard/policy.ini"), 0644);
        chmod(at("etc/gopls-guard/policy.d/10-a.ini"), 0644);
        chmod(at("user.ini"), 0644);
}

/* Load etc + user.ini as root would; the error in `err`. */
static int load(bool root_only, char err[POLICY_ERR_MAX])
{
        struct policy p;
        char *extra[] = {(char *)at("user.ini")};
        CHECK_INT(policy_init(&p), 0);
        p.root_only = root_only;
        int r = policy_load_all(&p, at("etc/gopls-guard"), NULL, extra, 1, err);
        policy_done(&p);
        return r;
}

static void test_trusted(void)
{
        char err[POLICY_ERR_MAX];
        make_etc();
        CHECK_INT(load(true, err), 0);
        /* A link (configuration tools make them) to a file of root's. */
        fake_write(base, "managed.ini", "[memory]\nmax = 4G\n");
        chmod(at("managed.ini"), 0644);
        unlink(at("etc/gopls-guard/policy.ini"));
        CHECK_INT(symlink(at("managed.ini"), at("etc/gopls-guard/policy.ini")), 0);
        CHECK_INT(load(true, err), 0);
}

static void test_refused(void)
{
        static const struct {
                const char *path; /* under base */
                uid_t uid;        /* chown to it, or (uid_t)-1 */
                mode_t mode;      /* chmod to it, or 0 */
                const char *says;
        } cases[] = {
            {"etc/gopls-guard/policy.ini", NOBODY, 0, "it belongs to uid 65534"},
            {"etc/gopls-guard/policy.ini", (uid_t)-1, 0664, "(mode 0664)"},
            {"etc/gopls-guard/policy.d/10-a.ini", NOBODY, 0, "it belongs to uid 65534"},
            {"etc/gopls-guard/policy.d/10-a.ini", (uid_t)-1, 0666, "(mode 0666)"},
            {"etc/gopls-guard/policy.d", NOBODY, 0, "policy directory as root: it belongs"},
            {"etc/gopls-guard/policy.d", (uid_t)-1, 0777, "(mode 0777)"},
            {"etc/gopls-guard", NOBODY, 0, "policy directory as root: it belongs"},
            {"etc/gopls-guard", (uid_t)-1, 0775, "(mode 0775)"},
            {"user.ini", NOBODY, 0, "it belongs to uid 65534"},
            {"user.ini", (uid_t)-1, 0622, "(mode 0622)"},
        };
        char err[POLICY_ERR_MAX], fix[2200];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                make_etc();
                const char *path = at(cases[i].path);
                if (cases[i].uid != (uid_t)-1)
                        CHECK_INT(chown(path, cases[i].uid, cases[i].uid), 0);
                if (cases[i].mode)
                        CHECK_INT(chmod(path, cases[i].mode), 0);
                err[0] = '\0';
                CHECK_INT(load(true, err), -EPERM);
                CHECK_CONTAINS(err, path);
                CHECK_CONTAINS(err, cases[i].says);
                snprintf(fix, sizeof fix, "chown root:root %s && chmod go-w %s", path, path);
                CHECK_CONTAINS(err, fix);
                /* Not as root: the same files are read. */
                CHECK_INT(load(false, err), 0);
        }

        /* A link to a file someone else owns: what it leads to counts. */
        make_etc();
        fake_write(base, "theirs.ini", "[memory]\nmax = 4G\n");
        CHECK_INT(chown(at("theirs.ini"), NOBODY, NOBODY), 0);
        unlink(at("etc/gopls-guard/policy.d/10-a.ini"));
        CHECK_INT(symlink(at("theirs.ini"), at("etc/gopls-guard/policy.d/10-a.ini")), 0);
        CHECK_INT(load(true, err), -EPERM);
        CHECK_CONTAINS(err, "it belongs to uid 65534");
}

int main(void)
{
        if (geteuid() != 0) {
                printf("SKIP: needs root to chown files to another user\n");
                return 77;
        }
        umask(022);
        RUN(test_trusted);
        RUN(test_refused);
        fake_rm_rf(base);
        free(base);
        return check_summary();
}

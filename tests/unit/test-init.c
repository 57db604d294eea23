/* init's pure parts (init.h): exit status mapping, forwarded signals, the
 * command line and USER.  The PID-1 duties themselves run for real in
 * tests/integration/init.sh and tests/vm/scenarios/container-*.sh. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"
#include "init.h"

static void test_exit_status(void)
{
        /* every exit code as it is, as tini's exhaustive test checks */
        for (int code = 0; code <= 255; code++)
                CHECK_INT(init_exit_status(W_EXITCODE(code, 0)), code);
        /* every signal as 128+n, a core dump or not */
        for (int sig = 1; sig < 65; sig++) {
                if (sig == SIGSTOP || sig == SIGCONT)
                        continue;
                CHECK_INT(init_exit_status(W_EXITCODE(0, sig)), 128 + sig);
                CHECK_INT(init_exit_status(W_EXITCODE(0, sig) | WCOREFLAG), 128 + sig);
        }
}

static void test_forwards(void)
{
        static const int yes[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
        static const int no[] = {SIGCHLD, SIGKILL, SIGSTOP, SIGTTOU, SIGPIPE, SIGALRM, 0};
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
                CHECK(init_forwards(yes[i]));
        for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
                CHECK(!init_forwards(no[i]));
}

static void test_args(void)
{
        static const struct {
                const char *argv[6];
                int r;
                const char *user, *cmd, *err;
                bool help;
        } t[] = {
            {{"init", "sleep", "1"}, 0, NULL, "sleep", NULL, false},
            {{"init", "--", "sleep"}, 0, NULL, "sleep", NULL, false},
            {{"init", "--user", "dev", "--", "sh"}, 0, "dev", "sh", NULL, false},
            {{"init", "--user=1000", "sh", "-c", "x"}, 0, "1000", "sh", NULL, false},
            /* after COMMAND everything is COMMAND's */
            {{"init", "sh", "--user", "x"}, 0, NULL, "sh", NULL, false},
            {{"init", "--", "--user"}, 0, NULL, "--user", NULL, false},
            {{"init", "--help"}, 0, NULL, NULL, NULL, true},
            {{"init"}, -EINVAL, NULL, NULL, "init needs a COMMAND to run", false},
            {{"init", "--"}, -EINVAL, NULL, NULL, "init needs a COMMAND to run", false},
            {{"init", "--user", "dev"}, -EINVAL, NULL, NULL, "init needs a COMMAND", false},
            {{"init", "--user"}, -EINVAL, NULL, NULL, "option --user needs a value", false},
            {{"init", "--user="}, -EINVAL, NULL, NULL, "option --user needs a value", false},
            {{"init", "-x", "sh"}, -EINVAL, NULL, NULL, "option -x is not known", false},
            {{"init", "--policy", "f", "sh"},
             -EINVAL,
             NULL,
             NULL,
             "option --policy is not known",
             false},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                int argc = 0;
                while (argc < 6 && t[i].argv[argc])
                        argc++;
                struct init_args a = {0};
                char err[256] = "";
                int r = init_parse_args(argc, (char **)t[i].argv, &a, err);
                if (r != t[i].r)
                        fprintf(stderr, "case %zu (%s)\n", i, err);
                CHECK_INT(r, t[i].r);
                if (r < 0) {
                        CHECK_CONTAINS(err, t[i].err);
                        continue;
                }
                CHECK_INT(a.help, t[i].help);
                if (t[i].user)
                        CHECK_STR(a.user, t[i].user);
                else
                        CHECK(a.user == NULL);
                if (t[i].cmd)
                        CHECK_STR(a.argv[0], t[i].cmd);
        }
}

static void test_user(void)
{
        uid_t u = 5;
        gid_t g = 5;
        CHECK_INT(init_resolve_user("root", &u, &g), 0);
        CHECK_INT(u, 0);
        CHECK_INT(g, 0);
        CHECK_INT(init_resolve_user("0", &u, &g), 0);
        CHECK_INT(u, 0);
        /* a uid nobody has in passwd: the group is left alone */
        CHECK_INT(init_resolve_user("3999999", &u, &g), 0);
        CHECK_INT(u, 3999999);
        CHECK_INT(g, (gid_t)-1);
        u = 5;
        CHECK_INT(init_resolve_user("", &u, &g), -EINVAL);
        CHECK_INT(init_resolve_user(NULL, &u, &g), -EINVAL);
        CHECK_INT(init_resolve_user("no-such-user-gopls-guard", &u, &g), -ENOENT);
        CHECK_INT(init_resolve_user("12ab", &u, &g), -ENOENT);
        CHECK_INT(init_resolve_user("4294967295", &u, &g), -ENOENT);
        CHECK_INT(init_resolve_user("-1", &u, &g), -ENOENT);
        CHECK_INT(u, 5); /* untouched on failure */
}

int main(void)
{
        RUN(test_exit_status);
        RUN(test_forwards);
        RUN(test_args);
        RUN(test_user);
        return check_summary();
}

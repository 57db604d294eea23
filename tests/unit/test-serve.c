/* test-serve.c — daemon mode's pure parts: the shared server's command
 * line and the socket's name. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "serve.h"

static void test_shared_argv(void)
{
        static const struct {
                const char *in[5];
                const char *out[8];
        } rows[] = {
                {{"gopls"}, {"gopls", "serve", "-listen=unix;/r/s.sock", "-listen.timeout=0"}},
                {{"/usr/bin/gopls", "-rpc.trace"},
                 {"/usr/bin/gopls", "serve", "-listen=unix;/r/s.sock", "-listen.timeout=0",
                  "-rpc.trace"}},
                /* [server] args = serve ...: not "serve serve" */
                {{"gopls", "serve", "-logfile=/tmp/l"},
                 {"gopls", "serve", "-listen=unix;/r/s.sock", "-listen.timeout=0",
                  "-logfile=/tmp/l"}},
        };
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
                char **a = serve_shared_argv((char *const *)rows[i].in, "/r/s.sock");
                CHECK(a != NULL);
                if (!a)
                        continue;
                size_t k = 0;
                for (; rows[i].out[k]; k++)
                        CHECK_STR(a[k], rows[i].out[k]);
                CHECK(a[k] == NULL);
                serve_shared_argv_free(a);
        }
}

static void test_socket_path(void)
{
        char *p = NULL;
        CHECK_INT(serve_socket_path("/run/user/1000/gopls-guard", "/home/u/my-proj", &p), 0);
        CHECK_STR(p, "/run/user/1000/gopls-guard/home-u-my\\x2dproj.sock");
        free(p);
        p = NULL;
        /* sun_path holds 107 bytes and a NUL: say so rather than cut it. */
        char ws[200] = "/";
        memset(ws + 1, 'w', 120);
        CHECK_INT(serve_socket_path("/run/user/1000/gopls-guard", ws, &p), -ENAMETOOLONG);
        CHECK(p == NULL);
        CHECK_INT(serve_socket_path("/run", "relative", &p), -EINVAL);
}

int main(void)
{
        RUN(test_shared_argv);
        RUN(test_socket_path);
        return check_summary();
}

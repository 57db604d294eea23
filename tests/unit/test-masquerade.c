/* test-masquerade.c — which gopls command lines the guard takes over when
 * it is invoked as gopls, and which go to the real gopls untouched. */
#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "masquerade.h"

#define MAX_ARGS 8

static void test_table(void)
{
        static const struct {
                const char *args[MAX_ARGS]; /* after argv[0], NULL-terminated */
                bool guarded;
        } cases[] = {
            /* a language server on stdio */
            {{NULL}, true},
            {{"serve", NULL}, true},
            {{"-mode=stdio", NULL}, true},
            {{"-mode", "stdio", NULL}, true},
            {{"--mode=stdio", NULL}, true},
            {{"-rpc.trace", NULL}, true},
            {{"-rpc.trace=false", NULL}, true},
            {{"-logfile=/tmp/gopls.log", "-rpc.trace", NULL}, true},
            {{"-logfile", "auto", "serve", NULL}, true},
            {{"-v", "serve", "-rpc.trace", NULL}, true},
            {{"-vv", "-profile.mem=/tmp/m", "serve", NULL}, true},
            {{"serve", "-mode=stdio", "-logfile", "-rpc.trace", NULL}, true}, /* a value */
            {{"-debug=localhost:0", NULL}, true},
            {{"serve", "-listen.timeout=1m", NULL}, true},
            {{"--", NULL}, true},
            {{"--", "serve", NULL}, true},
            {{"serve", "--", NULL}, true},
            /* gopls's other commands */
            {{"version", NULL}, false},
            {{"-v", "version", NULL}, false},
            {{"format", "x.go", NULL}, false},
            {{"help", NULL}, false},
            {{"help", "serve", NULL}, false},
            {{"bogus", NULL}, false},
            {{"api-json", NULL}, false},
            {{"--", "version", NULL}, false},
            {{"-", NULL}, false},
            /* flags that make it something else than a stdio server */
            {{"-remote=unix;/run/gopls.sock", NULL}, false},
            {{"-remote", "auto", NULL}, false},
            {{"--remote=auto", "serve", NULL}, false},
            {{"serve", "-listen=unix;/tmp/s", NULL}, false},
            {{"-listen", "unix;/tmp/s", NULL}, false},
            {{"-port=4389", NULL}, false},
            {{"serve", "-mcp.listen=localhost:0", NULL}, false},
            {{"-h", NULL}, false},
            {{"--help", NULL}, false},
            {{"serve", "-help", NULL}, false},
            /* what gopls itself refuses: its own message must show */
            {{"-no-such-flag", NULL}, false},
            {{"-logfile", NULL}, false},         /* needs a value */
            {{"-rpc.trace=maybe", NULL}, false}, /* not a boolean */
            {{"---v", NULL}, false},             /* bad flag syntax */
            {{"-=x", NULL}, false},
            {{"serve", "-v", NULL}, false},    /* an application flag after serve */
            {{"serve", "extra", NULL}, false}, /* serve takes no arguments */
            {{"serve", "serve", NULL}, false},
            {{"-mode=stdio", "version", NULL}, false},
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *argv[MAX_ARGS + 1] = {"gopls"};
                int argc = 1;
                for (const char *const *a = cases[i].args; *a; a++)
                        argv[argc++] = (char *)*a;
                bool got = masquerade_serves_stdio(argc, argv);
                if (got != cases[i].guarded) {
                        fprintf(stderr, "case %zu (", i);
                        for (int j = 1; j < argc; j++)
                                fprintf(stderr, "%s%s", j > 1 ? " " : "", argv[j]);
                        fprintf(stderr, "): want %s\n",
                                cases[i].guarded ? "guarded" : "the real gopls");
                }
                CHECK(got == cases[i].guarded);
        }
}

int main(void)
{
        RUN(test_table);
        return check_summary();
}

/* om-check.c — check OpenMetrics text on stdin with the rules of
 * tests/unit/om-check.h; prints "ok" or the first broken rule with its
 * line, and exits 0 or 1. */
#include <stdio.h>
#include <stdlib.h>

#include "../unit/om-check.h"

int main(void)
{
        char *text = NULL;
        size_t cap = 0, len = 0, n;
        char buf[65536];
        while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) {
                if (len + n + 1 > cap) {
                        cap = (len + n + 1) * 2;
                        char *t = realloc(text, cap);
                        if (!t)
                                return 2;
                        text = t;
                }
                memcpy(text + len, buf, n);
                len += n;
        }
        if (!text)
                text = calloc(1, 1);
        else
                text[len] = '\0';
        char err[512] = "";
        if (om_check(text, err, sizeof err) < 0) {
                printf("om-check: %s\n", err);
                return 1;
        }
        printf("ok\n");
        free(text);
        return 0;
}

/* policy-print.h — the printed policy (policy_print()) as a string, for
 * the policy tests to search; NULL (and a failed CHECK) if it could not be
 * printed.  The caller frees it.  Needs check.h and policy.h first. */
#pragma once

#include <stdio.h>

static inline char *print_policy(const struct policy *p)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        CHECK(f != NULL);
        if (!f)
                return NULL;
        CHECK_INT(policy_print(p, f), 0);
        fclose(f);
        return buf;
}

/* doctor.h — `gopls-guard doctor [--json] [WORKSPACE]`: the precheck a user
 * or CI runs before relying on the guard.
 *
 * Each check is a function that appends findings {id, status, message,
 * remedy}: ok, warning (works, but not as well as it could) or failure
 * (the guard or gopls will not work as meant).  Every warning and failure
 * carries a remedy.  Checks never change anything: the cgroup placement
 * is the guard's own decision (cgroup.h, scope.h) run dry, nothing is
 * created, no scope is asked for, the go command only reports (`go env`,
 * `go version`).
 *
 * The pure parts (version parsing, the gopls/Go support table, GOFLAGS)
 * are exported for the unit tests. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"
#include "roots.h"

enum doctor_status { DOCTOR_OK, DOCTOR_WARNING, DOCTOR_FAILURE };

#define DOCTOR_TEXT_MAX 1024

struct doctor_finding {
        char id[48];
        enum doctor_status status;
        char message[DOCTOR_TEXT_MAX];
        char remedy[DOCTOR_TEXT_MAX]; /* "" for ok */
};

struct doctor_options {
        const struct policy *policy; /* NULL when it did not load */
        const char *policy_error;    /* why not, when policy is NULL */
        const char *workspace;       /* NULL: the current directory */
        const struct guard_roots *roots;
        bool json;
        FILE *out;
};

/* Run every check and print the findings.  Returns the exit code: 0 when
 * nothing failed (warnings allowed), 1 on any failure. */
int doctor_run(const struct doctor_options *o);

/* "golang.org/x/tools/gopls v0.16.1" → 0, 16, 1; "go version go1.24.1
 * linux/amd64" / "go1.19.8" / "1.22" → 1, 24, 1.  Returns 0, or -EINVAL
 * when no version is found (Debian's gopls 0.5.0 says "master"). */
int doctor_parse_gopls_version(const char *text, int *major, int *minor, int *patch);
int doctor_parse_go_version(const char *text, int *major, int *minor, int *patch);

/* Whether gopls MAJOR.MINOR supports the go command 1.GO_MINOR, from the
 * table in doctor.c (gopls's own goversion.Supported).  Fills `why` and
 * returns DOCTOR_OK, DOCTOR_WARNING (works with warnings in the editor,
 * or gopls not in the table) or DOCTOR_FAILURE (gopls refuses that Go). */
enum doctor_status doctor_pair_support(int gopls_major, int gopls_minor, int go_minor, char *why,
                                       size_t len);

/* GOFLAGS as the go command parses it: space-separated flags, each
 * starting with '-'.  Returns DOCTOR_OK, DOCTOR_WARNING for a flag that
 * changes what gopls sees (-modfile=, -mod=mod), DOCTOR_FAILURE for text
 * the go command rejects; `why` says which. */
enum doctor_status doctor_goflags(const char *goflags, char *why, size_t len);

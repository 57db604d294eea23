#!/bin/bash
# roots.sh — the installed gopls-guard takes no root from the environment:
# GOPLS_GUARD_SYSCONFDIR must not replace /etc/gopls-guard (a user could drop
# the administrator's [limits]), GOPLS_GUARD_RUNTIME_DIR must not move the
# status files.  gopls-guard-test, built from the same sources for the tests,
# does honour them, which shows that the fixtures below are read at all.
# As root, policy files and directories of others, or writable by others,
# are refused.
#
#   roots.sh GOPLS_GUARD GOPLS_GUARD_TEST
set -u
guard=$1
guard_test=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir roots
lacks() { ! grep -qF -- "$2" "$1"; }

# A fake /etc whose policy sets a ceiling, and a user file above it.
mkdir -p "$work/etc/gopls-guard" "$work/config" "$work/run"
chmod 0700 "$work/run"
printf '[limits]\nmemory.max = 1G\n' >"$work/etc/gopls-guard/policy.ini"
printf '[memory]\nmax = 2G\nhigh = 1536M\n' >"$work/user.ini"
export XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/etc
export XDG_STATE_HOME=$work/state # incidents stay in the scratch directory

"$guard_test" check-policy --policy "$work/user.ini" >"$work/test.out" 2>"$work/test.err"
rc=$?
check "gopls-guard-test reads GOPLS_GUARD_SYSCONFDIR: the ceiling refuses 2G (exit $rc)" test "$rc" -eq 2
check "...naming the fake administrator file" has "$work/test.err" "$work/etc/gopls-guard/policy.ini"

"$guard" check-policy --policy "$work/user.ini" >"$work/inst.out" 2>"$work/inst.err"
rc=$?
check "gopls-guard ignores GOPLS_GUARD_SYSCONFDIR: the fake ceiling does not apply (exit $rc)" \
        lacks "$work/inst.err" "$work/etc"
check "...and check-policy shows no value from it" lacks "$work/inst.out" "$work/etc"
if [ ! -e /etc/gopls-guard ]; then
        check "...so the user's 2G stands (no /etc/gopls-guard here; exit $rc)" test "$rc" -eq 0
        check "...as printed" has "$work/inst.out" "max = 2G  ; from $work/user.ini:2"
fi

# A status file of a live process (this shell) in a directory that only
# GOPLS_GUARD_RUNTIME_DIR names.
printf '{"pid":%d,"workspace":"%s","state":"running","server_pid":0,"generation":1,"memory":{"current":0,"peak":0,"max":"max"}}\n' \
        $$ "$work/ws" >"$work/run/$$.json"
export XDG_RUNTIME_DIR=$work/xdg
mkdir -m 0700 "$work/xdg"
GOPLS_GUARD_RUNTIME_DIR=$work/run "$guard_test" status --json >"$work/status-test.out" 2>&1
check "gopls-guard-test reads GOPLS_GUARD_RUNTIME_DIR" has "$work/status-test.out" "\"workspace\":\"$work/ws\""
GOPLS_GUARD_RUNTIME_DIR=$work/run "$guard" status --json >"$work/status-inst.out" 2>&1
check "gopls-guard ignores GOPLS_GUARD_RUNTIME_DIR" lacks "$work/status-inst.out" "$work/ws"

# As root, a policy file someone else owns or may write is refused (the
# server's command and environment come from it), naming it and the fix.
if [ "$(id -u)" -eq 0 ]; then
        printf '[server]\nenv = LD_PRELOAD=/tmp/evil.so\n' >"$work/theirs.ini"
        chown 65534:65534 "$work/theirs.ini"
        "$guard" check-policy --policy "$work/theirs.ini" >/dev/null 2>"$work/theirs.err"
        rc=$?
        check "root: a policy file of uid 65534 is refused with exit 2 (got $rc)" test "$rc" -eq 2
        check "...naming it and the fix" has "$work/theirs.err" "chown root:root $work/theirs.ini && chmod go-w $work/theirs.ini"
        chown 0:0 "$work/theirs.ini"
        chmod 0666 "$work/theirs.ini"
        "$guard" check-policy --policy "$work/theirs.ini" >/dev/null 2>"$work/writable.err"
        rc=$?
        check "root: a policy file others may write is refused with exit 2 (got $rc)" test "$rc" -eq 2
        check "...saying so" has "$work/writable.err" "(mode 0666)"
        mkdir -p "$work/etc2/gopls-guard"
        chmod 0777 "$work/etc2/gopls-guard"
        GOPLS_GUARD_SYSCONFDIR=$work/etc2 "$guard_test" check-policy >/dev/null 2>"$work/etcdir.err"
        rc=$?
        check "root: an administrator directory others may write is refused (exit $rc)" test "$rc" -eq 2
        check "...naming it" has "$work/etcdir.err" "$work/etc2/gopls-guard: refusing"
else
        echo "SKIP the root-only checks (not root)"
fi

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
it_done

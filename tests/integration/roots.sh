#!/bin/bash
# roots.sh — the installed gopls-guard takes no root from the environment:
# GOPLS_GUARD_SYSCONFDIR must not replace /etc/gopls-guard (a user could drop
# the administrator's [limits]), GOPLS_GUARD_RUNTIME_DIR must not move the
# status files.  gopls-guard-test, built from the same sources for the tests,
# does honour them, which shows that the fixtures below are read at all.
#
#   roots.sh GOPLS_GUARD GOPLS_GUARD_TEST
set -u
guard=$1
guard_test=$2
work=$(mktemp -d /tmp/roots-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
check() { # check NAME COMMAND...
        if "${@:2}"; then
                echo "PASS $1"
                passed=$((passed + 1))
        else
                echo "FAIL $1"
                failed=$((failed + 1))
        fi
}
has() { grep -qF -- "$2" "$1"; }
lacks() { ! grep -qF -- "$2" "$1"; }

# A fake /etc whose policy sets a ceiling, and a user file above it.
mkdir -p "$work/etc/gopls-guard" "$work/config" "$work/run"
chmod 0700 "$work/run"
printf '[limits]\nmemory.max = 1G\n' >"$work/etc/gopls-guard/policy.ini"
printf '[memory]\nmax = 2G\nhigh = 1536M\n' >"$work/user.ini"
export XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/etc

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

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

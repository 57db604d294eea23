#!/bin/bash
# pins.sh — what a user sees from the command line when the administrator
# pinned keys in [limits]: check-policy shows the pins and ceilings next to
# each value; a user's policy file that sets a pinned key, --cgroup against
# a pinned [cgroup] path, and a COMMAND against a pinned [server] command
# are refused with exit 2, naming the administrator's file and line.
#
#   pins.sh GOPLS_GUARD_TEST
set -u
guard=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir pins
it_fixture_roots
mkdir -p "$work/etc/gopls-guard/policy.d"
export GOPLS_GUARD_SYSCONFDIR=$work/etc
etc=$work/etc/gopls-guard
cat >"$etc/policy.ini" <<'INI'
[memory]
max = 4G
[cgroup]
require = no
[limits]
memory.max = 6G
pin = cgroup.path, cgroup.require, server.command
INI
printf '[limits]\npin = memory.max\n' >"$etc/policy.d/10-host.ini"

"$guard" check-policy >"$work/show.out" 2>"$work/show.err"
rc=$?
check "check-policy with pins only in /etc succeeds (exit $rc)" test "$rc" -eq 0
check "...shows the pinned value, its origin, ceiling and pin" \
        has "$work/show.out" "max = 4G  ; from $etc/policy.ini:2; ceiling 6G from $etc/policy.ini:6; pinned in $etc/policy.d/10-host.ini:2"
check "...a pinned default as default" has "$work/show.out" "command = gopls  ; default; pinned in $etc/policy.ini:7"
check "...and the pins in [limits]" has "$work/show.out" "pin = cgroup.require  ; from $etc/policy.ini:7"

# The user's own file sets a pinned key.
mkdir -p "$XDG_CONFIG_HOME/gopls-guard"
printf '[memory]\nhigh = 1G\n[cgroup]\nrequire = no\n' >"$XDG_CONFIG_HOME/gopls-guard/policy.ini"
"$guard" check-policy >"$work/user.out" 2>"$work/user.err"
rc=$?
check "a user's policy.ini setting a pinned key is refused with exit 2 (got $rc)" test "$rc" -eq 2
check "...naming both files and lines" has "$work/user.err" \
        "gopls-guard: $XDG_CONFIG_HOME/gopls-guard/policy.ini:4: [cgroup] require: pinned by the administrator in $etc/policy.ini:7 ([limits] pin = cgroup.require), so it cannot be set here; remove this line"
rm "$XDG_CONFIG_HOME/gopls-guard/policy.ini"

# --policy files are users' files too.
printf '[memory]\nmax = 2G\n' >"$work/mine.ini"
"$guard" check-policy --policy "$work/mine.ini" >/dev/null 2>"$work/extra.err"
rc=$?
check "a --policy file setting a pinned key (even lower) is refused with exit 2 (got $rc)" test "$rc" -eq 2
check "...naming both" has "$work/extra.err" "$work/mine.ini:2: [memory] max: pinned by the administrator in $etc/policy.d/10-host.ini:2"

# The command line cannot go around a pin.
"$guard" --cgroup /sys/fs/cgroup/elsewhere -- true >/dev/null 2>"$work/cgroup.err"
rc=$?
check "--cgroup with [cgroup] path pinned is refused with exit 2 (got $rc)" test "$rc" -eq 2
check "...saying why" has "$work/cgroup.err" "gopls-guard: --cgroup: [cgroup] path is pinned by the administrator in $etc/policy.ini:7 ([limits] pin = cgroup.path); run without --cgroup"
"$guard" -- /bin/true >/dev/null 2>"$work/command.err"
rc=$?
check "a COMMAND with [server] command pinned is refused with exit 2 (got $rc)" test "$rc" -eq 2
check "...saying why" has "$work/command.err" "a COMMAND: [server] command is pinned by the administrator in $etc/policy.ini:7"
"$guard" serve --workspace "$work" --cgroup /sys/fs/cgroup/x >/dev/null 2>"$work/serve.err"
rc=$?
check "serve --cgroup with [cgroup] path pinned is refused with exit 2 (got $rc)" test "$rc" -eq 2

# Without the pins, the same command lines are accepted as far as the
# policy goes (the guard then runs /bin/true, degraded).
printf '[limits]\nmemory.max = 6G\n' >"$etc/policy.ini"
rm "$etc/policy.d/10-host.ini"
"$guard" -- /bin/true >/dev/null 2>"$work/free.err"
rc=$?
check "without pins a COMMAND runs (exit $rc)" test "$rc" -eq 0
"$guard" check-policy --policy "$work/mine.ini" >"$work/free.out" 2>&1
check "...and a user's lower memory.max is taken" has "$work/free.out" "max = 2G  ; from $work/mine.ini:2; ceiling 6G from $etc/policy.ini:2"

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
it_done

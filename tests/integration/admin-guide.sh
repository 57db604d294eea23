#!/bin/bash
# admin-guide.sh — docs/admin-guide.md stays true: the host policy it tells
# administrators to paste loads, check-policy shows its ceilings and pins,
# and the two error messages it quotes are what a user gets (the guide's
# paths replaced by this test's fixture paths).
#
#   admin-guide.sh GOPLS_GUARD_TEST SOURCE_DIR
set -u
guard=$1
src=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir admin-guide
guide=$src/docs/admin-guide.md
etc=$work/etc/gopls-guard
home=$work/home/alice/.config
mkdir -p "$etc/policy.d" "$home/gopls-guard"
export GOPLS_GUARD_SYSCONFDIR=$work/etc XDG_CONFIG_HOME=$home

# The heredoc after "tee /etc/gopls-guard/policy.d/50-host.ini".
sed -n "/tee \/etc\/gopls-guard\/policy.d\/50-host.ini .*<<'EOF'/,/^EOF\$/p" "$guide" | sed '1d;$d' \
        >"$etc/policy.d/50-host.ini"
check "the guide has the host policy to paste" test -s "$etc/policy.d/50-host.ini"
"$guard" check-policy >"$work/host.out" 2>"$work/host.err"
rc=$?
check "it loads (exit $rc)" test "$rc" -eq 0
check "...with its ceiling on memory.max" has "$work/host.out" "max = 4G  ; from $etc/policy.d/50-host.ini:5; ceiling 6G from $etc/policy.d/50-host.ini:"
check "...and its pin on cgroup.slice" has "$work/host.out" "slice = gopls.slice  ; from $etc/policy.d/50-host.ini:16; pinned in $etc/policy.d/50-host.ini:"

# quoted LINE_PREFIX: the guide's quoted message starting with it, with the
# guide's paths turned into this test's.
quoted() {
        grep -F "gopls-guard: /home/alice/.config/gopls-guard/policy.ini:$1" "$guide" | head -n 1 |
                sed -e "s|/home/alice/.config|$home|" -e "s|/etc/gopls-guard|$etc|"
}
printf '[memory]\nhigh = 2G\nmax = 12G\n' >"$home/gopls-guard/policy.ini"
"$guard" check-policy >/dev/null 2>"$work/ceiling.err"
want=$(quoted '3: [memory] max')
check "the guide quotes the ceiling error" test -n "$want"
check "...exactly as a user gets it" test "$(cat "$work/ceiling.err")" = "$want"
printf '[cgroup]\nslice = app.slice\n' >"$home/gopls-guard/policy.ini"
"$guard" check-policy >/dev/null 2>"$work/pin.err"
want=$(quoted '2: [cgroup] slice')
check "the guide quotes the pin error" test -n "$want"
check "...exactly as a user gets it" test "$(cat "$work/pin.err")" = "$want"

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
it_done

#!/bin/sh
# Through the gopls symlink to gopls-guard, a gopls invocation that does not
# serve LSP on stdio is the real gopls, untouched (DESIGN.md, Masquerade):
# `gopls version` prints byte for byte what the real gopls prints, with its
# exit status, and `gopls bogus` ends with the real gopls's status and
# stderr, never restarted.  The real gopls is the first one on PATH (run.sh
# --gopls-gen puts the generation's there; the shim directory is not on it).
#
#   masquerade-passthrough.sh SHIM     SHIM = the symlink named gopls
set -u
shim=$1
real=$(command -v gopls) || { echo "SKIP: no real gopls on PATH"; exit 77; }
case $real in "$(dirname "$shim")"/*) echo "masquerade-passthrough.sh: the shim is first on PATH" >&2; exit 2 ;; esac
command -v timeout >/dev/null 2>&1 || { echo "SKIP: timeout (coreutils) is missing"; exit 77; }
echo "real gopls: $real"

t=$(mktemp -d "${TMPDIR:-/tmp}/gopls-guard-e2e-passthrough.XXXXXX") || exit 1
trap 'rm -rf "$t"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

fails=0 passes=0
check() { # ok|bad NAME [DETAIL FILE]
    if [ "$1" = ok ]; then
        echo "PASS $2"; passes=$((passes + 1))
    else
        echo "FAIL $2"; fails=$((fails + 1))
        if [ -n "${3:-}" ] && [ -s "$3" ]; then echo "---- $3:"; head -c 2000 "$3"; echo "----"; fi
    fi
}

# stdin is a pipe that stays open, as an editor's (VS Code's Go extension
# runs `gopls version` with Node's execFile, which never closes it): a guard
# serving LSP would wait on it instead of ending at EOF.
mkfifo "$t/stdin" && exec 3<>"$t/stdin" || exit 1

# Runs `gopls ARG...` as PROG (the real one or the shim); bounded, so that a
# guard restarting it many times ends as a failure, not a hung test.
run() { # TAG PROG ARG...
    tag=$1 prog=$2; shift 2
    timeout -k 5 120 "$prog" "$@" <&3 >"$t/$tag.out" 2>"$t/$tag.err"
    echo $? >"$t/$tag.rc"
}

for cmd in version bogus; do
    run "real-$cmd" "$real" "$cmd"
    run "shim-$cmd" "$shim" "$cmd"
    rr=$(cat "$t/real-$cmd.rc") rs=$(cat "$t/shim-$cmd.rc")
    [ "$rr" = "$rs" ] && r=ok || r=bad
    check "$r" "gopls $cmd through the shim exits like the real gopls: $rs (real: $rr)" "$t/shim-$cmd.err"
    cmp -s "$t/real-$cmd.out" "$t/shim-$cmd.out" && r=ok || r=bad
    check "$r" "gopls $cmd through the shim prints the real gopls's stdout byte for byte ($(wc -c <"$t/shim-$cmd.out") bytes, real: $(wc -c <"$t/real-$cmd.out"))" "$t/shim-$cmd.out"
    # The same stderr: the guard said nothing and restarted nothing.
    cmp -s "$t/real-$cmd.err" "$t/shim-$cmd.err" && r=ok || r=bad
    check "$r" "gopls $cmd through the shim prints the real gopls's stderr, nothing more" "$t/shim-$cmd.err"
done
# The checks above must compare something real: version prints, bogus fails.
[ -s "$t/real-version.out" ] && [ "$(cat "$t/real-version.rc")" = 0 ] && r=ok || r=bad
check "$r" "the real gopls version prints $(head -1 "$t/real-version.out") and exits 0"
[ "$(cat "$t/real-bogus.rc")" != 0 ] && r=ok || r=bad
check "$r" "the real gopls bogus fails (status $(cat "$t/real-bogus.rc"))"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]

#!/bin/sh
# The gopls symlink to gopls-guard hands -remote (a forwarder to a daemon,
# not a server) to the real gopls untouched: the same output and exit status
# as the real gopls run directly.
set -u
shim=$1
command -v gopls >/dev/null 2>&1 || { echo "SKIP: no real gopls on PATH"; exit 77; }
want=$(gopls -remote='unix;/nonexistent/gopls.sock' </dev/null 2>&1)
wrc=$?
out=$("$shim" -remote='unix;/nonexistent/gopls.sock' </dev/null 2>&1)
rc=$?
fails=0
check() {
    if [ "$1" = ok ]; then echo "PASS $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi
}
[ "$rc" -eq "$wrc" ] && r=ok || r=bad
check "$r" "-remote: the real gopls's exit status ($rc = $wrc)"
[ "$out" = "$want" ] && r=ok || r=bad
check "$r" "-remote: the real gopls's output: $out"
# Without a real gopls further down PATH the shim must not run itself.
out=$(PATH=$(dirname "$shim") "$shim" version </dev/null 2>&1)
rc=$?
[ "$rc" -eq 2 ] && r=ok || r=bad
check "$r" "no other gopls on PATH: exit 2 (got $rc)"
case $out in *"no other gopls is on PATH"*) r=ok ;; *) r=bad ;; esac
check "$r" "and says so: $out"
echo "$((4 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]

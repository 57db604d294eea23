#!/bin/sh
# The gopls symlink to gopls-guard must refuse -remote (a forwarder would run
# the real server outside the guard's cgroup): exit 2 and say why, without
# starting anything.
set -u
shim=$1
command -v gopls >/dev/null 2>&1 || { echo "SKIP: no real gopls on PATH"; exit 77; }
out=$("$shim" -remote='unix;/nonexistent/gopls.sock' </dev/null 2>&1)
rc=$?
fails=0
check() {
    if [ "$1" = ok ]; then echo "PASS $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi
}
[ "$rc" -eq 2 ] && r=ok || r=bad
check "$r" "exit status 2 for -remote (got $rc)"
case $out in *"refusing '-remote"*"outside the guard's cgroup"*) r=ok ;; *) r=bad ;; esac
check "$r" "the message says why: $out"
# Without a real gopls further down PATH the shim must not run itself.
out=$(PATH=$(dirname "$shim") "$shim" version </dev/null 2>&1)
rc=$?
[ "$rc" -eq 2 ] && r=ok || r=bad
check "$r" "no other gopls on PATH: exit 2 (got $rc)"
case $out in *"no other gopls is on PATH"*) r=ok ;; *) r=bad ;; esac
check "$r" "and says so: $out"
echo "$((4 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]

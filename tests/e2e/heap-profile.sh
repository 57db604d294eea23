#!/bin/sh
# The real gopls through the guard, a whole editor session (lsp-client.mjs
# basic: initialize, edits, hover, definition, shutdown, exit): the guard
# asks gopls for its exit-time heap profile (-profile.mem, no port opened)
# and, at this graceful stop, keeps it as incidents/last-heap.pprof in the
# user's state directory (run.sh gives the run a fresh HOME).  The file
# must be a gzip'd pprof profile, 0600, in a 0700 directory.
#
#   heap-profile.sh GOPLS_GUARD
set -u
guard=$1
here=$(cd "$(dirname "$0")" && pwd)
[ -n "${HOME:-}" ] && case $HOME in /tmp/* | "${TMPDIR:-/tmp}"/*) ;; *) false ;; esac ||
    { echo "heap-profile.sh: run it through run.sh --gopls-gen (a scratch HOME)" >&2; exit 2; }
inc=$HOME/.local/state/gopls-guard/incidents
fails=0 passes=0
check() { # NAME CMD...
    n=$1
    shift
    if "$@"; then echo "PASS $n"; passes=$((passes + 1)); else echo "FAIL $n"; fails=$((fails + 1)); fi
}
node "$here/lsp-client.mjs" --timeout 60 --total-timeout 360 --scenario basic -- \
    "$guard" -- gopls
rc=$?
check "the editor session passes" [ "$rc" -eq 0 ]
p=$inc/last-heap.pprof
check "a heap profile was kept at the graceful stop" [ -s "$p" ]
magic=$(head -c 2 "$p" 2>/dev/null | od -An -tx1 | tr -d ' ')
check "it is gzip'd (pprof's format)" [ "$magic" = 1f8b ]
check "it is 0600 in a 0700 directory" [ "$(stat -c %a "$p" 2>/dev/null)$(stat -c %a "$inc")" = 600700 ]
check "no scratch profile is left behind" [ -z "$(find "$inc" -name '.heap-*')" ]
echo "figure: heap profile $(wc -c <"$p" 2>/dev/null || echo 0) bytes"
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]

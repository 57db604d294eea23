#!/bin/bash
# run.sh — every benchmark's figures, from an existing build directory.
# Builds nothing: build first, e.g.
#   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUARD_VM_TESTS=OFF
#   cmake --build build-bench
#   bash bench/run.sh build-bench [bench-proxy options...]
# Options after the build directory go to bench-proxy (-n, -k, -b, -w, -t, -m;
# see bench-proxy -h).  Lines starting with "BENCH " are machine-readable.
set -euo pipefail
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
        echo "usage: bash bench/run.sh BUILD_DIR [bench-proxy options...]" >&2
        exit 2
fi
build=$(cd "$1" && pwd)
shift

for f in gopls-guard gopls-guard-test tests/lsp-echo tests/leaker bench/plain-relay bench/bench-proxy \
        bench/bench-framing bench/bench-restart bench/bench-replay; do
        if [ ! -x "$build/$f" ]; then
                echo "run.sh: $build/$f is missing; build it first" >&2
                exit 1
        fi
done

status=0
echo "== bench-framing"
"$build/bench/bench-framing" || status=1
echo
echo "== bench-proxy"
"$build/bench/bench-proxy" "$@" "$build/gopls-guard-test" "$build/tests/lsp-echo" \
        "$build/bench/plain-relay" || status=1
echo
echo "== bench-replay (1000 documents, 50 MB of text: open direct / via the guard, replay)"
"$build/bench/bench-replay" "$build/gopls-guard-test" "$build/tests/lsp-echo" \
        "$build/bench/plain-relay" || status=1
echo
echo "== bench-restart (kill -> replacement running; native, degraded mode)"
"$build/bench/bench-restart" "$build/gopls-guard-test" "$build/tests/leaker" 100 || status=1

# The same open and replay with gopls as the server, where the guard's
# share of the open is what an editor would see.
echo
echo "== bench-replay with gopls as the server (1000 documents, 50 MB)"
if command -v gopls >/dev/null; then
        "$build/bench/bench-replay" "$build/gopls-guard-test" "$(command -v gopls)" || status=1
else
        echo "skipped: needs gopls"
fi

# Kill -> first answered request with real gopls: the e2e client's kill
# scenario through the guard with the shortest backoff (100ms), three times.  Needs gopls,
# go and node (as the e2e tier); skipped with a note otherwise.
echo
echo "== gopls: kill -> in-flight hover answered after replay (backoff 100ms)"
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if command -v gopls >/dev/null && command -v node >/dev/null &&
        [ -d "$top/tests/e2e/node_modules/vscode-jsonrpc" ]; then
        pol=$(mktemp)
        printf '[restart]\nbackoff_initial = 100ms\n[lsp]\nnotify = no\n' >"$pol"
        for i in 1 2 3; do
                "$top/tests/e2e/run.sh" --fresh-runtime-dir --scenario kill \
                        --server-pid-cmd "$top/tests/e2e/guard-server-pid.sh" \
                        -- "$build/gopls-guard" --policy "$pol" -- gopls 2>&1 |
                        grep -E '^BENCH|passed, [0-9]+ failed' || status=1
        done
        rm -f "$pol"
else
        echo "skipped: needs gopls, node and tests/e2e/node_modules (npm ci)"
fi
exit $status

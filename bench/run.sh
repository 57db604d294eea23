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

for f in gopls-guard tests/lsp-echo bench/plain-relay bench/bench-proxy bench/bench-framing; do
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
"$build/bench/bench-proxy" "$@" "$build/gopls-guard" "$build/tests/lsp-echo" \
        "$build/bench/plain-relay" || status=1
exit $status

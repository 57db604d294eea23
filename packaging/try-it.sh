#!/bin/bash
# try-it.sh — the guard's main job, from a fresh Debian 12 machine: install
# the dependencies, build gopls-guard, and run a real gopls session through
# it.  The session is driven by a real LSP client (vscode-jsonrpc, the
# library VS Code's client is built on): it opens a Go file, edits it
# without saving, asks for hover and definition, then gopls is SIGKILLed
# twice (once with a request in flight) and the same questions are asked
# again.  The guard restarts gopls and replays the session, so the answers
# on the unsaved text stay right and no request goes unanswered.
#
#   bash ./packaging/try-it.sh               # everything, as root
#   SKIP_DEPS=1 bash ./packaging/try-it.sh   # deps already installed
#
# On a machine whose memory controller is on cgroup v1 (or without a
# delegated cgroup) the guard says so and runs degraded; the session
# restore works the same.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

if [ -z "${SKIP_DEPS:-}" ]; then
        bash packaging/install-deps.sh
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" --target gopls-guard
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

echo
echo "== a gopls session through build/gopls-guard (gopls is killed twice on the way) =="
exec tests/e2e/run.sh --fresh-runtime-dir --verbose --scenario kill \
        --server-pid-cmd "$top/tests/e2e/guard-server-pid.sh" \
        -- "$top/build/gopls-guard" -- gopls

#!/bin/sh
# End-to-end test runner: real gopls driven by tests/e2e/lsp-client.mjs.
#
#   run.sh [--fresh-runtime-dir] [CLIENT OPTIONS] -- SERVER [ARG...]
#
# Installs nothing system-wide.  Exits 77 (skip) with a reason when node,
# gopls or go is missing, or when vscode-jsonrpc is not installed and
# `npm ci` cannot install it.  --fresh-runtime-dir exports
# XDG_RUNTIME_DIR as a new empty 0700 directory, removed afterwards.
# Everything else goes to lsp-client.mjs (see the top of that file).
set -u

here=$(cd "$(dirname "$0")" && pwd)

skip() {
    echo "SKIP: $*"
    exit 77
}

for tool in node gopls go; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool not found on PATH (Debian: apt-get install nodejs gopls golang-go)"
done
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
    skip "node $(node --version) is too old (need 18 or newer)"

# vscode-jsonrpc, pinned by package-lock.json; installed once per checkout.
if [ ! -f "$here/node_modules/vscode-jsonrpc/package.json" ]; then
    command -v npm >/dev/null 2>&1 ||
        skip "vscode-jsonrpc is not installed in $here/node_modules and npm is missing"
    lock="${TMPDIR:-/tmp}/gopls-guard-e2e-npm-ci.lock"
    (
        # Tests may start in parallel: one npm ci at a time.
        if command -v flock >/dev/null 2>&1; then
            exec 9>"$lock" && flock -w 300 9
        fi
        if [ ! -f "$here/node_modules/vscode-jsonrpc/package.json" ]; then
            echo "run.sh: npm ci in $here"
            cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error
        fi
    ) || skip "npm ci failed in $here (registry unreachable?): vscode-jsonrpc is missing"
fi

if [ "${1:-}" = "--fresh-runtime-dir" ]; then
    shift
    XDG_RUNTIME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gopls-guard-e2e-runtime.XXXXXX") || exit 1
    export XDG_RUNTIME_DIR
    trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
    trap 'exit 143' TERM
    trap 'exit 130' INT
fi

node "$here/lsp-client.mjs" "$@"

#!/bin/sh
# End-to-end test runner: real gopls driven by tests/e2e/lsp-client.mjs.
#
#   run.sh [--gopls-gen 0.5|0.16] [--masquerade DIR] [--fresh-runtime-dir]
#          [CLIENT OPTIONS] -- SERVER [ARG...]
#
# Installs nothing system-wide.  Exits 77 (skip) with a reason when node,
# gopls or go is missing, or when vscode-jsonrpc is not installed and
# `npm ci` cannot install it.
#
# --gopls-gen GEN runs the server with that gopls generation (set up by
# `gopls-gen.sh setup GEN`, see there): its gopls and go first on PATH, its
# GOROOT, GOTOOLCHAIN=local, and a fresh HOME, GOPATH, GOCACHE and GOPLSCACHE
# so that the machine's caches are neither used nor written.  Skips when GEN
# is not set up.  --masquerade DIR puts DIR (a `gopls` symlink to the guard)
# in front of that.  --fresh-runtime-dir points XDG_RUNTIME_DIR at a new empty
# 0700 directory, where the guard keeps its status file.  Each of these is
# removed afterwards.  The guard reads a user policy of the run's own
# ([cgroup] scope = no).  Everything else goes to lsp-client.mjs (see the top of
# that file); with --exec, to the command after it instead.
set -u

here=$(cd "$(dirname "$0")" && pwd)

skip() {
    echo "SKIP: $*"
    exit 77
}

gen='' shim='' fresh='' exec_cmd=''
while [ $# -gt 0 ]; do
    case $1 in
    --gopls-gen) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; gen=$2; shift 2 ;;
    --masquerade) [ $# -ge 2 ] || { echo "run.sh: $1 needs a value" >&2; exit 2; }; shim=$2; shift 2 ;;
    --fresh-runtime-dir) fresh=1; shift ;;
    --exec) exec_cmd=1; shift; break ;;
    *) break ;;
    esac
done

scratch=
cleanup() { [ -n "$scratch" ] && rm -rf "$scratch"; }
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
scratch=$(mktemp -d "${TMPDIR:-/tmp}/gopls-guard-e2e-run.XXXXXX") || exit 1
# Tests create nothing in the machine's cgroup hierarchies: the guard must
# not ask the machine's systemd for a transient scope ([cgroup] scope = no,
# in a user policy of the test's own; the machine's /etc policy still applies).
mkdir -p "$scratch/config/gopls-guard" || exit 1
printf '[cgroup]\nscope = no\n' >"$scratch/config/gopls-guard/policy.ini" || exit 1
XDG_CONFIG_HOME=$scratch/config
export XDG_CONFIG_HOME

if [ -n "$gen" ]; then
    genenv=$("$here/gopls-gen.sh" env "$gen")
    rc=$?
    [ $rc -eq 0 ] || { echo "$genenv"; exit $rc; }
    eval "$genenv"
    PATH=$GEN_BIN:$PATH
    GOROOT=$GEN_GOROOT
    GOTOOLCHAIN=local
    HOME=$scratch/home GOPATH=$scratch/gopath GOCACHE=$scratch/gocache GOPLSCACHE=$scratch/goplscache
    mkdir -p "$HOME" "$GOPATH" "$GOCACHE" "$GOPLSCACHE" || exit 1
    export PATH GOROOT GOTOOLCHAIN HOME GOPATH GOCACHE GOPLSCACHE
    # XDG_CACHE_HOME would move gopls's file cache back to the machine's.
    # XDG_STATE_HOME would put the guard's incidents in the machine's home.
    unset XDG_CACHE_HOME XDG_STATE_HOME STATE_DIRECTORY GOFLAGS GOENV
    echo "run.sh: gopls $gen ($GEN_GOPLS_VERSION, $GEN_GO_VERSION) from $GEN_BIN"
fi
if [ -n "$shim" ]; then
    [ -x "$shim/gopls" ] || { echo "run.sh: no gopls in $shim" >&2; exit 2; }
    PATH=$shim:$PATH
    export PATH
fi
if [ -n "$fresh" ]; then
    # The guard keeps RUNTIME/gopls-guard/<guard pid>.json; a private XDG
    # runtime dir keeps each test's status files apart.
    XDG_RUNTIME_DIR=$scratch/runtime
    mkdir -m 0700 "$XDG_RUNTIME_DIR" || exit 1
    export XDG_RUNTIME_DIR
    unset GOPLS_GUARD_RUNTIME_DIR
fi

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

if [ -n "$exec_cmd" ]; then
    "$@"
else
    node "$here/lsp-client.mjs" "$@"
fi

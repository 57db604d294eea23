#!/bin/bash
# run-all.sh — the whole test suite, from a fresh Debian 12 machine:
# installs the dependencies, builds with -Werror, runs every tier through
# ctest (unit, real kernels in qemu, end to end with real gopls), then the
# unit tier again under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   bash ./tests/run-all.sh             # everything, as root
#   SKIP_DEPS=1 bash ./tests/run-all.sh # deps already installed
#
# Downloads (the VM tier's kernels, Debian 13 packages) are kept outside the
# clone in $GUARD_CACHE_DIR (default /var/cache/gopls-guard-ci as root,
# ~/.cache/gopls-guard otherwise), so that CI's fresh clone reuses them.
# Convention for every tier that fetches something: tests/debian-pkg.sh keeps
# its private apt state in GUARD_CACHE_DIR/apt/SUITE and verified .debs in
# GUARD_CACHE_DIR/debs; what a tier unpacks from them goes into its own
# GUARD_CACHE_DIR/NAME/KEY (kernels/DEB_SHA256 for the VM tier), keyed by
# content and checked on use.
#
# With CI=true (.ci/run sets it), a VM test that was skipped fails the run:
# ctest counts a skip (exit 77) as passed, and the real-kernel (vm/) and
# real-systemd (systemd/) tiers must really run in CI.  Each phase's wall
# time is printed at the end.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

if [ -z "${GUARD_CACHE_DIR:-}" ]; then
        if [ "$(id -u)" -eq 0 ]; then
                GUARD_CACHE_DIR=/var/cache/gopls-guard-ci
        else
                GUARD_CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/gopls-guard
        fi
fi
export GUARD_CACHE_DIR
mkdir -p "$GUARD_CACHE_DIR"

phases=()
t_phase=$SECONDS
phase_done() {
        phases+=("$(printf '%-28s %4d s' "$1" $((SECONDS - t_phase)))")
        t_phase=$SECONDS
}
report_phases() {
        echo "run-all: wall time per phase"
        printf '  %s\n' "${phases[@]}"
        printf '  %-28s %4d s\n' total "$SECONDS"
}
trap report_phases EXIT

if [ -z "${SKIP_DEPS:-}" ]; then
        bash packaging/install-deps.sh
fi
phase_done "dependencies"

# The LSP client library for the end-to-end tier, pinned by its lock file;
# installed here so that a failure is loud rather than a skipped tier.
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
phase_done "npm ci"

# failed_tails LOG: for each test that ctest's LOG records as failed, its
# name and the last 30 lines of its output.
failed_tails() {
        awk '
                /^[0-9]+\/[0-9]+ Test: / { name = $0; sub(/^[0-9]+\/[0-9]+ Test: /, "", name); n = 0; inout = 0; next }
                /^Output:$/ { inout = 1; getline; next }
                /^<end of output>$/ { inout = 0; next }
                inout { buf[n++] = $0; next }
                /^Test Failed/ {
                        print "run-all: " name " failed; the end of its output:"
                        for (i = (n > 30 ? n - 30 : 0); i < n; i++) print "  | " buf[i]
                }' "$1"
}

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUARD_WERROR=ON
cmake --build build -j "$jobs"
phase_done "build"

# ctest starts the longest tests first when it knows their times from an
# earlier run; a fresh clone does not, so the times are kept in the cache.
costs=build/Testing/Temporary/CTestCostData.txt
if [ -s "$GUARD_CACHE_DIR/ctest/CTestCostData.txt" ] && [ ! -s "$costs" ]; then
        mkdir -p "$(dirname "$costs")" && cp "$GUARD_CACHE_DIR/ctest/CTestCostData.txt" "$costs"
fi
junit=$top/build/ctest-junit.xml
rc=0
ctest --test-dir build -j "$jobs" --output-on-failure --output-junit "$junit" || rc=$?
if [ -s "$costs" ]; then
        mkdir -p "$GUARD_CACHE_DIR/ctest" && cp "$costs" "$GUARD_CACHE_DIR/ctest/CTestCostData.txt"
fi
phase_done "ctest (all tiers)"
if [ "$rc" -ne 0 ]; then
        # ctest printed each failure's output where the test ended, which a
        # long log buries; the end of each one again, last, where it is read.
        failed_tails build/Testing/Temporary/LastTest.log >&2 || true
        exit "$rc"
fi

# tests_of STATUS LABEL_PREFIX: names of the junit test cases under
# LABEL_PREFIX (a name prefix, e.g. vm/) that ctest reported with STATUS
# (run, notrun, fail, disabled).
tests_of() {
        awk -v st="$1" -v pre="$2" '
                /<testcase / {
                        name = $0; sub(/.*<testcase name="/, "", name); sub(/".*/, "", name)
                        s = $0; sub(/.*status="/, "", s); sub(/".*/, "", s)
                        if (index(name, pre) == 1 && s == st) print name
                }' "$junit"
}
if [ "${CI:-}" = true ]; then
        # The real-kernel tier (vm/) and the real-systemd tier (systemd/).
        for tier in vm/ systemd/; do
                if [ -z "$(tests_of run "$tier")" ]; then
                        echo "run-all: CI: no ${tier%/} test ran (is GUARD_VM_TESTS off, or qemu missing?)" >&2
                        exit 1
                fi
                skipped=$(tests_of notrun "$tier"; tests_of disabled "$tier")
                if [ -n "$skipped" ]; then
                        echo "run-all: CI: these ${tier%/} tests were skipped; the VM tiers must run in CI:" >&2
                        printf '  %s\n' $skipped >&2
                        echo "why:" >&2
                        grep -h 'SKIP' build/Testing/Temporary/LastTest*.log | sort -u | sed 's/^/  /' >&2 || true
                        exit 1
                fi
        done
fi

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGUARD_WERROR=ON -DGUARD_SANITIZE=ON \
        -DGUARD_VM_TESTS=OFF
cmake --build build-asan -j "$jobs"
phase_done "build (ASan/UBSan)"
# unit, integration and e2e: the relay and session under real traffic and kills
ctest --test-dir build-asan -j "$jobs" -L "unit|integration|e2e" --output-on-failure
phase_done "ctest (ASan/UBSan)"

#!/bin/bash
# run-all.sh — the whole test suite, from a fresh Debian 12 machine:
# installs the dependencies, builds with -Werror, runs every tier through
# ctest (unit, real kernel in qemu, end to end with real gopls), then the
# unit tier again under AddressSanitizer and UndefinedBehaviorSanitizer.
#
#   bash ./tests/run-all.sh             # everything, as root
#   SKIP_DEPS=1 bash ./tests/run-all.sh # deps already installed
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"

if [ -z "${SKIP_DEPS:-}" ]; then
        bash packaging/install-deps.sh
fi

# The LSP client library for the end-to-end tier, pinned by its lock file;
# installed here so that a failure is loud rather than a skipped tier.
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUARD_WERROR=ON
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGUARD_WERROR=ON -DGUARD_SANITIZE=ON \
        -DGUARD_VM_TESTS=OFF
cmake --build build-asan -j "$jobs"
# unit, integration and e2e: the relay and session under real traffic and kills
ctest --test-dir build-asan -j "$jobs" -L "unit|integration|e2e" --output-on-failure

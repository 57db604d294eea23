#!/bin/sh
# run-fuzz.sh BINARY SEEDS WORKDIR RUNS [libFuzzer options...]
#
# One bounded libFuzzer run for ctest: a fixed number of inputs (never a
# time limit, so a slow machine gives the same coverage, only later) and a
# fixed seed, so that a failure seen once is seen again.  New inputs go to
# WORKDIR, emptied first, never to the seed corpus in the source tree;
# crash inputs go to WORKDIR-artifacts/, which is kept.  libFuzzer's own
# failure code is 77, which ctest would take for "skipped": it is set to 1.
set -eu

bin=$1 seeds=$2 work=$3 runs=$4
shift 4

if [ ! -x "$bin" ]; then
        echo "skipped: $bin is not built (build the fuzz targets first)"
        exit 77
fi
rm -rf "$work"
mkdir -p "$work" "$work-artifacts"
# The same inputs in the same order on every run and machine, so that CI
# repeats exactly what passed: -seed=1; -reload=0 (libFuzzer otherwise
# re-reads its corpus every second, so what it tries depends on how loaded
# the machine is); and no address randomization (the session's jansson
# objects and the sanitizers' allocator otherwise vary the paths taken).
norand=
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
        norand="setarch $(uname -m) -R"
fi
exec $norand "$bin" -runs="$runs" -seed=1 -reload=0 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -error_exitcode=1 -timeout_exitcode=1 \
        -artifact_prefix="$work-artifacts/" "$@" "$work" "$seeds"

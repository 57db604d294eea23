#!/bin/sh
# run-fuzz.sh BINARY SEEDS WORKDIR RUNS [libFuzzer options...]
#
# One bounded libFuzzer run for ctest: a fixed number of inputs (never a
# time limit, so a slow machine gives the same coverage, only later) and a
# fixed seed, so that runs on one machine repeat each other.  New inputs go
# to WORKDIR, emptied first, never to the seed corpus in the source tree;
# crash inputs go to WORKDIR-artifacts/, emptied first too and kept after,
# and each is printed at the end of a failed run.  libFuzzer's own failure
# code is 77, which ctest would take for "skipped": it is set to 1.
set -eu

bin=$1 seeds=$2 work=$3 runs=$4
shift 4

if [ ! -x "$bin" ]; then
        echo "skipped: $bin is not built (build the fuzz targets first)"
        exit 77
fi
rm -rf "$work" "$work-artifacts"
mkdir -p "$work" "$work-artifacts"
# The same inputs in the same order on every run and machine, so that CI
# repeats exactly what passed: -seed=1; -reload=0 (libFuzzer otherwise
# re-reads its corpus every second, so what it tries depends on how loaded
# the machine is); and the same addresses, since libFuzzer also tries the
# values the program compares, pointers among them: no address
# randomization (the session's jansson objects and the sanitizers'
# allocator otherwise vary the paths taken), and the same stack, which
# holds the arguments and the environment: relative paths from the
# binary's directory (the same in every checkout) and a fixed environment.
norand=
if command -v setarch >/dev/null && setarch "$(uname -m)" -R true 2>/dev/null; then
        norand="setarch $(uname -m) -R"
fi
symbolizer=$(command -v llvm-symbolizer || true)
rel() { realpath -m --relative-to=. "$1"; }
cd "$(dirname "$bin")"
for a; do
        shift
        case $a in -dict=*) a=-dict=$(rel "${a#-dict=}") ;; esac
        set -- "$@" "$a"
done
rc=0
env -i PATH=/usr/bin:/bin ${symbolizer:+ASAN_SYMBOLIZER_PATH=$symbolizer} \
        $norand "./$(basename "$bin")" -runs="$runs" -seed=1 -reload=0 -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
        -artifact_prefix="$(rel "$work-artifacts")/" "$@" "$(rel "$work")" "$(rel "$seeds")" || rc=$?
if [ "$rc" -ne 0 ]; then
        # The run depends on more than its seed (libFuzzer takes values from
        # the program's comparisons, stack and heap addresses among them), so
        # another machine may not come upon the same input: each one found
        # goes into the log, whole, last.
        for a in "$work-artifacts"/*; do
                [ -f "$a" ] || continue
                echo "run-fuzz: $(basename "$a"), $(wc -c <"$a") bytes; to run it again:"
                echo "  echo $(gzip -9nc <"$a" | base64 -w0) | base64 -d | gunzip >input && $bin input"
        done
fi
exit "$rc"

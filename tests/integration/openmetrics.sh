#!/bin/bash
# openmetrics.sh — `gopls-guard status --openmetrics` of running guards:
# valid OpenMetrics (checked by tests/unit/om-check.h's rules through the
# om-check helper), one sample per guard per family labelled with its
# workspace, its user (the status file's owner) and its pid, and "# EOF"
# last; with a WORKSPACE, only that guard.  Degraded mode, fixture roots.
# With NODE_EXPORTER set (integration/openmetrics-node-exporter), the
# output is also read by node_exporter's textfile collector.
#
#   openmetrics.sh GOPLS_GUARD_TEST LSP_ECHO OM_CHECK
set -u
guard=$1
echo_server=$2
om_check=$3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir openmetrics
it_fixture_roots
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
printf '[lsp]\nnotify = no\n[log]\ntarget = stderr\n[cpu]\nsample_interval = 100ms\n[memory]\nmax = 3G\nhigh = max\n' >"$work/p.ini"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'

# Two guards on two workspaces, kept running by open pipes.
for ws in a 'b "quoted"'; do
        mkdir -p "$work/$ws"
        mkfifo "$work/$ws/in"
        "$guard" --policy "$work/p.ini" --workspace "$work/$ws" -- "$echo_server" \
                <"$work/$ws/in" >/dev/null 2>"$work/$ws/err" &
        pids+=($!)
done
exec 7>"$work/a/in" 8>"$work/b \"quoted\"/in"
frame "$INIT" >&7
frame "$INIT" >&8
a=${pids[0]} b=${pids[1]}
check "both guards write their status" \
        poll 300 sh -c 'test -s "$1/run/$2.json" && test -s "$1/run/$3.json"' sh "$work" "$a" "$b"

"$guard" status --openmetrics >"$work/om" 2>"$work/om.err"
rc=$?
check "status --openmetrics: exit 0 (got $rc)" test "$rc" -eq 0
"$om_check" <"$work/om" >"$work/check"
check "...valid OpenMetrics ($(cat "$work/check"))" test "$(cat "$work/check")" = ok
check "...# EOF is the last line" test "$(tail -n 1 "$work/om")" = "# EOF"
me=$(id -un)
check "...guard a: labelled workspace, user, pid" \
        has "$work/om" "gopls_guard_memory_max_bytes{workspace=\"$work/a\",user=\"$me\",pid=\"$a\"} 3221225472"
check "...guard b: the quote in its workspace escaped" \
        has "$work/om" "gopls_guard_degraded{workspace=\"$work/b \\\"quoted\\\"\",user=\"$me\",pid=\"$b\"} 1"
check "...memory.high not set is +Inf" \
        has "$work/om" "gopls_guard_memory_high_bytes{workspace=\"$work/a\",user=\"$me\",pid=\"$a\"} +Inf"
check "...restarts as a counter" \
        grep -q "^gopls_guard_restarts_total{workspace=\"$work/a\",user=\"$me\",pid=\"$a\"} 0$" "$work/om"
check "...11 families, 2 samples each" \
        test "$(grep -c '^gopls_guard_' "$work/om")" -eq 22

"$guard" status --openmetrics "$work/a" >"$work/om-a"
rc=$?
check "status --openmetrics WORKSPACE: exit 0 (got $rc)" test "$rc" -eq 0
check "...only that guard" test "$(grep -c "pid=\"$b\"" "$work/om-a")" -eq 0
check "...still valid" test "$("$om_check" <"$work/om-a")" = ok

"$guard" status --openmetrics --json >/dev/null 2>"$work/both.err"
rc=$?
check "--openmetrics with --json: exit 2 (got $rc)" test "$rc" -eq 2
check "...saying why" has "$work/both.err" "--json or --openmetrics, not both"

if [ -n "${NODE_EXPORTER:-}" ]; then
        # node_exporter's textfile collector, as an administrator would run
        # it: a *.prom file in its directory, read at each scrape.
        mkdir "$work/textfile"
        cp "$work/om" "$work/textfile/gopls-guard.prom"
        port=$((20000 + RANDOM % 20000))
        "$NODE_EXPORTER" --collector.disable-defaults --collector.textfile \
                --collector.textfile.directory="$work/textfile" \
                --web.listen-address="127.0.0.1:$port" >"$work/ne.log" 2>&1 &
        pids+=($!)
        scrape() {
                exec 9<>"/dev/tcp/127.0.0.1/$port" || return 1
                printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&9
                cat <&9 >"$work/metrics"
                exec 9<&-
                grep -q '^node_textfile_scrape_error' "$work/metrics"
        }
        check "node_exporter serves the textfile metrics" poll 100 scrape 2>/dev/null
        check "...with no scrape error" grep -q '^node_textfile_scrape_error 0$' "$work/metrics"
        check "...every sample of ours (22)" test "$(grep -c '^gopls_guard_' "$work/metrics")" -eq 22
        check "...gauges typed as gauges" \
                grep -q '^# TYPE gopls_guard_memory_current_bytes gauge$' "$work/metrics"
        check "...the counters' values intact" \
                grep -q "^gopls_guard_restarts_total{pid=\"$a\",user=\"$me\",workspace=\"$work/a\"} 0$" "$work/metrics"
fi
exec 7>&- 8>&-
it_done

# vmtest: mem=512 smp=1 timeout=420
# proactive — [pressure] proactive wins the race against the OOM killer:
# memory.high equal to memory.max (nothing throttles the growth), a server
# (lsp-echo's bench/grow) growing 40 MiB/s past restart_above towards a
# size far beyond memory.max.  Ten times in one boot: the guard restarts
# it before the kernel kills (proactive_restarts +1, memory.events oom_kill
# +0), and the editor's next request is answered by the new server (the
# session survives: initialize replayed).  At least 9 wins out of 10.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
RUNS=10
# restart_above 144M (90% of max, the default), a 16M margin: 0.4 s at
# 40 MiB/s.  reset_after 1s: each run's server lives longer than that, so
# the guard never suspends proactive restarts as a start-up loop.
write_policy <<'INI'
[server]
command = /bin/lsp-echo
[memory]
high = 160M
max = 160M
swap_max = 0
[restart]
on = oom
max_restarts = 20
backoff_initial = 100ms
reset_after = 1s
[pressure]
proactive = yes
restart_above = 144M
above_for = 10s
INI
guard_run -- /bin/lsp-echo
events() { cat "$GUARD_DIR/memory.events"; }

send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
poll 300 out_has '"id":1,"result":{"capabilities"' || fail "not initialized: $(tail -n 5 "$GUARD_LOG")"
send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
poll 100 test -s "$(status_file)" || fail "no status file"

wins=0
served=0
for i in $(seq 1 $RUNS); do
        ev0=$(events)
        g0=$(status_num generation)
        p0=$(status_num proactive_restarts)
        t0=$(uptime_ms)
        send '{"jsonrpc":"2.0","method":"bench/grow","params":{"mib":400,"mib_per_s":40}}'
        next_gen() { [ "$(status_num generation)" -gt "$g0" ] && [ "$(status_num server_pid)" -gt 0 ]; }
        poll 400 next_gen || fail "run $i: no new server within 40 s: $(tail -n 5 "$GUARD_LOG")"
        t1=$(uptime_ms)
        id=$((100 + i))
        send "{\"jsonrpc\":\"2.0\",\"id\":$id,\"method\":\"bench/echo\",\"params\":{\"run\":$i}}"
        if poll 300 out_has "\"id\":$id,\"result\":{\"run\":$i}"; then
                served=$((served + 1))
        else
                say "run $i: request $id after the restart not answered"
        fi
        t2=$(uptime_ms)
        ev1=$(events)
        kills=$(($(kv_get "$ev1" oom_kill) - $(kv_get "$ev0" oom_kill)))
        p1=$(status_num proactive_restarts)
        if [ "$kills" -eq 0 ] && [ "$p1" -eq $((p0 + 1)) ]; then
                wins=$((wins + 1))
                r=win
        else
                r="lost (oom_kill +$kills, proactive_restarts $p0 -> $p1)"
        fi
        # Average growth up to restart_above (144M), the restart included:
        # what TCG made of the 40 MiB/s asked for.
        say "run $i: $r; from the grow to a new server $((t1 - t0)) ms (about $((144000 / (t1 - t0 + 1))) MiB/s), its answer $((t2 - t1)) ms later"
done
grep 'before the kernel kills it\|after the decision' "$GUARD_LOG" | cut -c1-220 >/tmp/logs/decisions
while read -r l; do say "$l"; done </tmp/logs/decisions
say "BENCH proactive_wins=$wins runs=$RUNS answered=$served"
guard_term
guard_wait 300
[ "$wins" -ge 9 ] || fail "proactive restarts won $wins of $RUNS runs (need 9): $(tail -n 8 "$GUARD_LOG")"
[ "$served" -eq "$RUNS" ] || fail "only $served of $RUNS requests after a restart were answered"
[ "$(grep -c 'reason=' "$GUARD_LOG")" -ge 9 ] || fail "the log does not give the reason of each proactive restart"
grep -q 'GOPLS_GUARD_EVENT=proactive-restart\|before the kernel kills it' "$GUARD_LOG" ||
        fail "no proactive-restart event in the log"
# Never counted as crashes: no restart toward giving up.
r=$(grep -c 'Restarting .* in .* (restart ' "$GUARD_LOG")
[ "$r" -eq $((RUNS - wins)) ] || fail "$r crash restarts for $((RUNS - wins)) lost runs"
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
pass "$wins of $RUNS proactive restarts beat the OOM killer (high = max = 160M, 40 MiB/s); $served requests after them answered"

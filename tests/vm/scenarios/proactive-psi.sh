# vmtest: mem=512 smp=1 timeout=300
# proactive-psi — the PSI trigger ([pressure] psi) on the server leaf's
# memory.pressure restarts the server: memory.high (48M) far below
# memory.max (300M) throttles a server growing past it, the stall fires the
# trigger, and the guard restarts it while restart_above (90% of max) is
# never reached and above_for (1h) never runs out; no OOM kill, and the
# editor's next request is answered by the new server.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
# Debian's 6.1 and 6.12 have CONFIG_PSI=y and not PSI_DEFAULT_DISABLED:
# no psi=1 needed.  Only a kernel truly without it skips.
[ -e "$G_CG/cgroup.pressure" ] || [ -e "$GUARD_DIR/memory.pressure" ] ||
        skip "this kernel has no PSI (no memory.pressure in cgroup2)"
write_policy <<'INI'
[server]
command = /bin/lsp-echo
[memory]
high = 48M
max = 300M
swap_max = 0
[restart]
on = oom
max_restarts = 5
[pressure]
proactive = yes
restart_above = 90%
above_for = 1h
psi = some 150ms 1s
INI
guard_run -- /bin/lsp-echo

send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
poll 300 out_has '"id":1,"result":{"capabilities"' || fail "not initialized: $(tail -n 5 "$GUARD_LOG")"
send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
poll 100 test -s "$(status_file)" || fail "no status file"
grep -q 'PSI' "$GUARD_LOG" && say "guard on PSI: $(grep PSI "$GUARD_LOG" | head -n 1)"
[ -e "$GUARD_DIR/server/memory.pressure" ] || skip "this kernel has no PSI (no server/memory.pressure)"

ev0=$(cat "$GUARD_DIR/memory.events")
t0=$(uptime_ms)
send '{"jsonrpc":"2.0","method":"bench/grow","params":{"mib":200,"mib_per_s":40}}'
restarted() { [ "$(status_num proactive_restarts)" -ge 1 ] && [ "$(status_num server_pid)" -gt 0 ] && [ "$(status_num generation)" -ge 2 ]; }
poll 900 restarted || fail "no proactive restart within 90 s: $(tail -n 5 "$GUARD_LOG"); $(cat "$GUARD_DIR/server/memory.pressure")"
t1=$(uptime_ms)
send '{"jsonrpc":"2.0","id":7,"method":"bench/echo","params":{"after":"psi"}}'
poll 300 out_has '"id":7,"result":{"after":"psi"}' || fail "the request after the restart was not answered"
t2=$(uptime_ms)
ev1=$(cat "$GUARD_DIR/memory.events")
say "memory.events high +$(($(kv_get "$ev1" high) - $(kv_get "$ev0" high))), oom_kill +$(($(kv_get "$ev1" oom_kill) - $(kv_get "$ev0" oom_kill)))"
say "$(grep 'before the kernel kills it' "$GUARD_LOG" | head -n 1 | cut -c1-220)"
say "BENCH psi_restart_ms=$((t1 - t0)) answered_after_ms=$((t2 - t1))"
[ "$(($(kv_get "$ev1" oom_kill) - $(kv_get "$ev0" oom_kill)))" -eq 0 ] || fail "the kernel OOM-killed: $(cat "$GUARD_DIR/memory.events")"
grep -q 'reason=psi' "$GUARD_LOG" || fail "the restart was not for PSI: $(grep 'reason=' "$GUARD_LOG" | head -n 2)"
! grep -q 'reason=\(above\|forecast\|high\)' "$GUARD_LOG" || fail "a restart for another reason: $(grep 'reason=' "$GUARD_LOG")"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
pass "the PSI trigger restarted the throttled server after $((t1 - t0)) ms, no OOM kill, the next request answered"

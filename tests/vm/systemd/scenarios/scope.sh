# vmtest: timeout=240
# scope — `systemd-run --scope -p Delegate=yes gopls-guard --policy P --
# leaker` (no --cgroup): the guard sees that systemd delegated its own cgroup
# (trusted.delegate), moves itself to supervisor/, starts the server in
# server/ with the policy's limits, and on the editor's EOF removes both
# and leaves the scope empty.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[memory]
high = 96M
max = 128M
swap_max = 0
[cpu]
max = 50%
weight = 50
[pids]
max = 64
[restart]
on = never
[log]
level = debug
INI
sd_guard_scope guard-scope --policy "$POLICY" -- /bin/leaker --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "the server did not start (guard: $(tail -n 1 /tmp/logs/guard-scope.log))"
cg=$(sd_cgroup guard-scope.scope)
[ "$(sd_prop guard-scope.scope Delegate)" = yes ] || fail "guard-scope.scope has Delegate=$(sd_prop guard-scope.scope Delegate)"
[ -n "$cg" ] && [ -d "$cg" ] || fail "guard-scope.scope has no cgroup"
say "scope cgroup $cg, trusted.delegate=$(getfattr --only-values -n trusted.delegate "$cg" 2>/dev/null)"
[ "$(getfattr --only-values -n trusted.delegate "$cg" 2>/dev/null)" = 1 ] ||
        fail "systemd did not mark $cg delegated (trusted.delegate)"
sd_check_layout "$cg" "$GUARD_PID"
server=$(mark_field 1 2)
echo "$SERVER_PIDS" | grep -qx "$server" || fail "server $server is not in $cg/server ($SERVER_PIDS)"
sd_check_file "$cg/server/memory.high" $((96 * 1024 * 1024))
sd_check_file "$cg/server/memory.max" $((128 * 1024 * 1024))
sd_check_file "$cg/server/memory.swap.max" 0
sd_check_file "$cg/server/cpu.max" "50000 100000"
sd_check_file "$cg/server/cpu.weight" 50
sd_check_file "$cg/server/pids.max" 64
# The guard writes nothing on the delegated cgroup's own attributes (systemd
# leaves memory.max of a scope without MemoryMax= at max).
sd_check_file "$cg/memory.max" max

sd_stdin_close guard-scope
wait_exit "$GUARD_PID" 300 || fail "the guard did not exit after its stdin closed"
[ "$WAIT_STATUS" -eq 0 ] || fail "the guard exited $WAIT_STATUS after its stdin closed"
pid_alive "$server" && fail "server $server outlived the guard"
# The scope goes with its last process.
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg is left behind ($(ls "$cg" | grep -c .) entries)"
pass "guard in supervisor/, server in server/ with memory.high/max, swap, cpu.max/weight, pids.max; scope gone after EOF"

# vmtest: mem=512 smp=1 timeout=240
# controllers — cpu and pids are enabled for server/ and written only when the
# policy limits them, so a kernel or parent that cannot give +cpu costs
# nothing when no cpu limit is set; SIGHUP and SIGQUIT stop the guard like
# SIGTERM, with server/ removed.
. /lib/vmtest/lib.sh
cg_setup
words() { tr ' ' '\n' <"$1" | grep -c -x -e "$2"; }

# 1. Memory limits only: no +cpu, no +pids, no cpu.max/pids.max written.
write_policy <<'INI'
[memory]
max = 64M
[restart]
on = crash
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "server did not start: $(cat "$GUARD_LOG")"
stc=$(cat "$GUARD_DIR/cgroup.subtree_control")
say "no cpu/pids limit: $GUARD_DIR/cgroup.subtree_control = '$stc'"
[ "$(words "$GUARD_DIR/cgroup.subtree_control" memory)" -eq 1 ] || fail "memory not enabled: '$stc'"
[ "$(words "$GUARD_DIR/cgroup.subtree_control" cpu)" -eq 0 ] || fail "+cpu enabled without a cpu limit: '$stc'"
[ "$(words "$GUARD_DIR/cgroup.subtree_control" pids)" -eq 0 ] || fail "+pids enabled without a pids limit: '$stc'"
[ ! -e "$GUARD_DIR/server/cpu.max" ] || fail "server/cpu.max exists without a cpu limit"
[ "$(cat "$GUARD_DIR/server/memory.max")" = 67108864 ] || fail "memory.max not written"
kill -HUP "$GUARD_PID"
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGHUP, expected 0"
grep -q "Hangup; stopping the server" "$GUARD_LOG" || fail "no clean stop on SIGHUP: $(tail -n 3 "$GUARD_LOG")"
[ ! -e "$GUARD_DIR/server" ] || fail "server/ left behind after SIGHUP"
[ "$(mark_starts)" -eq 1 ] || fail "restarted after SIGHUP"
rm -f "$MARK"

# 2. cpu and pids limits: both enabled and written.
write_policy <<'INI'
[memory]
max = 64M
[cpu]
max = 50%
[pids]
max = 32
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "server did not start with cpu/pids limits: $(cat "$GUARD_LOG")"
stc=$(cat "$GUARD_DIR/cgroup.subtree_control")
[ "$(words "$GUARD_DIR/cgroup.subtree_control" cpu)" -eq 1 ] || fail "+cpu not enabled with a cpu limit: '$stc'"
[ "$(words "$GUARD_DIR/cgroup.subtree_control" pids)" -eq 1 ] || fail "+pids not enabled with a pids limit: '$stc'"
[ "$(cat "$GUARD_DIR/server/cpu.max")" = "50000 100000" ] || fail "cpu.max is '$(cat "$GUARD_DIR/server/cpu.max")'"
[ "$(cat "$GUARD_DIR/server/pids.max")" = 32 ] || fail "pids.max is '$(cat "$GUARD_DIR/server/pids.max")'"
kill -QUIT "$GUARD_PID"
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGQUIT, expected 0"
[ ! -e "$GUARD_DIR/server" ] || fail "server/ left behind after SIGQUIT"
rm -f "$MARK"

# 3. The parent offers no cpu controller: without a cpu limit nothing is
#    missing; with one, a warning and the memory limit still holds.
echo "-cpu" >"$GUARD_DIR/cgroup.subtree_control" || fail "cannot disable cpu below $GUARD_DIR"
echo "-cpu" >"$G_CG/cgroup.subtree_control" || fail "cannot take cpu away from the root's children"
grep -qw cpu "$GUARD_DIR/cgroup.controllers" && fail "$GUARD_DIR still offers cpu"
write_policy <<'INI'
[memory]
max = 64M
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "no cpu offered, no cpu limit: server did not start: $(cat "$GUARD_LOG")"
grep -q "degraded" "$GUARD_LOG" && fail "degraded without a cpu limit: $(cat "$GUARD_LOG")"
grep -q "cpu controller" "$GUARD_LOG" && fail "a cpu warning without a cpu limit"
guard_term
guard_wait 300
rm -f "$MARK"
write_policy <<'INI'
[memory]
max = 64M
[cpu]
weight = 50
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "no cpu offered, cpu limit: server did not start: $(cat "$GUARD_LOG")"
grep -q "degraded" "$GUARD_LOG" && fail "degraded for want of cpu: $(cat "$GUARD_LOG")"
grep -q "the cpu controller is not available" "$GUARD_LOG" || fail "no warning that [cpu] is not enforced"
[ "$(cat "$GUARD_DIR/server/memory.max")" = 67108864 ] || fail "memory.max not written"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
pass "cpu/pids only with their limits; SIGHUP/SIGQUIT stop cleanly with server/ removed"

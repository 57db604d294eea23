# vmtest: mem=512 smp=1 timeout=240
# kernel — proves the harness without the guard: cgroup2 offers memory, cpu and
# pids, and leaker --leak 200 in a cgroup with memory.max=50M and
# memory.swap.max=0 is OOM-killed (memory.events oom_kill goes 0 -> 1).
. /lib/vmtest/lib.sh

for c in memory cpu pids; do
        grep -qw "$c" "$G_CG/cgroup.controllers" ||
                fail "cgroup2 has no $c controller (have: $(cat "$G_CG/cgroup.controllers"))"
done
echo "+memory +cpu +pids" >"$G_CG/cgroup.subtree_control" || fail "cannot enable controllers"
CG=$G_CG/kernel-oom
mkdir "$CG" || fail "mkdir $CG"
for f in memory.max memory.swap.max memory.events cpu.max pids.max; do
        [ -e "$CG/$f" ] || fail "$CG has no $f"
done
# swap off first (test_memcontrol.c), then the limit.
echo 0 >"$CG/memory.swap.max" || fail "write memory.swap.max"
echo 50M >"$CG/memory.max" || fail "write memory.max"
[ "$(cat "$CG/memory.max")" = 52428800 ] || fail "memory.max reads $(cat "$CG/memory.max")"

kills0=$(kv "$CG/memory.events" oom_kill) || fail "memory.events has no oom_kill"
# The child places itself in the cgroup before it execs the leaker.
sh -c "echo \$\$ >$CG/cgroup.procs && exec /bin/leaker --mark $MARK --leak 200" &
pid=$!
wait_exit "$pid" 600 || fail "leaker --leak 200 still alive after 60 s under memory.max=50M"
st=$WAIT_STATUS
kills1=$(kv "$CG/memory.events" oom_kill)
say "leaker pid $pid exit status $st; memory.events: $(tr '\n' ' ' <"$CG/memory.events")"

[ "$(mark_starts)" -eq 1 ] || fail "leaker never started in the cgroup (mark file: $(cat "$MARK" 2>/dev/null))"
[ "$st" -eq 137 ] || fail "leaker exit status $st, expected 137 (SIGKILL by the OOM killer)"
[ $((kills1 - kills0)) -eq 1 ] || fail "memory.events oom_kill went $kills0 -> $kills1, expected +1"
dmesg | grep -q "Killed process $(mark_field 1 2)" || fail "dmesg has no OOM kill of pid $(mark_field 1 2)"
peak=$(cat "$CG/memory.peak" 2>/dev/null || echo n/a)

# An emptied cgroup can stay busy for a moment: retry rmdir (test_memcontrol.c).
poll 50 rmdir "$CG" 2>/dev/null || fail "rmdir $CG: still busy after 5 s"
pass "controllers $(tr ' ' ',' <"$G_CG/cgroup.controllers"); OOM kill at memory.max=50M: oom_kill $kills0->$kills1, status $st, peak $peak"

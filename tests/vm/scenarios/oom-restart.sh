# vmtest: mem=512 smp=1 timeout=240
# oom-restart — a server that leaks past memory.max=50M is OOM-killed and
# restarted; with max_restarts=2 it starts 3 times, then the guard gives up
# (exit 4), memory.events counts the kills and the log says OOM.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
high = 50M
max = 50M
swap_max = 0
oom_group = yes
[restart]
on = oom
backoff_initial = 100ms
backoff_factor = 2
after_give_up = exit
max_restarts = 2
window = 10min
reset_after = 10min
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
# DIR/memory.events is hierarchical and outlives DIR/server: compare changes.
ev0=$(cat "$GUARD_DIR/memory.events")
guard_start --mark "$MARK" --leak 200

# While it runs, the status file never reports more OOM kills than servers
# started (each server here is one process, killed once).
bad=
seen=
watch_status() {
        k=$(status_get oom_kills) && g=$(status_get generation) && is_number "$k" && is_number "$g" &&
                seen="generation $g oom_kills $k" && [ "$k" -gt "$g" ] && [ -z "$bad" ] &&
                bad="status file says oom_kills $k with generation $g"
        pid_dead "$GUARD_PID"
}
poll 1200 watch_status
guard_wait 10
starts=$(mark_starts)
ev1=$(cat "$GUARD_DIR/memory.events")
field() { printf '%s\n' "$1" | awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }'; }
delta() { echo $(($(field "$ev1" "$1") - $(field "$ev0" "$1"))); }
say "starts $starts; memory.events change: oom +$(delta oom), oom_kill +$(delta oom_kill), oom_group_kill +$(delta oom_group_kill); last status seen: ${seen:-none}"

[ "$starts" -eq 3 ] || fail "server started $starts times, expected 3 (max_restarts=2)"
# One OOM per server.  oom_kill is not one per server: with memory.oom.group=1,
# 6.1 counts the victim twice (chosen victim, then again as a group member).
[ "$(delta oom)" -eq 3 ] || fail "memory.events oom +$(delta oom), expected +3 (one per start)"
[ "$(delta oom_kill)" -ge 3 ] || fail "memory.events oom_kill +$(delta oom_kill), expected at least +3"
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up)"
grep -qi oom "$GUARD_LOG" || fail "the guard's log never mentions OOM"
# Each generation reached memory.max before it was killed: its peak is the
# limit, even on 6.1 where memory.peak cannot be reset and the leak outruns
# the samples.
peaks=$(sed -n 's/.*was OOM-killed at memory.max=\([^ ]*\) (peak \([^)]*\)).*/\1 \2/p' "$GUARD_LOG")
[ "$(printf '%s\n' "$peaks" | grep -c .)" -eq 3 ] || fail "expected 3 OOM kill lines with a peak, got: $peaks"
printf '%s\n' "$peaks" | awk '$1 != $2 { bad = 1 } END { exit bad }' ||
        fail "a generation's peak is not its memory.max: $(printf '%s; ' "$peaks")"
[ -z "$bad" ] || fail "$bad (each server is one process, OOM-killed once)"
pass "3 starts, memory.events oom +3, exit 4; log: $(grep -i oom "$GUARD_LOG" | tail -n 1 | cut -c1-100)"

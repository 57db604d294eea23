# vmtest: mem=512 smp=1 timeout=300
# degraded — no usable cgroup and [cgroup] require = no: the guard warns,
# polls the server tree's memory from /proc, kills it above [memory] max,
# restarts it under the same policy and gives up like the cgroup mode does.
# The guard runs in the root cgroup without --cgroup: nothing delegated it,
# so it finds no usable cgroup for real (and touches none).
. /lib/vmtest/lib.sh
write_policy <<'INI'
[memory]
max = 50M
[restart]
on = oom
backoff_initial = 100ms
after_give_up = exit
max_restarts = 1
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
mkdir -p -m 0700 "$RUNTIME_DIR"
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in
XDG_RUNTIME_DIR=$RUNTIME_DIR \
        "$GUARD_BIN" --policy "$POLICY" -- /bin/leaker --mark "$MARK" --leak 120 --rate 40 \
        </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
GUARD_PID=$!
guard_wait 1200
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up)"
[ "$(mark_starts)" -eq 2 ] || fail "server started $(mark_starts) times, expected 2"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning in the log"
grep -q "over \[memory\] max = 50M" "$GUARD_LOG" || fail "the log does not say the limit was passed"
grep -q "was OOM-killed at memory.max=50M" "$GUARD_LOG" || fail "the kill is not reported as an OOM at the limit"
[ -z "$(leaker_pids)" ] || fail "leaker processes still alive: $(leaker_pids)"
pass "killed at 50M twice from /proc polling, restarted once, gave up with 4"

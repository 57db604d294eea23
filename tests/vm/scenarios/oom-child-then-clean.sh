# vmtest: mem=512 smp=1 timeout=240
# oom-child-then-clean — with oom_group = no, a child of the server (a go
# list) is OOM-killed at memory.max while the server itself lives on; later
# the server exits 0 by itself.  Under on = crash that end is clean: the
# earlier kill of the child must not be pinned on it, so the guard does not
# restart, exits 0, and nobody is told the server ran out of memory.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
high = max
max = 48M
swap_max = 0
oom_group = no
[restart]
on = crash
backoff_initial = 100ms
[lsp]
notify = yes
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
ev0=$(kv "$GUARD_DIR/memory.events" oom_kill)
guard_start --mark "$MARK" --child-leak 200 --exit 0
guard_wait 1200
starts=$(mark_starts)
ev1=$(kv "$GUARD_DIR/memory.events" oom_kill)
say "starts $starts; oom_kill $ev0 -> $ev1; child: $(grep '^child' "$MARK")"
grep -q "^child [0-9]* signal 9" "$MARK" || fail "the child was not killed (test proves nothing): $(grep '^child' "$MARK")"
[ "$ev1" -gt "$ev0" ] || fail "memory.events oom_kill did not rise: no OOM kill happened"
[ "$starts" -eq 1 ] || fail "the server was started $starts times: its clean exit was taken for an OOM kill"
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT, expected 0 (the server's own clean status)"
grep -q "ran out of memory" "$GUARD_OUT" && fail "the editor was told the server ran out of memory"
grep -q "was OOM-killed" "$GUARD_LOG" && fail "the log says the server was OOM-killed: $(grep OOM "$GUARD_LOG")"
grep -q "itself (pid [0-9]*) is still running" "$GUARD_LOG" ||
        say "note: the guard did not log the child's OOM kill before the server ended"
pass "a child's OOM kill is not the server's: clean exit, no restart, exit 0"

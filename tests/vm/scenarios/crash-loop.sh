# vmtest: mem=512 smp=1 timeout=240
# crash-loop — a server that keeps failing is started max_restarts+1 times,
# then the guard gives up with exit 4 and says so in its log.  Then, with
# on = never, the guard passes the server's own status through (exit 5).
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[restart]
on = crash
backoff_initial = 100ms
backoff_factor = 2
after_give_up = exit
max_restarts = 3
window = 10min
reset_after = 10min
INI
guard_start --mark "$MARK" --exit 3
guard_wait 1200
starts=$(mark_starts)
[ "$starts" -eq 4 ] || fail "server started $starts times, expected 4 (max_restarts=3)"
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up)"
msg=$(grep -iE 'give up|gave up|giving up|crash.?loop' "$GUARD_LOG" | tail -n 1)
[ -n "$msg" ] || fail "no give-up message in the guard's log"
say "log: $msg"

# on = never: one start, and the server's status becomes the guard's.
rm -f "$MARK"
GUARD_LOG=/tmp/logs/guard-never.log
write_policy <<'INI'
[restart]
on = never
INI
guard_start --mark "$MARK" --exit 5
guard_wait 600
[ "$(mark_starts)" -eq 1 ] || fail "on = never: server started $(mark_starts) times, expected 1"
[ "$GUARD_EXIT" -eq 5 ] || fail "on = never: guard exited $GUARD_EXIT, expected the server's 5"
pass "4 starts then exit 4 ($(echo "$msg" | cut -c1-80)); on = never passes status 5 through"

# vmtest: mem=512 smp=1 timeout=240
# leftover — a second guard on the same cgroup is refused instead of killing
# the first one's server; a SIGKILLed guard's sentinel empties DIR/server;
# and what is still left there (the leaf itself, a process that got in
# afterwards, as when the sentinel died with the guard) is cleaned up by
# the next guard.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[restart]
on = never
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "server did not start"
first_server=$(mark_field 1 2)

# 1. A second guard on the same DIR, with require = yes: exit 3, naming why.
cat >/tmp/p2.ini <<'INI'
[cgroup]
require = yes
[log]
target = stderr
INI
XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" --cgroup "$GUARD_DIR" --policy /tmp/p2.ini \
        -- /bin/leaker --sleep </dev/null >/dev/null 2>/tmp/logs/second.log
rc=$?
[ "$rc" -eq 3 ] || fail "second guard on the same cgroup exited $rc, expected 3"
grep -q "in use by another gopls-guard" /tmp/logs/second.log ||
        fail "second guard did not say the cgroup is in use: $(cat /tmp/logs/second.log)"
pid_alive "$first_server" || fail "the second guard killed the first one's server"

# 2. A stray process in the leaf, as a go list child that outlived its guard
# would be; then the guard dies without any cleanup.
sleep 1000 &
stray=$!
echo "$stray" >"$GUARD_DIR/server/cgroup.procs" || fail "cannot move the stray process into server/"
kill -KILL "$GUARD_PID"
wait_exit "$GUARD_PID" 100 || fail "SIGKILLed guard still there"
guard_eof
# PR_SET_PDEATHSIG takes the server down with the guard, and the guard's
# sentinel everything else in server/.
poll 100 pid_dead "$first_server" || fail "the server outlived its SIGKILLed guard"
poll 50 pid_dead "$stray" || fail "the stray process in server/ outlived its SIGKILLed guard by 5 s"
[ -d "$GUARD_DIR/server" ] || fail "expected the dead guard's leaf to be left behind"

# 3. A process in the leftover leaf when the next guard comes (as if the
# sentinel had died with the guard): the next guard kills it and starts clean.
sleep 1000 &
stray=$!
echo "$stray" >"$GUARD_DIR/server/cgroup.procs" || fail "cannot move the second stray process into server/"
pid_alive "$stray" || fail "the second stray process died too early (the test proves nothing)"
rm -f "$MARK"
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "the next guard's server did not start: $(cat "$GUARD_LOG")"
poll 100 pid_dead "$stray" || fail "the leftover process $stray survived the next guard's start"
procs=$(server_pids | tr '\n' ' ')
[ "$procs" = "$(mark_field 1 2) " ] || fail "server/ holds '$procs', expected only the new server"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
[ ! -e "$GUARD_DIR/server" ] || fail "server/ left behind"
pass "second guard refused (exit 3); server/ emptied by the SIGKILLed guard's sentinel; leftover leaf and a later stray process cleaned by the next guard"

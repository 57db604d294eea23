# vmtest: mem=512 smp=1 timeout=240
# serve-solo — [serve] share = no in a real cgroup: each editor connection
# gets a guard of its own whose server runs in DIR/conn-N/server under the
# limits; SIGTERM ends them all and leaves no conn-N/, server/ or
# supervisor/.  A daemon killed with SIGKILL leaves its conn-N/, which the
# next daemon on the same cgroup removes.
. /lib/vmtest/lib.sh
cg_setup
need_guard
solo_policy
serve_start /tmp/ws
editors_init a b /tmp/ws
A_PID=$EDITOR4_PID B_PID=$EDITOR5_PID
for n in 1 2; do
        d=$GUARD_DIR/conn-$n/server
        poll 100 populated "$d" || fail "no server in $d: $(tail -n 5 "$GUARD_LOG")"
        [ "$(cat "$d/memory.max")" = 62914560 ] || fail "memory.max not written on $d"
done
s1=$(cat "$GUARD_DIR/conn-1/server/cgroup.procs")
s2=$(cat "$GUARD_DIR/conn-2/server/cgroup.procs")
[ "$s1" != "$s2" ] || fail "one server for both connections ($s1)"
say "servers $s1 in conn-1/server and $s2 in conn-2/server"

kill -TERM "$GUARD_PID"
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "serve exited $GUARD_EXIT after SIGTERM, expected 0"
[ ! -e "$SERVE_SOCK" ] || fail "socket left behind"
for d in conn-1 conn-2 server supervisor; do
        [ ! -e "$GUARD_DIR/$d" ] || fail "$GUARD_DIR/$d left behind"
done
pid_dead "$s1" && pid_dead "$s2" || fail "a server still runs"
poll 100 pid_dead "$A_PID" || fail "editor a's connect still running"
poll 100 pid_dead "$B_PID" || fail "editor b's connect still running"
exec 4>&- 5>&-

# A daemon killed with SIGKILL cannot remove its conn-N/; its guards go on
# serving their editors.  Once they are gone the next daemon on the same
# cgroup sweeps every conn-N/ left, before any editor connects.
serve_start /tmp/ws
editors_init c d /tmp/ws
C_PID=$EDITOR4_PID D_PID=$EDITOR5_PID
for n in 1 2; do
        poll 100 populated "$GUARD_DIR/conn-$n/server" || fail "no server in conn-$n"
done
kill -KILL "$GUARD_PID"
wait_exit "$GUARD_PID" 100 || fail "serve survived SIGKILL"
exec 4>&- 5>&-
poll 100 pid_dead "$C_PID" && poll 100 pid_dead "$D_PID" || fail "an editor's connect still running"
for n in 1 2; do
        poll 100 eval "[ ! -e $GUARD_DIR/conn-$n/server ]" ||
                fail "conn-$n/server still there after its guard ended: $(ls "$GUARD_DIR/conn-$n")"
        [ -d "$GUARD_DIR/conn-$n" ] || fail "conn-$n gone with no daemon to remove it"
done
say "left by the killed daemon: $(cd "$GUARD_DIR" && echo conn-*)"
# conn-1/ made anew, unmarked: someone else's, which is neither swept nor
# taken for a connection.
rmdir "$GUARD_DIR/conn-1" && mkdir "$GUARD_DIR/conn-1" || fail "cannot remake conn-1"
serve_start /tmp/ws
poll 300 grep -q "Each editor connection gets its own server" "$GUARD_LOG" ||
        fail "the second daemon did not take $GUARD_DIR: $(tail -n 5 "$GUARD_LOG")"
[ ! -e "$GUARD_DIR/conn-2" ] || fail "conn-2/ left by the killed daemon was not swept"
[ -d "$GUARD_DIR/conn-1" ] || fail "the unmarked conn-1/ was swept"
editor_connect e /tmp/ws
E_PID=$EDITOR_PID
exec 4>/tmp/e.in
frame "$LSP_INIT" >&4
poll 300 answered e '"id":1,"result":{"capabilities"' || fail "editor e not initialized: $(tail -n 5 "$GUARD_LOG")"
poll 100 populated "$GUARD_DIR/conn-2/server" ||
        fail "no server in conn-2 (conn-1 is someone else's): $(cd "$GUARD_DIR" && ls -d conn-*/*/ | tr "\n" " ")"
[ -z "$(ls "$GUARD_DIR/conn-1" | grep -v -e '^cgroup\.' -e '^memory\.' -e '^cpu' -e '^pids\.' -e '^io\.')" ] ||
        fail "the connection's guard used the unmarked conn-1: $(ls "$GUARD_DIR/conn-1")"
kill -TERM "$GUARD_PID"
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "the second serve exited $GUARD_EXIT after SIGTERM, expected 0"
exec 4>&-
poll 100 pid_dead "$E_PID" || fail "editor e's connect still running"
[ ! -e "$GUARD_DIR/conn-2" ] || fail "conn-2 left behind by the second daemon"
rmdir "$GUARD_DIR/conn-1" || fail "cannot remove the unmarked conn-1"
pass "a server per connection in conn-N/server under memory.max, nothing left after SIGTERM; a SIGKILLed daemon's conn-N/ swept by the next, someone else's left alone"

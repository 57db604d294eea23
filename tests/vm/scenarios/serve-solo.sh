# vmtest: mem=512 smp=1 timeout=240
# serve-solo — [serve] share = no in a real cgroup: each editor connection
# gets a guard of its own whose server runs in DIR/conn-N/server under the
# limits; SIGTERM ends them all and leaves no conn-N/, server/ or
# supervisor/.
. /lib/vmtest/lib.sh
cg_setup
need_guard
solo_policy
serve_start /tmp/ws
editor_connect a /tmp/ws
A_PID=$EDITOR_PID
exec 4>/tmp/a.in
editor_connect b /tmp/ws
B_PID=$EDITOR_PID
exec 5>/tmp/b.in
frame "$LSP_INIT" >&4
frame "$LSP_INIT" >&5
# cgroupfs files have size 0 in stat: read them.
populated() { [ -n "$(cat "$1/cgroup.procs" 2>/dev/null)" ]; }
poll 300 answered a '"id":1,"result":{"capabilities"' || fail "editor a not initialized: $(tail -n 5 "$GUARD_LOG")"
poll 300 answered b '"id":1,"result":{"capabilities"' || fail "editor b not initialized"
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
pass "a server per connection in conn-N/server under memory.max, nothing left after SIGTERM"

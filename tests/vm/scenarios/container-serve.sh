# vmtest: mem=512 smp=1 timeout=240
# container-serve — daemon mode with [serve] share = no in a container that
# `gopls-guard init --user u` prepared: `serve`, started as u through the
# docker exec path with no --cgroup, finds init's subtree as a lone guard
# does (its own leaf guard-PID there, not degraded); an editor connecting
# the same way gets a server in guard-PID/conn-1/server under the policy's
# memory.max; SIGTERM ends the daemon and its leaf goes with it.  A daemon
# killed with SIGKILL leaves its leaf; the next one removes it.
. /lib/vmtest/lib.sh
ctr_need
user_setup
mkfifo /tmp/ctr-stop || fail "mkfifo"
ctr_start rw "--cgroup --pid --mount" --user u -- sh -c 'read x </tmp/ctr-stop; exit 0'
prepared() { grep -q "Prepared /sys/fs/cgroup/gopls-guard for uid $U_UID" "$CTR_LOG"; }
poll 300 prepared || fail "init did not prepare the subtree: $(cat "$CTR_LOG")"
S=$CTR/gopls-guard
RUNTIME_DIR=$U_HOME/run

solo_policy
chown "$U_UID" "$POLICY"
mkdir -p /tmp/ws && chown "$U_UID" /tmp/ws || fail "cannot make /tmp/ws"
SERVE_SOCK=$RUNTIME_DIR/gopls-guard/tmp-ws.sock
# serve_as_u: the daemon as u through the docker exec path; returns once it
# serves (it listens first, then finds its cgroup, then says so).
serve_as_u() {
        _served=$(($(grep -c "^gopls-guard: Serving /tmp/ws" "$GUARD_LOG" 2>/dev/null) + 1))
        ctr_guard_as_u "$S/init" "serve --workspace /tmp/ws --policy $POLICY" \
                </dev/null >>"$GUARD_OUT" 2>>"$GUARD_LOG" &
        EXEC_PID=$!
        poll 300 eval '[ "$(grep -c "^gopls-guard: Serving /tmp/ws" "$GUARD_LOG")" -ge "$_served" ]' ||
                fail "serve does not serve: $(tail -n 5 "$GUARD_LOG")"
        test -S "$SERVE_SOCK" || fail "no socket $SERVE_SOCK"
}
: >"$GUARD_LOG"
serve_as_u
grep -q "degraded" "$GUARD_LOG" && fail "serve runs degraded: $(grep degraded "$GUARD_LOG")"
leaf=$(ls -d "$S"/guard-* 2>/dev/null)
[ -n "$leaf" ] || fail "serve made no leaf under $S ($(ls "$S")): $(tail -n 5 "$GUARD_LOG")"
say "serve's leaf: $leaf"

rm -f /tmp/a.in && mkfifo /tmp/a.in || fail "mkfifo /tmp/a.in"
ctr_guard_as_u "$S/init" "connect /tmp/ws" </tmp/a.in >/tmp/logs/a.out 2>/tmp/logs/a.err &
A_PID=$!
exec 4>/tmp/a.in
frame "$LSP_INIT" >&4
poll 300 answered a '"id":1,"result":{"capabilities"' ||
        fail "the editor was not initialized: $(cat /tmp/logs/a.err) $(tail -n 5 "$GUARD_LOG")"
d=$leaf/conn-1/server
poll 100 populated "$d" || fail "no server in $d: $(ls -R "$leaf" | head -n 20)"
[ "$(cat "$d/memory.max")" = 62914560 ] || fail "memory.max on $d is $(cat "$d/memory.max")"
srv=$(cat "$d/cgroup.procs" | head -n 1)
[ "$(stat -c %u "/proc/$srv")" = "$U_UID" ] || fail "the server runs as uid $(stat -c %u "/proc/$srv"), not u"
say "server $srv in $d"

SP=$(guard_below "$EXEC_PID")
is_number "$SP" || fail "cannot find serve below nsenter $EXEC_PID"
kill -TERM "$SP"
wait_exit "$EXEC_PID" 300 || fail "serve did not end after SIGTERM"
[ "$WAIT_STATUS" -eq 0 ] || fail "serve exited $WAIT_STATUS: $(tail -n 5 "$GUARD_LOG")"
poll 50 test ! -e "$leaf" || fail "serve left $leaf behind: $(ls -R "$leaf" | head -n 20)"
pid_dead "$srv" || fail "server $srv outlived the daemon"
poll 100 pid_dead "$A_PID" || fail "the editor's connect still runs"
exec 4>&-

# A daemon killed with SIGKILL leaves its leaf behind, with the marked
# conn-1/ its connection's guard emptied when its editor went; the next
# daemon (or guard) in the subtree removes both.
[ ! -e "$SERVE_SOCK" ] || fail "the socket outlived the daemon"
serve_as_u
killed=$(ls -d "$S"/guard-* 2>/dev/null)
[ -n "$killed" ] || fail "the second daemon made no leaf under $S: $(ls "$S")"
rm -f /tmp/b.in && mkfifo /tmp/b.in || fail "mkfifo /tmp/b.in"
ctr_guard_as_u "$S/init" "connect /tmp/ws" </tmp/b.in >/tmp/logs/b.out 2>/tmp/logs/b.err &
B_PID=$!
exec 5>/tmp/b.in
frame "$LSP_INIT" >&5
poll 300 answered b '"id":1,"result":{"capabilities"' || fail "editor b was not initialized: $(cat /tmp/logs/b.err)"
poll 100 populated "$killed/conn-1/server" || fail "no server in $killed/conn-1/server"
SP=$(guard_below "$EXEC_PID")
is_number "$SP" || fail "cannot find the second daemon"
kill -KILL "$SP"
wait_exit "$EXEC_PID" 300 || fail "nsenter did not end after its daemon was killed"
exec 5>&-
poll 300 test ! -e "$killed/conn-1/server" || fail "the connection's guard did not remove its server/"
[ -d "$killed/conn-1" ] || fail "nothing of the killed daemon left to sweep: $(ls "$killed")"
rm -f "$SERVE_SOCK"
serve_as_u
poll 100 test ! -e "$killed" || fail "the next daemon did not remove the killed one's leaf: $(ls -R "$killed" | head)"
say "the SIGKILLed daemon's leaf $killed was swept by the next daemon"
SP=$(guard_below "$EXEC_PID")
kill -TERM "$SP"
wait_exit "$EXEC_PID" 300 || fail "the third daemon did not end after SIGTERM"
poll 50 sh -c "! ls -d $S/guard-* >/dev/null 2>&1" || fail "leaves left: $(ls "$S")"

echo x >/tmp/ctr-stop
wait_exit "$CTR_PID" 100 || fail "init did not end after its command"
pass "serve (share = no) as u in init's subtree: its leaf $leaf, the connection's server under memory.max there, nothing left after SIGTERM; a SIGKILLed daemon's leaf swept by the next"

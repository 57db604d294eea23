# vmtest: mem=512 smp=1 timeout=240
# delegation — only what was handed over is used, and only what the guard
# made is removed.
#  1. root's guard inside a writable cgroup that carries no delegation mark
#     (no trusted.delegate/user.delegate xattr) and no --cgroup: that cgroup
#     is not taken as delegated; the guard does not move itself or create
#     anything there, says why, and runs degraded (exit 3 with require = yes).
#  2. a server/ child that someone else made (no user.gopls-guard mark), with
#     a process in it: the guard given that DIR refuses it, kills nothing,
#     removes nothing (exit 3 with require = yes, degraded otherwise).
#  3. with DIR clean again the guard uses it and removes its own server/
#     (that leaves carry the mark is shown by leftover.sh and the unit tests).
. /lib/vmtest/lib.sh
cg_setup
mkdir -p -m 0700 "$RUNTIME_DIR"

# 1. Writable but unmarked: not delegated.
write_policy <<'INI'
[cgroup]
require = yes
INI
XDG_RUNTIME_DIR=$RUNTIME_DIR sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --policy "$3" -- /bin/leaker --sleep' \
        sh "$GUARD_DIR" "$GUARD_BIN" "$POLICY" </dev/null >/dev/null 2>/tmp/logs/unmarked.log
rc=$?
[ "$rc" -eq 3 ] || fail "unmarked own cgroup, require = yes: exited $rc, expected 3"
grep -q "is not delegated to it" /tmp/logs/unmarked.log ||
        fail "no 'not delegated' reason: $(cat /tmp/logs/unmarked.log)"
grep -q "no delegation mark" /tmp/logs/unmarked.log || fail "the reason does not name the missing mark"
[ ! -e "$GUARD_DIR/supervisor" ] || fail "the guard created supervisor/ in a cgroup not delegated to it"
[ ! -e "$GUARD_DIR/server" ] || fail "the guard created server/ in a cgroup not delegated to it"

write_policy <<'INI'
[restart]
on = never
INI
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in
XDG_RUNTIME_DIR=$RUNTIME_DIR sh -c 'echo $$ > "$1/cgroup.procs" && exec "$2" --policy "$3" -- /bin/leaker --mark "$4" --sleep' \
        sh "$GUARD_DIR" "$GUARD_BIN" "$POLICY" "$MARK" </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
GUARD_PID=$!
poll 600 mark_has_starts 1 || fail "require = no: the server did not start degraded: $(cat "$GUARD_LOG")"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning"
grep -qx "$GUARD_PID" "$GUARD_DIR/cgroup.procs" || fail "the guard moved itself out of $GUARD_DIR"
[ ! -e "$GUARD_DIR/supervisor" ] || fail "supervisor/ created in a cgroup not delegated"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "degraded guard exited $GUARD_EXIT after SIGTERM"
rm -f "$MARK"

# 2. Someone else's server/ with a process in it.
mkdir "$GUARD_DIR/server" || fail "mkdir $GUARD_DIR/server"
sleep 1000 &
foreign=$!
echo "$foreign" >"$GUARD_DIR/server/cgroup.procs" || fail "cannot move a process into the foreign server/"
write_policy <<'INI'
[cgroup]
require = yes
INI
XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" --cgroup "$GUARD_DIR" --policy "$POLICY" \
        -- /bin/leaker --sleep </dev/null >/dev/null 2>/tmp/logs/foreign.log
rc=$?
[ "$rc" -eq 3 ] || fail "foreign server/, require = yes: exited $rc, expected 3"
grep -q "$GUARD_DIR/server exists and was not created by gopls-guard" /tmp/logs/foreign.log ||
        fail "no clear message about the foreign server/: $(cat /tmp/logs/foreign.log)"
pid_alive "$foreign" || fail "the guard killed a process in a server/ it did not create"
[ -d "$GUARD_DIR/server" ] || fail "the guard removed a server/ it did not create"

write_policy <<'INI'
[restart]
on = never
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "require = no: no degraded server next to a foreign server/"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning with a foreign server/"
guard_term
guard_wait 300
pid_alive "$foreign" || fail "the degraded guard killed the foreign process"
grep -qx "$foreign" "$GUARD_DIR/server/cgroup.procs" || fail "the foreign process was moved"
kill "$foreign"
wait "$foreign" 2>/dev/null
poll 50 sh -c "! grep -q . '$GUARD_DIR/server/cgroup.procs'"
rmdir "$GUARD_DIR/server" || fail "cannot remove the foreign server/ after the test"
rm -f "$MARK"

# 3. The guard's own leaf carries the mark, and goes at the end.
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "the server did not start in the cgroup"
grep -q "degraded" "$GUARD_LOG" && fail "degraded with a clean DIR: $(cat "$GUARD_LOG")"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
[ ! -e "$GUARD_DIR/server" ] || fail "the guard left its own server/ behind"
pass "unmarked cgroup not taken as delegated; a foreign server/ left alone (exit 3 / degraded)"

# vmtest: mem=512 smp=1 timeout=240
# delegated-self — the guard started inside a cgroup delegated to its user
# (chown of DIR, cgroup.procs, cgroup.subtree_control, as cgroups(7) and a
# user manager's Delegate=yes do) and given no --cgroup: it takes its own
# cgroup as delegated, moves itself to DIR/supervisor (the
# no-internal-process rule), puts the server in DIR/server, and on exit
# moves back and removes both.  (Root's guard in an unmarked cgroup is not
# delegated: delegation.sh.)
. /lib/vmtest/lib.sh
cg_setup
user_setup
chown_delegate "$GUARD_DIR"
RUNTIME_DIR=$U_HOME/run
MARK=$U_HOME/mark
write_policy <<'INI'
[memory]
max = 64M
[restart]
on = never
INI
chown "$U_UID:$U_UID" "$POLICY"
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in
# Enter DIR first (as root), then become the user's guard (no --cgroup).
XDG_RUNTIME_DIR=$RUNTIME_DIR sh -c 'echo $$ > "$1/cgroup.procs" && exec su -s /bin/sh u -c "exec \"\$0\" --policy \"\$1\" -- /bin/leaker --mark \"\$2\" --sleep" "$2" "$3" "$4"' \
        sh "$GUARD_DIR" "$GUARD_BIN" "$POLICY" "$MARK" </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
GUARD_PID=$!
poll 600 mark_has_starts 1 || fail "server did not start"
server=$(mark_field 1 2)
grep -qx "$GUARD_PID" "$GUARD_DIR/supervisor/cgroup.procs" 2>/dev/null ||
        fail "guard $GUARD_PID is not in $GUARD_DIR/supervisor ($(cat "$GUARD_DIR/supervisor/cgroup.procs" 2>&1))"
grep -qx "$server" "$GUARD_DIR/server/cgroup.procs" || fail "server $server is not in $GUARD_DIR/server"
[ -z "$(cat "$GUARD_DIR/cgroup.procs")" ] || fail "$GUARD_DIR itself still holds processes"
[ "$(cat "$GUARD_DIR/server/memory.max")" = 67108864 ] || fail "memory.max not written on server/"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
[ ! -e "$GUARD_DIR/server" ] || fail "server/ left behind"
[ ! -e "$GUARD_DIR/supervisor" ] || fail "supervisor/ left behind"
pass "guard in supervisor/, server in server/, both removed at exit"

# vmtest: timeout=240
# user-scope — a lingering user's manager (user@1000.service) runs
# `systemd-run --user --scope -p Delegate=yes gopls-guard ...` for user u:
# the user manager delegates the scope by ownership (the directory,
# cgroup.procs and cgroup.subtree_control are u's; systemd 252's user
# manager sets no user.delegate xattr), and the guard, running as u, accepts
# it: itself in supervisor/, the server in server/ with the memory and pids
# limits (the controllers a user manager hands down).
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
MARK=/tmp/u.mark
sd_policy <<'INI'
[memory]
max = 64M
swap_max = 0
[pids]
max = 32
[restart]
on = never
INI
sd_linger
sd_user_scope guard-u --policy "$POLICY" -- /bin/leaker --mark "$MARK" --sleep
RUNUSER_PID=$GUARD_PID
poll 600 mark_has_starts 1 || fail "the server did not start (guard: $(tail -n 1 /tmp/logs/guard-u.log))"
cg=$(sd_cgroup guard-u.scope --user)
case $cg in
"$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/"*) ;;
*) fail "guard-u.scope's cgroup '$cg' is not under user@$U_UID.service" ;;
esac
deleg=$(getfattr --only-values -n user.delegate "$cg" 2>/dev/null)
say "scope cgroup $cg, user.delegate=${deleg:-(none)}, owner $(stat -c %u "$cg"), controllers: $(cat "$cg/cgroup.controllers")"
for f in "$cg" "$cg/cgroup.procs" "$cg/cgroup.subtree_control"; do
        [ "$(stat -c %u "$f")" = "$U_UID" ] || fail "$f is owned by uid $(stat -c %u "$f"), not u: the scope is not delegated to u"
done
[ -z "$deleg" ] || [ "$deleg" = 1 ] || fail "user.delegate on $cg is '$deleg'"
GUARD_PID=$(cat "$cg/supervisor/cgroup.procs" 2>/dev/null | head -n 1)
[ -n "$GUARD_PID" ] || fail "nothing in $cg/supervisor (guard: $(tail -n 1 /tmp/logs/guard-u.log))"
[ "$(readlink "/proc/$GUARD_PID/exe")" = "$GUARD_BIN" ] || fail "$cg/supervisor holds $(readlink "/proc/$GUARD_PID/exe"), not the guard"
[ "$(stat -c %u "/proc/$GUARD_PID")" = "$U_UID" ] || fail "the guard runs as uid $(stat -c %u "/proc/$GUARD_PID"), not u"
sd_check_layout "$cg" "$GUARD_PID"
server=$(mark_field 1 2)
echo "$SERVER_PIDS" | grep -qx "$server" || fail "server $server is not in $cg/server ($SERVER_PIDS)"
sd_check_file "$cg/server/memory.max" $((64 * 1024 * 1024))
sd_check_file "$cg/server/memory.swap.max" 0
sd_check_file "$cg/server/pids.max" 32

sd_stdin_close guard-u
wait_exit "$RUNUSER_PID" 300 || fail "the guard did not exit after its stdin closed"
[ "$WAIT_STATUS" -eq 0 ] || fail "the user's guard exited $WAIT_STATUS after its stdin closed ($(tail -n 1 /tmp/logs/guard-u.log))"
pid_alive "$server" && fail "server $server outlived the guard"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg is left behind"
pass "u's guard in its user-delegated scope (user.delegate ${deleg:-absent}, owned by u): supervisor/ + server/ with memory.max, swap, pids.max; scope gone after EOF"

# vmtest: timeout=240
# stop — `systemctl stop` of a transient service running the guard (whose
# server has a child of its own): the guard stops the server and exits 0
# ("Deactivated successfully", no SIGKILL after the stop timeout), and no
# process and no cgroup of the unit is left.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[memory]
max = 128M
[restart]
on = always
INI
sd_guard_service guard-stop --policy "$POLICY" -- /bin/leaker --mark "$MARK" --keep-child --sleep
cg=$(sd_cgroup guard-stop.service)
poll 600 eval 'grep -q "^kept " "$MARK" 2>/dev/null' || fail "the server did not start its child (mark: $(cat "$MARK" 2>/dev/null))"
server=$(mark_field 1 2)
child=$(awk '/^kept / { print $2; exit }' "$MARK")
sd_check_layout "$cg" "$GUARD_PID"
procs_of "$cg/server" | grep -qx "$child" || fail "the server's child $child is not in $cg/server"
tree=$(guard_tree_pids | tr '\n' ' ')
say "guard $GUARD_PID, server $server, its child $child; marked tree: $tree"

sd_wait_prop 100 guard-stop.service ActiveState active || fail "guard-stop.service is $(sd_prop guard-stop.service ActiveState)"
systemctl stop guard-stop.service || fail "systemctl stop guard-stop.service failed"
sd_stopped_clean guard-stop.service "$cg" "$GUARD_PID" "$server" "$child"
left=$(guard_tree_pids)
[ -z "$left" ] || fail "processes of the guard's tree outlived the unit: $left"
sd_journal_has guard-stop.service '.MESSAGE | test("stop-sigterm.*timed out|Killing process")' &&
        fail "systemd had to kill what the guard left: $(sd_journal guard-stop.service | jq -r 'select(.MESSAGE | test("timed out|Killing")) | .MESSAGE' | head -n 1)"
sd_journal_has guard-stop.service '.MESSAGE | test("Deactivated successfully")' ||
        fail "guard-stop.service did not end successfully: $(sd_journal guard-stop.service | jq -r .MESSAGE | tail -n 3 | tr '\n' '|')"
pass "after systemctl stop: unit $(systemctl is-active guard-stop.service), cgroup gone, guard, server and child gone"

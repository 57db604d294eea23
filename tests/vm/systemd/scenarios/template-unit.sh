# vmtest: timeout=240
# template-unit — a template unit of the test's own, installed as the
# project's will be (an instance per workspace, named by systemd-escape
# --path, Delegate=yes, with a drop-in): started with systemctl, the guard
# takes the instance's own cgroup and the limits of both its policy files
# land on server/; systemctl restart starts a new guard and server in the
# same layout; systemctl stop leaves nothing.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
mkdir -p /srv/my-work /tmp/units/guard-test@.service.d
inst=$(sd_escape_path /srv/my-work)
[ "$inst" = srv-my\\x2dwork ] || fail "systemd-escape --path /srv/my-work gave '$inst'"
cat >/tmp/units/guard-test@.service <<UNIT
[Unit]
Description=guard test instance for %f
[Service]
Delegate=yes
StandardInput=file:/run/vmtest/guard-test.in
ExecStart=$GUARD_BIN --workspace %f --policy /tmp/p.ini --policy /tmp/dropin.ini -- /bin/leaker --mark /tmp/mark --sleep
UNIT
cat >/tmp/units/guard-test@.service.d/env.conf <<'UNIT'
[Service]
Environment=GUARD_TEST_DROPIN=1
UNIT
sd_policy <<'INI'
[memory]
max = 96M
[restart]
on = never
INI
printf '[pids]\nmax = 40\n' >/tmp/dropin.ini
sd_install_unit /tmp/units/guard-test@.service /tmp/units/guard-test@.service.d/env.conf
unit="guard-test@$inst.service"
[ "$(sd_prop "$unit" Environment)" = GUARD_TEST_DROPIN=1 ] || fail "the drop-in was not applied: Environment=$(sd_prop "$unit" Environment)"
sd_stdin guard-test
systemctl start "$unit" || fail "systemctl start $unit failed"
sd_wait_prop 100 "$unit" ActiveState active || fail "$unit is $(sd_prop "$unit" ActiveState)"
poll 600 mark_has_starts 1 || fail "the server did not start"
cg=$(sd_cgroup "$unit")
GUARD_PID=$(sd_prop "$unit" MainPID)
sd_check_layout "$cg" "$GUARD_PID"
sd_check_file "$cg/server/memory.max" $((96 * 1024 * 1024))
sd_check_file "$cg/server/pids.max" 40
first=$GUARD_PID

systemctl restart "$unit" || fail "systemctl restart $unit failed"
poll 600 mark_has_starts 2 || fail "no server after systemctl restart"
GUARD_PID=$(sd_prop "$unit" MainPID)
[ "$GUARD_PID" != "$first" ] || fail "systemctl restart kept guard $first"
pid_alive "$first" && fail "the first guard $first outlived the restart"
sd_check_layout "$cg" "$GUARD_PID"
echo "$SERVER_PIDS" | grep -qx "$(mark_field 2 2)" || fail "the new server is not in $cg/server"

systemctl stop "$unit" || fail "systemctl stop $unit failed"
sd_stopped_clean "$unit" "$cg" "$GUARD_PID" "$(mark_field 1 2)" "$(mark_field 2 2)"
pass "$unit: guard in supervisor/, server/ with memory.max and the second policy file's pids.max, again after restart, nothing left after stop"

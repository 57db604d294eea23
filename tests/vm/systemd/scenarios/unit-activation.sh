# vmtest: timeout=300
# unit-activation — the project's own gopls-guard@.socket/.service from the
# installed package: `systemctl enable --now` of the socket starts nothing;
# the first `gopls-guard connect DIR` (root) starts the service, which turns
# active only on READY=1 (Type=notify) with a StatusText; the guard is in
# supervisor/, the server (lsp-echo in gopls's daemon role, from a policy
# drop-in in /etc/gopls-guard/policy.d) in server/ with the policy's limits,
# and neither runs as root (DynamicUser=yes).  Then with a SocketUser=u
# drop-in, as the unit's comment documents, user u's connect starts it.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
systemctl cat gopls-guard@.service gopls-guard@.socket >/tmp/logs/units.txt 2>&1 ||
        fail "the package's gopls-guard@.service/.socket are not installed: $(tail -n 1 /tmp/logs/units.txt)"
ws=/srv/act-ws
mkdir -p "$ws" /etc/gopls-guard/policy.d && chmod 0755 "$ws"
inst=$(sd_escape_path "$ws")
sock_unit=gopls-guard@$inst.socket svc=gopls-guard@$inst.service
sock=/run/gopls-guard/$inst.sock
cat >/etc/gopls-guard/policy.d/50-test.ini <<'INI'
[server]
command = /usr/bin/lsp-echo
[memory]
high = 80M
max = 96M
[pids]
max = 64
[serve]
idle_timeout = 0
INI

systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 || fail "systemctl enable --now $sock_unit: $(tail -n 2 /tmp/logs/enable.log)"
sd_wait_prop 100 "$sock_unit" ActiveState active || fail "$sock_unit is $(sd_prop "$sock_unit" ActiveState)"
[ -S "$sock" ] || fail "no socket $sock"
[ "$(stat -c '%a %U' "$sock")" = "600 root" ] || fail "$sock is $(stat -c '%a %U' "$sock"), expected 600 root"
[ "$(sd_prop "$svc" ActiveState)" = inactive ] || fail "$svc is $(sd_prop "$svc" ActiveState) before any connection"

sd_init_editor a "$ws"
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc is $(sd_prop "$svc" ActiveState) after the first connect"
[ "$(sd_prop "$svc" Type)" = notify ] || fail "$svc Type=$(sd_prop "$svc" Type)"
status=$(sd_prop "$svc" StatusText)
[ -n "$status" ] || fail "$svc has no StatusText"
t_start=$(sd_prop "$svc" ExecMainStartTimestampMonotonic)
t_active=$(sd_prop "$svc" ActiveEnterTimestampMonotonic)
[ "$t_active" -ge "$t_start" ] || fail "active ($t_active) before the main process started ($t_start)"
echo "BENCH unit_start_to_ready_ms=$(sd_mono_ms "$svc" ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic)"
say "StatusText: $status"

cg=$(sd_cgroup "$svc")
GUARD_PID=$(sd_prop "$svc" MainPID)
sd_check_layout "$cg" "$GUARD_PID"
d1=$(sd_echo_daemon a 2) || fail "echo/daemon not answered through connect"
echo "$SERVER_PIDS" | grep -qx "$d1" || fail "the server $d1 that answered is not in $cg/server ($SERVER_PIDS)"
sd_check_file "$cg/server/memory.high" $((80 * 1024 * 1024))
sd_check_file "$cg/server/memory.max" $((96 * 1024 * 1024))
sd_check_file "$cg/server/pids.max" 64
guard_uid=$(uid_of "$GUARD_PID")
[ -n "$guard_uid" ] && [ "$guard_uid" -ne 0 ] || fail "the guard runs as uid '$guard_uid'"
for p in $SERVER_PIDS; do
        u=$(uid_of "$p")
        [ -z "$u" ] || [ "$u" -ne 0 ] || fail "server process $p ($(tr '\0' ' ' <"/proc/$p/cmdline")) runs as root"
done
[ "$(uid_of "$d1")" = "$guard_uid" ] || fail "the server runs as uid $(uid_of "$d1"), the guard as $guard_uid"
say "guard $GUARD_PID and server $d1 as dynamic uid $guard_uid; $cg/server: high 80M max 96M pids 64"
sd_editor_close a

# As u: the socket handed to u by a SocketUser= drop-in.
systemctl stop "$svc" "$sock_unit" || fail "systemctl stop failed"
mkdir -p "/tmp/units/$sock_unit.d"
printf '[Socket]\nSocketUser=u\n' >"/tmp/units/$sock_unit.d/user.conf"
sd_install_unit "/tmp/units/$sock_unit.d/user.conf"
systemctl start "$sock_unit" || fail "systemctl start $sock_unit failed after the SocketUser=u drop-in"
poll 100 test -S "$sock" || fail "no socket $sock after restart"
[ "$(stat -c '%a %U' "$sock")" = "600 u" ] || fail "$sock is $(stat -c '%a %U' "$sock") with SocketUser=u"
[ "$(sd_prop "$svc" ActiveState)" = inactive ] || fail "$svc is $(sd_prop "$svc" ActiveState) before u connects"
sd_init_editor b "$ws" --as-u
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc is $(sd_prop "$svc" ActiveState) after u's connect"
d2=$(sd_echo_daemon b 2) || fail "u's echo/daemon not answered"
[ "$(uid_of "$d2")" != 0 ] || fail "the server started by u's connect runs as root"
echo "BENCH unit_start_to_ready_ms_as_u=$(sd_mono_ms "$svc" ExecMainStartTimestampMonotonic ActiveEnterTimestampMonotonic)"
sd_editor_close b
pass "$sock_unit enabled; the first connect (root, then u with SocketUser=u) started $svc (Type=notify, '$status'); guard in supervisor/, server $d1 in server/ with the policy's limits, as dynamic uid $guard_uid"

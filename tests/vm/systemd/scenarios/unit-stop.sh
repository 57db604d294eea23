# vmtest: timeout=300
# unit-stop — the package's gopls-guard@.service started by its socket with
# an editor connected: `systemctl stop` of the service and the socket leaves
# no process (guard, server, its connection children, the editor's connect),
# no cgroup and no socket file.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
ws=/srv/stop-ws
mkdir -p "$ws" /etc/gopls-guard/policy.d && chmod 0755 "$ws"
inst=$(sd_escape_path "$ws")
sock_unit=gopls-guard@$inst.socket svc=gopls-guard@$inst.service
sock=/run/gopls-guard/$inst.sock
printf '[server]\ncommand = /usr/bin/lsp-echo\n[serve]\nidle_timeout = 0\n' >/etc/gopls-guard/policy.d/50-test.ini
systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 || fail "systemctl enable --now $sock_unit: $(tail -n 2 /tmp/logs/enable.log)"
sd_init_editor a "$ws"
connect_pid=$EDITOR_PID
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc is $(sd_prop "$svc" ActiveState)"
d1=$(sd_echo_daemon a 2) || fail "echo/daemon not answered"
GUARD_PID=$(sd_prop "$svc" MainPID)
cg=$(sd_cgroup "$svc")
sd_check_layout "$cg" "$GUARD_PID"
all=$(procs_of "$cg" | sort -u | tr '\n' ' ')
tree=$(guard_tree_pids | sort -u | tr '\n' ' ')
case " $all" in *" $d1 "*) ;; *) fail "the server $d1 is not among the unit's processes ($all)" ;; esac

t0=$(cut -d' ' -f1 /proc/uptime)
systemctl stop "$svc" "$sock_unit" || fail "systemctl stop $svc $sock_unit failed"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "BENCH unit_stop_s=$(echo "$t1 - $t0" | awk '{ print $1 - $3 }')"
# shellcheck disable=SC2086 # lists of pids
sd_stopped_clean "$svc" "$cg" $all $tree
[ "$(sd_prop "$svc" Result)" = success ] || fail "$svc Result=$(sd_prop "$svc" Result) after systemctl stop"
st=$(systemctl is-active "$sock_unit")
[ "$st" = inactive ] || fail "$sock_unit is $st after systemctl stop"
[ ! -e "$sock" ] || fail "the socket file $sock is left behind"
[ -z "$(find /run/gopls-guard -name '*.sock' 2>/dev/null)" ] || fail "sockets left in /run/gopls-guard: $(find /run/gopls-guard -name '*.sock')"
[ -z "$(guard_tree_pids)" ] || fail "processes of the guard's tree left: $(guard_tree_pids | tr '\n' ' ')"
poll 100 pid_dead "$connect_pid" || fail "the editor's connect $connect_pid still runs after the stop"
sd_editor_close a
pass "systemctl stop of $svc and $sock_unit: no process left (were: $all$tree), no cgroup, no socket; connect ended"

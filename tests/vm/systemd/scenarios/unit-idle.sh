# vmtest: timeout=300
# unit-idle — the package's gopls-guard@.service started by its socket with
# [serve] idle_timeout = 2s: an editor connected keeps it running past the
# timeout; once the last editor leaves the service stops by itself
# (inactive, result success) while the socket keeps listening, and the next
# `gopls-guard connect` starts it again.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
ws=/srv/idle-ws
mkdir -p "$ws" /etc/gopls-guard/policy.d && chmod 0755 "$ws"
inst=$(sd_escape_path "$ws")
sock_unit=gopls-guard@$inst.socket svc=gopls-guard@$inst.service
sock=/run/gopls-guard/$inst.sock
printf '[server]\ncommand = /usr/bin/lsp-echo\n[serve]\nidle_timeout = 2s\n' >/etc/gopls-guard/policy.d/50-test.ini
systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 || fail "systemctl enable --now $sock_unit: $(tail -n 2 /tmp/logs/enable.log)"
sd_init_editor a "$ws"
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc is $(sd_prop "$svc" ActiveState)"
first=$(sd_prop "$svc" MainPID)
cg=$(sd_cgroup "$svc")
d1=$(sd_echo_daemon a 2) || fail "echo/daemon not answered"
sleep 3 # longer than idle_timeout: the connected editor keeps it
sd_is_active "$svc" || fail "$svc is $(sd_prop "$svc" ActiveState) with an editor connected"
sd_echo_daemon a 3 >/dev/null || fail "not answered after idle_timeout with an editor connected"

sd_editor_close a
t0=$(cut -d' ' -f1 /proc/uptime)
sd_wait_prop 600 "$svc" ActiveState inactive ||
        fail "$svc is $(sd_prop "$svc" ActiveState) after the last editor left: $(sd_journal "$svc" | jq -r .MESSAGE | tail -n 3)"
t1=$(cut -d' ' -f1 /proc/uptime)
echo "BENCH unit_idle_stop_s=$(echo "$t1 - $t0" | awk '{ print $1 - $3 }') (idle_timeout 2s)"
[ "$(sd_prop "$svc" Result)" = success ] || fail "$svc Result=$(sd_prop "$svc" Result) after its idle exit"
sd_journal_has "$svc" '.SYSLOG_IDENTIFIER == "gopls-guard" and (.MESSAGE | test("idle_timeout"))' ||
        fail "the journal does not say why it stopped (idle_timeout)"
sd_stopped_clean "$svc" "$cg" "$first" "$d1"
sd_is_active "$sock_unit" || fail "$sock_unit is $(sd_prop "$sock_unit" ActiveState) after the idle exit"
[ -S "$sock" ] || fail "the socket $sock is gone after the idle exit"

sd_init_editor b "$ws"
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc not started again by the next connect: $(sd_prop "$svc" ActiveState)"
second=$(sd_prop "$svc" MainPID)
[ "$second" != "$first" ] || fail "the same guard $first after the idle exit"
d2=$(sd_echo_daemon b 2) || fail "the next editor's echo/daemon not answered"
sd_editor_close b
pass "idle exit after the last editor left (guard $first, result success, socket listening); the next connect started guard $second, server $d2"

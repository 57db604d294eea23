# vmtest: timeout=300
# unit-two-clients — the package's gopls-guard@.service started by its
# socket: two editors connected at once through `gopls-guard connect` both
# get their own answers, from one server process (lsp-echo in gopls's daemon
# role: the only child of the guard in server/).
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
ws=/srv/two-ws
mkdir -p "$ws" /etc/gopls-guard/policy.d && chmod 0755 "$ws"
inst=$(sd_escape_path "$ws")
sock_unit=gopls-guard@$inst.socket svc=gopls-guard@$inst.service
printf '[server]\ncommand = /usr/bin/lsp-echo\n[serve]\nidle_timeout = 0\n' >/etc/gopls-guard/policy.d/50-test.ini
systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 || fail "systemctl enable --now $sock_unit: $(tail -n 2 /tmp/logs/enable.log)"
# Both connect before either is answered: the first starts the service,
# the second waits in the socket's backlog.
sd_editor a "$ws"
sd_editor b "$ws"
sd_send a "$SD_INIT"
sd_send b "$SD_INIT"
poll 600 sd_answered a '"id":1,"result":{"capabilities"' || fail "editor a not initialized: $(tail -c 300 /tmp/logs/a.err)"
poll 600 sd_answered b '"id":1,"result":{"capabilities"' || fail "editor b not initialized: $(tail -c 300 /tmp/logs/b.err)"
sd_send a "$SD_INITIALIZED"
sd_send b "$SD_INITIALIZED"
sd_send a '{"jsonrpc":"2.0","id":2,"method":"bench/echo","params":{"from":"a"}}'
sd_send b '{"jsonrpc":"2.0","id":2,"method":"bench/echo","params":{"from":"b"}}'
poll 600 sd_answered a '"id":2,"result":{"from":"a"}' || fail "a's bench/echo not answered with its own params: $(tail -c 200 /tmp/logs/a.out)"
poll 600 sd_answered b '"id":2,"result":{"from":"b"}' || fail "b's bench/echo not answered with its own params: $(tail -c 200 /tmp/logs/b.out)"
da=$(sd_echo_daemon a 3) || fail "a's echo/daemon not answered"
db=$(sd_echo_daemon b 3) || fail "b's echo/daemon not answered"
[ -n "$da" ] && [ "$da" = "$db" ] || fail "not one server: a was answered by $da, b by $db"
GUARD_PID=$(sd_prop "$svc" MainPID)
cg=$(sd_cgroup "$svc")
sd_check_layout "$cg" "$GUARD_PID"
# The server's own connection children are in server/ too; the server
# itself is the only one the guard started.
top=
for p in $SERVER_PIDS; do
        [ "$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)" = "$GUARD_PID" ] && top="$top $p"
done
[ "$top" = " $da" ] || fail "the guard's children in server/ are '$top', expected the one server $da ($SERVER_PIDS)"
[ "$(sd_prop "$svc" NRestarts)" = 0 ] || fail "$svc NRestarts=$(sd_prop "$svc" NRestarts)"
sd_editor_close a
sd_editor_close b
pass "two editors through connect answered each with their own params, by one server $da (server/: $(echo $SERVER_PIDS))"

# vmtest: timeout=300
# user-units — the project's user units under u's own (lingering) manager:
# `systemctl --user enable --now gopls-guard@ESC.socket` makes a 0600 socket
# of u's in $XDG_RUNTIME_DIR/gopls-guard; `gopls-guard connect DIR` as u
# starts the service, which answers a scripted LSP exchange from the
# server in server/ of the unit's delegated cgroup (supervisor/ holds the
# guard) under u's policy limits; a SIGKILLed server is replaced and the
# editor still answered; `systemctl --user stop` leaves nothing.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
u_workspace /home/u/ws
u_policy <<'INI'
[server]
command = /usr/bin/lsp-echo
[memory]
max = 80M
swap_max = 0
[pids]
max = 48
[restart]
backoff_initial = 100ms
INI
sock_unit=gopls-guard@$U_ESC.socket
svc=gopls-guard@$U_ESC.service
u_systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 ||
        fail "systemctl --user enable --now $sock_unit failed: $(tail -n 2 /tmp/logs/enable.log)"
[ -S "$U_SOCK" ] || fail "no socket $U_SOCK after enabling $sock_unit"
[ "$(stat -c '%a %U' "$U_SOCK")" = "600 u" ] || fail "$U_SOCK is $(stat -c '%a %U' "$U_SOCK"), expected 600 u"
[ "$(stat -c '%a %U' "$U_RUNTIME/gopls-guard")" = "700 u" ] ||
        fail "$U_RUNTIME/gopls-guard is $(stat -c '%a %U' "$U_RUNTIME/gopls-guard")"
sd_is_active "$svc" --user && fail "$svc runs before any connection"

t0=$(cut -d' ' -f1 /proc/uptime)
u_editor a
A_PID=$EDITOR_PID
exec 4>"$SD_RUN/a.in"
frame "$LSP_INIT" >&4
poll 600 answered a '"id":1,"result":{"capabilities"' ||
        fail "connect not answered: $(tail -n 3 /tmp/logs/a.err); $svc is $(sd_prop "$svc" ActiveState --user)"
t1=$(cut -d' ' -f1 /proc/uptime)
say "BENCH activation_to_initialize_s=$(awk "BEGIN{print $t1-$t0}")"
frame "$LSP_INITIALIZED" >&4
frame '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}' >&4
poll 300 answered a '"id":2,"result":' || fail "echo/daemon not answered"
d1=$(daemon_of a 2)
sd_wait_prop 300 "$svc" ActiveState active --user || fail "$svc is $(sd_prop "$svc" ActiveState --user)"
[ "$(sd_prop "$svc" Type --user)" = notify ] || fail "$svc is not Type=notify"
GUARD_PID=$(sd_prop "$svc" MainPID --user)
[ "$(stat -c %u "/proc/$GUARD_PID")" = "$U_UID" ] || fail "the guard runs as uid $(stat -c %u "/proc/$GUARD_PID")"
cg=$(sd_cgroup "$svc" --user)
case $cg in
"$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/"*) ;;
*) fail "$svc's cgroup '$cg' is not under user@$U_UID.service" ;;
esac
sd_check_layout "$cg" "$GUARD_PID"
echo "$SERVER_PIDS" | grep -qx "$d1" || fail "the server $d1 is not in $cg/server ($SERVER_PIDS)"
sd_check_file "$cg/server/memory.max" $((80 * 1024 * 1024))
sd_check_file "$cg/server/memory.swap.max" 0
sd_check_file "$cg/server/pids.max" 48
say "guard $GUARD_PID in $cg/supervisor, server $d1 in server/ (memory.max 80M, pids.max 48)"

# The server is killed: the guard starts another, replays a's session.
kill -9 "$d1"
frame '{"jsonrpc":"2.0","id":3,"method":"echo/daemon"}' >&4
poll 600 answered a '"id":3,"result":' || fail "a not answered after the kill: $(sd_journal "$svc" --user | jq -r .MESSAGE | tail -n 3)"
d2=$(daemon_of a 3)
[ -n "$d2" ] && [ "$d2" != "$d1" ] || fail "request 3 answered by $d2, the killed server was $d1"
[ "$(grep -o '"id":1,"result"' /tmp/logs/a.out | wc -l)" -eq 1 ] || fail "the replayed initialize reached the editor"
[ "$(sd_prop "$svc" MainPID --user)" = "$GUARD_PID" ] || fail "the guard itself was restarted"
sd_check_layout "$cg" "$GUARD_PID"
echo "$SERVER_PIDS" | grep -qx "$d2" || fail "the new server $d2 is not in $cg/server"
say "server $d1 killed, a answered by $d2 in server/"

u_systemctl stop "$svc" "$sock_unit" || fail "systemctl --user stop failed"
poll 300 u_unit_gone "$svc" || fail "$svc is $(u_systemctl is-active "$svc")"
u_unit_gone "$sock_unit" || fail "$sock_unit is $(u_systemctl is-active "$sock_unit")"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg left behind: $(procs_of "$cg" | tr '\n' ' ')"
for p in "$GUARD_PID" "$d1" "$d2"; do
        pid_alive "$p" && fail "process $p outlived the stop"
done
[ ! -e "$U_SOCK" ] || fail "$U_SOCK left behind"
poll 100 pid_dead "$A_PID" || fail "a's connect still runs after the stop"
exec 4>&-
pass "$sock_unit (600 u) activated by connect; guard in supervisor/, server in server/ (80M, pids 48) of $cg; kill replayed; stop left nothing"

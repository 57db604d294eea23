# vmtest: timeout=300
# user-idle — under u's user manager, gopls-guard@ESC.service started by a
# connection exits by itself [serve] idle_timeout after its last editor
# left (the unit inactive, not failed, its cgroup gone, the socket unit
# still listening), and the next `connect` activates it again.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
u_workspace /home/u/idle-ws
u_policy <<'INI'
[server]
command = /usr/bin/lsp-echo
[serve]
idle_timeout = 2s
INI
sock_unit=gopls-guard@$U_ESC.socket
svc=gopls-guard@$U_ESC.service
u_systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 ||
        fail "systemctl --user enable --now $sock_unit failed: $(tail -n 2 /tmp/logs/enable.log)"

# session EDITOR: initialize and one request through connect, then the
# editor leaves (shutdown, exit, EOF); sets DAEMON to the server's pid.
session() {
        u_editor "$1"
        _ed=$EDITOR_PID
        exec 4>"$SD_RUN/$1.in"
        frame "$LSP_INIT" >&4
        poll 600 answered "$1" '"id":1,"result":{"capabilities"' ||
                fail "editor $1 not answered: $(tail -n 3 "/tmp/logs/$1.err"); $svc is $(sd_prop "$svc" ActiveState --user)"
        frame "$LSP_INITIALIZED" >&4
        frame '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}' >&4
        poll 300 answered "$1" '"id":2,"result":' || fail "editor $1: echo/daemon not answered"
        DAEMON=$(daemon_of "$1" 2)
        frame '{"jsonrpc":"2.0","id":3,"method":"shutdown"}' >&4
        poll 300 answered "$1" '"id":3,"result":' || fail "editor $1: shutdown not answered"
        frame '{"jsonrpc":"2.0","method":"exit"}' >&4
        exec 4>&-
        poll 300 pid_dead "$_ed" || fail "editor $1's connect did not end after exit"
}

session a
sd_wait_prop 100 "$svc" ActiveState active --user || fail "$svc is $(sd_prop "$svc" ActiveState --user) after a connection"
first=$(sd_prop "$svc" MainPID --user)
first_server=$DAEMON
cg=$(sd_cgroup "$svc" --user)
t0=$(cut -d' ' -f1 /proc/uptime)
# 2 s idle, and the guard's own teardown, under TCG: up to 60 s.
sd_wait_prop 600 "$svc" ActiveState inactive --user ||
        fail "$svc still $(sd_prop "$svc" ActiveState --user) after its idle_timeout (result $(sd_prop "$svc" Result --user))"
t1=$(cut -d' ' -f1 /proc/uptime)
[ "$(sd_prop "$svc" Result --user)" = success ] || fail "$svc ended with result $(sd_prop "$svc" Result --user)"
sd_journal_has "$svc" '.MESSAGE | test("idle|no connection"; "i")' --user ||
        say "note: no journal line of the guard's mentions the idle exit"
pid_alive "$first" && fail "guard $first still runs"
pid_alive "$first_server" && fail "server $first_server outlived the idle exit"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg left behind after the idle exit"
[ "$(u_systemctl is-active "$sock_unit")" = active ] || fail "$sock_unit is $(u_systemctl is-active "$sock_unit") after the idle exit"
[ -S "$U_SOCK" ] || fail "$U_SOCK gone after the idle exit"
say "BENCH idle_exit_s=$(awk "BEGIN{print $t1-$t0}") (idle_timeout 2s, from the editor's exit)"

session b
second=$(sd_prop "$svc" MainPID --user)
is_number "$second" && [ "$second" -gt 0 ] && [ "$second" != "$first" ] ||
        fail "no new guard for the next connection (MainPID $second, before $first)"
[ "$DAEMON" != "$first_server" ] || fail "the same server $DAEMON answered again"
sd_wait_prop 600 "$svc" ActiveState inactive --user || fail "$svc did not go idle a second time"
u_systemctl stop "$sock_unit" || fail "systemctl --user stop $sock_unit failed"
pass "$svc exited idle (result success, cgroup gone, socket kept) and came back for the next connect (guard $first, then $second)"

#!/bin/bash
# serve.sh — daemon mode on this machine (degraded, no cgroup touched):
# `gopls-guard serve` with lsp-echo in gopls's daemon role (`serve
# -listen=unix;PATH`), editors scripted through `gopls-guard connect`.
#
#   serve.sh GOPLS_GUARD_TEST LSP_ECHO
set -u
guard=$1
echo_server=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir serve
it_fixture_roots
run=$GOPLS_GUARD_RUNTIME_DIR
ws=$work/ws
mkdir -p "$ws"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"initialized","params":{}}'

pids=() # everything this script started, killed by pid at the end
cleanup() {
        for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT

policy() { # policy NAME EXTRA: the serve policy file (the server: lsp-echo $echo_args)
        printf '[server]\ncommand = %s\nargs = %s\n[restart]\nbackoff_initial = 100ms\n[log]\ntarget = stderr\nlevel = debug\n%s\n' \
                "$echo_server" "${echo_args:-}" "$2" >"$work/$1.ini"
}

# serve NAME EXTRA-POLICY: a serving guard in the background ($serve_pid).
serve() {
        policy "$1" "$2"
        "$guard" serve --workspace "$ws" --policy "$work/$1.ini" 2>"$work/$1.err" &
        serve_pid=$!
        pids+=("$serve_pid")
}

# editor NAME: `connect` with a fifo as stdin, held open on fd ed_NAME.
declare -A ed_fd ed_pid
editor() {
        mkfifo "$work/$1.in"
        "$guard" connect "$ws" <"$work/$1.in" >"$work/$1.out" 2>"$work/$1.cerr" &
        ed_pid[$1]=$!
        pids+=("$!")
        exec {fd}>"$work/$1.in"
        ed_fd[$1]=$fd
}
send() { frame "$2" >&"${ed_fd[$1]}"; }
close_editor() {
        local fd=${ed_fd[$1]}
        exec {fd}>&-
}
answered() { grep -qF -- "$2" "$work/$1.out" 2>/dev/null; }
daemon_of() { # the daemon pid the last echo/daemon answer with id $2 named
        grep -o "\"id\":$2,\"result\":[0-9]*" "$work/$1.out" | tail -n 1 | sed 's/.*://'
}
generation_is() { test "$(status_field generation)" = "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }
gone() { ! kill -0 "$1" 2>/dev/null; }
status_field() { # the serving guard's status file, one numeric field
        grep -o "\"$1\":[0-9]*" "$run/$serve_pid.json" 2>/dev/null | sed 's/.*://'
}

esc=$(systemd-escape --path "$ws" 2>/dev/null) || esc=
sock=$run/$esc.sock

# 1. No guard serves the workspace: connect says how to start one, exits 2.
"$guard" connect "$ws" </dev/null >"$work/none.out" 2>"$work/none.err"
rc=$?
check "connect without a guard exits 2 (got $rc)" test "$rc" -eq 2
check "it names the systemctl line" has "$work/none.err" "systemctl --user enable --now 'gopls-guard@"
if [ -n "$esc" ]; then
        check "the exact unit name (systemd-escape --path)" \
                has "$work/none.err" "systemctl --user enable --now 'gopls-guard@$esc.socket'"
fi
check "and the serve alternative" has "$work/none.err" "gopls-guard serve --workspace $ws"

# 1b. A runtime directory others can enter is refused: exit 2, no socket.
mkdir -m 0755 "$work/open-run"
policy openrun ""
GOPLS_GUARD_RUNTIME_DIR=$work/open-run timeout 20 "$guard" serve --workspace "$ws" \
        --policy "$work/openrun.ini" 2>"$work/openrun.err"
rc=$?
check "a runtime directory others can enter: exit 2 (got $rc)" test "$rc" -eq 2
check "and it says why" has "$work/openrun.err" "can be entered by other users"
check "and no socket there" test -z "$(find "$work/open-run" -name '*.sock')"

# 2. serve: the socket, 0600, in the private runtime directory.  Its first
# server never answers a hover (step 5 kills it with one in flight), and
# every server crashes at a definition (the poison request of step 5).
echo_args="--state $work/echo.state --hang-on textDocument/hover --hang-start 1 --crash-on textDocument/definition"
serve shared ""
echo_args=
check "the socket appears" poll 50 test -S "$sock"
check "socket mode 0600 (got $(stat -c %a "$sock" 2>/dev/null))" test "$(stat -c %a "$sock")" = 600

# 3. Two editors at once share one server and get their own answers.
editor a
editor b
send a "$INIT"
send b "$INIT"
check "editor a initialized" poll 50 answered a '"id":1,"result":{"capabilities"'
check "editor b initialized" poll 50 answered b '"id":1,"result":{"capabilities"'
send a "$INITIALIZED"
send b "$INITIALIZED"
send a '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}'
send b '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}'
check "a's request answered" poll 50 answered a '"id":2,"result":'
check "b's request answered" poll 50 answered b '"id":2,"result":'
check "a is told the guard runs degraded" answered a 'runs degraded'
check "b is told the guard runs degraded" answered b 'runs degraded'
d1=$(daemon_of a 2)
check "one server for both editors (a: $d1, b: $(daemon_of b 2))" test -n "$d1" -a "$d1" = "$(daemon_of b 2)"
check "the status file names that server (server_pid $(status_field server_pid))" \
        test "$(status_field server_pid)" = "$d1"

# 4. One editor's bare exit (no shutdown) must not end the shared server.
send a '{"jsonrpc":"2.0","method":"exit"}'
check "a's connect ends after its exit" poll 50 gone "${ed_pid[a]}"
close_editor a
send b '{"jsonrpc":"2.0","id":3,"method":"echo/daemon"}'
check "b still answered by the same server" poll 50 answered b "\"id\":3,\"result\":$d1"
check "the server was not restarted" generation_is 1

# 5. The server is killed: the session is replayed onto the next one.
editor c
send c "$INIT"
check "a third editor joins" poll 50 answered c '"id":1,"result":{"capabilities"'
send c "$INITIALIZED"
send c '{"jsonrpc":"2.0","id":5,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":0,"character":0}}}'
check "c's hover reached the server" poll 50 has "$work/shared.err" 'hanging at textDocument/hover'
kill -9 "$d1"
check "the guard starts a new server" poll 100 generation_is 2
inc=$(find "$work/state/gopls-guard/incidents" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort | tail -n 1)
check "an incident of the kill (${inc##*/})" test -s "$inc/incident.json"
check "naming c's hover as in flight" \
        json_true "$inc/incident.json" '.methods_in_flight | index("textDocument/hover") != null'
check "c's hover answered by the new server" poll 100 answered c '"id":5,"result":'
send b '{"jsonrpc":"2.0","id":4,"method":"echo/daemon"}'
send c '{"jsonrpc":"2.0","id":4,"method":"echo/daemon"}'
check "b answered after the kill" poll 100 answered b '"id":4,"result":'
check "c answered after the kill" poll 100 answered c '"id":4,"result":'
d2=$(daemon_of b 4)
check "by the new server (before $d1, now $d2 and $(daemon_of c 4))" \
        test -n "$d2" -a "$d2" != "$d1" -a "$d2" = "$(daemon_of c 4)"
check "the replayed initialize never reached the editor" \
        test "$(grep -c '"id":1,"result"' "$work/b.out")" -eq 1
# A definition that crashes every server it reaches: sent twice, then
# answered RequestFailed, and counted in the daemon's status.
send b '{"jsonrpc":"2.0","id":6,"method":"textDocument/definition","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":0,"character":0}}}'
check "b's poison definition answered RequestFailed" poll 100 answered b '"id":6,"error":{"code":-32803'
check "the status counts it (poisoned_requests)" poll 50 eval 'test "$(status_field poisoned_requests)" = 1'
check "and the next server runs: generation 4 (two crashes, not three)" poll 100 generation_is 4

# 6. SIGTERM with editors connected: everything goes, the editors see EOF.
kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
check "serve exits 0 on SIGTERM (got $rc)" test "$rc" -eq 0
check "no socket left" test ! -e "$sock"
check "no private server socket left" test -z "$(find "$run" -name 'server-*.sock')"
check "no status file left" test ! -e "$run/$serve_pid.json"
check "no server left ($d2)" gone "$d2"
check "editor b's connect ended" poll 50 gone "${ed_pid[b]}"
check "editor c's connect ended" poll 50 gone "${ed_pid[c]}"
close_editor b
close_editor c

# 7. Idle: no editor for [serve] idle_timeout, then exit 0.
serve idle "[serve]
idle_timeout = 1s"
check "idle: the socket appears" poll 50 test -S "$sock"
editor d
send d "$INIT"
check "idle: editor answered" poll 50 answered d '"id":1,"result":{"capabilities"'
sleep 1.5 # longer than idle_timeout: a connected editor keeps it
check "idle: still serving while an editor is connected" alive "$serve_pid"
close_editor d
check "idle: exits once the editor left" poll 100 gone "$serve_pid"
wait "$serve_pid"
rc=$?
check "idle: exit status 0 (got $rc)" test "$rc" -eq 0
check "idle: the log says why" has "$work/idle.err" "idle_timeout"
check "idle: no socket left" test ! -e "$sock"

# 8. A second serve of the same workspace is refused (the first answers).
serve first ""
check "first serve listens" poll 50 test -S "$sock"
policy second ""
timeout 20 "$guard" serve --workspace "$ws" --policy "$work/second.ini" 2>"$work/second.err"
rc=$?
check "second serve exits 2 (got $rc)" test "$rc" -eq 2
check "and says another guard serves it" has "$work/second.err" "Another gopls-guard already serves"
kill -TERM "$serve_pid"
wait "$serve_pid"

# 9. A socket left by a guard that died is replaced.
serve dead ""
check "dead: listens" poll 50 test -S "$sock"
kill -9 "$serve_pid"
wait "$serve_pid" 2>/dev/null
check "dead: its socket is left behind" test -S "$sock"
serve after ""
check "after: serves on the leftover path" poll 50 grep -q "Serving" "$work/after.err"
editor e
send e "$INIT"
check "after: answered" poll 50 answered e '"id":1,"result":{"capabilities"'
close_editor e
kill -TERM "$serve_pid"
wait "$serve_pid"

# 9b. [serve] share = no: a guard and a server of its own per connection.
serve solo "[serve]
share = no
idle_timeout = 0"
check "share = no: listens" poll 50 test -S "$sock"
editor g
editor h
send g "$INIT"
send h "$INIT"
check "share = no: g initialized" poll 50 answered g '"id":1,"result":{"capabilities"'
check "share = no: h initialized" poll 50 answered h '"id":1,"result":{"capabilities"'
live_status() { # the status files of guards that run (a SIGKILLed one left its own above)
        local f
        for f in "$run"/[0-9]*.json; do
                [ -e "$f" ] && alive "$(basename "$f" .json)" && echo "$f"
        done
}
guards() { live_status | wc -l; }
two_guards() { [ "$(guards)" -eq 2 ]; }
check "share = no: two guards, each with its status file" poll 50 two_guards
servers=$(live_status | xargs cat 2>/dev/null | grep -o '"server_pid":[0-9]*' | sed 's/.*://' | sort -u)
check "share = no: two different servers ($(echo $servers))" test "$(echo "$servers" | wc -w)" -eq 2
check "share = no: the log says so" has "$work/solo.err" "one server per connection"
send g '{"jsonrpc":"2.0","method":"exit"}'
check "share = no: g's guard ends with its editor" poll 50 gone "${ed_pid[g]}"
close_editor g
send h '{"jsonrpc":"2.0","id":2,"method":"bench/echo","params":[2]}'
check "share = no: h carries on" poll 50 answered h '"id":2,"result":[2]'
kill -TERM "$serve_pid"
wait "$serve_pid"
rc=$?
check "share = no: SIGTERM, exit 0 (got $rc)" test "$rc" -eq 0
check "share = no: no guard left (status files)" test "$(guards)" -eq 0
for p in $servers; do check "share = no: server $p gone" gone "$p"; done
check "share = no: no socket left" test ! -e "$sock"
check "share = no: h's connect ended" poll 50 gone "${ed_pid[h]}"
close_editor h

# 10. Socket activation: the listening socket comes from LISTEN_FDS.
if command -v systemd-socket-activate >/dev/null; then
        policy act "[serve]
idle_timeout = 1s"
        # It passes on only the variables named with -E.
        systemd-socket-activate -l "$sock" -E GOPLS_GUARD_CGROUP_ROOT -E GOPLS_GUARD_RUNTIME_DIR \
                -E XDG_CONFIG_HOME -E GOPLS_GUARD_SYSCONFDIR -E PATH "$guard" serve --workspace "$ws" \
                --policy "$work/act.ini" 2>"$work/act.err" &
        act_pid=$!
        pids+=("$act_pid")
        check "activation: the socket is there before any guard" poll 50 test -S "$sock"
        editor f
        send f "$INIT"
        check "activation: answered" poll 100 answered f '"id":1,"result":{"capabilities"'
        check "activation: the guard took the passed socket" has "$work/act.err" "(socket activation)"
        close_editor f
        check "activation: idle exit" poll 100 gone "$act_pid"
        wait "$act_pid"
        rc=$?
        check "activation: exit 0 (got $rc)" test "$rc" -eq 0
        rm -f "$sock" # systemd-socket-activate's, not the guard's
else
        echo "SKIP socket activation: systemd-socket-activate is not installed"
fi

it_done

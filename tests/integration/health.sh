#!/bin/bash
# health.sh — gopls-guard restart, poison requests (and, with the keys of
# [restart] after_give_up, the wait after a crash loop) on this machine, in
# degraded mode, with a scripted editor and lsp-echo as the server.
#
#   health.sh GOPLS_GUARD_TEST LSP_ECHO
set -u
shopt -s lastpipe
guard=$1
echo_server=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir health
it_fixture_roots
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        [ -n "${KEEP:-}" ] || rm -rf "$work" # KEEP=1: leave it for a look
}
trap cleanup EXIT
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"initialized","params":{}}'
SHUTDOWN='{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
EXIT='{"jsonrpc":"2.0","method":"exit"}'
START9='{"jsonrpc":"2.0","id":9,"method":"echo/start"}'
HOVER='{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":12,"character":4}}}'

not_has() { ! grep -qF -- "$2" "$1"; }
policy() { printf '%s\n[lsp]\nnotify = yes\n[log]\ntarget = stderr\n' "$2" >"$work/$1.ini"; }
status_field() { # status_field WORKSPACE KEY: the value in status --json
        "$guard" status --json "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2
}

# session NAME WORKSPACE COMMAND...: a guard with policy NAME (and
# --workspace WORKSPACE unless it is "") on COMMAND, in the background (pid
# $gp), its stdin on a fifo open as fd $ed (the editor), to which
# initialize and initialized are sent; NAME.out and NAME.err hold what it
# writes.
session() {
        local name=$1 ws=$2
        shift 2
        mkfifo "$work/$name.in"
        "$guard" --policy "$work/$name.ini" ${ws:+--workspace "$ws"} -- "$@" \
                <"$work/$name.in" >"$work/$name.out" 2>"$work/$name.err" &
        gp=$!
        pids+=("$gp")
        exec {ed}>"$work/$name.in"
        { frame "$INIT"; frame "$INITIALIZED"; } >&$ed
}

# 1. gopls-guard restart WORKSPACE: the server is replaced at once, the
#    session replayed (the next request is answered by the second start),
#    not counted as a restart toward giving up.
mkdir -p "$work/ws1" "$work/ws2"
policy restart "[restart]
max_restarts = 0"
session restart "$work/ws1" "$echo_server" --state "$work/restart.state"
g1=$gp e1=$ed
check "restart: the first server answers initialize" poll 100 has "$work/restart.out" '"id":1,"result"'
"$guard" restart "$work/ws1" >"$work/r1.out" 2>"$work/r1.err"
rc=$?
check "restart WORKSPACE: exit 0 (got $rc)" test "$rc" -eq 0
check "restart WORKSPACE: says whose server" has "$work/r1.out" "Restarting the server of guard $g1 ($work/ws1)"
check "restart: the guard logs the request" poll 100 has "$work/restart.err" "starting a new one as asked"
check "restart: a second server started" poll 100 has "$work/restart.err" "generation 2"
frame "$START9" >&$e1
check "restart: the next request is answered by the new server, after the replay" \
        poll 100 has "$work/restart.out" '"id":9,"result":2'
check "restart: not counted as a restart (restarts 0)" test "$(status_field "$work/ws1" restarts)" = 0
check "restart: counted as asked for (requested_restarts 1)" \
        test "$(status_field "$work/ws1" requested_restarts)" = 1

# 2. Several guards: without WORKSPACE nothing is restarted (exit 2, each
#    listed); with it only that one.
policy other ""
session other "$work/ws2" "$echo_server" --state "$work/other.state"
g2=$gp e2=$ed
check "second guard up" poll 100 has "$work/other.out" '"id":1,"result"'
poll 50 test -n "$(status_field "$work/ws2" pid)"
"$guard" restart >"$work/r2.out" 2>"$work/r2.err"
rc=$?
check "restart with several guards and no WORKSPACE: exit 2 (got $rc)" test "$rc" -eq 2
check "...says to name one" has "$work/r2.err" "2 guards are running; name the WORKSPACE"
check "...lists the first" has "$work/r2.err" "$work/ws1"
check "...lists the second" has "$work/r2.err" "$work/ws2"
check "...and restarted none" test "$(status_field "$work/ws2" requested_restarts)" = 0
"$guard" restart "$work/ws2" >/dev/null 2>&1
check "restart ws2 restarts ws2" poll 100 has "$work/other.err" "starting a new one as asked"
check "...and not ws1" test "$(status_field "$work/ws1" requested_restarts)" = 1

# 2b. [lsp] replay = no: a new server could not take over the session, so
#     the guard keeps its server and says why.
policy noreplay "[lsp]
replay = no"
mkdir -p "$work/wsn"
session noreplay "$work/wsn" "$echo_server" --state "$work/noreplay.state"
gn=$gp en=$ed
check "replay = no: initialized" poll 100 has "$work/noreplay.out" '"id":1,"result"'
"$guard" restart "$work/wsn" >/dev/null 2>&1
check "replay = no: the restart is refused, with the reason" \
        poll 100 has "$work/noreplay.err" "with [lsp] replay = no a new server could not take over"
frame "$START9" >&$en
check "replay = no: the first server serves on" poll 100 has "$work/noreplay.out" '"id":9,"result":1'
{ frame "$SHUTDOWN"; frame "$EXIT"; } >&$en
exec {en}>&-
wait "$gn"

# 3. No guard for WORKSPACE: exit 1 and a message.
"$guard" restart "$work/nowhere" >"$work/r3.out" 2>"$work/r3.err"
rc=$?
check "restart of a workspace nobody serves: exit 1 (got $rc)" test "$rc" -eq 1
check "...says so" has "$work/r3.err" "no guard serves $work/nowhere"

# The two guards end as their editors end.
{ frame "$SHUTDOWN"; frame "$EXIT"; } >&$e1
{ frame "$SHUTDOWN"; frame "$EXIT"; } >&$e2
exec {e1}>&- {e2}>&-
wait "$g1"
rc1=$?
wait "$g2"
rc2=$?
check "restarted guards end normally (got $rc1, $rc2)" test "$rc1" -eq 0 -a "$rc2" -eq 0

# 4. A status file whose pid was reused: never signalled.  A process of
#    ours (sleep: SIGUSR1 would end it) under a guard's old status file.
sleep 300 &
victim=$!
pids+=("$victim")
real_start=$(cut -d' ' -f22 "/proc/$victim/stat")
ws_stale=$work/stale
mkdir -p "$ws_stale"
printf '{"pid":%d,"workspace":"%s","state":"running","pid_starttime":%d}\n' \
        "$victim" "$ws_stale" "$((real_start + 1))" >"$work/run/$victim.json"
"$guard" restart "$ws_stale" >"$work/r4.out" 2>"$work/r4.err"
rc=$?
check "restart of a reused pid: exit 1 (got $rc)" test "$rc" -eq 1
check "...says the guard is gone" has "$work/r4.err" "guard $victim ($ws_stale) is gone"
check "...and the process with that pid was not signalled" kill -0 "$victim"
#    A status file without a start time (older guard): refused, exit 3.
printf '{"pid":%d,"workspace":"%s","state":"running"}\n' "$victim" "$ws_stale" \
        >"$work/run/$victim.json"
"$guard" restart "$ws_stale" >"$work/r5.out" 2>"$work/r5.err"
rc=$?
check "restart without a recorded start time: exit 3 (got $rc)" test "$rc" -eq 3
check "...says why" has "$work/r5.err" "records no start time"
check "...and signals nothing" kill -0 "$victim"

# 5. Permission denied: a guard of root's, seen by another user (its
#    status file in that user's directory names root's process).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
        nobody_uid=$(id -u nobody)
        mkdir -m 0700 "$work/run-nobody"
        printf '{"pid":%d,"workspace":"%s","state":"running","pid_starttime":%d}\n' \
                "$victim" "$ws_stale" "$real_start" >"$work/run-nobody/$victim.json"
        chmod 0644 "$work/run-nobody/$victim.json"
        chown "$nobody_uid" "$work/run-nobody"
        chmod 0755 "$work"
        GOPLS_GUARD_RUNTIME_DIR=$work/run-nobody setpriv --reuid="$nobody_uid" \
                --regid="$(id -g nobody)" --clear-groups "$guard" restart "$ws_stale" \
                >"$work/r6.out" 2>"$work/r6.err"
        rc=$?
        check "restart of another user's guard: exit 3 (got $rc)" test "$rc" -eq 3
        check "...says permission denied" has "$work/r6.err" "permission denied: guard $victim"
        check "...and signals nothing" kill -0 "$victim"
else
        echo "SKIP permission denied (needs root, setpriv and a nobody user)"
fi
rm -f "$work/run/$victim.json"

# 6. A poison request: in flight at two crashes in a row, answered
#    RequestFailed naming it (method and 1-based position), the user told,
#    and the server (third start) serves on.
policy poison "[restart]
on = crash
backoff_initial = 100ms
max_restarts = 5"
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER"
        sleep 3
        frame "$START9"
        sleep 1
        frame "$SHUTDOWN"
        frame "$EXIT"
} | timeout 60 "$guard" --policy "$work/poison.ini" -- "$echo_server" --state "$work/poison.state" \
        --crash-on textDocument/hover >"$work/poison.out" 2>"$work/poison.err"
rc=$?
check "poison: guard exits 0 (got $rc)" test "$rc" -eq 0
check "poison: the hover is answered RequestFailed" has "$work/poison.out" '"id":7,"error":{"code":-32803'
check "poison: the answer names method and position" \
        has "$work/poison.out" 'textDocument/hover (file:///w/a.go:13:5) was not sent again'
check "poison: the user is told which request was dropped" \
        has "$work/poison.out" 'gopls-guard dropped a request that crashed the language server 2 times: textDocument/hover (file:///w/a.go:13:5)'
check "poison: answered once" test "$(grep -o '"id":7,' "$work/poison.out" | wc -l)" -eq 1
check "poison: the third server serves on" has "$work/poison.out" '"id":9,"result":3'
check "poison: the log says why" has "$work/poison.err" "not sending textDocument/hover (file:///w/a.go:13:5) again"

# 7. [restart] after_give_up = wait: after the crash-loop limit the editor
#    stays connected, each request is answered with what happened, the user
#    is told once how to retry, and after the cooldown a new server runs
#    with the session replayed.
policy wait "[restart]
on = crash
backoff_initial = 100ms
max_restarts = 1
after_give_up = wait
cooldown = 3s"
mkdir -p "$work/wsw"
# The server fails at its start while $work/broken exists.
breakable=(sh -c 'if [ -e "$0" ]; then echo "broken" >&2; exit 3; fi; exec "$1"' "$work/broken" "$echo_server")
session wait "$work/wsw" "${breakable[@]}"
gw=$gp ew=$ed
check "wait: initialized" poll 100 has "$work/wait.out" '"id":1,"result"'
touch "$work/broken"
frame '{"jsonrpc":"2.0","id":3,"method":"bench/crash"}' >&$ew
check "wait: the guard gives up for now" poll 150 has "$work/wait.err" "Giving up for now"
frame "$HOVER" >&$ew
check "wait: a request during the cooldown is answered RequestFailed" \
        poll 50 has "$work/wait.out" '"id":7,"error":{"code":-32803'
check "wait: ...saying what happened" grep -q 'gopls-guard gave up for now: [^"]*sh ended 2 times within 10min' "$work/wait.out"
check "wait: the user is told once how to retry" \
        test "$(grep -o '"method":"window/showMessage","params":{"type":1,"message":"gopls-guard gave up for now[^"]*gopls-guard restart' "$work/wait.out" | wc -l)" -eq 1
check "wait: the guard still runs" kill -0 "$gw"
check "wait: status says cooldown" test "$("$guard" status --json "$work/wsw" | grep -o '"state":"[a-z]*"')" = '"state":"cooldown"'
rm -f "$work/broken"
check "wait: after the cooldown a new server starts" poll 100 has "$work/wait.err" "generation 3"
frame '{"jsonrpc":"2.0","id":5,"method":"bench/echo","params":[5]}' >&$ew
check "wait: and serves the editor again" poll 100 has "$work/wait.out" '"id":5,"result":[5]'
check "wait: the request from before the give-up got one answer" \
        test "$(grep -o '"id":3,' "$work/wait.out" | wc -l)" -eq 1
{ frame "$SHUTDOWN"; frame "$EXIT"; } >&$ew
exec {ew}>&-
wait "$gw"
rc=$?
check "wait: the guard ends normally (got $rc)" test "$rc" -eq 0

# 8. ...and gopls-guard restart ends a long cooldown at once.
policy waitlong "[restart]
on = crash
backoff_initial = 100ms
max_restarts = 0
cooldown = 1h"
mkdir -p "$work/wsl"
session waitlong "$work/wsl" "${breakable[@]}"
gl=$gp el=$ed
check "cooldown + restart: initialized" poll 100 has "$work/waitlong.out" '"id":1,"result"'
frame '{"jsonrpc":"2.0","id":3,"method":"bench/crash"}' >&$el
check "cooldown + restart: gave up (default after_give_up = wait)" \
        poll 150 has "$work/waitlong.err" "Giving up for now"
"$guard" restart "$work/wsl" >/dev/null 2>"$work/rl.err"
rc=$?
check "cooldown + restart: restart exits 0 (got $rc)" test "$rc" -eq 0
check "cooldown + restart: a new server at once" poll 100 has "$work/waitlong.err" "generation 2"
frame '{"jsonrpc":"2.0","id":5,"method":"bench/echo","params":[5]}' >&$el
check "cooldown + restart: it serves the editor" poll 100 has "$work/waitlong.out" '"id":5,"result":[5]'
{ frame "$SHUTDOWN"; frame "$EXIT"; } >&$el
exec {el}>&-
wait "$gl"
rc=$?
check "cooldown + restart: the guard ends normally (got $rc)" test "$rc" -eq 0

# 9. after_give_up = exit keeps the exit status 4.
policy exit4 "[restart]
on = crash
backoff_initial = 100ms
max_restarts = 0
after_give_up = exit"
{ frame "$INIT"; frame "$INITIALIZED"; frame '{"jsonrpc":"2.0","id":3,"method":"bench/crash"}'; sleep 3; } |
        timeout 60 "$guard" --policy "$work/exit4.ini" \
        -- "$echo_server" >"$work/exit4.out" 2>"$work/exit4.err"
rc=$?
check "after_give_up = exit: exit 4 (got $rc)" test "$rc" -eq 4

# 10. Hang detection (degraded mode: /proc utime+stime of the tree): a hover
#     that makes the first server stop for good (no answer, no CPU) is
#     detected after request_timeout, that server is killed, and the hover,
#     sent again, is answered by the second.
# live NAME SERVER_ARGS...: session NAME on lsp-echo, no workspace,
# already initialized.
live() {
        local name=$1
        shift
        session "$name" "" "$echo_server" --state "$work/$name.state" "$@"
        poll 100 has "$work/$name.out" '"id":1,"result"'
}
# finish: the editor ends the session; the guard's status in $rc.
finish() {
        { frame "$SHUTDOWN"; frame "$EXIT"; } >&$ed
        exec {ed}>&-
        wait "$gp"
        rc=$?
}
policy hang "[restart]
on = crash
backoff_initial = 100ms
[health]
request_timeout = 2s"
check "hang: initialized" live hang --hang-on textDocument/hover --hang-start 1
frame "$HOVER" >&$ed
check "hang: detected and logged" poll 300 has "$work/hang.err" "is hung: a request has waited"
check "hang: the hover is answered by the second server" poll 300 has "$work/hang.out" '"id":7,"result":null'
check "hang: the user is told" has "$work/hang.out" "stopped answering"
frame "$START9" >&$ed
check "hang: the second server serves on" poll 100 has "$work/hang.out" '"id":9,"result":2'
check "hang: counted in the status (hangs 1)" poll 100 eval 'test "$(status_field "$PWD" hangs)" = 1'
finish
check "hang: guard exits 0 (got $rc)" test "$rc" -eq 0
check "hang: two starts" test "$(cat "$work/hang.state")" -eq 2

#     A server busy on the request (CPU time) is never called hung, however
#     long past request_timeout it takes (3 s of CPU against 1 s).
policy busy "[restart]
on = crash
backoff_initial = 100ms
[health]
request_timeout = 1s"
check "busy: initialized" live busy --spin-on textDocument/hover --spin-seconds 3
frame "$HOVER" >&$ed
check "busy: the hover is answered by the first server" poll 600 has "$work/busy.out" '"id":7,"result":null'
finish
check "busy: not called hung" not_has "$work/busy.err" "is hung"
check "busy: one start" test "$(cat "$work/busy.state")" -eq 1

#     A command may wait without CPU (on the editor or the network):
#     workspace/executeCommand is not watched.  Two sample rounds (500 ms
#     each in degraded mode) past request_timeout show nothing happened.
policy cmd "[health]
request_timeout = 1s"
check "command: initialized" live cmd --hang-on workspace/executeCommand
frame '{"jsonrpc":"2.0","id":8,"method":"workspace/executeCommand","params":{"command":"gopls.run_govulncheck"}}' >&$ed
sleep 3
check "command: not called hung" not_has "$work/cmd.err" "is hung"
check "command: one start" test "$(cat "$work/cmd.state")" -eq 1
exec {ed}>&-
kill "$gp" 2>/dev/null
wait "$gp"

# 11. after_give_up = wait in serve mode: every editor is answered through
#     the cooldown, one that connects meanwhile too, and all are served by
#     the server that follows.
wsd=$work/wsd
mkdir -p "$wsd"
cat >"$work/breakable.sh" <<EOS
#!/bin/sh
if [ -e "$work/broken" ]; then echo broken >&2; exit 3; fi
exec "$echo_server" "\$@"
EOS
chmod +x "$work/breakable.sh"
printf '[server]\ncommand = %s\n[restart]\non = crash\nbackoff_initial = 100ms\nmax_restarts = 1\ncooldown = 3s\n[log]\ntarget = stderr\n' \
        "$work/breakable.sh" >"$work/served.ini"
"$guard" serve --workspace "$wsd" --policy "$work/served.ini" 2>"$work/served.err" &
gs=$!
pids+=("$gs")
sock_up() { test -n "$(find "$GOPLS_GUARD_RUNTIME_DIR" -maxdepth 1 -name '*.sock')"; }
check "serve: listening" poll 100 sock_up
connect_editor() { # connect_editor NAME: fd in $ced
        mkfifo "$work/$1.in"
        "$guard" connect "$wsd" <"$work/$1.in" >"$work/$1.out" 2>"$work/$1.cerr" &
        pids+=("$!")
        exec {ced}>"$work/$1.in"
}
connect_editor sa
sa=$ced
{ frame "$INIT"; frame "$INITIALIZED"; frame '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}'; } >&$sa
check "serve: editor a served" poll 100 has "$work/sa.out" '"id":2,"result":'
daemon=$(grep -o '"id":2,"result":[0-9]*' "$work/sa.out" | sed 's/.*://')
touch "$work/broken"
kill -9 "$daemon"
check "serve: gave up for now" poll 150 has "$work/served.err" "Giving up for now"
frame "$HOVER" >&$sa
check "serve: a's request in the cooldown is answered RequestFailed" \
        poll 50 has "$work/sa.out" '"id":7,"error":{"code":-32803'
connect_editor sb
sb=$ced
frame "$INIT" >&$sb
check "serve: an editor connecting in the cooldown is answered too" \
        poll 50 grep -q '"id":1,"error":{"code":-32803,"message":"gopls-guard gave up for now' "$work/sb.out"
rm -f "$work/broken"
check "serve: a new server after the cooldown" poll 150 has "$work/served.err" "generation 3"
frame '{"jsonrpc":"2.0","id":5,"method":"bench/echo","params":[5]}' >&$sa
check "serve: after the cooldown a's request is served by the new server" \
        poll 150 has "$work/sa.out" '"id":5,"result":[5]'
check "serve: the serving guard still runs" kill -0 "$gs"
exec {sa}>&- {sb}>&-
kill "$gs"
wait "$gs"
rc=$?
check "serve: ends with 0 on SIGTERM (got $rc)" test "$rc" -eq 0

it_done

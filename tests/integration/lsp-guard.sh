#!/bin/bash
# lsp-guard.sh — the guard as an editor sees it, with a scripted editor
# (framed messages written by this script) and lsp-echo as the server.
# Runs on any machine: without a delegated cgroup the guard runs degraded,
# which does not change what the editor sees.  Nothing here touches a
# cgroup: GOPLS_GUARD_CGROUP_ROOT points at an empty directory.
#
#   lsp-guard.sh GOPLS_GUARD_TEST LSP_ECHO   (gopls-guard-test: takes the roots
#                                            from GOPLS_GUARD_*)
set -u
# run() is the last command of a pipeline; its status must survive it.
shopt -s lastpipe
guard=$1
echo_server=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir lsp-guard
it_fixture_roots
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
INITIALIZED='{"jsonrpc":"2.0","method":"initialized","params":{}}'
SHUTDOWN='{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
EXIT='{"jsonrpc":"2.0","method":"exit"}'

# run NAME POLICY_TEXT SERVER... < input: the guard's exit status in $rc,
# stdout in $work/NAME.out, stderr in $work/NAME.err.  The input is what
# the editor sends; then the editor closes its end.
run() {
        local name=$1 policy=$2
        shift 2
        printf '%s\n[lsp]\nnotify = yes\n[log]\ntarget = stderr\n' "$policy" >"$work/$name.ini"
        timeout 60 "$guard" --policy "$work/$name.ini" -- "$@" >"$work/$name.out" 2>"$work/$name.err"
        rc=$?
}

# 1. shutdown then exit: status 0, and the answers came back.
{ frame "$INIT"; frame "$INITIALIZED"; frame "$SHUTDOWN"; frame "$EXIT"; } |
        run clean "" "$echo_server"
check "shutdown + exit: guard exits 0 (got $rc)" test "$rc" -eq 0
check "initialize answered" has "$work/clean.out" '"id":1,"result":{"capabilities"'
check "shutdown answered" has "$work/clean.out" '"id":2,"result":null'

# 2. exit without shutdown: status 1, as the LSP specification asks.
{ frame "$INIT"; frame "$INITIALIZED"; frame "$EXIT"; } | run noshutdown "" "$echo_server"
check "exit without shutdown: guard exits 1 (got $rc)" test "$rc" -eq 1

# 3. The server's stderr reaches the editor's log unchanged.
{ frame "$INIT"; frame "$SHUTDOWN"; frame "$EXIT"; } |
        run stderr "" sh -c 'echo "note from the server" >&2; exec "$0"' "$echo_server"
check "server stderr passed through" has "$work/stderr.err" "note from the server"

# 4. Bytes that do not frame: logged, skipped, and the next message is answered.
{
        frame "$INIT"
        printf 'Content-Lenght: 12\r\n\r\n{"oops":true}'
        frame '{"jsonrpc":"2.0","id":7,"method":"bench/echo","params":{"x":1}}'
        frame "$SHUTDOWN"
        frame "$EXIT"
} | run garbage "" "$echo_server"
check "malformed framing: guard still exits 0 (got $rc)" test "$rc" -eq 0
check "malformed framing is logged with a reason" has "$work/garbage.err" "Malformed LSP framing from the editor"
check "the message after the bad bytes is answered" has "$work/garbage.out" '"id":7,"result":{"x":1}'

# 5. A server that never stays up: the guard gives up with 4, and the
#    editor's pending initialize is answered with RequestFailed saying so.
{ frame "$INIT"; sleep 5; } | run giveup "[restart]
on = crash
backoff_initial = 100ms
after_give_up = exit
max_restarts = 1" sh -c 'exit 3'
check "crash loop: guard exits 4 (got $rc)" test "$rc" -eq 4
check "pending initialize answered with RequestFailed" has "$work/giveup.out" '"code":-32803'
check "and the answer says the guard gave up" has "$work/giveup.out" "gave up"
check "the log says it gave up" has "$work/giveup.err" "Giving up"

# 6. A restart in the middle of a session is announced to the user.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame '{"jsonrpc":"2.0","id":3,"method":"bench/crash"}'
        sleep 2
        frame '{"jsonrpc":"2.0","id":4,"method":"bench/echo","params":[4]}'
        sleep 1
        frame "$SHUTDOWN"
        frame "$EXIT"
} | run restart "[restart]
on = crash
backoff_initial = 100ms" "$echo_server"
check "restart: guard exits 0 (got $rc)" test "$rc" -eq 0
check "the user is told the server was restarted" has "$work/restart.out" '"method":"window/showMessage"'
check "the request after the restart is answered" has "$work/restart.out" '"id":4,"result":[4]'
check "the request that crashed the server is answered ContentModified" has "$work/restart.out" '"id":3,"error":{"code":-32801'
check "...exactly once" test "$(grep -o '"id":3,' "$work/restart.out" | wc -l)" -eq 1

# answered_once NAME ID... : each request id got exactly one answer in
# $work/NAME.out (the guard's and the server's answers alike).
answered_once() {
        local name=$1 id n
        shift
        for id in "$@"; do
                n=$(grep -o "\"id\":$id,\"\(result\|error\)\"" "$work/$name.out" | wc -l)
                [ "$n" -eq 1 ] || { echo "  request $id answered $n times"; return 1; }
        done
}
HOVER3='{"jsonrpc":"2.0","id":3,"method":"textDocument\/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":0,"character":0}}}'
CRASH4='{"jsonrpc":"2.0","id":4,"method":"bench\/crash"}'
HOVER5='{"jsonrpc":"2.0","id":5,"method":"textDocument\/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":0,"character":1}}}'

# 8. An editor that escapes '/' (Neovim): its hover in flight when the
#    server dies is sent again to the new server and answered by it.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER3"
        frame "$CRASH4"
        sleep 2
        frame "$SHUTDOWN"
        frame "$EXIT"
} | run escaped "[restart]
on = crash
backoff_initial = 100ms" "$echo_server" --state "$work/escaped.state" --stall-first textDocument/hover
check "escaped methods: guard exits 0 (got $rc)" test "$rc" -eq 0
check "escaped hover in flight at the crash answered by the new server" has "$work/escaped.out" '"id":3,"result":null'
check "escaped methods: every request answered exactly once" answered_once escaped 1 2 3 4

# 9. A server end the policy does not restart: the guard exits with the
#    server's status, and the requests in flight are answered first.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER3"
        frame "$CRASH4"
        sleep 2
} | run norestart "[restart]
on = oom" "$echo_server" --state "$work/norestart.state" --stall-first textDocument/hover
check "no restart: guard exits 128+SIGABRT (got $rc)" test "$rc" -eq 134
check "no restart: every request answered exactly once" answered_once norestart 1 3 4
check "no restart: the answers say the server ended" has "$work/norestart.out" "ended and is not restarted"

# 10. [lsp] replay = no: once the editor's initialize succeeded, a new
#     server would be uninitialized, so the guard ends with the server's
#     status instead of restarting, after answering what was in flight.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER3"
        frame "$CRASH4"
        sleep 2
} | run noreplay "[restart]
on = crash
backoff_initial = 100ms
[lsp]
replay = no" "$echo_server" --state "$work/noreplay.state" --stall-first textDocument/hover
check "replay = no: guard exits 128+SIGABRT (got $rc)" test "$rc" -eq 134
check "replay = no: every request answered exactly once" answered_once noreplay 1 3 4
check "replay = no: the server was started once" test "$(cat "$work/noreplay.state")" -eq 1
check "replay = no: the log says why" has "$work/noreplay.err" "replay = no"

# 11. [lsp] replay_timeout: the second server never answers the replayed
#     initialize; it is stopped as a failed start, the third one gets the
#     replay, and the requests held meanwhile reach it.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER3"
        frame "$CRASH4"
        sleep 0.3
        frame "$HOVER5"
        sleep 3
        frame "$SHUTDOWN"
        frame "$EXIT"
} | run replaytimeout "[restart]
on = crash
backoff_initial = 100ms
[lsp]
replay_timeout = 500ms" "$echo_server" --state "$work/replaytimeout.state" --stall-first textDocument/hover --silent-init 2
check "replay_timeout: guard exits 0 (got $rc)" test "$rc" -eq 0
check "replay_timeout: the silent server is stopped" has "$work/replaytimeout.err" "did not answer the replayed initialize"
check "replay_timeout: three servers were started" test "$(cat "$work/replaytimeout.state")" -eq 3
check "replay_timeout: the held hover is answered by the third server" has "$work/replaytimeout.out" '"id":5,"result":null'
check "replay_timeout: the in-flight hover is answered by the third server" has "$work/replaytimeout.out" '"id":3,"result":null'
check "replay_timeout: every request answered exactly once" answered_once replaytimeout 1 2 3 4 5

# 12. ... and when no later server answers either, the guard gives up and
#     answers what it held.
{
        frame "$INIT"
        frame "$INITIALIZED"
        frame "$HOVER3"
        frame "$CRASH4"
        sleep 0.3
        frame "$HOVER5"
        sleep 4
} | run replaygiveup "[restart]
on = crash
backoff_initial = 100ms
after_give_up = exit
max_restarts = 2
[lsp]
replay_timeout = 300ms" "$echo_server" --state "$work/replaygiveup.state" --stall-first textDocument/hover --silent-init 2+
check "replay_timeout, never answered: guard gives up with 4 (got $rc)" test "$rc" -eq 4
check "replay_timeout, never answered: every request answered exactly once" answered_once replaygiveup 1 3 4 5
check "replay_timeout, never answered: the held hover got RequestFailed" has "$work/replaygiveup.out" '"id":5,"error":{"code":-32803'

# 13. The server cannot even be spawned (here: no file descriptors left for
#     its pipes): giving up answers the pending initialize with the reason
#     and tells the user.  The descriptor limit at which the guard still
#     sets up its loop but cannot spawn is searched for, as it depends on
#     the build; without one the case is reported skipped.
#     At the boundary the guard's own descriptor use varies a little with
#     timing (a /proc poll may hold one), so a retry can succeed: the checks
#     hold only for a run in which no server ever started, tried up to three
#     times at each limit.
spawnfail=
for n in $(seq 4 32); do
        for try in 1 2 3; do
                { frame "$INIT"; sleep 0.5; } | (ulimit -n "$n" && run "spawnfail" "[restart]
on = crash
backoff_initial = 100ms
after_give_up = exit
max_restarts = 1" "$echo_server"; exit $rc)
                rc=$?
                has "$work/spawnfail.err" "Cannot start" || break
                if ! has "$work/spawnfail.err" "Started "; then spawnfail=$n; break 2; fi
        done
        [ "$rc" -eq 0 ] && ! has "$work/spawnfail.err" "Cannot start" && break
done
if [ -n "$spawnfail" ]; then
        check "spawn failure: guard gives up with 4 (got $rc)" test "$rc" -eq 4
        check "spawn failure: the initialize is answered exactly once" answered_once spawnfail 1
        check "spawn failure: with RequestFailed naming the reason" has "$work/spawnfail.out" "could not start"
        check "spawn failure: the user is told" has "$work/spawnfail.out" '"method":"window/showMessage","params":{"type":1'
else
        echo "SKIP spawn failure: no descriptor limit found at which only the spawn fails"
fi

# 7. The command line: usage errors, --help, check-policy, status.
"$guard" --no-such-option >/dev/null 2>"$work/usage.err"
rc=$?
check "unknown option: exit 2 (got $rc)" test "$rc" -eq 2
check "unknown option: says which" has "$work/usage.err" "--no-such-option"
"$guard" --policy >/dev/null 2>"$work/novalue.err"
rc=$?
check "option without its value: exit 2 (got $rc)" test "$rc" -eq 2
check "option without its value: says which and what" has "$work/novalue.err" "option --policy needs a value (a policy file)"
printf '[restart]\nbackoff_initial = 0\n' >"$work/hot.ini"
"$guard" check-policy --policy "$work/hot.ini" >/dev/null 2>"$work/hot.err"
rc=$?
check "backoff_initial = 0: exit 2 (got $rc)" test "$rc" -eq 2
check "backoff_initial = 0: names file:line and the floor" has "$work/hot.err" "$work/hot.ini:2: [restart] backoff_initial: \"0\" is out of range (100ms to 24h)"
"$guard" frobnicate >/dev/null 2>"$work/cmd.err"
rc=$?
check "unknown command: exit 2 (got $rc)" test "$rc" -eq 2
check "unknown command: suggests --" has "$work/cmd.err" "gopls-guard -- frobnicate"
"$guard" check-policy --cgroup /x >/dev/null 2>"$work/wrongmode.err"
rc=$?
check "an option of another mode: exit 2 (got $rc)" test "$rc" -eq 2
check "an option of another mode: says which mode and option" has "$work/wrongmode.err" "check-policy does not take --cgroup"
"$guard" --help >"$work/help.out"
check "--help: exit 0, shows usage" has "$work/help.out" "gopls-guard check-policy"
printf '[memory]\nmax = 2G\nhigh = 12Q\n' >"$work/bad.ini"
"$guard" check-policy --policy "$work/bad.ini" >/dev/null 2>"$work/bad.err"
rc=$?
check "check-policy with a bad value: exit 2 (got $rc)" test "$rc" -eq 2
check "check-policy names file:line, key and value" has "$work/bad.err" "$work/bad.ini:3: [memory] high: \"12Q\""
printf '[memory]\nmax = 2G\n' >"$work/good.ini"
"$guard" check-policy --policy "$work/good.ini" >"$work/good.out"
rc=$?
check "check-policy with a good file: exit 0 (got $rc)" test "$rc" -eq 0
check "check-policy shows the value and its origin" has "$work/good.out" "max = 2G  ; from $work/good.ini:2"
"$guard" check-policy --policy "$work/missing.ini" >/dev/null 2>"$work/missing.err"
rc=$?
check "check-policy with a missing file: exit 2 (got $rc)" test "$rc" -eq 2
check "and names it" has "$work/missing.err" "$work/missing.ini"

# status: a running guard is listed, with its workspace; then it is gone.
mkfifo "$work/in"
printf '[lsp]\nnotify = no\n' >"$work/status.ini"
"$guard" --policy "$work/status.ini" --workspace "$work" -- "$echo_server" <"$work/in" >/dev/null 2>&1 &
gpid=$!
exec 7>"$work/in"
for _ in $(seq 100); do [ -s "$work/run/$gpid.json" ] && break; sleep 0.1; done
"$guard" status >"$work/status.out"
check "status lists the running guard" has "$work/status.out" "$gpid"
"$guard" status --json "$work" >"$work/status.json"
rc=$?
check "status --json WORKSPACE: exit 0 (got $rc)" test "$rc" -eq 0
check "status --json shows its workspace and a server pid" has "$work/status.json" "\"workspace\":\"$work\""
exec 7>&-
wait "$gpid"
rc=$?
check "the guard ends when the editor closes its end (got $rc)" test "$rc" -eq 0
"$guard" status "$work" >/dev/null
rc=$?
check "status WORKSPACE after it ended: exit 1 (got $rc)" test "$rc" -eq 1
check "its status file is gone" test ! -e "$work/run/$gpid.json"

# A server slower than its editor: what the guard queued for it while it
# read nothing (up to the queue's 16 MiB, in messages of 64 KiB, which
# malloc() takes from its heap) is freed once written, and the guard's
# memory goes back to about the documents it keeps for a replay.
mkfifo "$work/slow.in"
printf '[lsp]\nnotify = no\n' >"$work/slow.ini"
"$guard" --policy "$work/slow.ini" -- "$echo_server" <"$work/slow.in" >"$work/slow.out" \
        2>"$work/slow.err" &
gpid=$!
exec 7>"$work/slow.in"
text=$(head -c 65536 /dev/zero | tr '\0' x)
{
        frame "$INIT"
        frame "$INITIALIZED"
        # the server reads nothing for four seconds
        frame '{"jsonrpc":"2.0","method":"bench/grow","params":{"mib":4,"mib_per_s":1}}'
        for i in $(seq 384); do
                frame "{\"jsonrpc\":\"2.0\",\"method\":\"textDocument/didOpen\",\"params\":{\"textDocument\":{\"uri\":\"file:///w/f$i.go\",\"languageId\":\"go\",\"version\":1,\"text\":\"$text\"}}}"
        done
        frame '{"jsonrpc":"2.0","id":9,"method":"bench/echo","params":[9]}'
} >&7
poll 300 has "$work/slow.out" '"id":9,"result":[9]'
check "a slow server got every document (the request after them answered)" \
        has "$work/slow.out" '"id":9,"result":[9]'
anon=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$gpid/status")
if [ "${GUARD_SANITIZED:-0}" = 1 ]; then
        echo "SKIP the guard's memory after the queue drained (${anon} KiB): a sanitizer build"
else
        check "the guard holds ${anon} KiB after the queue drained: under 1.35 x the 24 MiB of text" \
                test "${anon:-999999}" -lt $((24 * 1024 * 135 / 100))
fi
exec 7>&-
wait "$gpid"

for f in "$work"/*.err; do
        if [ "$failed" -gt 0 ]; then echo "--- $f"; cat "$f"; fi
done
it_done

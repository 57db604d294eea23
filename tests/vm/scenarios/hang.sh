# vmtest: mem=512 smp=1 timeout=240
# hang — [health] request_timeout on a real cgroup: a server that stops for
# good at a hover (no answer, no CPU: its leaf's cpu.stat usage_usec stands
# still) is killed after request_timeout and replaced, and the hover, sent
# again, is answered by the second server; a server that is busy on a
# request (cpu.stat climbing) for three times request_timeout is left alone.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
HOVER='{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":0,"character":0}}}'
# echo_guard ARGS...: the guard on /bin/lsp-echo ARGS, stdin on fd 3, initialized.
echo_guard() {
        rm -f /tmp/echo.state
        guard_run -- /bin/lsp-echo --state /tmp/echo.state "$@"
        send "$INIT"
        send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
        poll 300 out_has '"id":1,"result"' || fail "initialize not answered: $(tail -n 5 "$GUARD_LOG")"
}
write_policy <<'INI'
[cpu]
sample_interval = 200ms
[restart]
on = crash
backoff_initial = 100ms
[health]
request_timeout = 2s
INI
echo_guard --hang-on textDocument/hover --hang-start 1
srv1=$(status_get server_pid)
send "$HOVER"
hung_logged() { grep -q 'is hung: a request has waited' "$GUARD_LOG"; }
poll 600 hung_logged || fail "the hung server was not detected: $(tail -n 5 "$GUARD_LOG")"
say "log: $(grep 'is hung' "$GUARD_LOG" | tail -n 1 | cut -c1-160)"
poll 300 out_has '"id":7,"result":null' || fail "the hover was not answered by the second server"
out_has 'stopped answering' || fail "the user was not told"
pid_dead "$srv1" || fail "the hung server $srv1 still runs"
srv2=$(status_get server_pid)
[ "$srv2" != "$srv1" ] || fail "no new server"
grep -qx "$srv2" "$GUARD_DIR/server/cgroup.procs" || fail "server $srv2 is not in $GUARD_DIR/server"
hangs1() { [ "$(status_get hangs)" = 1 ]; }
poll 100 hangs1 || fail "status hangs $(status_get hangs), expected 1"
[ "$(cat /tmp/echo.state)" -eq 2 ] || fail "$(cat /tmp/echo.state) starts, expected 2"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"

# Busy, not hung: 6 s of CPU against request_timeout = 2s.
GUARD_LOG=/tmp/logs/guard-busy.log
GUARD_OUT=/tmp/logs/guard-busy.out
echo_guard --spin-on textDocument/hover --spin-seconds 6
u0=$(awk '$1 == "usage_usec" { print $2 }' "$GUARD_DIR/server/cpu.stat")
send "$HOVER"
poll 1200 out_has '"id":7,"result":null' || fail "the busy hover was not answered: $(tail -n 5 "$GUARD_LOG")"
u1=$(awk '$1 == "usage_usec" { print $2 }' "$GUARD_DIR/server/cpu.stat")
! grep -q 'is hung' "$GUARD_LOG" || fail "a busy server was called hung: $(grep 'is hung' "$GUARD_LOG")"
[ "$(cat /tmp/echo.state)" -eq 1 ] || fail "the busy server was replaced ($(cat /tmp/echo.state) starts)"
say "busy server: cpu.stat usage_usec +$((u1 - u0)) while the hover ran"
guard_term
guard_wait 300
pass "hung server killed after request_timeout and replaced (hover answered by the 2nd); busy server (+$((u1 - u0)) us CPU) left alone"

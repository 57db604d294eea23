# vmtest: mem=512 smp=1 timeout=240
# poison — on a real cgroup: a hover that crashes every server it reaches
# is sent to two servers, then answered RequestFailed naming it, and the
# third server (in DIR/server, under the limits) serves on; no OOM kill is
# counted for crashes.  Then `gopls-guard restart` replaces that server with
# a fourth, in the same leaf, without counting it as a restart.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
write_policy <<'INI'
[memory]
max = 60M
[restart]
on = crash
backoff_initial = 100ms
max_restarts = 5
[lsp]
notify = yes
INI
rm -f /tmp/echo.state
guard_run -- /bin/lsp-echo --state /tmp/echo.state --crash-on textDocument/hover
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
poll 300 out_has '"id":1,"result"' || fail "initialize not answered: $(tail -n 5 "$GUARD_LOG")"
send '{"jsonrpc":"2.0","id":7,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///w/a.go"},"position":{"line":2,"character":0}}}'
poll 600 out_has '"id":7,"error":{"code":-32803' ||
        fail "the poison hover was not answered RequestFailed: $(tail -n 5 "$GUARD_LOG")"
out_has 'textDocument/hover (file:///w/a.go:3:1) was not sent again' ||
        fail "the answer does not name the request"
out_has 'gopls-guard dropped a request that crashed the language server 2 times' ||
        fail "the user was not told"
starts=$(cat /tmp/echo.state)
[ "$starts" -eq 3 ] || fail "$starts servers started, expected 3 (two crashed on the hover)"
send '{"jsonrpc":"2.0","id":9,"method":"echo/start"}'
poll 300 out_has '"id":9,"result":3' || fail "the third server does not answer"
srv=$(status_get server_pid)
grep -qx "$srv" "$GUARD_DIR/server/cgroup.procs" || fail "server $srv is not in $GUARD_DIR/server"
# (the status file is rewritten at every sample)
poisoned() { [ "$(status_get poisoned_requests)" = 1 ]; }
poll 300 poisoned || fail "status poisoned_requests $(status_get poisoned_requests), expected 1"
[ "$(status_get restarts)" = 2 ] || fail "restarts $(status_get restarts), expected 2"
[ "$(status_get oom_kills)" = 0 ] || fail "oom_kills $(status_get oom_kills), expected 0"

# gopls-guard restart: a fourth server in the same leaf, replayed, not counted.
XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" restart >/tmp/logs/restart.out 2>&1 ||
        fail "gopls-guard restart failed: $(cat /tmp/logs/restart.out)"
gen4() { [ "$(status_get generation)" = 4 ] && [ "$(status_get state)" = running ]; }
poll 300 gen4 || fail "no fourth server after gopls-guard restart: $(tail -n 5 "$GUARD_LOG")"
send '{"jsonrpc":"2.0","id":10,"method":"echo/start"}'
poll 300 out_has '"id":10,"result":4' || fail "the restarted server does not answer"
srv4=$(status_get server_pid)
[ "$srv4" != "$srv" ] || fail "the server pid did not change"
grep -qx "$srv4" "$GUARD_DIR/server/cgroup.procs" || fail "server $srv4 is not in $GUARD_DIR/server"
pid_dead "$srv" || fail "the replaced server $srv still runs"
[ "$(status_get restarts)" = 2 ] || fail "gopls-guard restart was counted as a restart"
[ "$(status_get requested_restarts)" = 1 ] || fail "requested_restarts $(status_get requested_restarts)"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
pass "poison hover answered -32803 after 2 crashes, 3rd server serves; restart -> generation 4 in server/"

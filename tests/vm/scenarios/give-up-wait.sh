# vmtest: mem=512 smp=1 timeout=240
# give-up-wait — [restart] after_give_up = wait on a real cgroup: after the
# crash-loop limit the guard keeps the editor connected with no server
# (server/ empty), answers its requests with what happened, and after the
# cooldown starts a new server in server/ with the session replayed.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
write_policy <<'INI'
[cpu]
sample_interval = 200ms
[restart]
on = crash
backoff_initial = 100ms
max_restarts = 1
after_give_up = wait
cooldown = 4s
INI
rm -f /tmp/broken
# The server fails at its start while /tmp/broken exists.
guard_run -- /bin/sh -c 'if [ -e /tmp/broken ]; then exit 3; fi; exec /bin/lsp-echo'
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
poll 300 out_has '"id":1,"result"' || fail "initialize not answered: $(tail -n 5 "$GUARD_LOG")"
touch /tmp/broken
send '{"jsonrpc":"2.0","id":3,"method":"bench/crash"}'
gave_up() { grep -q 'Giving up for now' "$GUARD_LOG"; }
poll 300 gave_up || fail "no give-up: $(tail -n 5 "$GUARD_LOG")"
in_cooldown() { [ "$(status_get state)" = cooldown ]; }
poll 100 in_cooldown || fail "state $(status_get state), expected cooldown"
send '{"jsonrpc":"2.0","id":4,"method":"textDocument/hover","params":{}}'
poll 100 out_has '"id":4,"error":{"code":-32803' || fail "a request in the cooldown was not answered"
out_has 'gopls-guard restart' || fail "the user was not told how to retry"
pid_alive "$GUARD_PID" || fail "the guard ended"
[ -z "$(server_pids)" ] || fail "processes in server/ during the cooldown: $(server_pids)"
rm -f /tmp/broken
running() { [ "$(status_get state)" = running ] && [ "$(status_get generation)" = 3 ]; }
poll 600 running || fail "no server after the cooldown: $(tail -n 5 "$GUARD_LOG")"
srv=$(status_get server_pid)
grep -qx "$srv" "$GUARD_DIR/server/cgroup.procs" || fail "server $srv is not in $GUARD_DIR/server"
send '{"jsonrpc":"2.0","id":5,"method":"bench/echo","params":[5]}'
poll 300 out_has '"id":5,"result":[5]' || fail "the server after the cooldown does not answer"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
pass "gave up, editor answered -32803 through the cooldown with server/ empty, generation 3 serves after it"

# vmtest: mem=512 smp=1 timeout=240
# serve — daemon mode in a real cgroup: the shared server (lsp-echo in
# gopls's daemon role, `serve -listen=unix;PATH`) runs in server/ under the
# limits; when it is OOM-killed at memory.max both connected editors are
# replayed onto the next one; SIGTERM leaves no server, no socket and no
# server/.
. /lib/vmtest/lib.sh
cg_setup
need_guard
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
write_policy <<'INI'
[server]
command = /bin/lsp-echo
[memory]
high = 50M
max = 50M
swap_max = 0
oom_group = yes
[restart]
on = oom
backoff_initial = 100ms
[serve]
idle_timeout = 0
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
serve_start /tmp/ws
# Editors a (fd 4) and b (fd 5): `connect` reading a fifo we hold open.
editors_init a b /tmp/ws
A_PID=$EDITOR4_PID B_PID=$EDITOR5_PID
frame '{"jsonrpc":"2.0","method":"initialized","params":{}}' >&4
frame '{"jsonrpc":"2.0","method":"initialized","params":{}}' >&5
frame '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}' >&4
frame '{"jsonrpc":"2.0","id":2,"method":"echo/daemon"}' >&5
poll 300 answered a '"id":2,"result":' || fail "a's echo/daemon not answered"
poll 300 answered b '"id":2,"result":' || fail "b's echo/daemon not answered"
d1=$(daemon_of a 2)
[ -n "$d1" ] && [ "$d1" = "$(daemon_of b 2)" ] || fail "not one server: a $d1, b $(daemon_of b 2)"
grep -qx "$d1" "$GUARD_DIR/server/cgroup.procs" || fail "the shared server $d1 is not in server/: $(cat "$GUARD_DIR/server/cgroup.procs")"
[ "$(cat "$GUARD_DIR/server/memory.max")" = 52428800 ] || fail "memory.max not written on server/"
say "one server $d1 in server/ for both editors"

# a's session on the server outgrows memory.max: the kernel kills server/.
ev0=$(kv "$GUARD_DIR/memory.events" oom_kill)
frame '{"jsonrpc":"2.0","id":3,"method":"bench/leak"}' >&4
gen2() { [ "$(status_get generation)" = 2 ] && [ "$(status_get server_pid)" != "$d1" ]; }
poll 600 gen2 || fail "no second server after the OOM kill: $(tail -n 5 "$GUARD_LOG")"
ev1=$(kv "$GUARD_DIR/memory.events" oom_kill)
[ "$ev1" -gt "$ev0" ] || fail "memory.events oom_kill did not rise ($ev0 -> $ev1)"
grep -q "OOM-killed" "$GUARD_LOG" || fail "the log does not call it an OOM kill: $(tail -n 5 "$GUARD_LOG")"
frame '{"jsonrpc":"2.0","id":4,"method":"echo/daemon"}' >&4
frame '{"jsonrpc":"2.0","id":4,"method":"echo/daemon"}' >&5
poll 300 answered a '"id":4,"result":' || fail "a not answered after the OOM kill"
poll 300 answered b '"id":4,"result":' || fail "b not answered after the OOM kill"
d2=$(daemon_of a 4)
[ -n "$d2" ] && [ "$d2" != "$d1" ] && [ "$d2" = "$(daemon_of b 4)" ] ||
        fail "not replayed onto one new server: a $d2, b $(daemon_of b 4), before $d1"
[ "$(grep -o '"id":3,' /tmp/logs/a.out | wc -l)" -eq 1 ] || fail "the leaking request was not answered exactly once"
grep -qx "$d2" "$GUARD_DIR/server/cgroup.procs" || fail "the new server $d2 is not in server/"
say "OOM kill (oom_kill $ev0 -> $ev1) replayed onto server $d2 for both editors"

# SIGTERM: nothing left.
kill -TERM "$GUARD_PID"
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "serve exited $GUARD_EXIT after SIGTERM, expected 0"
[ ! -e "$SERVE_SOCK" ] || fail "socket left behind"
[ ! -e "$GUARD_DIR/server" ] || fail "server/ left behind: $(cat "$GUARD_DIR/server/cgroup.procs" 2>/dev/null)"
pid_dead "$d2" || fail "server $d2 still running"
poll 100 pid_dead "$A_PID" || fail "editor a's connect still running"
poll 100 pid_dead "$B_PID" || fail "editor b's connect still running"
exec 4>&- 5>&-
pass "one server in server/ for two editors, OOM kill replayed for both, nothing left after SIGTERM"

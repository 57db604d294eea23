# vmtest: timeout=240
# serve-scope — daemon mode with [serve] share = no, started by the
# lingering user u from its session (no unit, no --cgroup), as a shell or
# an editor plugin would start it: the daemon asks u's user manager for its
# own transient scope gopls-guard-PID.scope, as a lone guard does, and an
# editor connection's server runs in conn-1/server of that scope under the
# policy's memory.max.  SIGTERM ends the daemon (exit 0) and the scope goes.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[server]
command = /bin/lsp-echo
[memory]
max = 64M
swap_max = 0
[serve]
share = no
idle_timeout = 0
[cgroup]
require = yes
INI
[ -x /bin/lsp-echo ] || fail "lsp-echo is not in the image"
sd_linger
mkdir -p /tmp/ws && chown "$U_UID" /tmp/ws || fail "cannot make /tmp/ws"
rm -f /tmp/u.pid
as_u sh -c 'echo $$ >/tmp/u.pid; exec "$0" "$@"' "$GUARD_BIN" serve --workspace /tmp/ws \
        --policy "$POLICY" </dev/null >/tmp/logs/serve.out 2>/tmp/logs/serve.log &
runuser_pid=$!
sock=$U_RUNTIME/gopls-guard/tmp-ws.sock
# It listens first, then finds its cgroup, then says it serves.
poll 300 grep -q "^gopls-guard: Serving /tmp/ws" /tmp/logs/serve.log ||
        fail "serve does not serve: $(tail -n 3 /tmp/logs/serve.log)"
test -S "$sock" || fail "no socket $sock"
upid=$(cat /tmp/u.pid)
unit=gopls-guard-$upid.scope
grep -q "The user manager started the transient scope $unit for the daemon" /tmp/logs/serve.log ||
        fail "no line about the daemon's scope: $(head -n 3 /tmp/logs/serve.log)"
cg=$(sd_cgroup "$unit" --user)
case $cg in
"$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/"*"/$unit") ;;
*) fail "$unit's cgroup '$cg' is not under u's user manager" ;;
esac
[ "$(sd_prop "$unit" Delegate --user)" = yes ] || fail "$unit has Delegate=$(sd_prop "$unit" Delegate --user)"
grep -qx "$upid" "$cg/supervisor/cgroup.procs" || fail "the daemon $upid is not in $cg/supervisor"
say "daemon $upid in $unit at $cg"

sd_stdin ed-a
as_u "$GUARD_BIN" connect /tmp/ws <"$SD_RUN/ed-a.in" >/tmp/logs/a.out 2>/tmp/logs/a.err &
poll 300 sd_stdin_held ed-a || fail "the editor's fifo was never held open"
sd_send a "$SD_INIT"
poll 600 sd_answered a '"id":1,"result":{"capabilities"' ||
        fail "the editor was not initialized: $(tail -c 300 /tmp/logs/a.err) $(tail -n 3 /tmp/logs/serve.log)"
d=$cg/conn-1/server
poll 100 populated "$d" || fail "no server in $d"
sd_check_file "$d/memory.max" $((64 * 1024 * 1024))
srv=$(head -n 1 "$d/cgroup.procs")
[ "$(uid_of "$srv")" = "$U_UID" ] || fail "the server runs as uid $(uid_of "$srv"), not u"
say "server $srv in $d"

kill -TERM "$upid"
wait_exit "$runuser_pid" 300 || fail "the daemon did not end after SIGTERM"
[ "$WAIT_STATUS" -eq 0 ] || fail "the daemon exited $WAIT_STATUS ($(tail -n 1 /tmp/logs/serve.log))"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg is left behind"
pid_dead "$srv" || fail "server $srv outlived the daemon"
sd_editor_close a
pass "u's serve (share = no) got $unit from its user manager: itself in supervisor/, the connection's server in conn-1/server under memory.max; nothing left after SIGTERM"

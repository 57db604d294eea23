# vmtest: timeout=300
# unit-kill — the package's gopls-guard@.service started by its socket, an
# editor scripted through `gopls-guard connect`: the server (lsp-echo in
# gopls's daemon role) is SIGKILLed, the journal holds the guard's crash and
# restart entries (GOPLS_GUARD_EVENT, _WORKSPACE, _SERVER_PID, MESSAGE_ID)
# under the unit, and the editor's next request is answered by a new server;
# then the server outgrows the policy's memory.max, the journal holds an
# oom-kill entry with its memory fields, the unit stays active, and the
# editor is answered again; both ends left an incident in the unit's
# StateDirectory=.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
ws=/srv/kill-ws
mkdir -p "$ws" /etc/gopls-guard/policy.d && chmod 0755 "$ws"
inst=$(sd_escape_path "$ws")
sock_unit=gopls-guard@$inst.socket svc=gopls-guard@$inst.service
cat >/etc/gopls-guard/policy.d/50-test.ini <<'INI'
[server]
command = /usr/bin/lsp-echo
[memory]
high = 48M
max = 48M
swap_max = 0
oom_group = yes
[restart]
on = always
backoff_initial = 100ms
[serve]
idle_timeout = 0
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
systemctl enable --now "$sock_unit" >/tmp/logs/enable.log 2>&1 || fail "systemctl enable --now $sock_unit: $(tail -n 2 /tmp/logs/enable.log)"
sd_init_editor a "$ws"
sd_wait_prop 300 "$svc" ActiveState active || fail "$svc is $(sd_prop "$svc" ActiveState)"
GUARD_PID=$(sd_prop "$svc" MainPID)
cg=$(sd_cgroup "$svc")
d1=$(sd_echo_daemon a 2) || fail "echo/daemon not answered"

# 1. SIGKILL of the server.
kill -KILL "$d1"
crash=$(sd_journal_wait 300 "$svc" ".GOPLS_GUARD_EVENT == \"crash\" and .GOPLS_GUARD_SERVER_PID == \"$d1\"") ||
        fail "no GOPLS_GUARD_EVENT=crash entry for server $d1 under $svc: $(sd_journal "$svc" | jq -r .MESSAGE | tail -n 5)"
say "crash: $(printf '%s\n' "$crash" | jq -c 'with_entries(select(.key | test("^(GOPLS_GUARD_|MESSAGE|PRIORITY)")))')"
f() { jfield "$crash" "$1"; }
[ "$(f GOPLS_GUARD_WORKSPACE)" = "$ws" ] || fail "crash GOPLS_GUARD_WORKSPACE=$(f GOPLS_GUARD_WORKSPACE), expected $ws"
[ "$(f GOPLS_GUARD_SIGNAL)" = 9 ] || fail "crash GOPLS_GUARD_SIGNAL=$(f GOPLS_GUARD_SIGNAL), expected 9"
[ -n "$(f MESSAGE_ID)" ] || fail "the crash entry has no MESSAGE_ID"
[ "$(f _PID)" = "$GUARD_PID" ] || fail "the crash entry came from pid $(f _PID), not the guard $GUARD_PID"
restart=$(sd_journal_wait 300 "$svc" '.GOPLS_GUARD_EVENT == "restart"') ||
        fail "no GOPLS_GUARD_EVENT=restart entry under $svc"
r() { jfield "$restart" "$1"; }
[ "$(r GOPLS_GUARD_WORKSPACE)" = "$ws" ] || fail "restart GOPLS_GUARD_WORKSPACE=$(r GOPLS_GUARD_WORKSPACE)"
[ -n "$(r MESSAGE_ID)" ] && [ "$(r MESSAGE_ID)" != "$(f MESSAGE_ID)" ] || fail "restart MESSAGE_ID '$(r MESSAGE_ID)' (crash's: $(f MESSAGE_ID))"
is_number "$(r GOPLS_GUARD_SERVER_PID)" || fail "restart GOPLS_GUARD_SERVER_PID='$(r GOPLS_GUARD_SERVER_PID)'"
say "restart: $(r MESSAGE)"
d2=$(sd_echo_daemon a 3) || fail "the request after the SIGKILL was not answered: $(tail -c 300 /tmp/logs/a.err)"
[ -n "$d2" ] && [ "$d2" != "$d1" ] || fail "answered by '$d2' after server $d1 was killed"
[ "$(sd_prop "$svc" MainPID)" = "$GUARD_PID" ] || fail "the guard changed: $(sd_prop "$svc" MainPID), was $GUARD_PID"
say "SIGKILL of $d1: crash and restart in the journal, the session carried on with server $d2"

# 2. OOM kill: the editor's request makes the server leak past memory.max.
sd_send a '{"jsonrpc":"2.0","id":4,"method":"bench/leak"}'
oom=$(sd_journal_wait 1200 "$svc" '.GOPLS_GUARD_EVENT == "oom-kill"') ||
        fail "no GOPLS_GUARD_EVENT=oom-kill entry under $svc ($svc $(sd_prop "$svc" ActiveState), result $(sd_prop "$svc" Result)): $(sd_journal "$svc" | jq -r .MESSAGE | tail -n 5)"
say "oom-kill: $(printf '%s\n' "$oom" | jq -c 'with_entries(select(.key | test("^(GOPLS_GUARD_|MESSAGE|PRIORITY)")))')"
o() { jfield "$oom" "$1"; }
[ "$(o GOPLS_GUARD_WORKSPACE)" = "$ws" ] || fail "oom-kill GOPLS_GUARD_WORKSPACE=$(o GOPLS_GUARD_WORKSPACE)"
[ "$(o GOPLS_GUARD_SERVER_PID)" = "$d2" ] || fail "oom-kill GOPLS_GUARD_SERVER_PID=$(o GOPLS_GUARD_SERVER_PID), the server was $d2"
[ "$(o GOPLS_GUARD_MEMORY_MAX)" = $((48 * 1024 * 1024)) ] || fail "oom-kill GOPLS_GUARD_MEMORY_MAX=$(o GOPLS_GUARD_MEMORY_MAX)"
is_number "$(o GOPLS_GUARD_MEMORY_PEAK)" || fail "oom-kill GOPLS_GUARD_MEMORY_PEAK='$(o GOPLS_GUARD_MEMORY_PEAK)'"
[ -n "$(o MESSAGE_ID)" ] || fail "the oom-kill entry has no MESSAGE_ID"
d3=$(sd_echo_daemon a 5) || fail "the request after the OOM kill was not answered ($svc $(sd_prop "$svc" ActiveState)): $(tail -c 300 /tmp/logs/a.err)"
[ -n "$d3" ] && [ "$d3" != "$d2" ] || fail "answered by '$d3' after server $d2 was OOM-killed"
sd_is_active "$svc" || fail "$svc is $(sd_prop "$svc" ActiveState) after the OOM kill (OOMPolicy=$(sd_prop "$svc" OOMPolicy))"
[ "$(sd_prop "$svc" MainPID)" = "$GUARD_PID" ] || fail "the guard changed after the OOM kill"
sd_check_layout "$cg" "$GUARD_PID"
echo "$SERVER_PIDS" | grep -qx "$d3" || fail "the new server $d3 is not in $cg/server"
# Both ends left an incident in the unit's StateDirectory= (private to
# its dynamic user).
inc=/var/lib/gopls-guard/$inst/incidents
[ "$(ls "$inc" 2>/dev/null | grep -c -- '-crash$')" -ge 1 ] || fail "no crash incident in $inc: $(ls -la "$inc" 2>&1)"
[ "$(ls "$inc" | grep -c -- '-oom-kill$')" -ge 1 ] || fail "no oom-kill incident in $inc: $(ls "$inc")"
[ "$(stat -L -c %a "/var/lib/gopls-guard/$inst")$(stat -c %a "$inc")" = 700700 ] ||
        fail "state directories are not 0700: $(stat -L -c %a "/var/lib/gopls-guard/$inst") $(stat -c %a "$inc")"
n=$(STATE_DIRECTORY=/var/lib/gopls-guard/$inst gopls-guard incidents --json | jq length 2>/dev/null)
[ "${n:-0}" -ge 2 ] || fail "gopls-guard incidents lists '$n' as root with STATE_DIRECTORY of the unit"
# Root naming the workspace needs no STATE_DIRECTORY: the unit's is found.
n=$(env -u STATE_DIRECTORY gopls-guard incidents --json "$ws" | jq length 2>/dev/null)
[ "${n:-0}" -ge 2 ] || fail "gopls-guard incidents $ws lists '$n' as root, not the unit's incidents"
sd_editor_close a
pass "SIGKILL of $d1: crash+restart entries, answered by $d2; OOM kill of $d2 (peak $(o GOPLS_GUARD_MEMORY_PEAK) B): oom-kill entry, answered by $d3; $svc active with guard $GUARD_PID throughout"

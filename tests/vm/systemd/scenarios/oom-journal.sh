# vmtest: timeout=240
# oom-journal — the guard as a transient service (Delegate=yes, output to
# the journal): a server that leaks past memory.max is OOM-killed and
# restarted, and the journal holds the guard's structured entry for it
# (GOPLS_GUARD_* fields, the OOM message) under the unit, written by the
# guard's own log target "auto" (stderr is the journal stream).
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[memory]
high = 48M
max = 48M
swap_max = 0
[restart]
on = oom
backoff_initial = 100ms
after_give_up = exit
max_restarts = 2
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
# The first server leaks 200 MiB; the one that replaces it just runs.
sd_guard_service guard-oom --policy "$POLICY" -- /bin/leaker --mark "$MARK" --first-only --leak 200
cg=$(sd_cgroup guard-oom.service)
say "OOMPolicy=$(sd_prop guard-oom.service OOMPolicy) (an OOM kill inside the unit stops it unless continue)"
sd_poll_active 1200 guard-oom.service mark_has_starts 2 ||
        fail "no second server (starts: $(mark_starts); guard-oom.service $(systemctl is-active guard-oom.service), result $(sd_prop guard-oom.service Result), status $(sd_prop guard-oom.service ExecMainStatus))"
first=$(mark_field 1 2)
second=$(mark_field 2 2)
sd_is_active guard-oom.service || fail "guard-oom.service is $(systemctl is-active guard-oom.service) after the OOM kill"
sd_check_layout "$cg" "$GUARD_PID"
echo "$SERVER_PIDS" | grep -qx "$second" || fail "the new server $second is not in $cg/server ($SERVER_PIDS)"
oom_kills=$(kv "$cg/memory.events" oom_kill)
[ "${oom_kills:-0}" -ge 1 ] || fail "$cg/memory.events counts no oom_kill"

entry=$(sd_journal_wait 300 guard-oom.service '.GOPLS_GUARD_EVENT == "oom-kill"') ||
        fail "no journal entry with GOPLS_GUARD_EVENT=oom-kill under guard-oom.service"
say "journal: $(printf '%s\n' "$entry" | jq -c 'with_entries(select(.key | test("^(GOPLS_GUARD_|PRIORITY|_SYSTEMD_UNIT)")))')"
f() { jfield "$entry" "$1"; }
[ "$(f GOPLS_GUARD_SERVER_PID)" = "$first" ] || fail "GOPLS_GUARD_SERVER_PID=$(f GOPLS_GUARD_SERVER_PID), the killed server was $first"
is_number "$(f GOPLS_GUARD_MEMORY_PEAK)" || fail "GOPLS_GUARD_MEMORY_PEAK='$(f GOPLS_GUARD_MEMORY_PEAK)' is not a number of bytes"
# The first kill: no restart yet, in the field as in the text; the peak is
# the limit it reached (48M), not a sample taken before the leak.
[ "$(f GOPLS_GUARD_RESTARTS)" = 0 ] || fail "GOPLS_GUARD_RESTARTS='$(f GOPLS_GUARD_RESTARTS)' at the first OOM kill, expected 0"
case $(f MESSAGE) in *"restarts so far: 0."*) ;; *) fail "MESSAGE does not say 'restarts so far: 0': $(f MESSAGE)" ;; esac
[ "$(f GOPLS_GUARD_MEMORY_PEAK)" = $((48 << 20)) ] || fail "GOPLS_GUARD_MEMORY_PEAK=$(f GOPLS_GUARD_MEMORY_PEAK), expected memory.max $((48 << 20))"
[ "$(f PRIORITY)" = 4 ] || fail "PRIORITY=$(f PRIORITY), expected 4 (warning)"
[ "$(f SYSLOG_IDENTIFIER)" = gopls-guard ] || fail "SYSLOG_IDENTIFIER=$(f SYSLOG_IDENTIFIER)"
[ "$(f _PID)" = "$GUARD_PID" ] || fail "the entry came from pid $(f _PID), not the guard $GUARD_PID"
[ "$(f _SYSTEMD_UNIT)" = guard-oom.service ] || fail "_SYSTEMD_UNIT=$(f _SYSTEMD_UNIT)"
# Sent as a structured entry (log target auto chose the journal), not a line
# of the stderr stream.
[ "$(f _TRANSPORT)" = journal ] || fail "_TRANSPORT=$(f _TRANSPORT): the guard did not log to the journal itself"
case $(f MESSAGE) in
*"(pid $first) was OOM-killed at memory.max=48M"*) ;;
*) fail "MESSAGE does not say the server was OOM-killed at memory.max: $(f MESSAGE)" ;;
esac
[ -n "$(f CODE_FILE)" ] && is_number "$(f CODE_LINE)" || fail "no CODE_FILE/CODE_LINE in the entry"
# The restart is in the journal too (a plain entry).
sd_journal_has guard-oom.service '.SYSLOG_IDENTIFIER == "gopls-guard" and (.MESSAGE | test("^Restarting "))' ||
        fail "no 'Restarting' entry of the guard in the journal"

systemctl stop guard-oom.service || fail "systemctl stop guard-oom.service failed"
sd_stopped_clean guard-oom.service "$cg" "$GUARD_PID" "$first" "$second"
pass "OOM kill of $first recovered by $second; journal: $(f MESSAGE | cut -c1-90); peak $(f GOPLS_GUARD_MEMORY_PEAK) B"

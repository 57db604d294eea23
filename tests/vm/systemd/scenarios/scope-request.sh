# vmtest: timeout=280
# scope-request — a guard started outside any delegated cgroup, as an
# editor starts it (no systemd-run, no --cgroup), asks systemd for its own
# transient scope gopls-guard-PID.scope (Delegate=yes, CollectMode=
# inactive-or-failed, Slice= from [cgroup] slice) and works in it: root from
# this scenario's own service cgroup gets it from the system manager, the
# lingering user u from its user manager.  Both scopes are gone after the
# editor's EOF.  A user with no manager to ask gets exit 3 under
# require = yes, with the reason; doctor foresees each case.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[memory]
max = 64M
swap_max = 0
[restart]
on = never
[cgroup]
require = yes
slice = gopls.slice
[log]
target = stderr
INI

# 1. root: the system manager, in /gopls.slice.
sd_stdin root
"$GUARD_BIN" --policy "$POLICY" -- /bin/leaker --mark "$MARK" --sleep \
        <"$SD_RUN/root.in" >/tmp/logs/root.out 2>/tmp/logs/root.log &
gpid=$!
poll 600 mark_has_starts 1 || fail "root's server did not start (guard: $(tail -n 2 /tmp/logs/root.log))"
unit=gopls-guard-$gpid.scope
grep -q "The system manager started the transient scope $unit for the guard" /tmp/logs/root.log ||
        fail "no line about the scope from root's guard: $(head -n 3 /tmp/logs/root.log)"
cg=$(sd_cgroup "$unit")
[ "$cg" = "$SD_CG/gopls.slice/$unit" ] || fail "$unit's cgroup is '$cg', not in gopls.slice"
[ "$(sd_prop "$unit" Delegate)" = yes ] || fail "$unit has Delegate=$(sd_prop "$unit" Delegate)"
[ "$(sd_prop "$unit" CollectMode)" = inactive-or-failed ] || fail "$unit has CollectMode=$(sd_prop "$unit" CollectMode)"
[ "$(getfattr --only-values -n trusted.delegate "$cg" 2>/dev/null)" = 1 ] || fail "$cg has no trusted.delegate=1"
sd_check_layout "$cg" "$gpid"
sd_check_file "$cg/server/memory.max" $((64 * 1024 * 1024))
say "root: $unit at $cg, Description=$(sd_prop "$unit" Description)"
sd_stdin_close root
wait_exit "$gpid" 300 || fail "root's guard did not exit after its stdin closed"
[ "$WAIT_STATUS" -eq 0 ] || fail "root's guard exited $WAIT_STATUS ($(tail -n 1 /tmp/logs/root.log))"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg is left behind"
poll 100 eval '[ "$(sd_prop "$unit" LoadState)" != loaded ]' || fail "$unit is still loaded after it emptied"

# 2. the lingering user u: its user manager, in its gopls.slice.
sd_linger
rm -f "$MARK" /tmp/u.pid
sd_stdin u
as_u sh -c 'echo $$ >/tmp/u.pid; exec "$0" "$@"' "$GUARD_BIN" --policy "$POLICY" \
        -- /bin/leaker --mark "$MARK" --sleep <"$SD_RUN/u.in" >/tmp/logs/u.out 2>/tmp/logs/u.log &
runuser_pid=$!
poll 600 mark_has_starts 1 || fail "u's server did not start (guard: $(tail -n 2 /tmp/logs/u.log))"
upid=$(cat /tmp/u.pid)
unit=gopls-guard-$upid.scope
grep -q "The user manager started the transient scope $unit for the guard" /tmp/logs/u.log ||
        fail "no line about the scope from u's guard: $(head -n 3 /tmp/logs/u.log)"
cg=$(sd_cgroup "$unit" --user)
case $cg in
"$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/gopls.slice/$unit") ;;
*) fail "$unit's cgroup '$cg' is not in u's gopls.slice" ;;
esac
[ "$(sd_prop "$unit" Delegate --user)" = yes ] || fail "$unit has Delegate=$(sd_prop "$unit" Delegate --user)"
[ "$(stat -c %u "$cg/cgroup.procs")" = "$U_UID" ] || fail "$cg/cgroup.procs is not u's"
sd_check_layout "$cg" "$upid"
[ "$(stat -c %u "/proc/$upid")" = "$U_UID" ] || fail "the guard does not run as u"
sd_check_file "$cg/server/memory.max" $((64 * 1024 * 1024))
say "u: $unit at $cg"
sd_stdin_close u
wait_exit "$runuser_pid" 300 || fail "u's guard did not exit after its stdin closed"
[ "$WAIT_STATUS" -eq 0 ] || fail "u's guard exited $WAIT_STATUS ($(tail -n 1 /tmp/logs/u.log))"
poll 100 eval '[ ! -e "$cg" ]' || fail "$cg is left behind"

# 3. u without a runtime directory (no session): nobody to ask; require = yes.
runuser -u u -- env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS "$GUARD_BIN" --policy "$POLICY" \
        -- /bin/leaker --mark "$MARK" --sleep </dev/null >/dev/null 2>/tmp/logs/nobus.log
rc=$?
[ "$rc" -eq 3 ] || fail "u's guard with no manager to ask exited $rc, not 3 ($(tail -n 1 /tmp/logs/nobus.log))"
grep -q "no transient scope: XDG_RUNTIME_DIR is not set" /tmp/logs/nobus.log ||
        fail "the exit-3 line does not say why: $(tail -n 1 /tmp/logs/nobus.log)"

# 4. doctor says the same beforehand: root's manager answers and root would
# get a scope; u with no manager to ask is warned, and under require = yes
# its cgroup check fails with the reason.
"$GUARD_BIN" doctor --policy "$POLICY" </dev/null >/tmp/logs/doctor-root.out 2>&1
grep -qE '^ok +systemd +The system manager answers over D-Bus' /tmp/logs/doctor-root.out ||
        fail "doctor as root: $(grep -A1 systemd /tmp/logs/doctor-root.out)"
grep -E '^ok +cgroup ' /tmp/logs/doctor-root.out | grep -q "ask the system manager for a transient scope" ||
        fail "doctor as root does not expect a scope: $(grep -A1 cgroup /tmp/logs/doctor-root.out)"
runuser -u u -- env -u XDG_RUNTIME_DIR -u DBUS_SESSION_BUS_ADDRESS "$GUARD_BIN" doctor --policy "$POLICY" \
        </dev/null >/tmp/logs/doctor-nobus.out 2>&1
grep -qE '^warning +systemd +The user manager cannot be reached over D-Bus' /tmp/logs/doctor-nobus.out ||
        fail "doctor as u with no manager: $(grep -A1 systemd /tmp/logs/doctor-nobus.out)"
grep -E '^failure +cgroup ' /tmp/logs/doctor-nobus.out | grep -q "XDG_RUNTIME_DIR is not set" ||
        fail "doctor as u with no manager, require = yes: $(grep -A1 cgroup /tmp/logs/doctor-nobus.out)"
pass "root's and u's guards each got gopls-guard-PID.scope (Delegate=yes, gopls.slice) from their manager, worked in it, left nothing; no manager -> exit 3 with the reason; doctor foresaw both"

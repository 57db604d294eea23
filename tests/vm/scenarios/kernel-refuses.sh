# vmtest: mem=512 smp=1 timeout=240
# kernel-refuses — the kernel refuses a write the guard needs: a process of
# someone else's sits in DIR itself, so enabling controllers for DIR's
# children fails (EBUSY, the no-internal-process rule).  With require = yes
# the guard exits 3 and says why and what to do; with require = no it warns,
# leaves nothing behind in DIR, and serves degraded.
. /lib/vmtest/lib.sh
cg_setup
sleep 1000 &
squatter=$!
echo "$squatter" >"$GUARD_DIR/cgroup.procs" || fail "cannot put a process into $GUARD_DIR"

write_policy <<'INI'
[cgroup]
require = yes
INI
XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" --cgroup "$GUARD_DIR" --policy "$POLICY" \
        -- /bin/leaker --sleep </dev/null >/dev/null 2>/tmp/logs/required.log
rc=$?
[ "$rc" -eq 3 ] || fail "require = yes: exited $rc, expected 3"
grep -q "has processes of its own" /tmp/logs/required.log ||
        fail "the message does not say why: $(cat /tmp/logs/required.log)"
grep -q "$GUARD_DIR/cgroup.subtree_control" /tmp/logs/required.log ||
        fail "the message does not name the file the kernel refused"
[ ! -e "$GUARD_DIR/server" ] || fail "a refused setup left $GUARD_DIR/server behind"

write_policy <<'INI'
[cgroup]
require = no
[restart]
on = never
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "require = no: the server did not start degraded"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning"
[ "$(status_get degraded)" = true ] || fail "status file does not say degraded"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
pid_alive "$squatter" || fail "the guard killed a process it did not start"
kill "$squatter"
pass "EBUSY named with the file and the rule; exit 3 when required, degraded otherwise"

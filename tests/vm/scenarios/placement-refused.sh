# vmtest: mem=512 smp=1 timeout=240
# placement-refused — the kernel refuses to start the server in server/: an
# unprivileged guard lives in a cgroup outside the subtree delegated to it,
# so the common ancestor of the two (the root) has a cgroup.procs it may not
# write, and clone3(CLONE_INTO_CGROUP) fails with EACCES although server/
# and its limits were set up fine.  require = yes: exit 3 naming the rule;
# require = no: degraded, with the reason; either way server/ is removed.
. /lib/vmtest/lib.sh
cg_setup
user_setup
chown_delegate "$GUARD_DIR"
mkdir -p "$G_CG/elsewhere" || fail "mkdir $G_CG/elsewhere"
RUNTIME_DIR=$U_HOME/run
MARK=$U_HOME/mark
# user_guard POLICY_FILE: becomes the user's guard, started from
# $G_CG/elsewhere (it execs: call it in a subshell or in the background).
user_guard() {
        chown "$U_UID:$U_UID" "$1"
        XDG_RUNTIME_DIR=$RUNTIME_DIR exec sh -c 'echo $$ > "$1/cgroup.procs" && exec su -s /bin/sh u -c "exec \"\$0\" --cgroup \"\$1\" --policy \"\$2\" -- /bin/leaker --mark \"\$3\" --sleep" "$2" "$3" "$4" "$5"' \
                sh "$G_CG/elsewhere" "$GUARD_BIN" "$GUARD_DIR" "$1" "$MARK"
}

write_policy <<'INI'
[cgroup]
require = yes
INI
(user_guard "$POLICY") </dev/null >/dev/null 2>/tmp/logs/required.log
rc=$?
[ "$rc" -eq 3 ] || fail "require = yes: exited $rc, expected 3: $(cat /tmp/logs/required.log)"
grep -q "refused to start /bin/leaker in $GUARD_DIR/server" /tmp/logs/required.log ||
        fail "the message does not say the kernel refused the placement: $(cat /tmp/logs/required.log)"
grep -q "common ancestor" /tmp/logs/required.log || fail "the message does not name the rule"
[ ! -e "$GUARD_DIR/server" ] || fail "require = yes: server/ left behind"
[ "$(mark_starts)" -eq 0 ] || fail "require = yes: the server was started"

write_policy <<'INI'
[restart]
on = never
INI
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in
user_guard "$POLICY" </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
GUARD_PID=$!
poll 600 mark_has_starts 1 || fail "require = no: the server did not start degraded: $(cat "$GUARD_LOG")"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning"
grep -q "common ancestor" "$GUARD_LOG" || fail "the degraded warning does not give the reason"
[ ! -e "$GUARD_DIR/server" ] || fail "require = no: server/ left behind"
degraded_status() { [ "$(json_get "$RUNTIME_DIR/gopls-guard/$GUARD_PID.json" degraded)" = true ]; }
poll 50 degraded_status || fail "status file does not say degraded: $(ls -laR "$RUNTIME_DIR" | tr "\n" " ")"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "degraded guard exited $GUARD_EXIT after SIGTERM"
pass "EACCES from CLONE_INTO_CGROUP: exit 3 naming the rule / degraded with the reason; nothing left"

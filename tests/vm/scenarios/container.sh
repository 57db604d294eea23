# vmtest: mem=512 smp=1 timeout=280
# container — `gopls-guard init` ([container] user = u) as PID 1 of a simulated container
# (lib.sh's ctr_*: a cgroup of its own, private cgroup/pid/mount namespaces,
# a fresh cgroup2 mount) prepares ctr/gopls-guard for u; a guard started
# afterwards as u through the docker exec path (nsenter from outside init's
# process tree, placed in init's cgroup as runc does) finds it without
# flags, runs its server in its own leaf under the policy's limits,
# recovers from an OOM kill there, and removes its leaf when it ends; doctor
# run the same way names that subtree; init exits with its command's status.
. /lib/vmtest/lib.sh
ctr_need
user_setup
mkfifo /tmp/ctr-stop || fail "mkfifo"

# USER from the administrator's policy ([container] user), not --user
# (container-readonly.sh passes --user).
mkdir -p /etc/gopls-guard && printf '[container]\nuser = u\n' >/etc/gopls-guard/policy.ini ||
        fail "cannot write /etc/gopls-guard/policy.ini"
ctr_start rw "--cgroup --pid --mount" -- sh -c 'echo started >/tmp/ctr-started; read x </tmp/ctr-stop; exit 7'
t0=$CTR_T0
prepared() { grep -q "Prepared /sys/fs/cgroup/gopls-guard for uid $U_UID" "$CTR_LOG"; }
poll 300 prepared || fail "init did not prepare the subtree: $(cat "$CTR_LOG")"
t1=$(cut -d' ' -f1 /proc/uptime)
poll 100 test -s /tmp/ctr-started || fail "init did not start its command: $(cat "$CTR_LOG")"
INIT=$(ctr_init_pid)
is_number "$INIT" || fail "cannot find init's pid (children of $CTR_PID)"
echo "BENCH container_prepare_ms=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')"
echo "BENCH init_prepare_us=$(sed -n 's/.*) in \([0-9]*\) us\..*/\1/p' "$CTR_LOG")"
echo "BENCH init_vmrss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$INIT/status")"

# The layout, seen from the VM (the host of the container).
S=$CTR/gopls-guard
[ -z "$(cat "$CTR/cgroup.procs")" ] || fail "processes left in the container's root: $(cat "$CTR/cgroup.procs")"
grep -qx "$INIT" "$S/init/cgroup.procs" || fail "init ($INIT) is not in gopls-guard/init: $(cat "$S/init/cgroup.procs")"
for c in memory pids cpu; do
        grep -qw "$c" "$CTR/cgroup.subtree_control" || fail "$c not enabled on the container's root"
        grep -qw "$c" "$S/cgroup.subtree_control" || fail "$c not enabled on gopls-guard/"
done
for f in . cgroup.procs cgroup.subtree_control cgroup.threads; do
        [ "$(stat -c %u "$S/$f")" = "$U_UID" ] || fail "gopls-guard/$f is not delegated to uid $U_UID (owner $(stat -c %u "$S/$f"))"
done
[ "$(stat -c %u "$S/memory.max")" = 0 ] || fail "gopls-guard/memory.max was handed over too"
[ "$(stat -c %u "$S/init")" = 0 ] || fail "init's leaf is not root's"

RUNTIME_DIR=$U_HOME/run
# doctor as u, through the same path, says where a guard would work: a
# leaf of that subtree, not degraded.
ctr_guard_as_u "$S/init" doctor \
        </dev/null >/tmp/logs/doctor.out 2>&1
grep -E '^ok +cgroup ' /tmp/logs/doctor.out | grep -q 'the subtree `gopls-guard init` prepared' ||
        fail "doctor does not see the container's subtree: $(grep -A1 cgroup /tmp/logs/doctor.out)"
say "doctor: $(grep -E '^ok +cgroup ' /tmp/logs/doctor.out | cut -c1-200)"

# The docker exec path: a guard as u, no flags, a server that leaks past
# memory.max once and then sleeps (the replacement is the recovery).
write_policy <<'INI'
[memory]
high = 50M
max = 50M
swap_max = 0
[pids]
max = 64
[restart]
on = oom
backoff_initial = 100ms
[pressure]
; the kernel's OOM kill is what this recovers from, not a restart before it
proactive = no
INI
chown "$U_UID" "$POLICY"
MARK=$U_HOME/mark
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in
ctr_guard_as_u "$S/init" "--policy $POLICY -- /bin/leaker --mark $MARK --first-only --leak 200 --sleep" \
        </tmp/guard.in >"$GUARD_OUT" 2>"$GUARD_LOG" 3>&- &
EXEC_PID=$!
poll 600 mark_has_starts 2 || fail "the server was not restarted after its OOM kill: starts $(mark_starts); $(tail -n 20 "$GUARD_LOG")"
leaf=$(ls -d "$S"/guard-* 2>/dev/null)
[ -n "$leaf" ] && [ -d "$leaf/server" ] || fail "no guard-PID/server leaf under $S: $(ls "$S")"
say "the guard's leaf: $leaf"
grep -q "degraded" "$GUARD_LOG" && fail "the guard ran degraded: $(grep degraded "$GUARD_LOG")"
[ "$(cat "$leaf/server/memory.max")" = 52428800 ] || fail "server/memory.max is $(cat "$leaf/server/memory.max")"
[ "$(cat "$leaf/server/memory.high")" = 52428800 ] || fail "server/memory.high is $(cat "$leaf/server/memory.high")"
[ "$(cat "$leaf/server/pids.max")" = 64 ] || fail "server/pids.max is $(cat "$leaf/server/pids.max")"
[ "$(kv "$leaf/server/memory.events" oom_kill)" -ge 1 ] || fail "no oom_kill in server/memory.events"
second=$(mark_field 2 2)
grep -qx "$second" "$leaf/server/cgroup.procs" 2>/dev/null ||
        [ -n "$(cat "$leaf/server/cgroup.procs")" ] || fail "the restarted server is not in server/"
[ "$(stat -c %u "$leaf")" = "$U_UID" ] || fail "the leaf is not u's"
grep -qi "oom" "$GUARD_LOG" || fail "the guard's log never mentions the OOM kill"

# The guard is stopped: the first gopls-guard below nsenter (su may stay
# between them); it ends and removes its leaf.
GP=$(guard_below "$EXEC_PID")
is_number "$GP" || fail "cannot find the guard below nsenter $EXEC_PID"
kill -TERM "$GP"
wait_exit "$EXEC_PID" 300 || fail "the guard did not end after SIGTERM"
exec 3>&-
say "guard (docker exec path) exited $WAIT_STATUS"
[ "$WAIT_STATUS" -eq 0 ] || fail "the guard exited $WAIT_STATUS: $(tail -n 5 "$GUARD_LOG")"
poll 50 test ! -e "$leaf" || fail "the guard left $leaf behind"

# A guard killed with SIGKILL leaves its leaf behind (its sentinel empties
# server/); the next guard removes it.
write_policy <<'INI'
[restart]
on = never
INI
chown "$U_UID" "$POLICY"
mkfifo /tmp/guard2.in || fail "mkfifo"
exec 4<>/tmp/guard2.in
exec_guard() {
        ctr_guard_as_u "$S/init" "--policy $POLICY -- /bin/leaker --mark $MARK --sleep" \
                </tmp/guard2.in >/dev/null 2>>/tmp/logs/guard2.log 4>&- &
        EXEC_PID=$!
}
n0=$(mark_starts)
exec_guard
poll 600 mark_has_starts $((n0 + 1)) || fail "the second guard did not start its server: $(cat /tmp/logs/guard2.log)"
GP=$(guard_below "$EXEC_PID")
is_number "$GP" || fail "cannot find the second guard"
kill -KILL "$GP"
wait_exit "$EXEC_PID" 300 || fail "nsenter did not end after its guard was killed"
dead=$(ls -d "$S"/guard-* 2>/dev/null)
[ -n "$dead" ] || fail "the killed guard left no leaf (nothing to show the sweep on)"
server_empty() { [ -z "$(cat "$dead/server/cgroup.procs" 2>/dev/null)" ]; }
poll 100 server_empty || fail "the killed guard's sentinel did not empty $dead/server"
exec_guard
poll 600 mark_has_starts $((n0 + 2)) || fail "the third guard did not start its server: $(cat /tmp/logs/guard2.log)"
poll 50 test ! -e "$dead" || fail "the next guard did not remove the killed guard's leaf $dead"
GP=$(guard_below "$EXEC_PID")
is_number "$GP" || fail "cannot find the third guard"
kill -TERM "$GP"
wait_exit "$EXEC_PID" 300 || fail "the third guard did not end after SIGTERM"
exec 4>&-
poll 50 sh -c "! ls -d $S/guard-* >/dev/null 2>&1" || fail "leaves left: $(ls "$S")"
say "a SIGKILLed guard's leaf $dead was removed by the next guard"

# The container stops: init exits with its command's status.
echo x >/tmp/ctr-stop
wait_exit "$CTR_PID" 100 || fail "init did not end after its command"
[ "$WAIT_STATUS" -eq 7 ] || fail "the container exited $WAIT_STATUS, expected the command's 7: $(cat "$CTR_LOG")"
grep -q "Cannot prepare" "$CTR_LOG" && fail "init warned: $(cat "$CTR_LOG")"
pass "prepared in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }') ms; docker-exec guard as u: limits in its leaf, OOM recovered, leaf removed, a killed guard's leaf swept; init exit 7"

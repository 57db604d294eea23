# vmtest: mem=512 smp=1 timeout=280
# container-readonly — containers whose cgroup init cannot prepare (lib.sh's
# ctr_*), and init still does the PID-1 job:
#  1. cgroup2 mounted read-only (Docker's default without --privileged):
#     init says so and names the docker/podman/devcontainer.json settings
#     that fix it, creates nothing, runs its command and exits with its
#     status; a guard started as u through the docker exec path runs
#     degraded with the same explanation (exit 3 with require = yes), and
#     doctor fails its cgroup check with it.
#  2. no cgroup namespace of its own (a fresh mount shows the whole tree):
#     init says so, leaves the VM's cgroups alone, exits with its status.
. /lib/vmtest/lib.sh
ctr_need
user_setup
mkfifo /tmp/ctr-stop || fail "mkfifo"
RUNTIME_DIR=$U_HOME/run
MARK=$U_HOME/mark

# 1. Read-only.
ctr_start ro "--cgroup --pid --mount" --user u -- sh -c 'echo started >/tmp/ctr-started; read x </tmp/ctr-stop; exit 9'
poll 300 test -s /tmp/ctr-started || fail "init did not start its command: $(cat "$CTR_LOG")"
for want in "read-only" "docker run --cgroupns=private --privileged" \
        "podman run --cgroupns=private --security-opt unmask=/sys/fs/cgroup" \
        '"runArgs": ["--cgroupns=private", "--privileged"]' "run degraded"; do
        grep -qF -- "$want" "$CTR_LOG" || fail "init's warning lacks '$want': $(cat "$CTR_LOG")"
done
[ ! -e "$CTR/gopls-guard" ] || fail "init created gopls-guard/ on a read-only mount?"
[ -z "$(cat "$CTR/cgroup.subtree_control")" ] || fail "controllers enabled on the read-only container's root"

write_policy <<'INI'
[cgroup]
require = yes
INI
chown "$U_UID" "$POLICY"
ctr_guard_as_u "$CTR" "--policy $POLICY -- /bin/leaker --mark $MARK --sleep" \
        </dev/null >/dev/null 2>/tmp/logs/required.log
rc=$?
[ "$rc" -eq 3 ] || fail "require = yes on a read-only mount: exited $rc, expected 3: $(cat /tmp/logs/required.log)"
grep -qF "docker run --cgroupns=private --privileged" /tmp/logs/required.log ||
        fail "exit 3 without the container hint: $(cat /tmp/logs/required.log)"
[ "$(mark_starts)" -eq 0 ] || fail "require = yes: the server was started"
# doctor, the same way and with the same policy, fails the cgroup check for
# the same reason, with the settings as its remedy.
ctr_guard_as_u "$CTR" "doctor --policy $POLICY" </dev/null >/tmp/logs/doctor.out 2>&1
grep -E '^failure +cgroup ' /tmp/logs/doctor.out | grep -q "is read-only" ||
        fail "doctor does not fail the cgroup check for the read-only mount: $(grep -A1 cgroup /tmp/logs/doctor.out)"
grep -A1 -E '^failure +cgroup ' /tmp/logs/doctor.out | grep -E '^ +remedy: ' |
        grep -qF "docker run --cgroupns=private --privileged" ||
        fail "doctor's remedy lacks the docker setting: $(grep -A1 cgroup /tmp/logs/doctor.out)"
say "doctor: $(grep -E '^failure +cgroup ' /tmp/logs/doctor.out | cut -c1-160)"

write_policy <<'INI'
[restart]
on = never
INI
chown "$U_UID" "$POLICY"
ctr_guard_as_u "$CTR" "--policy $POLICY -- /bin/leaker --mark $MARK --sleep" \
        </dev/null >"$GUARD_OUT" 2>"$GUARD_LOG" &
EXEC_PID=$!
poll 600 mark_has_starts 1 || fail "the guard did not start its server degraded: $(cat "$GUARD_LOG")"
grep -q "degraded mode" "$GUARD_LOG" || fail "no degraded-mode warning: $(cat "$GUARD_LOG")"
for want in "read-only" "docker run --cgroupns=private --privileged" "unmask=/sys/fs/cgroup"; do
        grep -qF -- "$want" "$GUARD_LOG" || fail "the guard's degraded warning lacks '$want': $(cat "$GUARD_LOG")"
done
GP=$(guard_below "$EXEC_PID")
is_number "$GP" || fail "cannot find the guard below nsenter $EXEC_PID"
kill -TERM "$GP"
wait_exit "$EXEC_PID" 300 || fail "the degraded guard did not end after SIGTERM"
[ "$WAIT_STATUS" -eq 0 ] || fail "the degraded guard exited $WAIT_STATUS"

echo x >/tmp/ctr-stop
wait_exit "$CTR_PID" 100 || fail "init did not end after its command"
[ "$WAIT_STATUS" -eq 9 ] || fail "the read-only container exited $WAIT_STATUS, expected the command's 9"

# 2. Not namespaced: a fresh cgroup2 mount without a cgroup namespace shows
# the VM's whole tree, and init is in ctr/, not at its root.
rm -f /tmp/ctr-started
ctr_start rw "--pid --mount" -- sh -c 'echo started >/tmp/ctr-started; read x </tmp/ctr-stop; exit 11'
poll 300 test -s /tmp/ctr-started || fail "init (no cgroup namespace) did not start its command: $(cat "$CTR_LOG")"
for want in "no cgroup namespace of its own" "docker run --cgroupns=private"; do
        grep -qF -- "$want" "$CTR_LOG" || fail "init's warning lacks '$want': $(cat "$CTR_LOG")"
done
[ ! -e "$G_CG/gopls-guard" ] && [ ! -e "$CTR/gopls-guard" ] || fail "init prepared a tree that is not its own"
echo x >/tmp/ctr-stop
wait_exit "$CTR_PID" 100 || fail "init (no cgroup namespace) did not end after its command"
[ "$WAIT_STATUS" -eq 11 ] || fail "the container exited $WAIT_STATUS, expected the command's 11"
pass "read-only: init and the guard (degraded, exit 3 with require) name the fix; no namespace: said; exit 9 and 11 kept"

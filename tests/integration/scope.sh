#!/bin/bash
# scope.sh — the guard's request for a transient scope, against a private
# dbus-daemon (no systemd: nothing is moved, no cgroup is touched).  With
# no manager on the bus, a refusal, a failed job or a job that never ends,
# the guard says why in its one "No usable cgroup" line and serves
# degraded (or exits 3 with require = yes).  With a scripted manager it
# checks what the guard asked for (Delegate, PIDs, CollectMode, Slice) and
# that a JobRemoved sent before the method's reply is not missed.  That
# the scope really holds the guard is proven under real systemd in the VM
# tier (systemd/ tests).
#
#   scope.sh GOPLS_GUARD_TEST LSP_ECHO FAKE_SYSTEMD
set -u
guard=$1
echo_server=$2
fake=$3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v dbus-daemon >/dev/null || { echo "SKIP: dbus-daemon is not installed"; exit 77; }
it_workdir scope
it_fixture_roots
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile >"$work/dbus.log" 2>&1 &
pids+=($!)
poll 50 test -S "$work/bus" || { echo "FAIL: the private dbus-daemon did not start"; cat "$work/dbus.log"; exit 1; }
export GOPLS_GUARD_SCOPE_BUS="unix:path=$work/bus"

printf '[cgroup]\nslice = test-gopls.slice\n[lsp]\nnotify = no\n[log]\ntarget = stderr\n' >"$work/p.ini"
printf '[cgroup]\nrequire = yes\n' >"$work/require.ini"
session() {
        frame '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
        frame '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
        frame '{"jsonrpc":"2.0","method":"exit"}'
}
# run NAME [POLICY...]: the guard serves one session; $rc, $work/NAME.{out,err}
run() {
        local name=$1
        shift
        local args=()
        for p in "$@"; do args+=(--policy "$p"); done
        session | timeout 60 "$guard" --policy "$work/p.ini" "${args[@]}" --workspace "$work" \
                -- "$echo_server" >"$work/$name.out" 2>"$work/$name.err"
        rc=$?
}
# manager MODE: the scripted manager, answering as MODE says, logging to $work/MODE.req
manager() {
        coproc FAKE { exec "$fake" "unix:path=$work/bus" "$1" "$work/$1.req"; }
        pids+=($FAKE_PID)
        local line
        read -r -t 10 line <&"${FAKE[0]}"
        [ "$line" = ready ] || { echo "FAIL: the scripted manager did not start"; exit 1; }
}
stop_manager() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
}

# 1. A bus without systemd on it: the refusal is in the degraded line, and
#    the editor is served.
run nomanager
check "no manager on the bus: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...the initialize is answered" has "$work/nomanager.out" '"id":1,"result"'
check "...the degraded line says no transient scope and why" \
        grep -q "no transient scope: .*refused the scope gopls-guard-[0-9]*\.scope: .*org.freedesktop.systemd1.*(org.freedesktop.DBus.Error.ServiceUnknown)" "$work/nomanager.err"
check "...in one line, with the way out" \
        grep -q "No usable cgroup: .*no transient scope: .*run it with --cgroup DIR" "$work/nomanager.err"

# 2. require = yes: exit 3 with the same reason.
run required "$work/require.ini"
check "require = yes: exit 3 (got $rc)" test "$rc" -eq 3
check "...saying why" grep -q "No usable cgroup: .*no transient scope: .*ServiceUnknown.*require = yes" "$work/required.err"

# 3. A manager that starts the job: what was asked, and the JobRemoved
#    that came before the reply was seen (else this would time out).
manager done
start=$(date +%s)
run done
took=$(($(date +%s) - start))
stop_manager
check "scripted manager: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...asked for a scope named after its pid" grep -q '^unit=gopls-guard-[0-9]*\.scope$' "$work/done.req"
check "...in job mode fail" has "$work/done.req" "mode=fail"
check "...with Delegate=yes" has "$work/done.req" "Delegate=true"
check "...for itself (PIDs=[0], the caller)" has "$work/done.req" "PIDs=[0]"
check "...collected when inactive or failed" has "$work/done.req" "CollectMode=inactive-or-failed"
check "...in [cgroup] slice" has "$work/done.req" "Slice=test-gopls.slice"
check "...described by its workspace" has "$work/done.req" "Description=gopls-guard for $work"
check "...and the manager could read all of it" has "$work/done.req" "parsed=yes"
check "the job's end was seen (not the 5 s timeout; took ${took}s)" \
        grep -q "manager started the transient scope gopls-guard-[0-9]*\.scope for the guard" "$work/done.err"
check "...and no timeout was reported" test "$(grep -c 'did not finish starting' "$work/done.err")" -eq 0
# Nothing moved the guard (no systemd here): it notices and says so.
check "a scope that gives no delegated cgroup is reported" \
        has "$work/done.err" "no transient scope: the transient scope did not give a delegated cgroup"

# 4. No Slice= when [cgroup] slice is empty: the manager's default.
manager done
printf '[cgroup]\nslice =\n' >"$work/noslice.ini"
: >"$work/done.req"
run noslice "$work/noslice.ini"
stop_manager
check "empty [cgroup] slice: no Slice= property sent" \
        test "$(grep -c '^Slice=' "$work/done.req")" -eq 0

# 4b. [cgroup] scope = no: the manager is not asked at all, and the line says so.
manager done
printf '[cgroup]\nscope = no\n' >"$work/off.ini"
: >"$work/done.req"
run off "$work/off.ini"
stop_manager
check "[cgroup] scope = no: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...the manager got no request" test ! -s "$work/done.req"
check "...the degraded line says why" has "$work/off.err" "no transient scope: [cgroup] scope = no"

# 5. A failed job.
manager failed
run failed
stop_manager
check "failed job: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...the result is named, with where to look" \
        grep -q 'its job ended with result "failed" (journalctl .*-u gopls-guard-[0-9]*\.scope says why)' "$work/failed.err"

# 6. A manager that refuses.
manager refuse
run refuse
stop_manager
check "refusal: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...the error's name and message are in the line" \
        grep -q "refused the scope .*Access denied by the test's manager (org.freedesktop.DBus.Error.AccessDenied)" "$work/refuse.err"

# 7. A job that never ends: bounded wait, then the fallback.
manager silent
run silent
stop_manager
check "silent manager: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...after saying the job did not finish in time" \
        grep -q "did not finish starting gopls-guard-[0-9]*\.scope within 5.0 s" "$work/silent.err"

# 8. Fixture roots without an explicit bus never reach a real manager.
unset GOPLS_GUARD_SCOPE_BUS
run fixture
check "fixture roots, no bus named: no manager asked" \
        has "$work/fixture.err" "asks no real manager"
it_done

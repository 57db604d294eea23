#!/bin/bash
# proactive-degraded.sh — [pressure] proactive without a cgroup: the /proc
# RSS of the server's processes drives the same decision.  lsp-echo grows
# steadily (bench/grow, 60 MiB/s) towards a size past [memory] max, where
# the degraded guard would kill it; three times the guard restarts it
# first (reason=forecast or above, proactive_restarts +1, no kill at the
# limit, no crash restart), and each time the editor's next request is
# answered by the new server.  Then growth that stops above restart_above,
# far from max: the restart comes after above_for (reason=above).  Nothing
# here touches a cgroup.
#
#   proactive-degraded.sh GOPLS_GUARD_TEST LSP_ECHO
set -u
guard=$1
echo_server=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir proactive-degraded
it_fixture_roots
cat >"$work/p.ini" <<'INI'
[memory]
max = 300M
[restart]
on = oom
reset_after = 1s
[pressure]
proactive = yes
restart_above = 200M
above_for = 10s
[log]
target = stderr
INI
mkfifo "$work/in"
exec 3<>"$work/in"
"$guard" --policy "$work/p.ini" -- "$echo_server" <"$work/in" >"$work/out" 2>"$work/err" 3>&- &
gpid=$!
status() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$work/run/$gpid.json" 2>/dev/null; }
send() { frame "$1" >&3; }
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
check "initialize answered" poll 100 has "$work/out" '"id":1,"result":{"capabilities"'
send '{"jsonrpc":"2.0","method":"initialized","params":{}}'
for i in 1 2 3; do
        send '{"jsonrpc":"2.0","method":"bench/grow","params":{"mib":400,"mib_per_s":60}}'
        restarted() { [ "$(status proactive_restarts)" = "$i" ] && [ "$(status server_pid)" != 0 ]; }
        check "run $i: restarted proactively" poll 300 restarted
        send "{\"jsonrpc\":\"2.0\",\"id\":$((10 + i)),\"method\":\"bench/echo\",\"params\":{\"run\":$i}}"
        check "run $i: the next request answered by the new server" \
                poll 100 has "$work/out" "\"id\":$((10 + i)),\"result\":{\"run\":$i}"
done
check "no kill at [memory] max" bash -c "! grep -q 'over \[memory\] max' '$work/err'"
check "no crash restart" bash -c "! grep -q 'Restarting .* in .* (restart ' '$work/err'"
check "restarts: 0 in the status file" test "$(status restarts)" = 0
check "each proactive restart says why" test "$(grep -c 'reason=\(forecast\|above\)' "$work/err")" -eq 3
incs=$(find "$work/state/gopls-guard/incidents" -mindepth 1 -maxdepth 1 -type d \
        -name '2*-proactive-restart' 2>/dev/null | wc -l)
check "each proactive restart kept an incident (3, found $incs)" [ "$incs" = 3 ]
newest=$(find "$work/state/gopls-guard/incidents" -mindepth 1 -maxdepth 1 -type d | sort | tail -1)
check "its kind is proactive-restart, with the peak it reached" \
        json_true "$newest/incident.json" '.kind == "proactive-restart" and .memory.peak > 0'
grep 'before the kernel kills it\|after the decision' "$work/err" | cut -c1-200
send '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
send '{"jsonrpc":"2.0","method":"exit"}'
check "the guard exits 0 after shutdown and exit" poll 100 bash -c "! kill -0 $gpid 2>/dev/null"
wait "$gpid"
rc=$?
check "exit status 0 (got $rc)" test "$rc" -eq 0
[ "$failed" -eq 0 ] || tail -n 20 "$work/err"

# Growth that stops above restart_above, far from max (1G: no forecast):
# the restart comes once the usage has stayed above it for above_for.
sed -i 's/^max = 300M/max = 1G/' "$work/p.ini"
exec 3>&-
rm -f "$work/in"
mkfifo "$work/in"
exec 3<>"$work/in"
"$guard" --policy "$work/p.ini" -- "$echo_server" <"$work/in" >"$work/out2" 2>"$work/err2" 3>&- &
gpid=$!
send '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
check "above_for: initialize answered" poll 100 has "$work/out2" '"id":1,"result":{"capabilities"'
send '{"jsonrpc":"2.0","method":"bench/grow","params":{"mib":210,"mib_per_s":60}}'
t0=$(date +%s%N)
restarted() { [ "$(status proactive_restarts)" = 1 ] && [ "$(status server_pid)" != 0 ]; }
check "above_for: restarted proactively" poll 400 restarted
t1=$(date +%s%N)
check "above_for: for staying above restart_above" grep -q 'reason=above' "$work/err2"
echo "above_for: restarted $(((t1 - t0) / 1000000)) ms after the grow (3.5 s of growth + above_for 10s)"
send '{"jsonrpc":"2.0","id":3,"method":"bench/echo","params":{"after":"above"}}'
check "above_for: the next request answered" poll 100 has "$work/out2" '"id":3,"result":{"after":"above"}'
send '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
send '{"jsonrpc":"2.0","method":"exit"}'
check "above_for: the guard exits" poll 100 bash -c "! kill -0 $gpid 2>/dev/null"
wait "$gpid"
[ "$failed" -eq 0 ] || tail -n 20 "$work/err2"
it_done

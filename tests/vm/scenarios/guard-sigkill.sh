# vmtest: mem=512 smp=1 timeout=600
# guard-sigkill — 100 rounds of: start a guard on DIR whose server has a
# child of its own (as gopls has its go list children), SIGKILL the guard by
# its pid, start the next one.  After each kill, within a bounded poll and
# before the next guard starts, the server, its child and the guard's
# sentinel must be gone and server/ empty (populated 0 in
# server/cgroup.events): the sentinel wrote server/cgroup.kill.  Once the
# next guard's server runs, no process of an earlier round may be alive and
# DIR may hold one leaf, server/, with only the new round's processes in it.  Even rounds kill the
# guard once its server is up; odd rounds at a random moment of its start
# (before, during or after the cgroup setup and the spawn: up to 1.5 times the
# time the last even round took to see its server up).  At the end a last
# guard stops normally and DIR must be empty.
. /lib/vmtest/lib.sh
cg_setup
need_guard
write_policy <<'INI'
[restart]
on = never
INI
ROUNDS=100
mkdir -p -m 0700 "$RUNTIME_DIR"
# Every guard's stdin: a fifo we hold open, so that none sees its editor go.
mkfifo /tmp/guard.in || fail "mkfifo"
exec 3<>/tmp/guard.in

# The server of round R: a shell that leaves a "sleep 1000RR" child behind
# (no PDEATHSIG: the shell forks it before it becomes the leaker), then
# becomes "leaker --mark /tmp/rR.mark".  Every process names its round in
# its arguments.  (No zero-padding: busybox awk reads "010" as octal.)
start_round() {
        XDG_RUNTIME_DIR=$RUNTIME_DIR "$GUARD_BIN" --cgroup "$GUARD_DIR" --policy "$POLICY" -- /bin/sh -c \
                "sleep $((100000 + $1)) & exec /bin/leaker --mark $(mark_of "$1") --sleep" \
                </tmp/guard.in >/dev/null 2>>"$GUARD_LOG" 3>&- &
        GUARD_PID=$!
}
mark_of() { echo "/tmp/r$1.mark"; }
# scan: "PID ROUND server|child|guard" for every live process of any round,
# in two processes whatever their number (each fork is slow under TCG).  A
# zombie's cmdline is empty, so the dead do not count; the guards and their
# sentinels (forked, not exec'd: the guard's arguments, which name the round
# too) are told apart by their own name.
scan() {
        grep -a -o -E 'gopls-guard|/tmp/r[0-9]+\.mark|100[0-9]{3}' /proc/[0-9]*/cmdline 2>/dev/null |
                awk -F: '{ split($1, p, "/"); pid = p[3] }
                        $2 == "gopls-guard" { guard[pid] = 1; next }
                        $2 ~ /mark$/ { r[pid] = substr($2, 7, length($2) - 11) + 0; server[pid] = 1; next }
                        { r[pid] = $2 - 100000 }
                        END { for (pid in r) print pid, r[pid], (pid in guard) ? "guard" : (pid in server) ? "server" : "child" }'
}
# round_procs OP R: "PID(kind)" of the live processes whose round is OP R.
round_procs() { scan | awk -v op="$1" -v want="$2" '(op == "-lt" && $2 < want) || (op == "-eq" && $2 == want) || (op == "-le" && $2 <= want) { printf "%s(%s %s) ", $1, $3, $2 }'; }
# server_gone R: nothing of round R runs but its server's children.
server_gone() { [ -z "$(scan | awk -v want="$1" '$2 == want && $3 == "server"')" ]; }
children_of() { scan | awk -v want="$1" '$2 == want && $3 == "child"' | wc -l; }
# leaf_empty: server/ holds no process (or is not there).
leaf_empty() { [ ! -d "$GUARD_DIR/server" ] || [ "$(kv "$GUARD_DIR/server/cgroup.events" populated)" = 0 ]; }
# round_gone R: nothing of round R runs (server, child, sentinel), server/ is empty.
round_gone() { [ -z "$(round_procs -eq "$1")" ] && leaf_empty; }
leaves() { for _d in "$GUARD_DIR"/*/; do [ -d "$_d" ] && _d=${_d%/} && printf '%s ' "${_d##*/}"; done; }

# check R: round R's guard runs its server; nothing of an earlier round is
# alive, DIR holds only server/, and server/ only round R's processes.
check() {
        poll 300 test -s "$(mark_of "$1")" || fail "round $1: the server did not start in 30 s; log: $(tail -n 3 "$GUARD_LOG")"
        _left=$(round_procs -lt "$1")
        [ -z "$_left" ] || fail "round $1: processes of earlier rounds alive once this round's server ran: $_left"
        [ "$(leaves)" = "server " ] || fail "round $1: $GUARD_DIR holds leaves '$(leaves)', expected only server/"
        [ -z "$(cat "$GUARD_DIR/cgroup.procs")" ] || fail "round $1: $GUARD_DIR itself holds $(tr '\n' ' ' <"$GUARD_DIR/cgroup.procs")"
        _mine=$(scan | awk -v want="$1" '$2 == want && $3 != "guard" { print $1 }' | sort -n | tr '\n' ' ')
        _procs=$(sort -n "$GUARD_DIR/server/cgroup.procs" | tr '\n' ' ')
        [ "$_procs" = "$_mine" ] || fail "round $1: server/ holds '$_procs', this round's processes are '$_mine'"
        checks=$((checks + 1))
}

children_left=0 # server children of a killed guard alive when it had been reaped
gone_polls=0    # 0.1 s polls, summed over the rounds, until all of a round was gone
servers_up=0    # rounds whose server had started when its guard was killed
checks=0
up_ms=400       # how long the last even round took to see its server up
r=1
while :; do
        t0=$(uptime_ms)
        start_round "$r"
        [ "$r" -gt "$ROUNDS" ] && break
        if [ $((r % 2)) -eq 0 ]; then
                check "$r"
                up_ms=$(($(uptime_ms) - t0))
        else
                # shellcheck disable=SC3028 # busybox ash has RANDOM
                usleep $((RANDOM % (3 * up_ms / 2) * 1000))
        fi
        kill -KILL "$GUARD_PID"
        wait_exit "$GUARD_PID" 100 || fail "round $r: the SIGKILLed guard $GUARD_PID is still there"
        [ -s "$(mark_of "$r")" ] && servers_up=$((servers_up + 1))
        # The server ends with its guard, without anybody's help.
        poll 50 server_gone "$r" || fail "round $r: the server outlived its SIGKILLed guard by 5 s: $(round_procs -eq "$r")"
        children_left=$((children_left + $(children_of "$r")))
        # And so does everything else, before the next guard could clean up.
        _n=0
        until round_gone "$r"; do
                _n=$((_n + 1))
                [ "$_n" -le 50 ] || fail "round $r: 5 s after its guard was SIGKILLed, alive: '$(round_procs -eq "$r")'; server/ populated $(kv "$GUARD_DIR/server/cgroup.events" populated)"
                sleep 0.1
        done
        gone_polls=$((gone_polls + _n))
        r=$((r + 1))
done
# The guard after the last kill.
check "$r"
say "$ROUNDS guards SIGKILLed ($servers_up with their server up); $checks checks; each time the server, its children and the sentinel were gone and server/ empty before the next guard started ($children_left children still there when the guard had been reaped, $gone_polls 0.1 s polls in all)"

# It stops normally: nothing of any round is left, DIR is empty.
kill -TERM "$GUARD_PID"
wait_exit "$GUARD_PID" 300 || fail "the last guard did not stop on SIGTERM"
[ "$WAIT_STATUS" -eq 0 ] || fail "the last guard exited $WAIT_STATUS after SIGTERM, expected 0"
left=$(round_procs -le "$r")
[ -z "$left" ] || fail "processes left after the last guard stopped: $left"
[ -z "$(leaves)" ] || fail "$GUARD_DIR holds leaves '$(leaves)' after the last guard stopped"
echo "BENCH guard_sigkills=$ROUNDS"
echo "BENCH kills_with_server_up=$servers_up"
echo "BENCH server_children_at_guard_reap=$children_left"
echo "BENCH gone_polls_total=$gone_polls"
echo "BENCH last_start_to_server_ms=$up_ms"
pass "$ROUNDS SIGKILLed guards ($servers_up with the server up): each time the server, its children and the sentinel ended and server/ emptied before the next guard started, nothing survived the next guard's start ($checks checks), DIR empty at the end"

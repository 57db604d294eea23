# vmtest: mem=512 smp=1 timeout=600
# guard-sigkill — 100 rounds of: start a guard on DIR whose server has a
# child of its own (as gopls has its go list children), SIGKILL the guard by
# its pid, start the next one.  After each kill the server itself must be
# gone at once (PR_SET_PDEATHSIG), and once the next guard's server runs, no
# process of an earlier round may be alive and DIR may hold one leaf,
# server/, with only the new round's processes in it.  Even rounds kill the
# guard once its server is up; odd rounds at a random moment of its start
# (before, during or after the cgroup setup and the spawn).  At the end a
# last guard stops normally and DIR must be empty.
. /lib/vmtest/lib.sh
cg_setup
need_guard
write_policy <<'INI'
[restart]
on = never
INI
ROUNDS=100
mkdir -p "$RUNTIME_DIR"

# The server of round R: a shell that leaves a "sleep 1000RR" child behind
# (no PDEATHSIG: the shell forks it before it becomes the leaker), then
# becomes "leaker --mark /tmp/mark.R".  Every process names its round.
start_round() {
        "$GUARD_BIN" --cgroup "$GUARD_DIR" --policy "$POLICY" -- /bin/sh -c \
                "sleep $((100000 + $1)) & exec /bin/leaker --mark /tmp/mark.$1 --sleep" \
                </dev/null >/dev/null 2>>"$GUARD_LOG" &
        GUARD_PID=$!
}
# proc_round PID: the round a live process belongs to (nothing for others).
proc_round() {
        pid_alive "$1" || return 1
        _c=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)
        case $_c in
        *"sleep 1"[0-9][0-9][0-9][0-9][0-9]*) _c=${_c#*sleep 1} && echo $((1${_c%% *} - 100000)) ;;
        *"/bin/leaker --mark /tmp/mark."*) _c=${_c#*/tmp/mark.} && echo "${_c%% *}" ;;
        *) return 1 ;;
        esac
}
proc_desc() { echo "$1($(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | cut -c1-60))"; }
# round_procs OP R: live processes whose round is OP R (-lt, -eq).
round_procs() {
        for _p in /proc/[0-9]*; do
                _p=${_p#/proc/}
                _r=$(proc_round "$_p") && [ "$_r" "$1" "$2" ] && echo "$_p"
        done
}
is_child() { case $(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) in "sleep "*) return 0 ;; *) return 1 ;; esac; }
# server_gone R: nothing of round R runs but its server's children.
server_gone() {
        for _p in $(round_procs -eq "$1"); do is_child "$_p" || return 1; done
}
leaves() { for _d in "$GUARD_DIR"/*/; do [ -d "$_d" ] && basename "$_d"; done | tr '\n' ' '; }

# check R: round R's guard runs its server; nothing of an earlier round is
# alive, DIR holds only server/, and server/ only round R's processes.
check() {
        poll 300 test -s "/tmp/mark.$1" || fail "round $1: the server did not start in 30 s; log: $(tail -n 3 "$GUARD_LOG")"
        _left=
        for _p in $(round_procs -lt "$1"); do _left="$_left $(proc_desc "$_p")"; done
        [ -z "$_left" ] || fail "round $1: processes of earlier rounds alive once this round's server ran:$_left"
        [ "$(leaves)" = "server " ] || fail "round $1: $GUARD_DIR holds leaves '$(leaves)', expected only server/"
        [ -z "$(cat "$GUARD_DIR/cgroup.procs")" ] || fail "round $1: $GUARD_DIR itself holds $(tr '\n' ' ' <"$GUARD_DIR/cgroup.procs")"
        for _p in $(server_pids); do
                [ "$(proc_round "$_p")" = "$1" ] || fail "round $1: server/ holds $(proc_desc "$_p"), not of this round"
        done
        checks=$((checks + 1))
}

children_left=0 # server children of a killed guard alive until the next guard
servers_up=0    # rounds whose server had started when its guard was killed
checks=0
r=1
while :; do
        start_round "$r"
        [ "$r" -gt "$ROUNDS" ] && break
        if [ $((r % 2)) -eq 0 ]; then
                check "$r"
        else
                usleep $((RANDOM % 400000))
        fi
        kill -KILL "$GUARD_PID"
        wait_exit "$GUARD_PID" 100 || fail "round $r: the SIGKILLed guard $GUARD_PID is still there"
        [ -s "/tmp/mark.$r" ] && servers_up=$((servers_up + 1))
        # The server ends with its guard, without anybody's help.
        poll 50 server_gone "$r" || fail "round $r: the server outlived its SIGKILLed guard by 5 s: $(round_procs -eq "$r" | tr '\n' ' ')"
        n=$(round_procs -eq "$r" | wc -l)
        children_left=$((children_left + n))
        r=$((r + 1))
done
# The guard after the last kill.
check "$r"
say "$ROUNDS guards SIGKILLed ($servers_up with their server up); $checks checks; $children_left server children outlived their guard until the next one started"
stale=$(ls "$RUNTIME_DIR" | wc -l)

# It stops normally: nothing of any round is left, DIR is empty.
kill -TERM "$GUARD_PID"
wait_exit "$GUARD_PID" 300 || fail "the last guard did not stop on SIGTERM"
[ "$WAIT_STATUS" -eq 0 ] || fail "the last guard exited $WAIT_STATUS after SIGTERM, expected 0"
left=$(round_procs -le "$r")
[ -z "$left" ] || fail "processes left after the last guard stopped: $left"
[ -z "$(leaves)" ] || fail "$GUARD_DIR holds leaves '$(leaves)' after the last guard stopped"
echo "BENCH guard_sigkills=$ROUNDS"
echo "BENCH kills_with_server_up=$servers_up"
echo "BENCH server_children_outliving_guard=$children_left"
echo "BENCH status_files_left=$stale"
pass "$ROUNDS SIGKILLed guards ($servers_up with the server up): each server ended with its guard, nothing survived the next guard's start ($checks checks), DIR empty at the end"

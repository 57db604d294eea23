#!/bin/bash
# guard-sigkill.sh — 100 guards SIGKILLed on this machine, in degraded mode
# (no cgroup: the guard is given an empty directory as the cgroup mount, so
# nothing here touches a cgroup).  Each round's server (leaker) keeps a child
# in its process group and double-forks a grandchild that leaves the group
# (setsid), as gopls's go list may; the guard is SIGKILLed by its pid, and
# within a bounded poll nothing of that round may remain: not the server,
# its child, its grandchild, nor the guard's sentinel.  Processes are known
# by the pids the helper writes to its mark file (and the guard's own
# children, from /proc/PID/task/PID/children), each with its start time so
# that a reused pid is never taken for one of ours; only those are ever
# signalled.  Even rounds kill the guard as soon as the grandchild is
# reported (it is then milliseconds old, younger than any degraded poll);
# odd rounds after 0.6 s (the guard has polled and adopted it by then).
# A last guard stops normally (SIGTERM) and leaves nothing either.
#
#   guard-sigkill.sh GOPLS_GUARD LEAKER
set -u
guard=$1
leaker=$2
ROUNDS=${ROUNDS:-100}
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir guard-sigkill
recorded=() # "PID:STARTTIME" of every process of every round
cleanup() {
        local e
        for e in "${recorded[@]}"; do
                same_alive "${e%%:*}" "${e#*:}" && kill -KILL "${e%%:*}" 2>/dev/null
        done
        exec 3>&-
        rm -rf "$work"
}
trap cleanup EXIT
it_fixture_roots
mkdir -m 0700 "$work/xdg"
export XDG_RUNTIME_DIR=$work/xdg
printf '[restart]\non = never\n[log]\ntarget = stderr\n' >"$work/p.ini"
# Every guard's stdin: a fifo held open here, so that none sees its editor go.
mkfifo "$work/in"
exec 3<>"$work/in"

# stat_of PID: its state and start time (fields 3 and 22 of /proc/PID/stat;
# the name before them may hold spaces) in $_state and $_start, without a
# fork (this runs hundreds of times a round).
stat_of() {
        local line
        _state= _start=
        read -r line 2>/dev/null <"/proc/$1/stat" || return 1
        line=${line##*) }
        local -a f
        read -r -a f <<<"$line"
        _state=${f[0]} _start=${f[19]}
}
# same_alive PID START: that very process runs (a zombie has ended).
same_alive() { stat_of "$1" && [ "$_start" = "$2" ] && [ "$_state" != Z ]; }
# mark_pid MARK WORD: the pid on the mark file's first "WORD PID" line.
mark_pid() {
        local w p rest
        while read -r w p rest; do
                [ "$w" = "$2" ] && printf '%s' "$p" && return 0
        done 2>/dev/null <"$1"
        return 1
}
mark_has() { mark_pid "$1" "$2" >/dev/null; }
complete() { mark_has "$1" start && mark_has "$1" kept && mark_has "$1" orphan; }
# round_alive: the recorded processes of this round that still run.
round_alive() {
        local e left=
        for e in "${round[@]}"; do
                same_alive "${e%%:*}" "${e#*:}" && left+="${e%%:*}(${kinds[${e%%:*}]}) "
        done
        printf '%s' "$left"
}
none_alive() { [ -z "$(round_alive)" ]; }
record() { # record PID KIND
        [ -n "$1" ] && stat_of "$1" || return 0 # gone already
        round+=("$1:$_start")
        recorded+=("$1:$_start")
        kinds[$1]=$2
}

# start_guard MARK: a guard on leaker in the background; its pid in $gpid.
start_guard() {
        "$guard" --policy "$work/p.ini" -- "$leaker" --mark "$1" --keep-child --orphan 0 --sleep \
                <"$work/in" >/dev/null 2>>"$work/guard.log" 3>&- &
        gpid=$!
}
# record_round MARK: the server, its child and grandchild, and the guard's
# own children (the server and the sentinel).
record_round() {
        round=()
        declare -gA kinds=()
        record "$(mark_pid "$1" start)" server
        record "$(mark_pid "$1" kept)" child
        record "$(mark_pid "$1" orphan)" grandchild
        local c children=
        read -r children 2>/dev/null <"/proc/$gpid/task/$gpid/children"
        for c in $children; do
                [ -n "${kinds[$c]:-}" ] || record "$c" guard-child
        done
}

if [ ! -r "/proc/$$/task/$$/children" ]; then
        echo "SKIP: /proc/PID/task/PID/children is missing (CONFIG_PROC_CHILDREN)"
        exit 77
fi

failed=0
survivors=0 # rounds where a process outlived its guard past the poll
sentinels=0 # rounds where the guard had a child besides the server
for r in $(seq 1 "$ROUNDS"); do
        mark=$work/r$r.mark
        start_guard "$mark"
        if ! poll 100 complete "$mark"; then
                echo "FAIL round $r: the server did not report its child and grandchild in 10 s: $(cat "$mark" 2>/dev/null); log: $(tail -n 3 "$work/guard.log")"
                failed=$((failed + 1))
                kill -KILL "$gpid"
                wait "$gpid" 2>/dev/null
                break
        fi
        [ $((r % 2)) -eq 1 ] && sleep 0.6
        record_round "$mark"
        [ "${#round[@]}" -ge 4 ] && sentinels=$((sentinels + 1))
        kill -KILL "$gpid"
        wait "$gpid" 2>/dev/null
        if ! poll 50 none_alive; then
                echo "FAIL round $r: alive 5 s after the guard was SIGKILLed: $(round_alive)"
                survivors=$((survivors + 1))
                failed=$((failed + 1))
        fi
done
echo "$ROUNDS guards SIGKILLed; ${#recorded[@]} processes recorded; $sentinels rounds with a sentinel seen; $survivors rounds with survivors"
[ "$sentinels" -eq "$ROUNDS" ] || echo "NOTE: in $((ROUNDS - sentinels)) rounds the guard had no child besides the server"

# A normal stop: the guard ends everything itself and reaps its sentinel.
mark=$work/last.mark
start_guard "$mark"
if poll 100 complete "$mark"; then
        record_round "$mark"
        kill -TERM "$gpid"
        wait "$gpid" 2>/dev/null
        rc=$?
        if [ "$rc" -ne 0 ]; then
                echo "FAIL SIGTERM: the guard exited $rc, expected 0"
                failed=$((failed + 1))
        fi
        if ! poll 50 none_alive; then
                echo "FAIL SIGTERM: alive after the guard stopped: $(round_alive)"
                failed=$((failed + 1))
        fi
else
        echo "FAIL SIGTERM round: the server did not start"
        failed=$((failed + 1))
        kill -KILL "$gpid"
        wait "$gpid" 2>/dev/null
fi
if grep -q "No sentinel process" "$work/guard.log"; then
        echo "FAIL the guard could not start its sentinel: $(grep -m1 "No sentinel process" "$work/guard.log")"
        failed=$((failed + 1))
fi
echo "BENCH guard_sigkills=$ROUNDS rounds_with_survivors=$survivors"
[ "$failed" -eq 0 ] && echo "PASS" && exit 0
echo "$failed failed"
exit 1

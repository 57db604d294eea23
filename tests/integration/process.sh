#!/bin/bash
# process.sh — process hygiene and the degraded mode, with the guard on this
# machine (gopls-guard-test: the same code, with the GOPLS_GUARD_* roots).  Without a delegated cgroup v2 (none here: the guard is given
# an empty directory as the cgroup mount) the guard runs degraded for real:
# it polls /proc and kills at [memory] max.  Nothing here touches a cgroup.
# Only processes this script starts are signalled, by pid.
#
#   process.sh GOPLS_GUARD LEAKER
set -u
guard=$1
leaker=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir process
started=()
cleanup() {
        for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT
it_fixture_roots
mkdir -m 0700 "$work/xdg"
export XDG_RUNTIME_DIR=$work/xdg
alive() { [ -e "/proc/$1" ] && [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" != Z ]; }
gone() { [ ! -e "/proc/$1" ]; } # reaped, not even a zombie
marked() { grep -q "^$2" "$1" 2>/dev/null; }
starts() { grep -c '^start ' "$1" 2>/dev/null || true; }
# fd_flags FD: the octal file status flags of our FD (shared with the guard's).
fd_flags() { awk '$1 == "flags:" { print $2 }' "/proc/$$/fdinfo/$1"; }
nonblock() { (($(printf '%d' "0$(fd_flags "$1")") & 04000)); }
status_file() { find "$work/run" "$work/xdg" -name "$1.json" 2>/dev/null | grep -q .; }

policy() { # policy NAME TEXT: $work/NAME.ini
        printf '%s\n[log]\ntarget = stderr\nlevel = debug\n' "$2" >"$work/$1.ini"
}

# start NAME SERVER_ARGS...: the guard on leaker in the background.  Its
# stdin is a fifo whose read side the script shares (fd 5: the same open
# file description, as an editor's or a terminal's), whose write side the
# script holds (fd 6: closing it is the editor going away); its stdout is a
# fifo the script shares too (fd 8), drained into $work/NAME.out.
start() {
        local name=$1
        shift
        rm -f "$work/in" "$work/outfifo"
        mkfifo "$work/in" "$work/outfifo"
        exec 6<>"$work/in"
        exec 5<"$work/in"
        cat "$work/outfifo" >"$work/$name.out" 5<&- 6>&- &
        exec 8>"$work/outfifo"
        "$guard" --policy "$work/$name.ini" -- "$leaker" "$@" <&5 >&8 2>"$work/$name.err" 9</dev/null 6>&- &
        gpid=$!
        started+=("$gpid")
}
# finish N: wait up to N polls for the guard; status in $rc.
finish() {
        if poll "$1" gone_or_zombie "$gpid"; then
                wait "$gpid"
                rc=$?
        else
                rc=timeout
        fi
        out_nonblock=no
        nonblock 8 && out_nonblock=yes
        exec 8>&- 6>&-
        wait
}
gone_or_zombie() { ! alive "$1"; }

# 1. The server inherits nothing beyond 0-2 (here the guard has 5, 8 and 9
#    of the script's, and its own).  stdin/stdout's O_NONBLOCK is undone at
#    the end on the descriptions the script shares.
policy fds "[restart]
on = never"
start fds --mark "$work/fds.mark" --list-fds --sleep
poll 100 marked "$work/fds.mark" fds
check "server's descriptors are 0 1 2 (got '$(grep ^fds "$work/fds.mark")')" marked "$work/fds.mark" "fds 0 1 2$"
check "stdin is non-blocking while the guard runs (flags $(fd_flags 5))" nonblock 5
check "stdout is non-blocking while the guard runs (flags $(fd_flags 8))" nonblock 8
exec 6>&- # the editor goes away
finish 300
check "editor gone: guard exits 0 (got $rc)" test "$rc" = 0
check "stdin's O_NONBLOCK restored at exit (flags $(fd_flags 5))" eval '! nonblock 5'
check "stdout's O_NONBLOCK restored at exit" test "$out_nonblock" = no
exec 5<&-

# 2. SIGHUP and SIGQUIT stop like SIGTERM: exit 0, server gone, status file removed.
for sig in HUP QUIT; do
        policy "sig$sig" "[restart]
on = crash"
        start "sig$sig" --mark "$work/sig$sig.mark" --sleep
        poll 100 marked "$work/sig$sig.mark" start
        server=$(awk '/^start/ { print $2; exit }' "$work/sig$sig.mark")
        poll 50 status_file "$gpid"
        check "SIG$sig: status file exists while running" status_file "$gpid"
        kill -"$sig" "$gpid"
        finish 300
        check "SIG$sig: guard exits 0 (got $rc)" test "$rc" = 0
        check "SIG$sig: the guard says why it stops" has "$work/sig$sig.err" "stopping the server"
        check "SIG$sig: the server is gone" eval "! alive $server"
        check "SIG$sig: status file removed" eval "! status_file $gpid"
        check "SIG$sig: not restarted" test "$(starts "$work/sig$sig.mark")" -eq 1
        exec 5<&-
done

# 3. Degraded mode: a server double-forks a memory hog that leaves its process
#    group.  The guard (a subreaper) finds it in the first poll (sample_interval
#    is an hour: the degraded poll comes at once and every 500ms regardless),
#    kills it at [memory] max, reaps it, and restarts the server.
policy hog "[memory]
max = 64M
[cpu]
sample_interval = 1h
[restart]
on = oom
backoff_initial = 100ms
[pressure]
proactive = no"
start hog --mark "$work/hog.mark" --first-only --orphan 600 --rate 200 --sleep
poll 100 marked "$work/hog.mark" orphan
orphan=$(awk '/^orphan/ { print $2; exit }' "$work/hog.mark")
started+=("$orphan")
check "the hog was double-forked (pid '$orphan')" test -n "$orphan"
poll 200 gone "$orphan"
check "the double-forked hog is killed and reaped" gone "$orphan"
check "the log says the limit was passed" has "$work/hog.err" "over [memory] max = 64M"
check "the kill counts as out of memory" has "$work/hog.err" "was OOM-killed"
poll 100 eval '[ "$(starts "$work/hog.mark")" -ge 2 ]'
check "the server is restarted once ($(starts "$work/hog.mark") starts)" test "$(starts "$work/hog.mark")" -eq 2
exec 6>&-
finish 300
check "hog: guard exits 0 after the editor goes (got $rc)" test "$rc" = 0
exec 5<&-

# 4. /proc cannot be read: said once, with the reason, and the server serves on.
policy noproc "[restart]
on = never"
export GOPLS_GUARD_PROC=$work/no-proc
start noproc --mark "$work/noproc.mark" --sleep
unset GOPLS_GUARD_PROC
poll 100 marked "$work/noproc.mark" start
sleep 1.2 # two more polls (every 500ms) that fail the same way
check "a failed /proc poll is reported with the path and reason" has "$work/noproc.err" "Cannot read the server's memory from $work/no-proc: No such file or directory"
check "...once ($(grep -c "Cannot read the server's memory" "$work/noproc.err") times)" test "$(grep -c "Cannot read the server's memory" "$work/noproc.err")" -eq 1
exec 6>&-
finish 300
check "noproc: guard exits 0 after the editor goes (got $rc)" test "$rc" = 0
exec 5<&-

it_done

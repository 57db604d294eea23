#!/bin/bash
# init.sh — `gopls-guard init`'s PID-1 duties on this machine: exit codes
# 0..255 and 128+n, every forwarded signal, orphans reaped, what is left
# killed on the way out, usage errors.  No cgroup is touched: the test
# binary's cgroup root is an empty fixture directory (nothing to prepare).
#
#   init.sh GOPLS_GUARD_TEST subreaper   init as a child subreaper (any user)
#   init.sh GOPLS_GUARD_TEST pid1        init as PID 1 of a new pid namespace
#                                        (`unshare --pid --fork`, root only;
#                                        exit 77 where that is not possible)
set -u
guard=$1
mode=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir "init-$mode"
it_fixture_roots
ulimit -c 0 # the signal cases must not leave core files
started=()
cleanup() {
        for p in "${started[@]}"; do kill -KILL "$p" 2>/dev/null; done
        rm -rf "$work"
}
trap cleanup EXIT

if [ "$mode" = pid1 ]; then
        if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null ||
                ! unshare --pid --fork true 2>/dev/null; then
                echo "SKIP: needs root and util-linux unshare --pid --fork"
                exit 77
        fi
        # --kill-child: should the test kill unshare, init goes with it.
        launcher=(unshare --pid --fork --kill-child "$guard" init)
else
        launcher=("$guard" init)
fi
# Not a function: "$!" of a background start must be the launcher itself.
run_init() { "${launcher[@]}" "$@"; }

# init_pid LAUNCHER_PID: the pid of init itself (in pid1 mode, unshare's child).
init_pid() {
        if [ "$mode" = pid1 ]; then
                local c
                c=$(cat "/proc/$1/task/$1/children" 2>/dev/null)
                [ -n "$c" ] && echo "${c%% *}"
        else
                echo "$1"
        fi
}
gone() { [ ! -e "/proc/$1" ]; } # reaped: not even a zombie
ended() { gone "$1" || [ "$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)" = Z ]; }
# finish PID: wait (bounded) for a launcher started in the background; its
# status in $rc ("timeout" after killing it).
finish() {
        if poll 300 ended "$1"; then
                wait "$1"
                rc=$?
        else
                kill -KILL "$1"
                wait "$1"
                rc=timeout
        fi
}

# Every exit code, as tini's exhaustive test does.
bad=
for code in $(seq 0 255); do
        run_init -- sh -c "exit $code" 2>>"$work/codes.err"
        rc=$?
        [ "$rc" -eq "$code" ] || bad="$bad $code->$rc"
done
check "exit codes 0..255 preserved${bad:+:$bad}" test -z "$bad"

# Signals that end the command: 128+n.
bad=
for sig in HUP INT QUIT ABRT KILL USR1 SEGV USR2 TERM; do
        n=$(kill -l "$sig")
        run_init -- sh -c "kill -s $sig \$\$; sleep 5" 2>>"$work/codes.err"
        rc=$?
        [ "$rc" -eq $((128 + n)) ] || bad="$bad $sig->$rc"
done
check "a command killed by signal n: exit 128+n${bad:+:$bad}" test -z "$bad"

# Every forwarded signal arrives at the command, which exits 0 on it.
for sig in TERM INT HUP QUIT USR1 USR2 WINCH; do
        rm -f "$work/got" "$work/ready"
        "${launcher[@]}" -- sh -c "trap 'echo $sig >\"$work/got\"; exit 0' $sig
                echo ready >\"$work/ready\"
                while :; do sleep 0.05; done" 2>"$work/sig.err" &
        lp=$!
        started+=("$lp")
        poll 100 test -s "$work/ready"
        ip=$(init_pid "$lp")
        kill -s "$sig" "$ip"
        finish "$lp"
        check "SIG$sig forwarded to the command (init exits $rc)" \
                grep -qx "$sig" "$work/got"
        [ "$rc" -eq 0 ] || echo "  init exited $rc: $(cat "$work/sig.err")"
done

# report FILE: a shell snippet that writes the pid of the process running
# it as this machine's /proc knows it (NSpid's first field: in pid1 mode
# the command's own pids are the namespace's), then execs the rest.
cat >"$work/report.sh" <<'SH'
while read -r k a b; do [ "$k" = NSpid: ] && echo "$a" >>"$1"; done </proc/self/status
shift
exec "$@"
SH

# An orphan (its parent ended first) is reparented to init and reaped
# while the command still runs.
rm -f "$work/orphan" "$work/release"
mkfifo "$work/release"
"${launcher[@]}" -- sh -c 'sh -c "sh \"\$1/report.sh\" \"\$1/orphan\" sleep 0.3 &" sh "$1"
        read x <"$1/release"; exit 3' sh "$work" 2>"$work/orphan.err" &
lp=$!
started+=("$lp")
poll 100 test -s "$work/orphan"
orphan=$(cat "$work/orphan")
check "an orphan is reaped by init (pid $orphan left no zombie)" poll 100 gone "$orphan"
echo x >"$work/release"
finish "$lp"
check "after the orphan, the command's own status (3, got $rc)" test "$rc" = 3

# What is left when the command ends: SIGTERM, then SIGKILL after the grace
# for one that ignores SIGTERM; init still exits with the command's status.
rm -f "$work/left"
"${launcher[@]}" -- sh -c 'sh "$1/report.sh" "$1/left" sleep 1000 &
        (trap "" TERM; exec sh "$1/report.sh" "$1/left" sleep 1000) &
        while [ "$(wc -l <"$1/left" 2>/dev/null)" != 2 ]; do sleep 0.05; done; exit 5' sh "$work" \
        2>"$work/left.err" &
lp=$!
started+=("$lp")
finish "$lp"
check "leftovers: init exits with the command's status 5 (got $rc)" test "$rc" -eq 5
check "two leftovers reported their pids" test "$(wc -l <"$work/left")" -eq 2
for p in $(cat "$work/left"); do
        check "leftover pid $p is gone after init" poll 50 gone "$p"
done

# Usage errors name what is wrong.
run_init 2>"$work/usage.err"
check "no COMMAND: exit 2" test $? -eq 2
check "no COMMAND: says so" has "$work/usage.err" "init needs a COMMAND to run"
run_init --user no-such-user-gopls-guard -- true 2>"$work/user.err"
check "unknown --user: exit 2" test $? -eq 2
check "unknown --user: says so" has "$work/user.err" "no such user 'no-such-user-gopls-guard'"
run_init -- "$work/does-not-exist" 2>"$work/enoent.err"
check "missing COMMAND: exit 127" test $? -eq 127
check "missing COMMAND: says so" has "$work/enoent.err" "cannot run $work/does-not-exist"
touch "$work/not-exec" && chmod 0644 "$work/not-exec"
run_init -- "$work/not-exec" 2>/dev/null
check "non-executable COMMAND: exit 126" test $? -eq 126

# Figure: init's own resident memory while it runs a command.
rm -f "$work/ready"
"${launcher[@]}" -- sh -c "echo ready >\"$work/ready\"; while :; do sleep 0.05; done" 2>/dev/null &
lp=$!
started+=("$lp")
poll 100 test -s "$work/ready"
ip=$(init_pid "$lp")
echo "FIGURE init VmRSS ($mode): $(awk '/^VmRSS/ {print $2 " " $3}' "/proc/$ip/status")"
kill -TERM "$ip"
finish "$lp"
it_done

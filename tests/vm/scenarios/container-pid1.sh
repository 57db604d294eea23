# vmtest: mem=256 smp=1 timeout=280
# container-pid1 — gopls-guard init's PID-1 duties as PID 1 of a pid
# namespace (util-linux unshare --pid --fork; no cgroup namespace, so init
# leaves the cgroups alone, as container-readonly.sh shows it says): exit
# codes 0..255 kept (tini's exhaustive test is the model), 128+n for a
# command killed by signal n, every forwarded signal arrives, orphans are
# reaped (no zombie left), and what is left when the command ends is
# killed, also when it ignores SIGTERM.  Processes report their pid as the
# VM sees it (NSpid's first field, read through the VM's /proc).
. /lib/vmtest/lib.sh
[ -x "$UL/unshare" ] || skip "util-linux unshare is not in the image (the host lacks it)"
need_guard
# Not a function: "$!" of a background start must be unshare itself.
PID1="$UL/unshare --pid --fork --kill-child /bin/gopls-guard init"
# init's pid in the VM: the child of the unshare started in the background.
init_of() { _c=$(cat "/proc/$1/task/$1/children" 2>/dev/null) && [ -n "$_c" ] && echo "${_c%% *}"; }
gone() { [ ! -e "/proc/$1" ]; } # reaped: not even a zombie
cat >/tmp/report.sh <<'SH'
while read -r k a b; do [ "$k" = NSpid: ] && echo "$a" >>"$1"; done </proc/self/status
shift
exec "$@"
SH

bad=
code=0
while [ "$code" -le 255 ]; do
        $PID1 -- sh -c "exit $code" 2>>/tmp/logs/codes.err
        rc=$?
        [ "$rc" -eq "$code" ] || bad="$bad $code->$rc"
        code=$((code + 1))
done
[ -z "$bad" ] || fail "exit codes not kept:$bad"
say "exit codes 0..255 kept"

# The command is sleep (busybox ash would ignore SIGQUIT itself), signalled
# directly: also signals init does not forward.
for sn in HUP:1 INT:2 QUIT:3 ABRT:6 KILL:9 USR1:10 SEGV:11 USR2:12 TERM:15; do
        $PID1 -- sleep 100 2>>/tmp/logs/codes.err &
        lp=$!
        poll 300 init_of "$lp" >/dev/null || fail "SIG${sn%:*}: init did not start"
        ip=$(init_of "$lp")
        poll 300 init_of "$ip" >/dev/null || fail "SIG${sn%:*}: init did not start sleep"
        kill -s "${sn%:*}" "$(init_of "$ip")"
        wait_exit "$lp" 300 || fail "SIG${sn%:*}: init did not end"
        [ "$WAIT_STATUS" -eq $((128 + ${sn#*:})) ] || bad="$bad SIG${sn%:*}->$WAIT_STATUS"
done
[ -z "$bad" ] || fail "a command killed by signal n did not give 128+n:$bad"
say "signals give 128+n"

for sig in TERM INT HUP QUIT USR1 USR2 WINCH; do
        rm -f /tmp/got /tmp/ready
        $PID1 -- sh -c "trap 'echo $sig >/tmp/got; exit 0' $sig; echo ready >/tmp/ready
                while :; do sleep 0.05; done" 2>/tmp/logs/sig.err &
        lp=$!
        poll 300 test -s /tmp/ready || fail "SIG$sig: the command did not start"
        ip=$(init_of "$lp")
        is_number "$ip" || fail "SIG$sig: cannot find init below unshare $lp"
        kill -s "$sig" "$ip"
        wait_exit "$lp" 300 || fail "SIG$sig: init did not end"
        [ "$WAIT_STATUS" -eq 0 ] || fail "SIG$sig: init exited $WAIT_STATUS: $(cat /tmp/logs/sig.err)"
        [ "$(cat /tmp/got 2>/dev/null)" = "$sig" ] || fail "SIG$sig did not arrive at the command"
done
say "SIGTERM SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGWINCH forwarded"

rm -f /tmp/orphan /tmp/release
mkfifo /tmp/release
$PID1 -- sh -c 'sh -c "sh /tmp/report.sh /tmp/orphan sleep 0.3 &"; read x </tmp/release; exit 3' 2>/tmp/logs/orphan.err &
lp=$!
poll 300 test -s /tmp/orphan || fail "the orphan did not report"
orphan=$(cat /tmp/orphan)
poll 300 gone "$orphan" || fail "the orphan $orphan was not reaped (state $(cut -d' ' -f3 "/proc/$orphan/stat" 2>/dev/null))"
echo x >/tmp/release
wait_exit "$lp" 300 || fail "init did not end after the orphan case"
[ "$WAIT_STATUS" -eq 3 ] || fail "after the orphan, init exited $WAIT_STATUS, expected 3"
say "orphan $orphan reaped"

rm -f /tmp/left
$PID1 -- sh -c 'sh /tmp/report.sh /tmp/left sleep 1000 &
        (trap "" TERM; exec sh /tmp/report.sh /tmp/left sleep 1000) &
        while [ "$(wc -l </tmp/left 2>/dev/null)" != 2 ]; do sleep 0.05; done; exit 5' 2>/tmp/logs/left.err &
lp=$!
wait_exit "$lp" 300 || fail "init did not end after its command with leftovers"
[ "$WAIT_STATUS" -eq 5 ] || fail "with leftovers, init exited $WAIT_STATUS, expected 5"
[ "$(wc -l </tmp/left)" -eq 2 ] || fail "the leftovers did not report"
for p in $(cat /tmp/left); do
        poll 50 gone "$p" || fail "leftover $p survived init"
done
pass "exit codes 0..255, 128+n, 7 signals forwarded, orphan reaped, leftovers (one ignoring SIGTERM) killed"

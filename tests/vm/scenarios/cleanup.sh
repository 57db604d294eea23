# vmtest: mem=512 smp=1 timeout=240
# cleanup — after a graceful stop (the editor closes stdin) and after a give-up,
# the guard leaves no DIR/server or DIR/supervisor, no live leaker (server or
# forked child), and DIR/cgroup.procs empty; DIR itself stays.
. /lib/vmtest/lib.sh
cg_setup

# check_clean WHAT PIDS...
check_clean() {
        what=$1
        shift
        [ -d "$GUARD_DIR" ] || fail "$what: $GUARD_DIR itself was removed"
        [ ! -e "$GUARD_DIR/server" ] || fail "$what: $GUARD_DIR/server left behind ($(tr '\n' ' ' <"$GUARD_DIR/server/cgroup.procs" 2>/dev/null))"
        [ ! -e "$GUARD_DIR/supervisor" ] || fail "$what: $GUARD_DIR/supervisor left behind"
        for p in "$@"; do
                pid_dead "$p" || fail "$what: process $p ($(tr '\0' ' ' </proc/"$p"/cmdline)) still alive"
        done
        left=$(leaker_pids)
        [ -z "$left" ] || fail "$what: leaker processes still alive: $left"
        [ -z "$(cat "$GUARD_DIR/cgroup.procs")" ] || fail "$what: $GUARD_DIR/cgroup.procs not empty: $(tr '\n' ' ' <"$GUARD_DIR/cgroup.procs")"
        [ ! -e "$(status_file)" ] || fail "$what: status file $(status_file) left behind"
}

# 1. Graceful stop: EOF on the guard's stdin.
write_policy <<'INI'
[restart]
on = never
stop_grace = 2s
INI
guard_start --mark "$MARK" --fork 4 --sleep
poll 600 grep -q '^forked 4 ' "$MARK" || fail "the server never forked its 4 children: $(cat "$MARK" 2>/dev/null)"
pids=$(server_pids)
[ "$(echo "$pids" | wc -w)" -eq 5 ] || fail "expected 5 processes in $GUARD_DIR/server, found: $pids"
say "running: $(echo "$pids" | tr '\n' ' ')"
guard_eof
guard_wait 600
[ "$GUARD_EXIT" -eq 0 ] || fail "graceful stop (stdin EOF): guard exited $GUARD_EXIT, expected 0"
# shellcheck disable=SC2046,SC2086 # pid lists, split on purpose
check_clean "after EOF" $pids $(mark_field 1 2)

# 2. Give-up: servers with children, OOM-killed until the guard gives up.
rm -f "$MARK"
GUARD_LOG=/tmp/logs/guard-giveup.log
write_policy <<'INI'
[memory]
high = 50M
max = 50M
swap_max = 0
oom_group = yes
[restart]
on = oom
backoff_initial = 100ms
after_give_up = exit
max_restarts = 1
window = 10min
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
guard_start --mark "$MARK" --fork 3 --leak 200
guard_wait 1200
[ "$GUARD_EXIT" -eq 4 ] || fail "give-up: guard exited $GUARD_EXIT, expected 4"
[ "$(mark_starts)" -eq 2 ] || fail "give-up: server started $(mark_starts) times, expected 2"
# shellcheck disable=SC2046 # pids, split on purpose
check_clean "after give-up" $(mark_field 1 2) $(mark_field 2 2)
pass "nothing left after stdin EOF (5 processes) nor after a give-up (2 OOM-killed generations)"

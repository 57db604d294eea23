# vmtest: mem=512 smp=1 timeout=240
# limits — every limit file in DIR/server holds the policy's value while the
# server runs (it and its children in DIR/server), the controllers are enabled
# in DIR, and SIGTERM stops the guard with exit 0.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
high = 96M
max = 128M
swap_max = 0
oom_group = yes
[cpu]
weight = 50
max = 50%
sample_interval = 200ms
[pids]
max = 32
[restart]
on = never
INI
guard_start --mark "$MARK" --fork 2 --sleep

poll 600 mark_has_starts 1 || fail "the server never started (mark file empty after 60 s)"
spid=$(mark_field 1 2)
poll 600 grep -q '^forked' "$MARK" || fail "the server never reported its forks"
S=$GUARD_DIR/server
[ -d "$S" ] || fail "no $S while the server runs"
grep -qx "$spid" "$S/cgroup.procs" || fail "server pid $spid is not in $S/cgroup.procs ($(tr '\n' ' ' <"$S/cgroup.procs"))"
nprocs=$(wc -l <"$S/cgroup.procs")
[ "$nprocs" -eq 3 ] || fail "$S/cgroup.procs has $nprocs processes, expected the server and its 2 children"

for c in memory cpu pids; do
        grep -qw "$c" "$GUARD_DIR/cgroup.subtree_control" || fail "$c not enabled in $GUARD_DIR/cgroup.subtree_control ($(cat "$GUARD_DIR/cgroup.subtree_control"))"
done

bad=
check() {
        v=$(cat "$S/$1" 2>/dev/null)
        say "$1 = $v"
        [ "$v" = "$2" ] || bad="$bad $1='$v'(want '$2')"
}
check memory.high 100663296
check memory.max 134217728
check memory.swap.max 0
check memory.oom.group 1
check cpu.weight 50
check cpu.max "50000 100000"
check pids.max 32
[ -z "$bad" ] || fail "limits differ:$bad"

# The status file reports the same limits once a sample was written.
poll 100 status_get memory.max >/dev/null || fail "no memory.max in status file $(status_file): $(cat "$(status_file)" 2>&1)"
[ "$(status_get memory.max)" = 134217728 ] || fail "status file memory.max $(status_get memory.max), expected 134217728"
[ "$(status_get pids.max)" = 32 ] || fail "status file pids.max $(status_get pids.max), expected 32"
[ "$(status_get server_pid)" = "$spid" ] || fail "status file server_pid $(status_get server_pid), expected $spid"

guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
pass "memory.high/max/swap.max/oom.group, cpu.weight/max, pids.max as in the policy; SIGTERM -> exit 0"

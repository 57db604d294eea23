# Benchmark, not a timed test: how often an idle guard wakes up and how
# much memory it holds.  With a sleeping server and the default
# sample_interval (5s), the only wake-ups should be the sampling timer's.
# Asserts only behaviour: the status file keeps being refreshed and no
# restart happens.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
max = 64M
swap_max = 0
[log]
target = stderr
level = info
INI
guard_start --sleep
gen_is_1() { [ "$(status_get generation)" = 1 ]; }
poll 600 gen_is_1 || fail "server did not start (generation '$(status_get generation)')"

# A wake-up is a return from epoll_wait: one voluntary context switch when
# the guard goes back to sleep.  Involuntary ones are preemptions by other
# work on the VM's single CPU, counted apart.
ctx() { awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$GUARD_PID/status"; }
nvctx() { awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$GUARD_PID/status"; }
u0=$(status_get updated_usec)
c0=$(ctx)
n0=$(nvctx)
t0=$(awk '{ print $1 }' /proc/uptime)
sleep 30
c1=$(ctx)
n1=$(nvctx)
t1=$(awk '{ print $1 }' /proc/uptime)
u1=$(status_get updated_usec)
per_min=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", (b - a) * 60 / (e - s) }')
anon=$(awk '/^RssAnon/ { print $2 }' "/proc/$GUARD_PID/status")
file=$(awk '/^RssFile/ { print $2 }' "/proc/$GUARD_PID/status")
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$GUARD_PID/status")
echo "BENCH idle_wakeups_per_min=$per_min"
echo "BENCH idle_preemptions_per_min=$(awk -v a="$n0" -v b="$n1" -v s="$t0" -v e="$t1" 'BEGIN { printf "%.1f", (b - a) * 60 / (e - s) }')"
echo "BENCH guard_rss_anon_kb=$anon"
echo "BENCH guard_rss_file_kb=$file"
echo "BENCH guard_vmrss_kb=$rss"
gen=$(status_get generation)
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
[ "$gen" = 1 ] || fail "the idle server was restarted (generation $gen)"
is_number "$u0" && is_number "$u1" && [ "$u1" -gt "$u0" ] ||
        fail "the status file was not refreshed while idle ($u0 -> $u1)"
pass "idle: $per_min wake-ups/min, RssAnon $anon kB, RssFile $file kB"

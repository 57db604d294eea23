# vmtest: mem=512 smp=1 timeout=240 serial=yes
# restart-latency — a benchmark, not an assertion of a time: with
# backoff_initial=100ms (the floor) the server is OOM-killed once, and we report the time from
# the kernel's OOM kill (dmesg) and from the guard's reap (last_exit_usec) to
# the replacement's start (leaker's CLOCK_MONOTONIC mark), and the guard's
# VmRSS.  TCG inflates all of these: compare runs with each other only.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
high = 50M
max = 50M
swap_max = 0
[cpu]
sample_interval = 200ms
[restart]
on = oom
backoff_initial = 100ms
max_restarts = 3
window = 10min
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
# Only the first server leaks; the replacement marks its start and sleeps.
guard_start --mark "$MARK" --first-only --leak 200
poll 1200 mark_has_starts 2 || fail "no replacement started within 120 s (starts: $(mark_starts))"
pid1=$(mark_field 1 2)
start2=$(mark_field 2 3)
gen_is_2() { [ "$(status_get generation)" = 2 ]; }
poll 100 gen_is_2 || fail "status generation is '$(status_get generation)', expected 2"
last_exit=$(status_get last_exit_usec)
last_spawn=$(status_get last_spawn_usec)
oom_kills=$(status_get oom_kills)
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$GUARD_PID/status")
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$GUARD_PID/status")

# dmesg stamps are local_clock(); on x86 it tracks CLOCK_MONOTONIC closely,
# but not exactly: the reap-based figure is the one the guard controls.
kill_s=$(dmesg | sed -n "s/^\[ *\([0-9.]*\)\].*Killed process $pid1 .*/\1/p" | head -n 1)
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
oom_ms=n/a
[ -n "$kill_s" ] && oom_ms=$(awk -v k="$kill_s" -v s="$start2" 'BEGIN { printf "%.1f", (s - k * 1e6) / 1000 }')
reap_ms=n/a
kill_reap_ms=n/a
if is_number "$last_exit" && [ "$last_exit" -gt 0 ]; then
        reap_ms=$(ms "$last_exit" "$start2")
        [ -n "$kill_s" ] && kill_reap_ms=$(awk -v k="$kill_s" -v r="$last_exit" 'BEGIN { printf "%.1f", (r - k * 1e6) / 1000 }')
fi
say "oom kill at ${kill_s:-?} s (dmesg), reaped at ${last_exit:-?} us, replacement started at $start2 us; oom_kills $oom_kills"
echo "BENCH restart_latency_ms=$oom_ms"
echo "BENCH oom_to_reap_ms=$kill_reap_ms"
echo "BENCH reap_to_start_ms=$reap_ms"
# The guard's own share: from reaping the old server to clone3 returning
# for the new one.  The rest of reap->start is exec and dynamic loading of
# the server, emulated instruction by instruction under TCG.
is_number "$last_spawn" && is_number "$last_exit" &&
        echo "BENCH reap_to_spawn_ms=$(ms "$last_exit" "$last_spawn")"
echo "BENCH guard_rss_anon_kb=$(awk '/^RssAnon/ { print $2 }' "/proc/$GUARD_PID/status")"
echo "BENCH guard_vmrss_kb=$rss"
echo "BENCH guard_vmhwm_kb=$hwm"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
[ "$oom_ms" != n/a ] || fail "no OOM kill of pid $pid1 in dmesg"
# (oom-restart asserts the counters; here they are only reported.)
pass "oom->start ${oom_ms} ms, reap->start ${reap_ms} ms, guard VmRSS ${rss} kB (TCG); status oom_kills $oom_kills"

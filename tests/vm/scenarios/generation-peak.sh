# vmtest: mem=512 smp=1 timeout=240
# generation-peak — the status file's memory.peak is the current server
# generation's, not the leaf's lifetime peak: a first server whose child
# takes 48 MiB and which then fails is restarted, and the second, small one
# reports a peak far below 48 MiB (memory.peak reset per fd on 6.12+, the
# largest sample on older kernels).
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[memory]
max = 128M
swap_max = 0
[cpu]
sample_interval = 200ms
[restart]
on = crash
backoff_initial = 100ms
INI
guard_start --mark "$MARK" --first-only --child-leak 48 --exit 1
poll 600 mark_has_starts 2 || fail "the server was not restarted: $(cat "$GUARD_LOG")"
grep -q "^child [0-9]* status 0" "$MARK" || fail "the first server's child did not leak and exit: $(cat "$MARK")"
lifetime=$(cat "$GUARD_DIR/server/memory.peak" 2>/dev/null) || skip "no memory.peak (kernel before 5.19)"
[ "$lifetime" -ge $((48 * 1024 * 1024)) ] || fail "the leaf's lifetime peak is $lifetime, the test proves nothing"
gen2() { g=$(status_get generation) && [ "$g" -ge 2 ] && p=$(status_get memory.peak) && is_number "$p" && [ "$p" -gt 0 ]; }
poll 300 gen2 || fail "no status for generation 2: $(cat "$(status_file)" 2>&1)"
sleep 1 # a few more samples of the second generation (its peak must stay low, not rise)
p=$(status_get memory.peak)
say "leaf lifetime peak $lifetime; generation $(status_get generation) peak $p"
[ "$p" -lt $((24 * 1024 * 1024)) ] || fail "status memory.peak $p is not the second generation's (lifetime $lifetime)"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM"
pass "generation peak $p, leaf lifetime peak $lifetime"

# vmtest: mem=512 smp=1 timeout=240
# cpu-stat — a spinning server under cpu.max 50%: the status file's
# cpu.usage_usec grows between two samples and cpu.throttled_usec becomes > 0.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[cpu]
max = 50%
sample_interval = 200ms
[restart]
on = never
INI
guard_start --mark "$MARK" --spin
poll 600 mark_has_starts 1 || fail "the server never started"
SF=$(status_file)
poll 600 status_get cpu.usage_usec >/dev/null || fail "no cpu.usage_usec in $SF: $(cat "$SF" 2>&1)"
[ "$(status_get state)" = running ] || fail "status state is '$(status_get state)', expected running"
u1=$(status_get cpu.usage_usec)
is_number "$u1" || fail "cpu.usage_usec is '$u1'"
grows() { u2=$(status_get cpu.usage_usec) && is_number "$u2" && [ "$u2" -gt "$u1" ]; }
poll 600 grows || fail "cpu.usage_usec stayed at $u1 for 60 s"
throttled() { t=$(status_get cpu.throttled_usec) && is_number "$t" && [ "$t" -gt 0 ]; }
poll 600 throttled || fail "cpu.throttled_usec still '$(status_get cpu.throttled_usec)' after 60 s; server cpu.stat: $(tr '\n' ' ' <"$GUARD_DIR/server/cpu.stat")"
nr=$(kv "$GUARD_DIR/server/cpu.stat" nr_throttled)
say "usage_usec $u1 -> $u2, throttled_usec $t; kernel nr_throttled $nr"
[ "${nr:-0}" -gt 0 ] || fail "the kernel shows nr_throttled ${nr:-?} in $GUARD_DIR/server/cpu.stat"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
pass "usage_usec $u1 -> $u2, throttled_usec $t"

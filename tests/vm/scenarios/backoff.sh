# vmtest: mem=512 smp=1 timeout=240
# backoff — a server that exits 1 at once is restarted with growing delays
# (backoff_initial=400ms, factor 2): each gap between starts is longer than the
# one before.  Gaps are compared with each other, never with wall-clock limits;
# 400ms keeps consecutive gaps at least 280ms apart even with +-10% jitter,
# well above what exec costs vary by under TCG.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[restart]
on = crash
backoff_initial = 400ms
backoff_factor = 2
backoff_max = 1min
max_restarts = 4
window = 10min
reset_after = 10min
INI
guard_start --mark "$MARK" --exit 1
guard_wait 1200
starts=$(mark_starts)
[ "$starts" -eq 5 ] || fail "server started $starts times, expected 5 (max_restarts=4)"
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up)"

gaps=
prev=
i=2
while [ "$i" -le "$starts" ]; do
        gap=$(($(mark_field "$i" 3) - $(mark_field $((i - 1)) 3)))
        gaps="$gaps $((gap / 1000))ms"
        if [ -n "$prev" ] && [ "$gap" -le "$prev" ]; then
                fail "gap $((i - 1)) ($((gap / 1000)) ms) is not longer than gap $((i - 2)) ($((prev / 1000)) ms); gaps:$gaps"
        fi
        prev=$gap
        i=$((i + 1))
done
first=$(($(mark_field 2 3) - $(mark_field 1 3)))
# Doubling each time: the last gap (nominally 8x the first) must be well over 2x.
[ "$prev" -gt $((first * 2)) ] || fail "backoff does not grow geometrically; gaps:$gaps"
pass "gaps between starts grow:$gaps"

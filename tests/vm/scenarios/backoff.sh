# vmtest: mem=512 smp=1 timeout=240
# backoff — a server that exits 1 at once is restarted with growing delays
# (backoff_initial=400ms, factor 2): the delays the guard logs grow by the
# factor, and no start comes before its delay (the gaps between starts are
# bounded below only: how long exec takes under TCG on a loaded host varies
# by hundreds of milliseconds).
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[restart]
on = crash
backoff_initial = 400ms
backoff_factor = 2
backoff_max = 1min
after_give_up = exit
max_restarts = 4
window = 10min
reset_after = 10min
INI
guard_start --mark "$MARK" --exit 1
guard_wait 1200
starts=$(mark_starts)
[ "$starts" -eq 5 ] || fail "server started $starts times, expected 5 (max_restarts=4)"
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up)"

# The delays the guard chose, as it logged them ("Restarting ... in 793ms",
# "in 1.6s"; seconds are cut to a tenth, so "1.4s" is 1400..1499 ms).  Delay
# k is backoff_initial * factor^k with +-10% jitter: each logged interval must
# meet that band.  The gaps below use the lower end.
bounds=$(sed -n 's/.*Restarting .* in \([0-9.]*\)\(ms\|s\) (restart.*/\1 \2/p' "$GUARD_LOG" |
        awk '{ if ($2 == "s") printf "%d %d\n", $1 * 1000 + 0.5, $1 * 1000 + 99.5
               else printf "%d %d\n", $1, $1 }')
delays=$(printf '%s\n' "$bounds" | awk 'NF { print $1 }')
n=$(printf '%s\n' "$delays" | grep -c .)
[ "$n" -eq 4 ] || fail "expected 4 logged restart delays, got $n: $(printf '%s ' $delays)"
printf '%s\n' "$bounds" | awk 'BEGIN { nom = 400 } NF {
        if ($2 + 1 < nom * 0.9 || $1 - 1 > nom * 1.1) bad = 1; nom *= 2 } END { exit bad }' ||
        fail "logged delays are not 400ms x 2^k +-10%: $(printf '%sms ' $delays)"

# What the kernel saw: no restart came before its delay.  Gaps are only
# bounded below (exec under TCG on a loaded host may take long; never early).
gaps=
i=2
for d in $delays; do
        gap=$(($(mark_field "$i" 3) - $(mark_field $((i - 1)) 3)))
        gaps="$gaps $((gap / 1000))ms"
        [ "$((gap / 1000))" -ge "$d" ] ||
                fail "restart $((i - 1)) came $((gap / 1000)) ms after the previous start, before its ${d} ms delay"
        i=$((i + 1))
done
pass "delays grow: $(printf '%sms ' $delays); gaps between starts:$gaps"

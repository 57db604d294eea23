# vmtest: mem=512 smp=1 timeout=280
# incident-cap — kept incidents are capped: [incidents] keep = 2 leaves the
# two newest of four OOM kills; then max_size = 5K (each incident is about
# 3-4 KiB) leaves only the newest; keep = 0 captures none.
. /lib/vmtest/lib.sh
cg_setup
export XDG_STATE_HOME=/tmp/state
INC=/tmp/state/gopls-guard/incidents
policy() { # policy MAX_RESTARTS INCIDENTS_LINES
        write_policy <<INI
[memory]
high = 50M
max = 50M
swap_max = 0
[restart]
on = oom
backoff_initial = 100ms
max_restarts = $1
window = 10min
after_give_up = exit
[pressure]
proactive = no
[incidents]
$2
INI
}
count() { ls "$INC" 2>/dev/null | grep -c -- '-oom-kill$'; }

policy 3 "keep = 2"
guard_start --mark "$MARK" --leak 200
guard_wait 1500
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 after 4 OOM kills"
[ "$(count)" -eq 2 ] || fail "keep = 2: $(count) incidents kept: $(ls "$INC")"
gens=$(ls "$INC" | sed -n 's/^[0-9TZ]*-[0-9]*-\([0-9]*\)-oom-kill$/\1/p' | sort -n | tr '\n' ' ')
[ "$gens" = "3 4 " ] || fail "keep = 2 kept generations '$gens', expected the newest, 3 and 4"
first=$GUARD_PID

rm -f "$MARK"
policy 1 "keep = 10
max_size = 5K"
guard_start --mark "$MARK" --leak 200
guard_wait 1500
[ "$GUARD_EXIT" -eq 4 ] || fail "second guard exited $GUARD_EXIT, expected 4"
[ "$(count)" -eq 1 ] || fail "max_size = 5K: $(count) incidents kept: $(ls "$INC")"
case $(ls "$INC" | grep -- '-oom-kill$') in
*-"$GUARD_PID"-2-oom-kill) ;;
*) fail "max_size kept $(ls "$INC"), expected the second guard's generation 2" ;;
esac
size=$(cat "$INC"/*/incident.json | wc -c)
[ "$size" -le 5120 ] || say "note: the newest alone is $size bytes (kept even over max_size)"

rm -rf "$INC" "$MARK"
policy 0 "keep = 0"
guard_start --mark "$MARK" --leak 200
guard_wait 900
[ "$(count)" -eq 0 ] || fail "keep = 0 captured $(count) incidents"
pass "keep = 2 kept generations 3 4 of guard $first; max_size = 5K kept only the newest ($size bytes); keep = 0 none"

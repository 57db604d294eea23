# vmtest: mem=512 smp=1 timeout=240
# incident-oom — each OOM kill of the server leaves an incident in the
# state directory: memory.events (with the kill counted), memory.stat and
# cpu.stat of the server leaf, the peak, no heap profile (and why);
# `gopls-guard incidents --json` lists them; the directories are private.
. /lib/vmtest/lib.sh
cg_setup
export XDG_STATE_HOME=/tmp/state
INC=/tmp/state/gopls-guard/incidents
write_policy <<'INI'
[memory]
high = 50M
max = 50M
swap_max = 0
oom_group = yes
[restart]
on = oom
backoff_initial = 100ms
max_restarts = 1
window = 10min
after_give_up = exit
[pressure]
; the kernel's OOM kill is what this keeps an incident of
proactive = no
INI
guard_start --mark "$MARK" --leak 200
guard_wait 1200
[ "$GUARD_EXIT" -eq 4 ] || fail "guard exited $GUARD_EXIT, expected 4 (gave up after 2 OOM kills)"
n=$(ls "$INC" 2>/dev/null | grep -c -- '-oom-kill$')
[ "$n" -eq 2 ] || fail "expected 2 oom-kill incidents in $INC, found $n: $(ls "$INC" 2>&1)"
for d in "$INC"/*-oom-kill; do
        j=$d/incident.json
        cp "$j" "/tmp/logs/$(basename "$d").json" 2>/dev/null
        # One JSON value per line (JSON_INDENT): "key": value.
        val() { sed -n "s/^ *\"$1\": \([^,]*\),\{0,1\}$/\1/p" "$j" | head -n 1; }
        grep -q '"memory_events": {' "$j" || fail "$j has no memory_events"
        grep -q '"memory_stat": {' "$j" || fail "$j has no memory_stat"
        grep -q '"cpu_stat": {' "$j" || fail "$j has no cpu_stat"
        k=$(val oom_kill)
        is_number "$k" && [ "$k" -ge 1 ] || fail "$j: memory_events oom_kill is '$k', expected >= 1"
        # memory_stat is read after the kill (empty); memory_stat_at_peak while it ran.
        a=$(sed -n "/\"memory_stat_at_peak\": {/,/}/s/^ *\"anon\": \([0-9]*\).*/\1/p" "$j")
        is_number "$a" && [ "$a" -gt $((10 << 20)) ] || fail "$j: memory_stat_at_peak anon is '$a', expected the leak (> 10M)"
        [ "$(val oom)" = true ] || fail "$j: oom is '$(val oom)'"
        [ "$(val cgroup)" = '"/sys/fs/cgroup/guard"' ] || fail "$j: cgroup is '$(val cgroup)'"
        p=$(val peak)
        is_number "$p" && [ "$p" -ge $((40 << 20)) ] || fail "$j: peak '$p', expected near 50M"
        # leaker is not gopls: no heap profile is asked of it, and the note says so.
        grep -q '"heap_profile": null' "$j" && grep -q '"heap_profile_note": "heap profiles are asked only of gopls"' "$j" ||
                fail "$j: no note on the missing heap profile"
        [ "$(stat -c %a "$d")$(stat -c %a "$j")" = 700600 ] || fail "$d: modes $(stat -c %a "$d") $(stat -c %a "$j")"
        say "figure: incident $(basename "$d") is $(wc -c <"$j") bytes"
done
[ "$(stat -c %a /tmp/state/gopls-guard)$(stat -c %a "$INC")" = 700700 ] || fail "state directories are not 0700"
"$GUARD_BIN" incidents --json >/tmp/logs/incidents.json 2>/tmp/logs/incidents.err ||
        fail "gopls-guard incidents --json failed: $(cat /tmp/logs/incidents.err)"
[ "$(grep -c '"kind": "oom-kill"' /tmp/logs/incidents.json)" -eq 2 ] ||
        fail "incidents --json does not list both: $(head -c 300 /tmp/logs/incidents.json)"
grep -q "Kept what is known about this oom-kill in $INC/" "$GUARD_LOG" || fail "the log does not say where the incident went"
pass "2 OOM kills, 2 incidents with memory.events/stat and cpu.stat; incidents --json lists both"

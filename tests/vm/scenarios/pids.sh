# vmtest: mem=512 smp=1 timeout=240
# pids — pids.max=16 stops a server that tries to fork 64 children: it forks
# fewer than 16 (EAGAIN) and DIR/server/pids.events counts "max" hits.
. /lib/vmtest/lib.sh
cg_setup
write_policy <<'INI'
[pids]
max = 16
[restart]
on = never
INI
guard_start --mark "$MARK" --fork 64
poll 600 grep -q '^forked' "$MARK" || fail "the server never reported its forks: $(cat "$MARK" 2>/dev/null)"
line=$(grep '^forked' "$MARK")
k=$(echo "$line" | cut -d' ' -f2)
e=$(echo "$line" | cut -d' ' -f4)
hits=$(kv "$GUARD_DIR/server/pids.events" max)
cur=$(cat "$GUARD_DIR/server/pids.current")
say "$line; pids.current $cur; pids.events max $hits"
[ "$k" -lt 16 ] || fail "forked $k children under pids.max=16"
[ "$e" -eq 11 ] || fail "fork failed with errno $e, expected EAGAIN (11)"
[ "${hits:-0}" -gt 0 ] || fail "pids.events max is ${hits:-missing}"
guard_term
guard_wait 300
[ "$GUARD_EXIT" -eq 0 ] || fail "guard exited $GUARD_EXIT after SIGTERM, expected 0"
pass "$line under pids.max=16, pids.events max $hits"

# vmtest: mem=512 smp=1 timeout=120
# no-cgroup — a --cgroup path that does not exist, with [cgroup] require = yes:
# exit 3, a message naming the path, no server started, nothing created.
. /lib/vmtest/lib.sh
cg_setup
MISSING=$G_CG/no-such-guard
write_policy <<'INI'
[cgroup]
require = yes
INI
guard_start --cgroup "$MISSING" --mark "$MARK" --sleep
guard_wait 300
[ "$GUARD_EXIT" -eq 3 ] || fail "guard exited $GUARD_EXIT, expected 3 (no usable cgroup)"
# The path itself, not a longer one that merely ends with it.
grep -qE "(^|[^/[:alnum:]_.-])$MISSING([^/[:alnum:]_-]|\$)" "$GUARD_LOG" ||
        fail "the guard's messages do not name $MISSING: $(head -n 3 "$GUARD_LOG")"
[ "$(mark_starts)" -eq 0 ] || fail "the server was started without a cgroup"
[ ! -e "$MISSING" ] || fail "the guard created $MISSING"
pass "exit 3: $(grep -F "$MISSING" "$GUARD_LOG" | head -n 1 | cut -c1-120)"

# vmtest: timeout=290
# user-slice-total — per-user totals on a shared host.  The administrator
# pins [cgroup] slice = gopls.slice in /etc/gopls-guard/policy.ini and gives
# the user managers' gopls.slice a MemoryMax once for everybody
# (/etc/systemd/user/gopls.slice).  Two guards of user u, each started as an
# editor starts it (no flags), get transient scopes in u's gopls.slice, each
# with its own memory.max (64M) below it.  Each server leaks 60M: each is
# within its own limit, but their sum is not within the slice's 96M.  The
# slice holds the total: its memory.events counts the OOM (the guards'
# own server/ cgroups count none: their limit was not what was hit), one
# server is killed and its guard restarts it, and both guards run on.
# root's `gopls-guard status` lists both of u's guards, and --openmetrics
# labels them user="u".  A drop-in on user-.slice sets a hard wall for all
# of a user's processes, which users cannot change.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
MIB=1048576

# The administrator's part, as docs/admin-guide.md gives it.
mkdir -p /etc/systemd/user /etc/systemd/system/user-.slice.d /etc/gopls-guard
cat >/etc/systemd/user/gopls.slice <<'UNIT'
[Unit]
Description=Language servers under gopls-guard (all of this user's)

[Slice]
MemoryMax=96M
MemorySwapMax=0
UNIT
cat >/etc/systemd/system/user-.slice.d/50-memory.conf <<'UNIT'
[Slice]
MemoryMax=600M
UNIT
systemctl daemon-reload || fail "systemctl daemon-reload failed"
cat >/etc/gopls-guard/policy.ini <<'INI'
[memory]
high = 64M
max = 64M
swap_max = 0
[restart]
on = crash
backoff_initial = 100ms
[pressure]
; the slice's OOM kill is what this shows, not a restart before it
proactive = no
[cgroup]
slice = gopls.slice
require = yes
[log]
target = stderr
[limits]
memory.max = 64M
pin = cgroup.slice, cgroup.scope, cgroup.require
INI
chmod 0644 /etc/gopls-guard/policy.ini
sd_linger
[ "$(cat "$SD_CG/user.slice/user-$U_UID.slice/memory.max")" = $((600 * MIB)) ] ||
        fail "user-$U_UID.slice/memory.max is $(cat "$SD_CG/user.slice/user-$U_UID.slice/memory.max"), not 600M from the user-.slice drop-in"

# A user cannot move their guards out of the slice.
u_policy <<'INI'
[cgroup]
slice = app.slice
INI
as_u "$GUARD_BIN" check-policy >/tmp/logs/pinned.out 2>/tmp/logs/pinned.err && fail "u's policy setting a pinned slice was accepted"
grep -q "slice: pinned by the administrator in /etc/gopls-guard/policy.ini:" /tmp/logs/pinned.err ||
        fail "the refusal does not name the pin: $(cat /tmp/logs/pinned.err)"
rm -f /home/u/.config/gopls-guard/policy.ini

# u_guard NAME: a guard of u whose first server leaks 60M (then sleeps);
# the servers after it only sleep.  Its pid in /tmp/NAME.pid.
u_guard() {
        rm -f "/tmp/$1.mark" "/tmp/$1.pid"
        sd_stdin "$1"
        as_u sh -c 'echo $$ >"$0"; exec "$@"' "/tmp/$1.pid" "$GUARD_BIN" \
                -- /bin/leaker --mark "/tmp/$1.mark" --first-only --leak 60 \
                <"$SD_RUN/$1.in" >"/tmp/logs/$1.out" 2>"/tmp/logs/$1.log" &
}
starts() { mark_starts "/tmp/$1.mark" 2>/dev/null || echo 0; }
has_starts() { [ "$(awk '/^start /' "/tmp/$2.mark" 2>/dev/null | wc -l)" -ge "$1" ]; }
scope_of() { echo "$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/gopls.slice/gopls-guard-$(cat "/tmp/$1.pid").scope"; }
slice=$SD_CG/user.slice/user-$U_UID.slice/user@$U_UID.service/gopls.slice
at_least() { [ "$(cat "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }

# Guard a first; its server's 60M in place before b starts, so that b's
# leak is what pushes the slice over.
u_guard a
poll 600 has_starts 1 a || fail "a's server did not start (guard: $(tail -n 2 /tmp/logs/a.log))"
A=$(scope_of a)
[ -d "$A" ] || fail "a's scope is not in u's gopls.slice (guard: $(head -n 3 /tmp/logs/a.log))"
poll 900 at_least "$A/server/memory.current" $((55 * MIB)) || fail "a's server did not reach 55M ($(cat "$A/server/memory.current"))"
u_guard b
poll 600 has_starts 1 b || fail "b's server did not start (guard: $(tail -n 2 /tmp/logs/b.log))"
B=$(scope_of b)
[ -d "$B" ] || fail "b's scope is not in u's gopls.slice"
sd_check_file "$slice/memory.max" $((96 * MIB))
sd_check_file "$slice/memory.swap.max" 0
for s in "$A" "$B"; do
        sd_check_file "$s/server/memory.max" $((64 * MIB))
        sd_check_file "$s/server/memory.swap.max" 0
done

# The sum: one server killed by the slice's limit, restarted by its guard.
restarted() { has_starts 2 a || has_starts 2 b; }
poll 1200 restarted || fail "no server was restarted (starts a=$(starts a) b=$(starts b); slice events: $(tr '\n' ' ' <"$slice/memory.events"))"
slice_oom=$(kv "$slice/memory.events" oom)
slice_kills=$(kv "$slice/memory.events" oom_kill)
[ "${slice_oom:-0}" -ge 1 ] || fail "gopls.slice's memory.events counts no oom: $(tr '\n' ' ' <"$slice/memory.events")"
[ "${slice_kills:-0}" -ge 1 ] || fail "gopls.slice's memory.events counts no oom_kill"
for s in "$A" "$B"; do
        # Hierarchical counts go up, never down: a guard's server/ counts an
        # oom only if its own 64M was hit.
        o=$(kv "$s/server/memory.events" oom)
        [ "${o:-0}" -eq 0 ] || fail "$s/server counts oom $o: its own limit was hit, not the slice's"
done
victim=a
has_starts 2 a || victim=b
kv "$(scope_of $victim)/server/memory.events" oom_kill | grep -qx '[1-9][0-9]*' ||
        fail "$victim's server/ counts no oom_kill, though its server was restarted"
cur=$(cat "$slice/memory.current")
[ "$cur" -le $((96 * MIB)) ] || fail "gopls.slice's memory.current $cur is above its memory.max"
peak=$(cat "$slice/memory.peak" 2>/dev/null || echo n/a)
say "slice: memory.max 96M, memory.current $((cur / MIB))M, peak $peak; events: $(tr '\n' ' ' <"$slice/memory.events")"
say "victim $victim; a: $(tr '\n' ' ' <"$A/server/memory.events" | cut -c1-60); b: $(tr '\n' ' ' <"$B/server/memory.events" | cut -c1-60)"

# Both guards still run, each with a server in its server/.
for n in a b; do
        g=$(cat /tmp/$n.pid)
        pid_alive "$g" || fail "guard $n ($g) is gone ($(tail -n 2 /tmp/logs/$n.log))"
        sd_check_layout "$(scope_of $n)" "$g"
done

# root sees every user's guards; the metrics carry the user.
"$GUARD_BIN" status >/tmp/logs/status.out 2>&1 || fail "root's status failed: $(cat /tmp/logs/status.out)"
for n in a b; do
        grep -Eq "^$(cat /tmp/$n.pid) +running .* u +/tmp\$" /tmp/logs/status.out ||
                fail "root's status does not list u's guard $n as u's: $(cat /tmp/logs/status.out)"
done
"$GUARD_BIN" status --openmetrics >/tmp/logs/metrics.out 2>&1 || fail "status --openmetrics failed"
n_u=$(grep -c '^gopls_guard_memory_current_bytes{.*user="u"' /tmp/logs/metrics.out)
[ "$n_u" -eq 2 ] || fail "--openmetrics has $n_u memory lines with user=\"u\", expected 2: $(grep memory_current /tmp/logs/metrics.out)"
grep -q "^gopls_guard_restarts_total{.*user=\"u\",pid=\"$(cat /tmp/$victim.pid)\"} 1\$" /tmp/logs/metrics.out ||
        fail "--openmetrics does not count the restart of $victim: $(grep restarts_total /tmp/logs/metrics.out)"
say "root's status:"
sed 's/^/    /' /tmp/logs/status.out

for n in a b; do sd_stdin_close $n; done
for n in a b; do
        poll 300 eval "pid_dead $(cat /tmp/$n.pid)" || fail "guard $n did not exit after its stdin closed"
done
poll 100 eval '[ ! -e "$A" ] && [ ! -e "$B" ]' || fail "a scope is left behind"
pass "two guards of u in gopls.slice (96M) with 64M each: the sum was held by the slice (oom $slice_oom, oom_kill $slice_kills; guards' own oom 0), $victim's server restarted, both ran on; root's status and --openmetrics list both as user u"

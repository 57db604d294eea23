# vmtest: mem=512 smp=1 timeout=240
# server-env — [server] go_memlimit exports GOMEMLIMIT as a share of
# memory.high, [server] env adds variables, and an explicit GOMEMLIMIT wins.
. /lib/vmtest/lib.sh
cg_setup
env_of() { tr '\0' '\n' <"/proc/$1/environ" | sed -n "s/^$2=//p"; }

write_policy <<'INI'
[server]
go_memlimit = 50%
env = GOFLAGS=-mod=mod
[memory]
high = 40M
max = 50M
[restart]
on = never
INI
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "server did not start"
pid=$(mark_field 1 2)
gml=$(env_of "$pid" GOMEMLIMIT)
[ "$gml" = 20971520 ] || fail "GOMEMLIMIT is '$gml', expected 20971520 (50% of high = 40M)"
[ "$(env_of "$pid" GOFLAGS)" = -mod=mod ] || fail "GOFLAGS from [server] env not set"
guard_term
guard_wait 300

write_policy <<'INI'
[server]
go_memlimit = 50%
env = GOMEMLIMIT=123MiB
[memory]
high = 40M
max = 50M
[restart]
on = never
INI
rm -f "$MARK"
guard_start --mark "$MARK" --sleep
poll 600 mark_has_starts 1 || fail "server did not start (2)"
pid=$(mark_field 1 2)
gml=$(env_of "$pid" GOMEMLIMIT)
[ "$gml" = 123MiB ] || fail "explicit GOMEMLIMIT was replaced by '$gml'"
guard_term
guard_wait 300
pass "GOMEMLIMIT=20971520 from go_memlimit; explicit GOMEMLIMIT kept; env added"

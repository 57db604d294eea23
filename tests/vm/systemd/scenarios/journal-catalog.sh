# vmtest: timeout=280
# journal-catalog — every event entry carries GOPLS_GUARD_EVENT, _WORKSPACE,
# _SERVER_PID, the memory figures in bytes and its MESSAGE_ID, and
# `journalctl -x` explains an OOM kill, a restart and a give-up from the
# installed catalog.  A server that leaks past memory.max each time: start,
# oom-kill, restart, start, oom-kill, give-up (exit 4).  (systemd 252's
# journalctl -x prefixes the catalog's lines with "░░ ".)
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
cat=$(ls /usr/lib/systemd/catalog/gopls-guard.catalog /usr/local/lib/systemd/catalog/gopls-guard.catalog 2>/dev/null | head -n 1)
[ -n "$cat" ] || fail "gopls-guard.catalog is not installed"
journalctl --update-catalog || fail "journalctl --update-catalog failed"
journalctl --list-catalog 2>/dev/null | grep -q '^2dbeb7e8e21142c78c38147f02f12673 gopls-guard:' ||
        fail "the compiled catalog has no oom-kill entry"
sd_policy <<'INI'
[memory]
high = 48M
max = 48M
swap_max = 0
[restart]
on = oom
backoff_initial = 100ms
after_give_up = exit
max_restarts = 1
[pressure]
; this test is about the kernel's OOM kill (or the degraded kill at max)
proactive = no
INI
mkdir -p /srv/ws
SD_RUN_OPTS="-p WorkingDirectory=/srv/ws"
sd_guard_service guard-cat --policy "$POLICY" -- /bin/leaker --mark "$MARK" --leak 200
poll 1200 eval '! sd_is_active guard-cat.service' || fail "the guard did not give up within 120 s (starts: $(mark_starts))"
entry() { sd_journal_wait 100 guard-cat.service "$1"; }
check_event() { # EVENT MESSAGE_ID: the entry, its id and its fields
        e=$(entry ".GOPLS_GUARD_EVENT == \"$1\"") || fail "no journal entry with GOPLS_GUARD_EVENT=$1"
        [ "$(jfield "$e" MESSAGE_ID)" = "$2" ] || fail "$1: MESSAGE_ID=$(jfield "$e" MESSAGE_ID), expected $2"
        [ "$(jfield "$e" GOPLS_GUARD_WORKSPACE)" = /srv/ws ] || fail "$1: GOPLS_GUARD_WORKSPACE=$(jfield "$e" GOPLS_GUARD_WORKSPACE)"
        for f in GOPLS_GUARD_SERVER_PID GOPLS_GUARD_MEMORY_PEAK GOPLS_GUARD_MEMORY_CURRENT GOPLS_GUARD_GENERATION GOPLS_GUARD_RESTARTS; do
                is_number "$(jfield "$e" $f)" || fail "$1: $f='$(jfield "$e" $f)' is not a number"
        done
        [ "$(jfield "$e" GOPLS_GUARD_MEMORY_MAX)" = $((48 * 1024 * 1024)) ] || fail "$1: GOPLS_GUARD_MEMORY_MAX=$(jfield "$e" GOPLS_GUARD_MEMORY_MAX)"
        say "$1: $(printf '%s\n' "$e" | jq -c 'with_entries(select(.key | test("^(GOPLS_GUARD_|MESSAGE_ID)")))')"
}
check_event start 6f203fd3c855483a98e3da330ed40f33
check_event oom-kill 2dbeb7e8e21142c78c38147f02f12673
check_event restart 077b0dccb2864489b5bb6dba7f41f2fb
is_number "$(jfield "$e" GOPLS_GUARD_RESTART_DELAY_USEC)" || fail "restart: no GOPLS_GUARD_RESTART_DELAY_USEC"
check_event give-up 4ec7aaa2d76a4d78822ea13e75f1b58e
[ "$(sd_journal_count guard-cat.service '.GOPLS_GUARD_EVENT == "oom-kill"')" -ge 2 ] || fail "fewer than 2 oom-kill entries"
journalctl -b -x --no-pager -u guard-cat.service >/tmp/logs/x.txt 2>&1
grep -q "Subject: The language server for /srv/ws ran out of memory" /tmp/logs/x.txt ||
        fail "journalctl -x shows no catalog text for the OOM kill"
grep -q "raise \[memory\] max" /tmp/logs/x.txt || fail "journalctl -x does not say which key to change"
grep -q "Subject: gopls-guard restarts the language server for /srv/ws" /tmp/logs/x.txt ||
        fail "journalctl -x shows no catalog text for the restart"
grep -q "Subject: gopls-guard gave up on the language server for /srv/ws" /tmp/logs/x.txt ||
        fail "journalctl -x shows no catalog text for the give-up"
[ "$(sd_prop guard-cat.service ExecMainStatus)" = 4 ] || fail "the guard exited $(sd_prop guard-cat.service ExecMainStatus), not 4"
pass "start, oom-kill, restart, give-up entries with their MESSAGE_IDs and fields; journalctl -x explains them from $cat"

# vmtest: timeout=240
# notify — the guard as a Type=notify service with WatchdogSec=: systemd
# sees it ready (systemd-run returns once READY=1 came), StatusText carries
# the STATUS= line, the watchdog is fed (no timeout, no restart after
# several intervals), and a stop ends it cleanly.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
sd_policy <<'INI'
[memory]
max = 64M
swap_max = 0
[cpu]
sample_interval = 500ms
INI
SD_RUN_OPTS="-p Type=notify -p NotifyAccess=main -p WatchdogSec=3s"
sd_guard_service guard-notify --policy "$POLICY" -- /bin/leaker --mark "$MARK" --sleep
cg=$(sd_cgroup guard-notify.service)
[ "$(sd_prop guard-notify.service ActiveState)" = active ] || fail "not active after systemd-run returned: $(sd_prop guard-notify.service ActiveState)"
poll 100 eval 'sd_prop guard-notify.service StatusText | grep -q "^running (generation 1): .* of 64M$"' ||
        fail "StatusText is '$(sd_prop guard-notify.service StatusText)'"
[ "$(sd_prop guard-notify.service WatchdogUSec)" = 3s ] || say "WatchdogUSec=$(sd_prop guard-notify.service WatchdogUSec)"
# Four watchdog intervals: a guard that did not ping would be killed by now.
sleep 12
sd_is_active guard-notify.service || fail "the unit is $(systemctl is-active guard-notify.service) after 12 s with WatchdogSec=3s"
[ "$(sd_prop guard-notify.service NRestarts)" = 0 ] || fail "NRestarts=$(sd_prop guard-notify.service NRestarts)"
sd_journal_has guard-notify.service '(.MESSAGE // "") | test("[Ww]atchdog timeout")' && fail "the journal has a watchdog timeout"
status=$(sd_prop guard-notify.service StatusText)
say "StatusText: $status"
systemctl stop guard-notify.service || fail "systemctl stop failed"
[ "$(sd_prop guard-notify.service Result)" != watchdog ] || fail "Result=watchdog"
sd_stopped_clean guard-notify.service "$cg" "$GUARD_PID"
pass "READY (systemd-run returned, active), StatusText '$status', watchdog fed for 12 s at WatchdogSec=3s, clean stop"

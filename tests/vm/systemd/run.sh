#!/bin/sh
# run.sh — the tier-3 runner inside the VM (vmtest.service, as root).
#
# Waits for systemd to finish booting, installs what install_guard left in
# /var/lib/vmtest/debs, runs /lib/vmtest/scenario.sh under a time limit and
# prints exactly one result line for the host, as tests/vm/init.sh does:
#   VMTEST PASS name[: detail] | VMTEST FAIL name: reason | VMTEST SKIP name: reason
# then powers the VM off.  Scenario output goes to the console between the
# "VMTEST-BEGIN name" line and the result line; on failure the files in
# /tmp/logs, the failed units, the journal and dmesg come before it.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
# Straight to the console, not through journald: the host reads these lines
# unprefixed and in order.
exec </dev/null >/dev/console 2>&1
# OOM reports would interleave with the scenario's lines (dmesg has them).
echo "1 4 1 7" >/proc/sys/kernel/printk
VMTEST_NAME=unknown
VMTEST_TIMEOUT=280
VMTEST_KERNEL=
. /etc/vmtest.conf
export VMTEST_NAME VMTEST_KERNEL
mkdir -p /tmp/logs

poweroff_now() {
        sync
        systemctl poweroff --force --force
        echo o >/proc/sysrq-trigger
        sleep 10
}
# On failure, after the logs: the failed units and the journal (the
# kernel's lines are in dmesg, which runner.sh shows).
dump_extra() {
        echo "---- systemctl --failed ----"
        systemctl list-units --failed --plain --no-legend --no-pager
        echo "---- journal (last 60 entries but the kernel's) ----"
        journalctl -b --no-pager -o short-monotonic -n 400 | grep -v '^\[[ 0-9.]*\] [^ ]* kernel: ' | tail -n 60
}
. /lib/vmtest/runner.sh

# The boot is done when no job is left: "running", or "degraded" when some
# unit failed (that is reported, and is the scenario's business).
state=$(timeout 120 systemctl is-system-running --wait 2>&1)
boot=$(cut -d' ' -f1 /proc/uptime)
failed=$(systemctl list-units --failed --plain --no-legend 2>/dev/null | awk '{ printf "%s%s", sep, $1; sep = " " }')

for deb in /var/lib/vmtest/debs/*.deb; do
        [ -e "$deb" ] || break
        dpkg -i "$deb" >/tmp/logs/dpkg.log 2>&1 || result "FAIL $VMTEST_NAME: dpkg -i $(basename "$deb") failed: $(tail -n 1 /tmp/logs/dpkg.log)"
done

printf '\n%s\n' "VMTEST-BEGIN $VMTEST_NAME (kernel $(uname -r), $(systemctl --version | head -n 1), $(nproc) cpu, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo); booted ($state) at ${boot} s uptime${failed:+; failed units: $failed})"
# shellcheck disable=SC2086 # one argument per unit
[ -n "$failed" ] && systemctl status --no-pager --lines=5 $failed >/tmp/logs/failed-units.txt 2>&1

cd /tmp || exit 1
# VMTEST_TIMEOUT counts from the VM's start, like the host's bound: the boot
# took part of it, and the diagnostics below need ~20 s under TCG.
budget=$((VMTEST_TIMEOUT - ${boot%.*} - 20))
[ "$budget" -ge 30 ] || budget=30
timeout -s KILL "$budget" sh /lib/vmtest/scenario.sh
st=$?

if [ "$st" -eq 137 ]; then
        finish "$st" "scenario timed out after ${budget}s in the VM (booted at ${boot}s)"
fi
finish "$st"

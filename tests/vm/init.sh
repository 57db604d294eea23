#!/bin/sh
# /init of a tier-2 test VM (busybox ash as PID 1).
#
# Mounts what a scenario needs (proc, sys, devtmpfs, cgroup2, tmpfs /tmp and
# /run), runs /lib/vmtest/scenario.sh with a watchdog, and prints exactly one
# result line for the host:
#   VMTEST PASS name[: detail] | VMTEST FAIL name: reason | VMTEST SKIP name: reason
# then powers the VM off.  Scenario output goes to the console between the
# "VMTEST-BEGIN name" line and that result line.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t devtmpfs dev /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=1777 tmp /tmp
mount -t tmpfs -o mode=0755 run /run
# Kernel messages (OOM reports) would interleave with the scenario's lines on
# the console; they stay readable with dmesg, which is dumped on failure.
# Panics are KERN_EMERG and still show.
echo "1 4 1 7" >/proc/sys/kernel/printk
VMTEST_NAME=unknown
VMTEST_TIMEOUT=280
VMTEST_KERNEL=
. /etc/vmtest.conf
export VMTEST_NAME VMTEST_KERNEL

poweroff_now() {
        sync
        poweroff -f
        echo o >/proc/sysrq-trigger
        sleep 10
}
. /lib/vmtest/runner.sh

printf '\n%s\n' "VMTEST-BEGIN $VMTEST_NAME (kernel $(uname -r), $(nproc) cpu, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo))"
if ! mount -t cgroup2 none /sys/fs/cgroup; then
        result "FAIL $VMTEST_NAME: cannot mount cgroup2 on /sys/fs/cgroup"
fi
swapoff -a 2>/dev/null # none is configured; kept as the selftests' habit
mkdir -p /tmp/logs

cd /tmp || exit 1
sh /lib/vmtest/scenario.sh &
spid=$!
# The watchdog ends only the scenario's shell; the VM is powered off right after.
(sleep "$VMTEST_TIMEOUT" && : >/tmp/vmtest.timedout && kill -KILL "$spid") &
wpid=$!
# ash's wait also reaps orphans reparented to PID 1 while it blocks.
wait "$spid"
st=$?
kill "$wpid" 2>/dev/null

if [ -e /tmp/vmtest.timedout ]; then
        finish "$st" "scenario timed out after ${VMTEST_TIMEOUT}s in the VM"
fi
finish "$st"

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

# Each marker line starts with a newline: firmware escapes or a kernel message
# may be pending on the console line.
poweroff_now() {
        sync
        poweroff -f
        echo o >/proc/sysrq-trigger
        sleep 10
}
result() {
        printf '\nVMTEST %s\n' "$*"
        poweroff_now
}

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

line=
if [ -s /tmp/vmtest.result ]; then
        IFS='	' read -r status detail </tmp/vmtest.result
        case $status in
        PASS) line="PASS $VMTEST_NAME${detail:+: $detail}" ;;
        FAIL | SKIP) line="$status $VMTEST_NAME: ${detail:-no reason given}" ;;
        esac
fi
if [ -z "$line" ]; then
        if [ -e /tmp/vmtest.timedout ]; then
                line="FAIL $VMTEST_NAME: scenario timed out after ${VMTEST_TIMEOUT}s in the VM"
        else
                line="FAIL $VMTEST_NAME: scenario exited $st without a result"
        fi
fi
dump_logs() {
        for f in /tmp/logs/*; do
                [ -f "$f" ] || continue
                n=$(wc -l <"$f")
                if [ "$n" -le 120 ]; then
                        echo "---- $f ----"
                        cat "$f"
                else
                        echo "---- $f (first 30 and last 80 of $n lines) ----"
                        head -n 30 "$f"
                        echo "[...]"
                        tail -n 80 "$f"
                fi
        done
        echo "---- dmesg (last 40 lines) ----"
        dmesg | tail -n 40
        echo "---- end of diagnostics ----"
}
# The host prints the lines up to the result line: diagnostics go before it on
# failure, after it (console log only) on success.
case $line in
PASS*)
        printf '\nVMTEST %s\n' "$line"
        dump_logs
        poweroff_now
        ;;
*)
        dump_logs
        result "$line"
        ;;
esac

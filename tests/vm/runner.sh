# runner.sh — what the two runners inside a test VM share: init.sh (the
# initramfs VM, busybox ash as PID 1) and systemd/run.sh (under real
# systemd).  Sourced by each after it has defined poweroff_now and, when it
# has more to show on failure than the logs and dmesg, dump_extra.
#
# The protocol: exactly one result line for the host,
#   VMTEST PASS name[: detail] | VMTEST FAIL name: reason | VMTEST SKIP name: reason
# then the VM is powered off.  A scenario reports through /tmp/vmtest.result
# (lib.sh's pass, fail and skip).

# result LINE: prints it as the result and powers off.  Each marker line
# starts with a newline: firmware escapes or a kernel message may be pending
# on the console line.
result() {
        printf '\nVMTEST %s\n' "$*"
        poweroff_now
}

# The files in /tmp/logs (long ones cut to their first 30 and last 80
# lines), the runner's dump_extra if it has one, and the end of dmesg.
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
        if command -v dump_extra >/dev/null 2>&1; then
                dump_extra
        fi
        echo "---- dmesg (last 40 lines) ----"
        dmesg | tail -n 40
        echo "---- end of diagnostics ----"
}

# finish STATUS [TIMED_OUT]: the result line for a scenario that exited with
# STATUS, or that the runner stopped when TIMED_OUT (the reason) is given,
# then the power-off.  The host prints the console up to the result line:
# diagnostics go before it on failure, after it (console log only) on
# success.
finish() {
        line=
        if [ -s /tmp/vmtest.result ]; then
                IFS='	' read -r status detail </tmp/vmtest.result
                case $status in
                PASS) line="PASS $VMTEST_NAME${detail:+: $detail}" ;;
                FAIL | SKIP) line="$status $VMTEST_NAME: ${detail:-no reason given}" ;;
                esac
        fi
        if [ -z "$line" ]; then
                if [ -n "${2:-}" ]; then
                        line="FAIL $VMTEST_NAME: $2"
                else
                        line="FAIL $VMTEST_NAME: scenario exited $1 without a result"
                fi
        fi
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
}

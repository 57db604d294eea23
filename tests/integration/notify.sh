#!/bin/bash
# notify.sh — what the guard tells the service manager, read from a fake
# NOTIFY_SOCKET (a datagram socket this test binds): READY=1 once, after
# the server started (in daemon mode: once the socket takes editors,
# whether or not a server could start); STATUS= lines with the state and memory; WATCHDOG=1
# pings when WATCHDOG_USEC is set for the guard's own pid, none when
# WATCHDOG_PID names another process; STOPPING=1 once, on SIGTERM and when
# the editor goes.  Degraded mode, fixture roots: no cgroup is touched.
# `systemctl show` of a real unit is checked in the systemd VM tier.
#
#   notify.sh GOPLS_GUARD_TEST LSP_ECHO NOTIFY_LISTEN
set -u
guard=$1
echo_server=$2
listen=$3
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir notify
it_fixture_roots
lpid=
cleanup() {
        [ -n "$lpid" ] && kill "$lpid" 2>/dev/null
        wait 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
printf '[lsp]\nnotify = no\n[log]\ntarget = stderr\n[cpu]\nsample_interval = 100ms\n' >"$work/p.ini"
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'

# listener NAME: a fresh socket $work/NAME.sock whose datagrams go to $work/NAME.log
listener() {
        [ -n "$lpid" ] && { kill "$lpid"; wait "$lpid" 2>/dev/null; }
        coproc L { exec "$listen" "$work/$1.sock" "$work/$1.log"; }
        lpid=$L_PID
        local line
        read -r -t 10 line <&"${L[0]}"
        [ "$line" = ready ] || { echo "FAIL: the notify listener did not start"; exit 1; }
}
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# 1. A guard with a watchdog (its own pid), stopped by SIGTERM.
listener term
mkfifo "$work/in"
NOTIFY_SOCKET=$work/term.sock WATCHDOG_USEC=200000 sh -c \
        'export WATCHDOG_PID=$$; exec "$@"' sh "$guard" --policy "$work/p.ini" -- "$echo_server" \
        <"$work/in" >"$work/term.out" 2>"$work/term.err" &
gpid=$!
exec 7>"$work/in"
frame "$INIT" >&7
check "READY=1 is sent once the server runs" poll 300 grep -qx "READY=1" "$work/term.log"
check "STATUS= says the state, generation and memory" \
        poll 300 grep -q "^STATUS=running (generation 1): .* of .*, degraded$" "$work/term.log"
check "WATCHDOG=1 pings keep coming (3 seen)" \
        poll 300 sh -c '[ "$(grep -cx "WATCHDOG=1" "$1")" -ge 3 ]' sh "$work/term.log"
check "no STOPPING=1 while it serves" test "$(count "$work/term.log" '^STOPPING=1$')" -eq 0
kill -TERM "$gpid"
wait "$gpid"
rc=$?
exec 7>&-
check "SIGTERM: the guard ends (exit $rc)" test "$rc" -ne 124
check "...and sent STOPPING=1 exactly once" test "$(count "$work/term.log" '^STOPPING=1$')" -eq 1
check "READY=1 was sent exactly once" test "$(count "$work/term.log" '^READY=1$')" -eq 1
check "READY=1 came before STOPPING=1" \
        test "$(grep -n -x 'READY=1' "$work/term.log" | cut -d: -f1)" -lt \
        "$(grep -n -x 'STOPPING=1' "$work/term.log" | cut -d: -f1)"

# 2. WATCHDOG_PID of another process (the variables leaked to a child):
#    no pings; and the editor's EOF is a stop too.
listener other
{ frame "$INIT"; sleep 1; } |
        NOTIFY_SOCKET=$work/other.sock WATCHDOG_USEC=100000 WATCHDOG_PID=1 \
        "$guard" --policy "$work/p.ini" -- "$echo_server" >/dev/null 2>"$work/other.err"
check "WATCHDOG_PID of another process: the guard serves, READY=1" has "$work/other.log" "READY=1"
check "...and sends no WATCHDOG=1" test "$(count "$work/other.log" '^WATCHDOG=1$')" -eq 0
check "the editor's EOF sends STOPPING=1 once" test "$(count "$work/other.log" '^STOPPING=1$')" -eq 1

# 3. No WATCHDOG_USEC: no pings.
listener plain
{ frame "$INIT"; sleep 1; } |
        NOTIFY_SOCKET=$work/plain.sock "$guard" --policy "$work/p.ini" -- "$echo_server" \
        >/dev/null 2>"$work/plain.err"
check "no WATCHDOG_USEC: READY=1" has "$work/plain.log" "READY=1"
check "...and no WATCHDOG=1" test "$(count "$work/plain.log" '^WATCHDOG=1$')" -eq 0
check "...no warning about the watchdog" test "$(count "$work/plain.err" 'watchdog')" -eq 0
# 4. serve: READY=1 once the socket takes editors, even when no server
#    can start (a start job must not wait for one); and once only, however
#    many servers start.  No server can start: the guard runs as a uid of
#    its own with RLIMIT_NPROC 1, so that every fork fails (root only:
#    setpriv, and root itself is exempt from RLIMIT_NPROC).
mkdir -p "$work/ws"
esc=$(systemd-escape --path "$work/ws" 2>/dev/null) || esc=
nobody_uid=64123 # a uid with no process, so that the guard is its only one
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null || ! command -v prlimit >/dev/null; then
        echo "SKIP serve with no server possible: needs root, setpriv and prlimit"
elif ps -u "$nobody_uid" >/dev/null 2>&1; then
        echo "SKIP serve with no server possible: uid $nobody_uid has processes"
else
        chmod 0711 "$work"
        mkdir -m 0755 "$work/np"
        mkdir -m 0700 "$work/np/run"
        chown "$nobody_uid:$nobody_uid" "$work/np/run"
        printf '[server]\ncommand = %s\n[restart]\nbackoff_initial = 10s\n[log]\ntarget = stderr\n' \
                "$echo_server" >"$work/np/p.ini"
        listener broken
        chmod 0666 "$work/broken.sock"
        GOPLS_GUARD_RUNTIME_DIR=$work/np/run NOTIFY_SOCKET=$work/broken.sock \
                prlimit --nproc=1 setpriv --reuid="$nobody_uid" --regid="$nobody_uid" --clear-groups \
                "$guard" serve --workspace "$work/ws" --policy "$work/np/p.ini" \
                </dev/null >/dev/null 2>"$work/broken.err" &
        gpid=$!
        check "serve whose server cannot start: READY=1 all the same" \
                poll 100 grep -qx "READY=1" "$work/broken.log"
        if [ -n "$esc" ]; then
                check "...with its socket there" test -S "$work/np/run/$esc.sock"
        fi
        check "...and no server started (fork refused)" has "$work/broken.err" "Cannot start"
        check "...nor logged as started" test "$(count "$work/broken.err" 'Started ')" -eq 0
        kill -TERM "$gpid"
        wait "$gpid"
        check "...READY=1 exactly once" test "$(count "$work/broken.log" '^READY=1$')" -eq 1
fi

printf '[server]\ncommand = %s\n[restart]\nbackoff_initial = 100ms\n[log]\ntarget = stderr\n' \
        "$echo_server" >"$work/serve.ini"
listener serve
NOTIFY_SOCKET=$work/serve.sock "$guard" serve --workspace "$work/ws" --policy "$work/serve.ini" \
        </dev/null >/dev/null 2>"$work/serve.err" &
gpid=$!
check "serve: READY=1" poll 100 grep -qx "READY=1" "$work/serve.log"
check "...the first server runs" poll 100 grep -q "generation 1" "$work/serve.err"
server=$(grep -o 'pid [0-9]*, generation 1' "$work/serve.err" | head -n 1 | grep -o '[0-9]*' | head -n 1)
[ -n "$server" ] && kill -9 "$server"
check "...a killed server is followed by another" poll 100 grep -q "generation 2" "$work/serve.err"
kill -TERM "$gpid"
wait "$gpid"
check "...READY=1 exactly once over two servers" test "$(count "$work/serve.log" '^READY=1$')" -eq 1
check "...and STOPPING=1 once" test "$(count "$work/serve.log" '^STOPPING=1$')" -eq 1
it_done

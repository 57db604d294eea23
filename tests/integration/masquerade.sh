#!/bin/bash
# masquerade.sh — a symlink named gopls to the guard, in front of a fake
# "real gopls" further down PATH.  Every command line that is not a stdio
# language server must become the real gopls in the same process (execv:
# same pid, same bytes on stdout and stderr, same exit status); stdio server
# command lines are guarded (the real gopls runs as the guard's child); and
# the guard never finds itself as the real gopls, however it is asked.
# Nothing here touches a cgroup: GOPLS_GUARD_CGROUP_ROOT is an empty dir.
#
#   masquerade.sh GOPLS_GUARD_TEST LSP_ECHO
set -u
guard=$(realpath "$1")
echo_server=$(realpath "$2")
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir masquerade
it_fixture_roots
mkdir -p "$work/shim" "$work/shim2" "$work/real" "$work/empty"
ln -s "$guard" "$work/shim/gopls"
ln -s "$work/shim/gopls" "$work/shim2/gopls" # a link to the link
export MARK=$work/mark ECHO_SERVER=$echo_server

# The fake real gopls: records "its pid, its parent's pid, its arguments";
# as a server (its arguments say so) it becomes lsp-echo, otherwise it prints
# to both streams and exits with $FAKE_STATUS.
cat >"$work/real/gopls" <<'SH'
#!/bin/sh
# The guard asks gopls for its heap profile ([incidents] heap_profile)
# with a flag of its own, first: not one of the caller's.
case "${1:-}" in -profile.mem=*) echo "$1" >>"$MARK.heap"; shift ;; esac
echo "$$ $PPID $*" >>"$MARK"
case "${1:-}" in
"" | serve | -mode=stdio | -rpc.trace | -logfile) exec "$ECHO_SERVER" ;;
esac
printf 'golang.org/x/tools/gopls v0.0.0-fake\nargs: %s\n' "$*"
printf 'fake gopls on stderr: %s\n' "$*" >&2
exit "${FAKE_STATUS:-0}"
SH
chmod +x "$work/real/gopls"

session() {
        frame '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
        frame '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
        frame '{"jsonrpc":"2.0","method":"exit"}'
}

# direct NAME STATUS ARGS...: the fake gopls run directly (the reference).
# shimmed NAME STATUS PATH ARGS...: the same through `gopls` on PATH; its
# pid in $pid and its status in $rc.
direct() {
        local name=$1 st=$2
        shift 2
        FAKE_STATUS=$st "$work/real/gopls" "$@" </dev/null >"$work/$name.direct.out" 2>"$work/$name.direct.err"
        drc=$?
}
shimmed() {
        local name=$1 st=$2 path=$3
        shift 3
        : >"$MARK"
        FAKE_STATUS=$st PATH=$path gopls "$@" </dev/null >"$work/$name.out" 2>"$work/$name.err" &
        pid=$!
        wait "$pid"
        rc=$?
}
# passthrough NAME STATUS ARGS...: byte-identical output and status, same pid.
passthrough() {
        local name=$1 st=$2
        shift 2
        direct "$name" "$st" "$@"
        shimmed "$name" "$st" "$work/shim:$work/real:/usr/bin:/bin" "$@"
        check "gopls $*: exit status as the real gopls ($rc = $drc)" test "$rc" -eq "$drc"
        check "gopls $*: same stdout" cmp -s "$work/$name.out" "$work/$name.direct.out"
        check "gopls $*: same stderr" cmp -s "$work/$name.err" "$work/$name.direct.err"
        check "gopls $*: the real gopls ran in the same process (execv, no fork)" \
                test "$(cut -d' ' -f1 "$MARK")" = "$pid"
}

passthrough version 0 version
passthrough bogus 2 bogus
passthrough format 0 format x.go
passthrough flags-then-command 0 -v version
passthrough remote 3 -remote='unix;/nonexistent/gopls.sock'
passthrough listen 0 serve -listen='unix;/nonexistent/gopls.sock'
passthrough help 0 -h
passthrough unknown-flag 2 -no-such-flag

# guarded NAME ARGS...: the real gopls runs as the guard's child and the
# editor's session is relayed.
guarded() {
        local name=$1
        shift
        : >"$MARK"
        session | PATH=$work/shim:$work/real:/usr/bin:/bin gopls "$@" >"$work/$name.out" 2>"$work/$name.err" &
        pid=$!
        wait "$pid"
        rc=$?
        check "gopls $*: guarded session ends 0 (got $rc)" test "$rc" -eq 0
        check "gopls $*: initialize answered" has "$work/$name.out" '"id":1,"result"'
        # The pipeline's pid is the last command's: the guard.
        check "gopls $*: the real gopls is the guard's child, not the guard" \
                test "$(cut -d' ' -f2 "$MARK")" = "$pid"
        check "gopls $*: with the caller's arguments" test "$(cut -d' ' -f3- "$MARK")" = "$*"
}
guarded noargs
check "guarded: the guard asks gopls for its heap profile in the state directory" \
        has "$MARK.heap" "-profile.mem=$XDG_STATE_HOME/gopls-guard/incidents/.heap-"
guarded serve serve
guarded mode -mode=stdio
guarded trace -rpc.trace serve

# The guard never finds itself: a second link to it (through another link)
# earlier on PATH is skipped like the first.
direct nested 0 version
shimmed nested 0 "$work/shim:$work/shim2:$work/real:/usr/bin:/bin" version
check "two guard links before the real gopls: the real one runs (exit $rc)" test "$rc" -eq 0
check "...with its own output" cmp -s "$work/nested.out" "$work/nested.direct.out"
# Only the guard on PATH: it says so instead of running itself.
shimmed alone 0 "$work/shim:$work/shim2:$work/empty" version
check "only guard links on PATH: exit 2 (got $rc)" test "$rc" -eq 2
check "...saying no other gopls is on PATH" has "$work/alone.err" "no other gopls is on PATH"
check "...and nothing was run" test ! -s "$MARK"

# gopls-guard -- gopls, and [server] command = gopls, with the link first on
# PATH: the server is the real gopls, never a guard inside the guard.
: >"$MARK"
session | PATH=$work/shim:$work/real:/usr/bin:/bin "$guard" -- gopls serve >"$work/dashdash.out" 2>"$work/dashdash.err" &
pid=$!
wait "$pid"
rc=$?
check "gopls-guard -- gopls with the link first on PATH: exit 0 (got $rc)" test "$rc" -eq 0
check "...the server is the real gopls, the guard's child" test "$(cut -d' ' -f2 "$MARK")" = "$pid"
check "...started once" test "$(wc -l <"$MARK")" -eq 1
printf '[server]\ncommand = gopls\nargs = serve\n' >"$work/command.ini"
: >"$MARK"
session | PATH=$work/shim:$work/real:/usr/bin:/bin "$guard" --policy "$work/command.ini" >"$work/command.out" 2>"$work/command.err" &
pid=$!
wait "$pid"
rc=$?
check "[server] command = gopls with the link first on PATH: exit 0 (got $rc)" test "$rc" -eq 0
check "...the server is the real gopls, the guard's child" test "$(cut -d' ' -f2 "$MARK")" = "$pid"
: >"$MARK"
PATH=$work/shim:$work/empty "$guard" -- gopls serve </dev/null >/dev/null 2>"$work/self.err"
rc=$?
check "gopls-guard -- gopls with only the link on PATH: exit 2 (got $rc)" test "$rc" -eq 2
check "...saying the command is the guard itself" has "$work/self.err" "is this gopls-guard itself"
PATH=$work/empty "$guard" -- "$work/shim/gopls" </dev/null >/dev/null 2>"$work/self-path.err"
rc=$?
check "gopls-guard -- PATH-TO-A-GUARD-LINK: exit 2 (got $rc)" test "$rc" -eq 2
check "...and nothing ran" test ! -s "$MARK"

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
it_done

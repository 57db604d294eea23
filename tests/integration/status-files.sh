#!/bin/bash
# status-files.sh — the guard's status files cannot be turned against their
# owner: a symlink planted at the temporary name is not written through, a
# status directory that others may enter is refused with a warning while
# the editor is still served, and `status` neither follows links nor blocks
# on a FIFO.  Runs degraded (GOPLS_GUARD_CGROUP_ROOT is an empty directory).
#
#   status-files.sh GOPLS_GUARD_TEST LSP_ECHO
set -u
guard=$1
echo_server=$2
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir status-files
it_fixture_roots
session() {
        frame '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
        sleep "${1:-0}"
        frame '{"jsonrpc":"2.0","id":2,"method":"shutdown"}'
        frame '{"jsonrpc":"2.0","method":"exit"}'
}
printf '[lsp]\nnotify = no\n[log]\ntarget = stderr\n[cpu]\nsample_interval = 100ms\n' >"$work/p.ini"

# 1. A link planted at the guard's temporary name (its pid is known to
#    whoever starts it: here, the shell that execs it).
echo precious >"$work/victim"
session 2 | sh -c 'ln -s "$1/victim" "$1/run/$$.json.tmp"; exec "$2" --policy "$1/p.ini" -- "$3"' \
        sh "$work" "$guard" "$echo_server" >"$work/planted.out" 2>"$work/planted.err"
rc=$?
check "planted link: the guard serves and exits 0 (got $rc)" test "$rc" -eq 0
check "planted link: the file it pointed at is untouched" test "$(cat "$work/victim")" = precious

# 2. The status files are 0600 (checked while a guard runs).
mkfifo "$work/in"
"$guard" --policy "$work/p.ini" -- "$echo_server" <"$work/in" >/dev/null 2>&1 &
gpid=$!
exec 7>"$work/in"
for _ in $(seq 100); do [ -s "$work/run/$gpid.json" ] && break; sleep 0.1; done
check "a status file is written" test -s "$work/run/$gpid.json"
check "...mode 0600 (got $(stat -c %a "$work/run/$gpid.json" 2>/dev/null))" \
        test "$(stat -c %a "$work/run/$gpid.json" 2>/dev/null)" = 600

# 3. status skips a FIFO and a link named like status files, and returns.
mkfifo "$work/run/1.json"
echo '{"pid":1,"workspace":"/secret"}' >"$work/secret"
ln -s "$work/secret" "$work/run/2.json"
timeout 20 "$guard" status --json >"$work/status.out" 2>"$work/status.err"
rc=$?
check "status with a FIFO in the directory returns (exit $rc; 124: it blocked)" test "$rc" -eq 0
check "...and lists the running guard" has "$work/status.out" "\"pid\":$gpid"
check "...but not what a link points at" test "$(grep -c /secret "$work/status.out")" -eq 0
check "...saying what it skipped" has "$work/status.err" "2.json: a symbolic link"
exec 7>&-
wait "$gpid"

# 4. A status directory others may enter: refused with a warning that
#    names it and the fix; the editor is served all the same.
chmod 0755 "$work/run"
session | "$guard" --policy "$work/p.ini" -- "$echo_server" >"$work/open.out" 2>"$work/open.err"
rc=$?
check "0755 status directory: the guard still serves and exits 0 (got $rc)" test "$rc" -eq 0
check "...the editor got its answer" has "$work/open.out" '"id":1,"result"'
check "...the warning names the directory and the fix" has "$work/open.err" "$work/run can be entered by other users (mode 0755): chmod 700 $work/run"
check "...and no status file was written there" test -z "$(find "$work/run" -name '*.json' -newer "$work/p.ini" -type f)"

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out "$work"/*.err; do echo "--- $f"; cat "$f"; done
fi
it_done

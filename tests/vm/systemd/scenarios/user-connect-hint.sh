# vmtest: timeout=240
# user-connect-hint — with no socket for a workspace of u's (a path that
# needs escaping: a dash and a space), `gopls-guard connect DIR` exits 2
# and prints the exact `systemctl --user enable --now gopls-guard@ESC.socket`
# line; u running that very line makes the same connect work.
. /lib/vmtest/lib.sh
. /lib/vmtest/sd-lib.sh
[ -x /usr/bin/lsp-echo ] || fail "lsp-echo is not in the image (vmtest.sh --lsp-echo)"
u_workspace "/home/u/my-app v2"
u_policy <<'INI'
[server]
command = /usr/bin/lsp-echo
INI
[ ! -e "$U_SOCK" ] || fail "$U_SOCK exists before anything was enabled"
as_u "$GUARD_BIN" connect "$U_WS" </dev/null >/tmp/logs/none.out 2>/tmp/logs/none.err
rc=$?
[ "$rc" -eq 2 ] || fail "connect with no socket exited $rc, expected 2: $(cat /tmp/logs/none.err)"
line=$(grep -o "systemctl --user enable --now .*\.socket'\{0,1\}" /tmp/logs/none.err | head -n 1)
[ -n "$line" ] || fail "no systemctl line in connect's message: $(cat /tmp/logs/none.err)"
say "hint: $line"
case $line in
*"gopls-guard@$U_ESC.socket"*) ;;
*) fail "the hint names another unit than gopls-guard@$U_ESC.socket: $line" ;;
esac
# As the user would: the line pasted into a shell.
as_u sh -c "$line" >/tmp/logs/hint.log 2>&1 || fail "the hinted line failed: $(cat /tmp/logs/hint.log)"
[ "$(u_systemctl is-active "gopls-guard@$U_ESC.socket")" = active ] || fail "gopls-guard@$U_ESC.socket is not active after the hinted line"
[ "$(u_systemctl is-enabled "gopls-guard@$U_ESC.socket")" = enabled ] || fail "gopls-guard@$U_ESC.socket is not enabled"
[ -S "$U_SOCK" ] || fail "no socket $U_SOCK after the hinted line"
u_editor a
exec 4>"$SD_RUN/a.in"
frame "$LSP_INIT" >&4
poll 600 answered a '"id":1,"result":{"capabilities"' || fail "connect not answered after the hinted line: $(tail -n 3 /tmp/logs/a.err)"
exec 4>&-
u_systemctl stop "gopls-guard@$U_ESC.service" "gopls-guard@$U_ESC.socket"
pass "connect exited 2 with '$line'; that line enabled the socket and connect was answered"

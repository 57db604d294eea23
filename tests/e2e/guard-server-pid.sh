#!/bin/sh
# For lsp-client.mjs --server-pid-cmd: print the pid of the real server that
# the gopls-guard with pid $E2E_CHILD_PID runs, read from the guard's status
# file $XDG_RUNTIME_DIR/gopls-guard/<guard pid>.json (one line of JSON with
# "server_pid").  Exits non-zero while there is no such pid (e.g. during a
# restart); the client then asks again, within its timeout.
set -eu
file="${XDG_RUNTIME_DIR:?XDG_RUNTIME_DIR is not set}/gopls-guard/${E2E_CHILD_PID:?E2E_CHILD_PID is not set}.json"
[ -r "$file" ] || exit 1
exec node -e '
const fs = require("fs");
let status;
try { status = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { process.exit(1); }
const pid = status && status.server_pid;
if (!Number.isInteger(pid) || pid <= 1) process.exit(1);
process.stdout.write(pid + "\n");
' "$file"

#!/bin/bash
# devcontainer.sh SOURCE_DIR BUILD_DIR TEST_GUARD — the devcontainer example
# (packaging/devcontainer), checked without Docker by devcontainer-check.py
# against the package's layout (BUILD_DIR installed with DESTDIR, prefix
# /usr, as the .deb does).  Its policy.ini must load as the administrator's
# file.  Then broken copies of the example must each fail the check, with
# the line that names what is broken: a check that cannot fail proves
# nothing.  Label "package"; without python3 it is a skip (77).
set -uo pipefail
src=${1:?usage: devcontainer.sh SOURCE_DIR BUILD_DIR TEST_GUARD}
build=${2:?}
test_guard=${3:?}
. "$src/tests/integration/lib.sh"
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
it_workdir devcontainer
checker=$src/tests/package/devcontainer-check.py
example=$src/packaging/devcontainer

DESTDIR=$work/root cmake --install "$build" --prefix /usr >"$work/install.log" 2>&1
check "the build tree installs into an image layout" test -x "$work/root/usr/bin/gopls-guard"

python3 "$checker" "$example" "$work/root" >"$work/real.out" 2>&1
rc=$?
sed 's/^/    /' "$work/real.out"
check "packaging/devcontainer passes every check (exit $rc)" test "$rc" -eq 0

# The container's policy, where the Dockerfile puts it.
mkdir -p "$work/etc/gopls-guard/policy.d" "$work/config"
cp "$example/policy.ini" "$work/etc/gopls-guard/policy.d/devcontainer.ini"
GOPLS_GUARD_SYSCONFDIR=$work/etc XDG_CONFIG_HOME=$work/config \
        "$test_guard" check-policy >"$work/policy.out" 2>&1
rc=$?
check "policy.ini loads as the administrator's file (exit $rc)" test "$rc" -eq 0
check "...with 2G per server and its ceiling" has "$work/policy.out" \
        "max = 2G  ; from $work/etc/gopls-guard/policy.d/devcontainer.ini:6; ceiling 2G from $work/etc/gopls-guard/policy.d/devcontainer.ini:10"

# broken NAME WANT EDIT...: a copy of the example, edited by EDIT (run in
# the copy), must fail the check with the line WANT.
broken() {
        local name=$1 want=$2 copy=$work/broken-$1
        shift 2
        rm -rf "$copy"
        cp -a "$example" "$copy"
        (cd "$copy" && "$@")
        python3 "$checker" "$copy" "$work/root" >"$copy.out" 2>&1
        local rc=$?
        check "broken copy ($name) fails the check (exit $rc)" test "$rc" -eq 1
        check "...saying: $want" has "$copy.out" "FAIL $want"
}
edit() { python3 -c 'import sys; p=sys.argv[1]; s=open(p).read(); assert sys.argv[2] in s, sys.argv[2]; open(p,"w").write(s.replace(sys.argv[2], sys.argv[3]))' "$@"; }

broken invalid-json "devcontainer.json is valid JSON" edit devcontainer.json '"remoteUser"' '"remoteUser" "x",'
broken no-separator 'ENTRYPOINT ends with "--"' edit Dockerfile '"vscode", "--"]' '"vscode"]'
broken shell-form "ENTRYPOINT is in exec form" edit Dockerfile 'ENTRYPOINT ["gopls-guard", "init", "--user", "vscode", "--"]' 'ENTRYPOINT gopls-guard init --user vscode --'
broken not-init "ENTRYPOINT runs gopls-guard init" edit Dockerfile '["gopls-guard", "init",' '["tini", "init",'
broken wrong-target "the symlink's target /usr/sbin/gopls-guard is installed by the package" \
        edit Dockerfile 'ln -s /usr/bin/gopls-guard' 'ln -s /usr/sbin/gopls-guard'
broken path-order "/usr/local/bin comes before /usr/bin" edit Dockerfile 'PATH=/usr/local/bin:/usr/bin' 'PATH=/usr/bin:/usr/local/bin'
broken override '"overrideCommand" is false' edit devcontainer.json '"overrideCommand": false' '"overrideCommand": true'
broken read-only "runArgs make /sys/fs/cgroup writable" edit devcontainer.json '"--cgroupns=private", "--privileged"' '"--cgroupns=private"'
broken other-user "ENTRYPOINT's --user is devcontainer.json's remoteUser" edit devcontainer.json '"remoteUser": "vscode"' '"remoteUser": "root"'
broken no-policy "COPY source policy.ini exists" rm policy.ini
broken no-dockerfile "build.dockerfile names an existing file" rm Dockerfile
broken alt-tools "VS Code's \"go.alternateTools\" gopls is the symlink /usr/local/bin/gopls" \
        edit devcontainer.json '"gopls": "/usr/local/bin/gopls"' '"gopls": "/usr/bin/gopls"'

# devcontainer.json may carry comments (JSONC): they are not an error.
cp -a "$example" "$work/commented"
edit "$work/commented/devcontainer.json" '"overrideCommand": false,' '// keep init as PID 1
  "overrideCommand": false, /* see README.md */'
python3 "$checker" "$work/commented" "$work/root" >"$work/commented.out" 2>&1
rc=$?
check "comments in devcontainer.json are read as JSONC (exit $rc)" test "$rc" -eq 0

if [ "$failed" -gt 0 ]; then
        for f in "$work"/*.out; do echo "--- $f"; cat "$f"; done
fi
it_done

#!/bin/bash
# units.sh WHAT BUILD_DIR SOURCE_DIR — checks of the systemd units (label
# "units"), run without a running systemd:
#
#   verify    `systemd-analyze verify` prints nothing for every unit, on an
#             instance whose escaped path holds a \x2d: the system units in a
#             staged `cmake --install` tree (--root, ExecStart must exist),
#             the user units (the user manager has no --root) with ExecStart
#             pointed at the staged binary
#   security  `systemd-analyze security --offline=yes`: the system service's
#             overall exposure at most 2.5, the user service's at most its
#             recorded figure (USER_BOUND below; see the comments in
#             units/user/gopls-guard@.service for what is left off and why)
#   contract  the lines the rest of gopls-guard relies on (DESIGN.md:
#             sockets and units)
#
# Each check also runs once against a broken unit, so that a check which
# cannot fail is noticed.  Exit 77 (skip) without systemd-analyze.
set -uo pipefail
what=${1:?usage: units.sh verify|security|contract BUILD_DIR SOURCE_DIR}
build=${2:?}
src=${3:?}
. "$src/tests/integration/lib.sh"

# The user service's exposure measured on systemd 252 when it was written;
# lower is welcome, higher fails.
USER_BOUND=6.6
SYSTEM_BOUND=2.5

if ! command -v systemd-analyze >/dev/null; then
        echo "SKIP: systemd-analyze is not installed"
        exit 77
fi
it_workdir units-$what

# An install tree as `cmake --install` makes it, in $work/root.
stage() {
        DESTDIR=$work/root cmake --install "$build" >"$work/install.log" 2>&1 || {
                cat "$work/install.log"
                return 1
        }
        sys_unit_dir=$(dirname "$(find "$work/root" -path '*/systemd/system/gopls-guard@.service')")
        user_unit_dir=$(dirname "$(find "$work/root" -path '*/systemd/user/gopls-guard@.service')")
        bin=$(find "$work/root" -path '*/bin/gopls-guard' -type f)
        man_dir=$(dirname "$(dirname "$(find "$work/root" -name gopls-guard.1)")")
        [ -d "$sys_unit_dir" ] && [ -d "$user_unit_dir" ] && [ -x "$bin" ] && [ -d "$man_dir" ]
}

# The targets the units pull in (sockets.target, sysinit.target, ...) come
# from this machine's systemd.
add_host_units() {
        mkdir -p "$work/root/lib/systemd/system" &&
                cp -rn /lib/systemd/system/. "$work/root/lib/systemd/system/"
}

# quiet LOG CMD...: CMD succeeds and prints nothing (verify reports unknown
# keys and bad values as warnings with exit status 0).
quiet() {
        local log=$1
        shift
        "$@" >"$log" 2>&1
        local rc=$?
        sed 's/^/    /' "$log"
        [ "$rc" -eq 0 ] && [ ! -s "$log" ]
}
noisy() { ! quiet "$@"; }

inst=$(systemd-escape --path /srv/src/my-app) # srv-src-my\x2dapp
mkdir -m 0700 "$work/xdg-run"                  # the user manager's %t

verify_system() {
        MANPATH=$man_dir quiet "$work/verify-$1.log" \
                systemd-analyze verify --root="$work/root" "$1@$inst.service" "$1@$inst.socket"
}

# The user units, copied with ExecStart= pointing at the staged binary.
user_copy() {
        local name=$1 dir=$work/user-$1
        mkdir -p "$dir"
        sed "s|^ExecStart=[^ ]*/gopls-guard |ExecStart=$bin |" \
                "$user_unit_dir/gopls-guard@.service" >"$dir/$name@.service"
        sed -i "s|gopls-guard@%i.socket|$name@%i.socket|" "$dir/$name@.service"
        cp "$user_unit_dir/gopls-guard@.socket" "$dir/$name@.socket"
        cp "$dir/$name@.service" "$dir/$name@$inst.service"
}
verify_user() {
        XDG_RUNTIME_DIR=$work/xdg-run MANPATH=$man_dir quiet "$work/verify-user-$1.log" \
                systemd-analyze --user verify "$work/user-$1/$1@$inst.service" \
                "$work/user-$1/$1@.socket"
}

# exposure LOG [--user] FILE: print the overall exposure figure.
exposure() {
        local log=$1
        shift
        XDG_RUNTIME_DIR=$work/xdg-run systemd-analyze security --offline=yes "$@" >"$log" 2>&1
        sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\) .*/\1/p' "$log"
}
# at_most LOG FIGURE BOUND
at_most() {
        echo "    exposure $2 (bound $3)"
        [ -n "$2" ] || { sed 's/^/    /' "$1"; return 1; }
        awk -v s="$2" -v b="$3" 'BEGIN { exit !(s + 0 <= b + 0) }'
}

# unit_has FILE LINE: FILE has exactly this line (comments aside).
unit_has() { grep -qxF -- "$2" "$1" || { echo "    $1: no line '$2'"; return 1; }; }
unit_lacks() { ! grep -qxE -- "$2" "$1" || { echo "    $1: has a line matching '$2'"; return 1; }; }

case $what in
verify)
        check "staged install of the build tree" stage || exit 1
        check "host units copied into the staged root" add_host_units
        check "system units: verify is clean (gopls-guard@$inst)" verify_system gopls-guard
        # A misspelt key in a copy must be noticed.
        sed 's/^UMask=/UMaks=/' "$sys_unit_dir/gopls-guard@.service" >"$sys_unit_dir/broken@.service"
        sed -i 's/gopls-guard@%i.socket/broken@%i.socket/' "$sys_unit_dir/broken@.service"
        cp "$sys_unit_dir/gopls-guard@.socket" "$sys_unit_dir/broken@.socket"
        check "system units: a misspelt key is reported" noisy "$work/broken.log" \
                env MANPATH="$man_dir" systemd-analyze verify --root="$work/root" \
                "broken@$inst.service" "broken@$inst.socket"
        check "system units: the broken copy said why" has "$work/broken.log" "Unknown key"
        user_copy gopls-guard
        check "user units: verify is clean (gopls-guard@$inst)" verify_user gopls-guard
        user_copy broken
        sed -i 's/^UMask=/UMaks=/' "$work/user-broken/broken@$inst.service"
        check "user units: a misspelt key is reported" noisy "$work/b.log" verify_user broken
        ;;
security)
        check "staged install of the build tree" stage || exit 1
        s=$(exposure "$work/system.log" "$sys_unit_dir/gopls-guard@.service")
        echo "system service exposure: ${s:-?}"
        check "system service exposure <= $SYSTEM_BOUND" at_most "$work/system.log" "$s" "$SYSTEM_BOUND"
        u=$(exposure "$work/user.log" --user "$user_unit_dir/gopls-guard@.service")
        echo "user service exposure: ${u:-?}"
        check "user service exposure <= $USER_BOUND" at_most "$work/user.log" "$u" "$USER_BOUND"
        # An unhardened service must score above the bound, or the figure
        # read from the output means nothing.
        printf '[Service]\nExecStart=%s serve --workspace /srv\n' "$bin" >"$work/bare.service"
        b=$(exposure "$work/bare.log" "$work/bare.service")
        check "an unhardened service is refused (exposure ${b:-?})" \
                bash -c "! awk -v s='$b' -v b='$SYSTEM_BOUND' 'BEGIN { exit !(s != \"\" && s + 0 <= b + 0) }'"
        ;;
contract)
        for mgr in system user; do
                svc=$src/units/$mgr/gopls-guard@.service
                sock=$src/units/$mgr/gopls-guard@.socket
                for line in Type=notify NotifyAccess=main Delegate=yes KillMode=control-group \
                        "ExecStart=/usr/bin/gopls-guard serve --workspace %f" \
                        "Requires=gopls-guard@%i.socket"; do
                        check "$mgr service: $line" unit_has "$svc" "$line"
                done
                # ProtectControlGroups=yes makes /sys/fs/cgroup read-only.
                check "$mgr service: cgroups stay writable" unit_lacks "$svc" 'ProtectControlGroups=(yes|true|on|1)'
                for line in "ListenStream=%t/gopls-guard/%i.sock" SocketMode=0600 Accept=no; do
                        check "$mgr socket: $line" unit_has "$sock" "$line"
                done
        done
        svc=$src/units/system/gopls-guard@.service
        check "system service: never root (DynamicUser=yes)" unit_has "$svc" DynamicUser=yes
        check "system service: no User=root" unit_lacks "$svc" 'User=(root|0)'
        check "system service: no capabilities" unit_has "$svc" CapabilityBoundingSet=
        # The guard's status directory ($XDG_RUNTIME_DIR/gopls-guard) must be
        # private; the user socket's directory is that same directory.
        check "user socket: private directory" unit_has "$src/units/user/gopls-guard@.socket" DirectoryMode=0700
        ;;
*)
        echo "units.sh: unknown check $what" >&2
        exit 2
        ;;
esac
it_done

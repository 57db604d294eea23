#!/bin/bash
# package.sh WHAT DEB_DIR SOURCE_DIR TEST_GUARD — the Debian package (label
# "package").  "build" makes it with packaging/build-deb.sh into DEB_DIR
# (the ctest fixture the other checks and the systemd VM tier use); the
# others check what it holds:
#
#   build       dpkg-buildpackage from a copy of the source tree
#   lintian     no error and no warning
#   contents    every required path; /etc/gopls-guard/policy.ini a conffile;
#               the units and man pages as in the source tree; the journal
#               catalog when the source tree has one
#   maintscripts  nothing enables or starts a gopls-guard unit on install
#   policy      the installed policy.ini is all comments and, read as the
#               administrator's file, changes nothing (TEST_GUARD check-policy)
#   verify      `systemd-analyze verify` of the system units in the unpacked
#               package (--root: its own /usr/bin/gopls-guard)
#   man5        gopls-guard.ini(5) has every section and key of
#               config/gopls-guard.ini (source tree only, no package needed)
#
# A missing tool (dpkg-buildpackage, dh, lintian) is a skip (77), never a pass.
set -uo pipefail
what=${1:?usage: package.sh WHAT DEB_DIR SOURCE_DIR TEST_GUARD}
out=${2:?}
src=${3:?}
test_guard=${4:?}
. "$src/tests/integration/lib.sh"

need() {
        local t
        for t in "$@"; do
                command -v "$t" >/dev/null || {
                        echo "SKIP: $t is not installed (bash packaging/install-deps.sh installs it)"
                        exit 77
                }
        done
}

version=$(sed -n 's/^project(gopls-guard VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
deb_for() {
        local arch
        arch=$(dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null) || arch=$(dpkg --print-architecture)
        echo "$out/gopls-guard_${version}_$arch.deb"
}

if [ "$what" != man5 ]; then
        need dpkg-deb dpkg-buildpackage dh
        deb=$(deb_for)
        if [ "$what" != build ] && [ ! -s "$deb" ]; then
                echo "FAIL no package at $deb (package/build failed?)"
                exit 1
        fi
fi
it_workdir package-$what

case $what in
build)
        rm -f "$out"/gopls-guard*_"$version"_*
        start=$SECONDS
        # nocheck: the unit tier, which the package build would run, runs
        # in this same ctest run from the source tree.
        check "dpkg-buildpackage -us -uc -b (packaging/build-deb.sh)" \
                env DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" \
                bash "$src/packaging/build-deb.sh" "$out"
        echo "package build: $((SECONDS - start)) s"
        check "the package is at $deb" test -s "$deb"
        # A name without the version, for the real-systemd tier to install.
        ln -sfn "$(basename "$deb")" "$out/gopls-guard.deb"
        ;;
lintian)
        need lintian
        changes=${deb%.deb}.changes
        # lintian warns that it runs as root; that line is not about the package.
        lintian --fail-on error,warning "$changes" >"$work/lintian.log" 2>&1
        rc=$?
        sed 's/^/    /' "$work/lintian.log"
        check "lintian exits 0 with --fail-on error,warning" test "$rc" -eq 0
        check "lintian reports no E: or W: tag" bash -c "! grep -E '^[EW]: ' '$work/lintian.log'"
        ;;
contents)
        dpkg-deb -c "$deb" | awk '{ print $NF }' >"$work/files"
        for f in ./usr/bin/gopls-guard \
                ./lib/systemd/system/gopls-guard@.service ./lib/systemd/system/gopls-guard@.socket \
                ./usr/lib/systemd/user/gopls-guard@.service ./usr/lib/systemd/user/gopls-guard@.socket \
                ./etc/gopls-guard/policy.ini \
                ./usr/share/man/man1/gopls-guard.1.gz ./usr/share/man/man5/gopls-guard.ini.5.gz \
                ./usr/share/doc/gopls-guard/examples/gopls-guard.ini ./usr/share/doc/gopls-guard/copyright \
                ./usr/share/doc/gopls-guard/admin-guide.md.gz; do
                check "ships $f" grep -qxF -- "$f" "$work/files"
        done
        if [ -e "$src/units/gopls-guard.catalog" ]; then
                check "ships the journal catalog" grep -qxE -- '\./(usr/)?lib/systemd/catalog/gopls-guard\.catalog' "$work/files"
        else
                echo "(no units/gopls-guard.catalog in the source tree: no catalog expected)"
        fi
        dpkg-deb -I "$deb" conffiles >"$work/conffiles" 2>/dev/null
        check "conffiles lists /etc/gopls-guard/policy.ini" grep -qxF /etc/gopls-guard/policy.ini "$work/conffiles"
        dpkg-deb -x "$deb" "$work/root"
        for u in system/gopls-guard@.service system/gopls-guard@.socket; do
                check "lib/systemd/$u is units/$u" cmp "$src/units/$u" "$work/root/lib/systemd/$u"
        done
        for u in user/gopls-guard@.service user/gopls-guard@.socket; do
                check "usr/lib/systemd/$u is units/$u" cmp "$src/units/$u" "$work/root/usr/lib/systemd/$u"
        done
        check "gopls-guard(1) is docs/gopls-guard.1" \
                cmp "$src/docs/gopls-guard.1" <(zcat "$work/root/usr/share/man/man1/gopls-guard.1.gz")
        check "gopls-guard.ini(5) is docs/gopls-guard.ini.5" \
                cmp "$src/docs/gopls-guard.ini.5" <(zcat "$work/root/usr/share/man/man5/gopls-guard.ini.5.gz")
        check "the binary runs (--version)" "$work/root/usr/bin/gopls-guard" --version
        ;;
maintscripts)
        dpkg-deb -e "$deb" "$work/control"
        ls "$work/control" | sed 's/^/    control: /'
        found=0
        for s in preinst postinst prerm postrm; do
                [ -e "$work/control/$s" ] || continue
                found=1
                check "$s enables or starts no gopls-guard unit" \
                        bash -c "! grep -nE '(enable|start|restart).*gopls-guard|gopls-guard.*(enable|start)' '$work/control/$s'"
        done
        [ "$found" -eq 1 ] || check "no maintainer script at all (none enables or starts a unit)" true
        ;;
policy)
        dpkg-deb -x "$deb" "$work/root"
        p=$work/root/etc/gopls-guard/policy.ini
        check "policy.ini: every line is blank or a comment" \
                bash -c "! grep -nvE '^[[:space:]]*([;#].*)?$' '$p'"
        check "policy.ini: names every section of config/gopls-guard.ini" bash -c '
                for s in $(sed -n "s/^\[\([a-z_]*\)\].*/\1/p" "$1"); do
                        grep -qxF "; [$s]" "$2" || { echo "    no ; [$s]"; exit 1; }
                done' _ "$src/config/gopls-guard.ini" "$p"
        # Read as the administrator's own file (GOPLS_GUARD_SYSCONFDIR: only
        # the test build honours it), it must leave every key at its default.
        mkdir -p "$work/no-etc" "$work/config"
        XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/no-etc \
                "$test_guard" check-policy >"$work/defaults" 2>&1
        XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/root/etc \
                "$test_guard" check-policy >"$work/installed" 2>&1
        check "check-policy accepts it" test -s "$work/installed"
        check "it changes nothing (same effective policy, no origin in it)" \
                diff -u "$work/defaults" "$work/installed"
        # The same file uncommented must be the documented defaults, or the
        # commenting lost lines.
        sed -E 's/^; (\[[a-z_]+\]|[a-z_]+ =)/\1/' "$p" >"$work/uncommented.ini"
        XDG_CONFIG_HOME=$work/config GOPLS_GUARD_SYSCONFDIR=$work/no-etc \
                "$test_guard" check-policy --policy "$work/uncommented.ini" >"$work/uncommented" 2>&1
        check "uncommented, it loads and sets every key" \
                bash -c "! grep -q '; default\$' '$work/uncommented' && grep -q 'from ' '$work/uncommented'"
        ;;
verify)
        need systemd-analyze
        dpkg-deb -x "$deb" "$work/root"
        mkdir -p "$work/root/lib/systemd/system"
        cp -rn /lib/systemd/system/. "$work/root/lib/systemd/system/"
        inst=$(systemd-escape --path /home/alice/src/my-app)
        MANPATH=$work/root/usr/share/man systemd-analyze verify --root="$work/root" \
                "gopls-guard@$inst.service" "gopls-guard@$inst.socket" >"$work/verify.log" 2>&1
        rc=$?
        sed 's/^/    /' "$work/verify.log"
        check "systemd-analyze verify of the packaged system units is clean" \
                bash -c "[ $rc -eq 0 ] && [ ! -s '$work/verify.log' ]"
        ;;
man5)
        # Every [section] of the documented policy is a .SH of the page, and
        # every key set under it a .BR entry inside that .SH.
        awk -v man="$src/docs/gopls-guard.ini.5" '
                BEGIN {
                        while ((getline line < man) > 0) {
                                if (line ~ /^\.SH \[/) { sec = line; sub(/^\.SH \[/, "", sec); sub(/\].*/, "", sec); has_sec[sec] = 1; continue }
                                if (line ~ /^\.SH /) { sec = ""; continue }
                                if (sec != "" && line ~ /^\.BR [a-z_]+ /) { k = line; sub(/^\.BR /, "", k); sub(/ .*/, "", k); has_key[sec "." k] = 1 }
                        }
                }
                /^\[[a-z_]+\]/ { sec = $0; sub(/^\[/, "", sec); sub(/\].*/, "", sec); n++
                        if (!(sec in has_sec)) { print "FAIL gopls-guard.ini(5) has no section [" sec "]"; bad++ } else print "PASS section [" sec "]"
                        next }
                /^[a-z_]+[[:space:]]*=/ { k = $0; sub(/[[:space:]]*=.*/, "", k); n++
                        if (!((sec "." k) in has_key)) { print "FAIL gopls-guard.ini(5) does not document [" sec "] " k; bad++ } else print "PASS [" sec "] " k
                }
                END { printf "%d passed, %d failed\n", n - bad, bad; exit bad > 0 }
        ' "$src/config/gopls-guard.ini"
        exit $?
        ;;
*)
        echo "package.sh: unknown check $what" >&2
        exit 2
        ;;
esac
it_done

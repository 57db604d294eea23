#!/bin/bash
# debian-pkg.sh — Debian packages from any suite (bookworm, trixie, ...),
# fetched without touching the machine's apt configuration, and kept in a
# cache outside the source tree so that a fresh clone (CI) does not download
# them again.
#
#   debian-pkg.sh fetch SUITE PACKAGE
#       Prints one line "PACKAGE VERSION SHA256 PATH": the .deb of the
#       suite's current version of PACKAGE.
#   debian-pkg.sh fetch-dep SUITE METAPACKAGE
#       The same for the package METAPACKAGE's first Depends names
#       (linux-image-cloud-amd64 -> linux-image-6.12.N+deb13-cloud-amd64).
#   debian-pkg.sh cache-dir
#       Prints the cache directory.
#   debian-pkg.sh mirror
#       Prints the Debian mirror it uses (for debootstrap).
#
# Cache: $GUARD_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/gopls-guard;
# tests/run-all.sh sets /var/cache/gopls-guard-ci):
#   apt/SUITE/   private apt state (sources.list, lists/, cache/), refreshed by
#                apt-get update when older than $GUARD_APT_MAX_AGE seconds
#                (default 86400) or missing; a failed refresh keeps the old
#                lists (offline runs use what is cached).
#   debs/        PACKAGE_VERSION_amd64.deb: keyed by name and version, and its
#                sha256 checked against the suite's index on every use; a
#                missing or mismatched file is downloaded again, one unused
#                for 30 days is removed.
# The mirror is the machine's Debian mirror (its apt sources), or
# $GUARD_DEBIAN_MIRROR; a stable suite comes with its -updates and -security
# suites (security from the machine's, $GUARD_DEBIAN_SECURITY_MIRROR, or
# deb.debian.org/debian-security).
#
# Exit: 0; 77 when the package cannot be had (no apt-get, no index and no
# network): the reason is on stderr, for the caller's skip; 1 on misuse or a
# download that fails its checksum.
set -u

say() { printf 'debian-pkg: %s\n' "$*" >&2; }
unavailable() { printf 'debian-pkg: %s\n' "$*" >&2; exit 77; }
die() { printf 'debian-pkg: error: %s\n' "$*" >&2; exit 1; }

cache_dir() { printf '%s\n' "${GUARD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gopls-guard}"; }

# The machine's own Debian mirror: the first archive URI of its apt sources
# (deb822 .sources or one-line .list), security mirrors aside.
mirror() {
        if [ -n "${GUARD_DEBIAN_MIRROR:-}" ]; then
                printf '%s\n' "$GUARD_DEBIAN_MIRROR"
                return
        fi
        local m
        m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
                awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }' |
                grep -E '/debian/?$' | grep -v security | head -n 1)
        [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
                grep -E '/debian/?$' | grep -v security | head -n 1)
        printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# The security archive: the machine's, or Debian's own.
security_mirror() {
        if [ -n "${GUARD_DEBIAN_SECURITY_MIRROR:-}" ]; then
                printf '%s\n' "$GUARD_DEBIAN_SECURITY_MIRROR"
                return
        fi
        local m
        m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
                awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }' |
                grep -E '/debian-security/?$' | head -n 1)
        printf '%s\n' "${m:-http://deb.debian.org/debian-security}"
}

APT_OPTS=()
# apt_state SUITE: private apt state for SUITE, its index fresh or as fresh as
# the network allows.  Sets APT_OPTS.
apt_state() {
        local suite=$1 dir
        dir=$(cache_dir)/apt/$suite
        mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" || die "cannot create $dir"
        # What a machine of that release sees: the suite with its point
        # release updates and security updates (kernels are fixed there).
        local list
        list="deb $(mirror) $suite main"
        case $suite in
        sid | unstable | experimental | *-*) ;;
        *) list="$list
deb $(mirror) $suite-updates main
deb $(security_mirror) $suite-security main" ;;
        esac
        [ "$(cat "$dir/sources.list" 2>/dev/null)" = "$list" ] || printf '%s\n' "$list" >"$dir/sources.list"
        # The machine's sources.list.d and its lists stay out of it entirely;
        # downloads run as the caller (apt's _apt user cannot write here).
        APT_OPTS=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o Dir::Etc::sourceparts=/dev/null
                -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
                -o "APT::Sandbox::User=$(id -un)" -o Acquire::Languages=none)
        local stamp=$dir/updated age max=${GUARD_APT_MAX_AGE:-86400}
        age=$(($(date +%s) - $(stat -c %Y "$stamp" 2>/dev/null || echo 0)))
        if [ "$age" -ge "$max" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$list" ]; then
                if apt-get "${APT_OPTS[@]}" -q update >"$dir/update.log" 2>&1 &&
                        ! grep -q '^\(W\|E\): ' "$dir/update.log"; then
                        printf '%s\n' "$list" >"$stamp"
                else
                        say "apt-get update for $suite failed: $(grep -m1 '^\(W\|E\): ' "$dir/update.log" || tail -n 1 "$dir/update.log")"
                        [ "$(cat "$stamp" 2>/dev/null)" = "$list" ] ||
                                unavailable "no package index for $suite from $(mirror) (no network?); see $dir/update.log"
                        say "using the older index of $suite cached in $dir/lists"
                fi
        fi
        ls "$dir/lists/"*_Packages* >/dev/null 2>&1 ||
                unavailable "no package index for $suite from $(mirror) (no network?); see $dir/update.log"
}

# show PACKAGE: the candidate version's index entry (one apt-cache run: each
# one reads the whole index again, a second or more).
show() { apt-cache "${APT_OPTS[@]}" show --no-all-versions "$1" 2>/dev/null; }
# field NAME: a field of an entry on stdin.
field() { awk -v f="$1:" '$1 == f { print $2; exit }'; }

# fetch SUITE PACKAGE [dep]
fetch() {
        local suite=$1 pkg=$2 dep=${3:-} dir lockf
        command -v apt-get >/dev/null && command -v apt-cache >/dev/null ||
                unavailable "no apt-get on this machine to fetch $pkg from $suite"
        dir=$(cache_dir)
        mkdir -p "$dir/debs" || die "cannot create $dir/debs"
        # One fetch per suite at a time (ctest -j runs fixtures side by side).
        lockf=$dir/apt/.lock-$suite
        mkdir -p "$dir/apt" && exec 8>"$lockf" && flock 8 || die "cannot lock $lockf"
        apt_state "$suite"

        local real=$pkg
        if [ -n "$dep" ]; then
                real=$(show "$pkg" | sed -n 's/^Depends: *\([^ ,|(]*\).*/\1/p')
                [ -n "$real" ] || unavailable "$suite has no package $pkg (or it depends on nothing)"
        fi
        local entry ver sha
        entry=$(show "$real")
        ver=$(field Version <<<"$entry")
        sha=$(field SHA256 <<<"$entry")
        [ -n "$ver" ] && [ -n "$sha" ] || unavailable "$suite's index has no version or SHA256 for $real"
        local deb=$dir/debs/${real}_${ver//:/%3a}_amd64.deb
        # Superseded versions go once unused for 30 days (a hit touches its file).
        find "$dir/debs" -maxdepth 1 -name '*.deb' -mtime +30 -delete 2>/dev/null
        if [ -f "$deb" ] && [ "$(sha256sum <"$deb" | cut -d' ' -f1)" = "$sha" ]; then
                touch "$deb"
                printf '%s %s %s %s\n' "$real" "$ver" "$sha" "$deb"
                return 0
        fi
        [ -f "$deb" ] && say "$deb does not match the index's sha256 $sha: downloading it again"
        local tmp
        tmp=$(mktemp -d "$dir/debs/.dl.XXXXXX") || die "mktemp in $dir/debs"
        if ! (cd "$tmp" && apt-get "${APT_OPTS[@]}" -q download "$real=$ver") >"$tmp/apt.log" 2>&1; then
                local why
                why=$(tail -n 1 "$tmp/apt.log")
                rm -rf "$tmp"
                unavailable "apt-get download $real=$ver from $suite failed: $why"
        fi
        local got
        got=$(ls "$tmp"/*.deb 2>/dev/null | head -n 1)
        [ -n "$got" ] || { rm -rf "$tmp"; unavailable "apt-get download $real=$ver produced no .deb"; }
        if [ "$(sha256sum <"$got" | cut -d' ' -f1)" != "$sha" ]; then
                rm -rf "$tmp"
                die "the download of $real $ver does not match the index's sha256 $sha"
        fi
        mv -f "$got" "$deb" && rm -rf "$tmp" || die "cannot move the download into $deb"
        say "fetched $real $ver from $suite into $deb"
        printf '%s %s %s %s\n' "$real" "$ver" "$sha" "$deb"
}

case ${1:-} in
fetch)
        [ $# -eq 3 ] || die "usage: debian-pkg.sh fetch SUITE PACKAGE"
        fetch "$2" "$3"
        ;;
fetch-dep)
        [ $# -eq 3 ] || die "usage: debian-pkg.sh fetch-dep SUITE METAPACKAGE"
        fetch "$2" "$3" dep
        ;;
cache-dir)
        cache_dir
        ;;
mirror)
        mirror
        ;;
*)
        die "usage: debian-pkg.sh fetch|fetch-dep SUITE PACKAGE | debian-pkg.sh cache-dir | debian-pkg.sh mirror"
        ;;
esac

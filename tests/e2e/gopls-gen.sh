#!/bin/sh
# A gopls generation for the end-to-end tests, kept in a private directory.
#
#   gopls-gen.sh setup GEN   make GEN ready (fetching it if needed), verify it
#   gopls-gen.sh env GEN     print shell assignments for a ready GEN, no network
#
# GEN is 0.5 (Debian 12's gopls 0.5.0 with Go 1.19, as installed on the
# machine) or 0.16 (Debian 13's gopls 0.16.1 with Go 1.24, downloaded from
# trixie and unpacked with dpkg-deb -x; nothing is installed).  The machine's
# apt configuration is never touched: trixie is read through a private sources
# list and private apt lists/cache under the cache directory.
#
# Cache directory: $GUARD_CACHE_DIR/gopls-gen when GUARD_CACHE_DIR is set, else
# $E2E_GEN_CACHE (the build tree passes one).  A generation lives in
# CACHE/GEN/KEY, KEY derived from the package names, versions and sha256s, and
# CACHE/GEN/current points at the one in use; it is rebuilt when missing or
# when its files no longer match.  Set E2E_GEN_REFRESH=1 to look for newer
# trixie packages.
#
# `env` prints GEN_BIN (a directory with exactly gopls, go and gofmt, for the
# front of PATH), GEN_GOROOT, GEN_GOPLS_VERSION and GEN_GO_VERSION.
# Exit status: 0 ready, 77 cannot be made ready here (the reason on stdout),
# 1 a generation that exists but fails verification, 2 usage.
set -u

usage() { echo "usage: gopls-gen.sh setup|env 0.5|0.16" >&2; exit 2; }
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "gopls-gen: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
action=$1 gen=$2
case $action in setup|env) ;; *) usage ;; esac
case $gen in 0.5|0.16) ;; *) usage ;; esac

if [ -n "${GUARD_CACHE_DIR:-}" ]; then
    cache=$GUARD_CACHE_DIR/gopls-gen
elif [ -n "${E2E_GEN_CACHE:-}" ]; then
    cache=$E2E_GEN_CACHE
else
    echo "gopls-gen: set GUARD_CACHE_DIR or E2E_GEN_CACHE" >&2
    exit 2
fi
gendir=$cache/$gen

# What each generation must report, checked after every setup.
case $gen in
0.5)  want_gopls='golang.org/x/tools/gopls master' want_go='go version go1.19' ;;
0.16) want_gopls='golang.org/x/tools/gopls v0.16.1' want_go='go version go1.24' ;;
esac

# ---------------------------------------------------------------- env

# Runs the generation's gopls and go the way the tests do: a private HOME and
# caches, so that nothing on the machine is shared or written.
run_in_gen() { # DIR CMD...
    d=$1; shift
    t=$(mktemp -d "${TMPDIR:-/tmp}/gopls-gen-check.XXXXXX") || return 1
    (
        GOROOT=$(cat "$d/GOROOT")
        export PATH="$d/bin:$PATH" GOROOT GOTOOLCHAIN=local \
            HOME="$t" GOCACHE="$t/gocache" GOPLSCACHE="$t/goplscache" GOPATH="$t/gopath" \
            GOFLAGS='' GOPROXY=off
        "$@"
    )
    rc=$?
    rm -rf "$t"
    return $rc
}

# A generation is complete when its MANIFEST was written (last) and every
# file it names is still there.
is_complete() { # DIR
    [ -f "$1/MANIFEST" ] && [ -f "$1/GOROOT" ] || return 1
    for f in gopls go gofmt; do [ -x "$1/bin/$f" ] || return 1; done
    [ -d "$(cat "$1/GOROOT")/src/runtime" ]
}

verify() { # DIR
    v=$(run_in_gen "$1" gopls version 2>&1) || { echo "gopls version failed in $1: $v"; return 1; }
    case $v in *"$want_gopls"*) ;; *) echo "$1/bin/gopls is not $want_gopls: $v"; return 1 ;; esac
    g=$(run_in_gen "$1" go version 2>&1) || { echo "go version failed in $1: $g"; return 1; }
    case $g in "$want_go"*) ;; *) echo "$1/bin/go is not ${want_go#go version }: $g"; return 1 ;; esac
    # The manifest's sha256s still match the files that were unpacked.
    if [ -f "$1/FILES.sha256" ]; then
        (cd "$1" && sha256sum --quiet -c FILES.sha256) >/dev/null 2>&1 ||
            { echo "files under $1 changed since they were unpacked (FILES.sha256)"; return 1; }
    fi
    echo "gopls: $v" | head -1
    echo "$g"
}

print_env() { # DIR
    echo "GEN_BIN='$1/bin'"
    echo "GEN_GOROOT='$(cat "$1/GOROOT")'"
    echo "GEN_GOPLS_VERSION='$(sed -n 's/^gopls-version //p' "$1/MANIFEST")'"
    echo "GEN_GO_VERSION='$(sed -n 's/^go-version //p' "$1/MANIFEST")'"
}

if [ "$action" = env ]; then
    cur=$gendir/current
    is_complete "$cur" || skip "gopls $gen is not set up in $gendir (ctest runs the e2e/$gen/setup test first; or: $0 setup $gen)"
    print_env "$(cd "$cur" && pwd -P)"
    exit 0
fi

# ---------------------------------------------------------------- setup

mkdir -p "$gendir" || die "cannot create $gendir"
command -v flock >/dev/null 2>&1 || skip "flock (util-linux) is missing"
exec 9>"$gendir/.lock" || die "cannot open $gendir/.lock"
flock -w 900 9 || skip "another setup of gopls $gen holds $gendir/.lock for over 15 minutes"

# Points CACHE/GEN/current at DIR atomically.
publish() { # DIR
    ln -sfn "$(basename "$1")" "$gendir/.current.new" && mv -Tf "$gendir/.current.new" "$gendir/current" ||
        die "cannot point $gendir/current at $1"
}

finish_gen() { # DIR GOROOT GOPLS GO GOFMT MANIFEST-LINES
    d=$1
    mkdir -p "$d/bin" || die "cannot create $d/bin"
    ln -sfn "$3" "$d/bin/gopls" && ln -sfn "$4" "$d/bin/go" && ln -sfn "$5" "$d/bin/gofmt" &&
        echo "$2" >"$d/GOROOT" || die "cannot write $d/bin"
    out=$(verify "$d") || { echo "$out" >&2; die "gopls $gen in $d failed verification"; }
    echo "$out"
    { printf '%s\n' "$6"
      echo "gopls-version $(echo "$out" | sed -n 's/^gopls: //p' | head -1)"
      echo "go-version $(echo "$out" | sed -n 's/^go version //p' | cut -d' ' -f1)"
    } >"$d/MANIFEST.new" && mv -f "$d/MANIFEST.new" "$d/MANIFEST" || die "cannot write $d/MANIFEST"
    publish "$d"
    echo "gopls $gen ready in $d"
}

key_of() { sha256sum | cut -c1-16; }

if [ "$gen" = 0.5 ]; then
    # The machine's own packages, used in place (never modified).
    command -v dpkg-query >/dev/null 2>&1 || skip "dpkg-query is missing (not a Debian machine)"
    lines=
    for p in gopls golang-1.19-go golang-1.19-src; do
        v=$(dpkg-query -W -f '${Status} ${Version}' "$p" 2>/dev/null) || v=
        case $v in
        "install ok installed "*) lines="$lines$p ${v#install ok installed }
" ;;
        *) skip "Debian 12 package $p is not installed (apt-get install gopls golang-go)" ;;
        esac
    done
    for f in /usr/bin/gopls /usr/lib/go-1.19/bin/go /usr/lib/go-1.19/bin/gofmt; do
        [ -x "$f" ] || skip "$f is missing"
    done
    d=$gendir/$(printf '%s' "$lines" | key_of)
    if is_complete "$d" && out=$(verify "$d"); then
        echo "$out"; publish "$d"; echo "gopls $gen ready in $d (cached)"; exit 0
    fi
    rm -rf "$d"
    finish_gen "$d" /usr/lib/go-1.19 /usr/bin/gopls /usr/lib/go-1.19/bin/go /usr/lib/go-1.19/bin/gofmt \
        "$(printf '%s' "$lines" | sed '/^$/d')"
    exit 0
fi

# 0.16: a cached generation needs no network.
if [ -z "${E2E_GEN_REFRESH:-}" ] && is_complete "$gendir/current"; then
    d=$(cd "$gendir/current" && pwd -P)
    if out=$(verify "$d"); then
        echo "$out"; echo "gopls $gen ready in $d (cached)"; exit 0
    fi
    echo "cached gopls $gen in $d fails verification, fetching again: $out"
fi

for tool in apt-get apt-cache dpkg-deb sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is missing (not a Debian machine?)"
done
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || skip "$keyring is missing (apt-get install debian-archive-keyring)"
# The mirror the machine already uses, else Debian's CDN.
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\)\/\?[[:space:]]\+bookworm[[:space:]].*/\2/p' \
    /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

apt=$cache/apt-trixie
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/etc" || die "cannot create $apt"
echo "deb [signed-by=$keyring] $mirror trixie main" >"$apt/etc/sources.list"
: >"$apt/etc/preferences"
aptopts="-o Dir::Etc::sourcelist=$apt/etc/sources.list -o Dir::Etc::sourceparts=/dev/null
 -o Dir::Etc::preferences=$apt/etc/preferences -o Dir::Etc::preferencesparts=/dev/null
 -o Dir::State::Lists=$apt/lists -o Dir::Cache=$apt/cache -o APT::Sandbox::User=root
 -o Acquire::Retries=2 -o Acquire::http::Timeout=30 -o Debug::NoLocking=true"
echo "reading trixie from $mirror (private apt state in $apt)"
# shellcheck disable=SC2086 # $aptopts is a list of options
log=$(apt-get $aptopts -q update 2>&1) || skip "apt-get update of trixie from $mirror failed: $(echo "$log" | tail -3)"

pkgs='gopls golang-1.24-go golang-1.24-src'
lines=
for p in $pkgs; do
    # shellcheck disable=SC2086
    info=$(apt-cache $aptopts show "$p" 2>/dev/null | awk 'BEGIN{RS=""} NR==1') ||
        skip "trixie has no package $p"
    v=$(echo "$info" | sed -n 's/^Version: //p')
    s=$(echo "$info" | sed -n 's/^SHA256: //p')
    [ -n "$v" ] && [ -n "$s" ] || skip "trixie has no package $p (or no SHA256 for it)"
    lines="$lines$p $v $s
"
done
# The version may carry an epoch (trixie: 2:0.16.1+ds-1).
case $lines in "gopls 0.16.1"*|"gopls "[0-9]":0.16.1"*) ;; *)
    skip "trixie's gopls is not 0.16.1: $(echo "$lines" | head -1)" ;; esac
d=$gendir/$(printf '%s' "$lines" | key_of)
if is_complete "$d" && out=$(verify "$d"); then
    echo "$out"; publish "$d"; echo "gopls $gen ready in $d (cached)"; exit 0
fi

rm -rf "$d" "$d.tmp"
mkdir -p "$d.tmp/debs" "$d.tmp/root" || die "cannot create $d.tmp"
echo "$lines" | while read -r p v s; do
    [ -n "$p" ] || continue
    # apt-get download checks the index's sha256 itself; checked again below.
    # shellcheck disable=SC2086
    (cd "$d.tmp/debs" && apt-get $aptopts -q download "$p=$v" >/dev/null 2>&1) ||
        { echo "apt-get download $p=$v failed"; exit 1; }
    f=$(ls "$d.tmp/debs/${p}_"*.deb 2>/dev/null | head -1)
    [ -n "$f" ] && echo "$s  $f" | sha256sum --quiet -c - ||
        { echo "$p $v: downloaded file does not match the index's sha256 $s"; exit 1; }
    dpkg-deb -x "$f" "$d.tmp/root" || { echo "dpkg-deb -x $f failed"; exit 1; }
done || { rm -rf "$d.tmp"; skip "cannot fetch the trixie packages"; }
rm -rf "$d.tmp/debs"
(cd "$d.tmp" && find root -type f -path '*/bin/*' -exec sha256sum {} + >FILES.sha256) ||
    die "cannot checksum $d.tmp"
mv "$d.tmp" "$d" || die "cannot move $d.tmp to $d"
r=$d/root
[ -x "$r/usr/bin/gopls" ] && [ -x "$r/usr/lib/go-1.24/bin/go" ] ||
    die "the unpacked packages in $r have no usr/bin/gopls or usr/lib/go-1.24/bin/go"
finish_gen "$d" "$r/usr/lib/go-1.24" "$r/usr/bin/gopls" "$r/usr/lib/go-1.24/bin/go" \
    "$r/usr/lib/go-1.24/bin/gofmt" "$(printf '%s' "$lines" | sed '/^$/d')"
# Old generations are left for the user to remove; say which.
for old in "$gendir"/*; do
    [ -d "$old" ] && [ ! -L "$old" ] && [ "$old" != "$d" ] && echo "note: an older gopls $gen is still in $old"
done
exit 0

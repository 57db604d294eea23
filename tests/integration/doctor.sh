#!/bin/bash
# doctor.sh — `gopls-guard doctor` against broken setups on this machine,
# with stand-in `go` and `gopls` scripts first on PATH (printing the
# versions and `go env` each case needs) and fixture roots (no cgroup is
# touched).  Each case checks the finding's status, that a remedy comes
# with it, the exit code (1 on a failure, 0 with warnings only), and that
# --json is valid.  Prints doctor's run time per case (a figure, not a
# threshold).
#
#   doctor.sh GOPLS_GUARD
set -u
guard=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir doctor
it_fixture_roots
export HOME=$work/home XDG_CACHE_HOME=$work/xdgcache
mkdir -p "$HOME" "$work/bin" "$work/goroot/src/runtime" "$work/goroot/bin" "$work/ws"
unset GOPLSCACHE GOROOT GOFLAGS
: >"$work/ws/go.mod"

# fake GOPLS_VERSION GO_VERSION [GOROOT] [GOFLAGS]: the stand-ins.
fake() {
        cat >"$work/bin/gopls" <<SH
#!/bin/sh
[ "\$1" = version ] && { echo "golang.org/x/tools/gopls $1"; exit 0; }
exit 2
SH
        cat >"$work/bin/go" <<SH
#!/bin/sh
case "\$1" in
version) echo "go version $2 linux/amd64" ;;
env) printf '{"GOROOT": "%s", "GOFLAGS": "%s", "GOCACHE": "%s", "GOMODCACHE": "%s"}\n' \
        "${3:-$work/goroot}" "${4:-}" "$work/gocache" "$work/gomod" ;;
*) exit 2 ;;
esac
SH
        chmod +x "$work/bin/gopls" "$work/bin/go"
        # GOROOT's go is this one, as in a real installation.
        ln -sf "$work/bin/go" "$work/goroot/bin/go"
}
export PATH=$work/bin:$PATH

# run NAME [ARGS...]: doctor --json and text into $work/NAME.{json,txt};
# exit code in $rc.
run() {
        local name=$1 t0 t1
        shift
        t0=$(date +%s%N)
        "$guard" doctor --json "$@" >"$work/$name.json" 2>"$work/$name.err"
        rc=$?
        t1=$(date +%s%N)
        echo "figure: doctor ($name) took $(((t1 - t0) / 1000000)) ms"
        "$guard" doctor "$@" >"$work/$name.txt" 2>>"$work/$name.err"
        rc_text=$?
}
# finding NAME ID STATUS: the finding has that status; a remedy unless ok.
finding() {
        jq -e --arg id "$2" --arg st "$3" \
                '[.findings[] | select(.id == $id)] | length == 1 and .[0].status == $st and
                 (if $st == "ok" then .[0].remedy == null else (.[0].remedy | length) > 10 end)' \
                "$work/$1.json" >/dev/null
}
message() { jq -e --arg id "$2" --arg m "$3" '.findings[] | select(.id == $id) | .message | contains($m)' "$work/$1.json" >/dev/null; }
valid() { jq -e '.findings | length > 5' "$work/$1.json" >/dev/null; }
exits() { [ "$rc" = "$2" ] && [ "$rc_text" = "$2" ]; }

fake v0.16.1 go1.22.5
run good "$work/ws"
check "good pair: --json is valid" valid good
check "good pair: gopls v0.16.1 found" finding good gopls ok
check "good pair: supported" finding good gopls-go-pair ok
check "good pair: GOROOT complete" finding good goroot ok
check "good pair: workspace is a module" finding good workspace ok
check "no cgroup (fixture roots): a warning with a remedy" finding good cgroup warning
check "the text output shows each remedy" has "$work/good.txt" "remedy: "
check "warnings only: exit 0" exits good 0

fake v0.16.1 go1.18.10
run old-go "$work/ws"
check "gopls 0.16 with Go 1.18: a failure" finding old-go gopls-go-pair failure
check "... naming both versions" message old-go gopls-go-pair "gopls v0.16 does not support Go 1.18"
check "a failure: exit 1" exits old-go 1
check "a failure: --json is valid and says so" jq -e '.ok == false and .failures >= 1' "$work/old-go.json"

fake v0.16.1 go1.20.3
run warn-go "$work/ws"
check "gopls 0.16 with Go 1.20: a warning" finding warn-go gopls-go-pair warning

fake master go1.19.8
run debian "$work/ws"
check "a gopls without a release version (Debian's 0.5.0): a warning" finding debian gopls warning

fake v0.16.1 go1.22.5 "$work/no-goroot"
run goroot "$work/ws"
check "GOROOT without the standard library's source: a failure" finding goroot goroot failure
check "... naming the missing directory" message goroot goroot "$work/no-goroot/src/runtime"

fake v0.16.1 go1.22.5 "$work/goroot" "-mod=mod -modfile=x.mod"
run goflags "$work/ws"
check "GOFLAGS with -mod=mod: a warning" finding goflags goflags warning
fake v0.16.1 go1.22.5 "$work/goroot" "vendor"
run goflags-bad "$work/ws"
check "GOFLAGS with a non-flag: a failure" finding goflags-bad goflags failure

fake v0.16.1 go1.22.5
: >"$work/a-file"
GOPLSCACHE=$work/a-file/gopls run cache-file "$work/ws"
check "a cache directory that cannot be created: a failure" finding cache-file cache-gopls failure
GOPLSCACHE=$work/goplscache run cache-ok "$work/ws"
check "a cache directory still to be made: ok" finding cache-ok cache-gopls ok
mkdir -p "$work/goplscache"
head -c 100000 /dev/zero >"$work/goplscache/blob"
GOPLSCACHE=$work/goplscache run cache-size "$work/ws"
check "an existing cache: its size is measured" message cache-size cache-gopls "K, writable"
if [ "$(id -u)" != 0 ]; then
        mkdir -p "$work/ro-cache" && chmod 500 "$work/ro-cache"
        GOPLSCACHE=$work/ro-cache run cache-ro "$work/ws"
        check "a read-only cache directory: a failure" finding cache-ro cache-gopls failure
        chmod 700 "$work/ro-cache"
fi

printf '[recovery]\ncache_dirs = %s/a-file/sub\n' "$work" >"$work/recovery.ini"
run recovery-dirs --policy "$work/recovery.ini" "$work/ws"
check "a [recovery] cache_dirs entry that cannot be created: a failure" \
        finding recovery-dirs cache-recovery failure

printf '[cgroup]\nrequire = yes\n' >"$work/require.ini"
run require --policy "$work/require.ini" "$work/ws"
check "no cgroup with [cgroup] require = yes: a failure" finding require cgroup failure
check "... saying the guard would exit 3" message require cgroup "exits 3"
check "... exit 1" exits require 1

printf '[memory]\nhigh = 12Q\n' >"$work/bad.ini"
run bad-policy --policy "$work/bad.ini" "$work/ws"
check "a bad policy: a failure" finding bad-policy policy failure
check "... naming the file and line" message bad-policy policy "$work/bad.ini:2"
check "... exit 1" exits bad-policy 1

rm -f "$work/bin/gopls"
PATH=$work/bin:/usr/bin:/bin run no-gopls-here "$work/ws"
# /usr/bin may hold a real gopls; only a PATH without one proves the failure.
if ! PATH=/usr/bin:/bin command -v gopls >/dev/null; then
        check "no gopls on PATH: a failure" finding no-gopls-here gopls failure
fi
printf '[server]\ncommand = %s\n' "$work/bin/no-such-gopls" >"$work/nogopls.ini"
run no-gopls --policy "$work/nogopls.ini" "$work/ws"
check "[server] command that does not exist: a failure" finding no-gopls gopls failure

fake v0.16.1 go1.22.5
mkdir -p "$work/proc/self"
cp /proc/self/cgroup "$work/proc/self/cgroup" 2>/dev/null
GOPLS_GUARD_PROC=$work/proc run no-psi "$work/ws"
check "no /proc/pressure/memory: a warning" finding no-psi psi warning

run no-ws "$work/does-not-exist"
check "a workspace that does not exist: a failure" finding no-ws workspace failure

"$guard" doctor --bogus >/dev/null 2>"$work/usage.err"
rc=$?
check "an unknown option: exit 2" [ "$rc" = 2 ]
"$guard" doctor a b >/dev/null 2>"$work/usage2.err"
rc=$?
check "two workspaces: exit 2" [ "$rc" = 2 ]
it_done

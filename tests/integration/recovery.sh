#!/bin/bash
# recovery.sh — [recovery] purge_cache (degraded mode, on this machine):
# after the second crash within the window the cache directories are
# moved aside next to themselves (nothing deleted), once per streak; the
# log and the editor say where; gopls's own cache (GOPLSCACHE) is the
# default; a link is not moved.
#
#   recovery.sh GOPLS_GUARD
set -u
guard=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
it_workdir recovery
it_fixture_roots

cat >"$work/crasher" <<'SH'
#!/bin/sh
head -c 1 >/dev/null
exit 3
SH
chmod +x "$work/crasher"
init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"processId":null,"rootUri":null,"capabilities":{}}}'
# run POLICY_TEXT: the guard on the crasher until it gives up (3 crashes).
run() {
        printf '[restart]\non = crash\nmax_restarts = 2\nafter_give_up = exit\nbackoff_initial = 100ms\n%s\n[log]\ntarget = stderr\n' \
                "$1" >"$work/p.ini"
        {
                frame "$init"
                sleep 3
        } | "$guard" --policy "$work/p.ini" -- "$work/crasher" >"$work/out" 2>"$work/err"
        rc=$?
}
mkcache() { mkdir -p "$1" && echo "precious" >"$1/entry"; }
aside() { find "$(dirname "$1")" -maxdepth 1 -name "$(basename "$1").gopls-guard-*" -type d; }

mkcache "$work/c1"
mkcache "$work/c 2"
ln -s "$work/c1-target" "$work/c3"
mkcache "$work/c1-target"
run "[recovery]
purge_cache = yes
cache_dirs = $work/c1 \"$work/c 2\" $work/c3 $work/missing"
check "the guard gives up after the third crash (exit 4)" [ "$rc" = 4 ]
a1=$(aside "$work/c1")
one_aside() { [ -n "$a1" ] && [ "$(printf '%s\n' "$a1" | wc -l)" = 1 ]; }
check "c1 moved aside next to itself, once" one_aside
check "... with its contents (nothing deleted)" has "$a1/entry" precious
named() { [[ "$a1" =~ /c1\.gopls-guard-[0-9]{8}T[0-9]{6}Z$ ]]; }
check "... named DIR.gopls-guard-YYYYmmddTHHMMSSZ" named
check "a path with a blank moved too" has "$(aside "$work/c 2")/entry" precious
gone() { [ ! -e "$work/c1" ] && [ ! -e "$work/c 2" ]; }
check "the original directories are gone (moved)" gone
link_stays() { [ -L "$work/c3" ] && [ -z "$(aside "$work/c3")" ]; }
check "a link is not moved" link_stays
check "... and its target is untouched" has "$work/c1-target/entry" precious
check "the log says where each went" has "$work/err" "moved its cache $work/c1 aside to $a1"
check "the log says why the link stayed" has "$work/err" "not moving $work/c3 aside"
check "the editor is told where" has "$work/out" "moved the language server's cache aside"
check "... naming the new place" has "$work/out" "$a1"
check "after the second crash, not the first" \
        [ "$(grep -n 'crashed 2 times within' "$work/err" | wc -l)" -ge 1 ]

# Default: gopls's own cache, from GOPLSCACHE.
mkcache "$work/goplscache"
GOPLSCACHE=$work/goplscache run "[recovery]
purge_cache = yes"
check "default: gopls's own cache (GOPLSCACHE) moved aside" has "$(aside "$work/goplscache")/entry" precious

# purge_cache = no: nothing moves.
mkcache "$work/keep"
run "[recovery]
purge_cache = no
cache_dirs = $work/keep"
stays() { [ -d "$work/keep" ] && [ -z "$(aside "$work/keep")" ]; }
check "purge_cache = no: the cache stays" stays
it_done

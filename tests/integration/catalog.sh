#!/bin/bash
# catalog.sh — systemd's own catalog compiler accepts units/gopls-guard.catalog
# and finds one entry per MESSAGE_ID of src/systemd/message-ids.h.  journalctl
# --root works on a private tree, so the machine's journal and catalog
# database are not touched.  (test-events checks the format rules and the
# fields; `journalctl -x` on real entries runs in the systemd VM tier.)
#
#   catalog.sh SOURCE_DIR
set -u
src=$1
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v journalctl >/dev/null || { echo "SKIP: journalctl is not installed"; exit 77; }
it_workdir catalog
mkdir -p "$work/root/usr/lib/systemd/catalog"
cp "$src/units/gopls-guard.catalog" "$work/root/usr/lib/systemd/catalog/"
journalctl --root="$work/root" --update-catalog 2>"$work/update.err"
rc=$?
check "journalctl --update-catalog accepts the catalog (exit $rc)" test "$rc" -eq 0
check "...without a complaint ($(head -c 300 "$work/update.err"))" test ! -s "$work/update.err"
journalctl --root="$work/root" --list-catalog >"$work/list" 2>&1
ids=$(sed -n 's/^#define GG_MESSAGE_[A-Z_]* "\([0-9a-f]*\)"$/\1/p' "$src/src/systemd/message-ids.h")
check "message-ids.h defines 8 ids" test "$(echo "$ids" | wc -l)" -eq 8
for id in $ids; do
        check "$id is in the compiled catalog, from gopls-guard" grep -q "^$id gopls-guard: " "$work/list"
        journalctl --root="$work/root" --dump-catalog "$id" >"$work/$id" 2>&1
        check "...and dumps with its headers and body" grep -q "^Defined-By: gopls-guard$" "$work/$id"
done
check "the compiled catalog holds nothing else of ours" \
        test "$(grep -c ' gopls-guard: ' "$work/list")" -eq 8
it_done

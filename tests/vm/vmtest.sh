#!/bin/bash
# vmtest.sh — tier-2 tests: one scenario per boot of a real Debian cgroup v2
# kernel under qemu (TCG), with a busybox initramfs.
#
#   vmtest.sh fetch --kernel SERIES CACHE_DIR
#       Puts the kernel of SERIES into CACHE_DIR/SERIES/vmlinuz.  SERIES is
#       6.1 (Debian 12 bookworm's linux-image-cloud-amd64) or 6.12 (Debian 13
#       trixie's), fetched by tests/debian-pkg.sh with a private apt state,
#       never touching the machine's apt configuration.  The unpacked kernel
#       is kept in $GUARD_CACHE_DIR/kernels/DEB_SHA256/ (outside the build
#       tree, so a fresh clone reuses it), keyed by the .deb's sha256 from
#       the suite's index and checked against its own recorded sha256 on
#       every use; a missing or mismatched one is unpacked again.
#       GUARD_VM_KERNEL_6_1=/path/to/vmlinuz (GUARD_VM_KERNEL_6_12=...) uses
#       that file for the series instead.
#   vmtest.sh run --cache DIR --kernel SERIES --out DIR --scenario FILE
#                 --leaker BIN [--guard BIN] [--lsp-echo BIN] [--images DIR]
#                 [--timeout S] [--mem MIB] [--smp N]
#       Boots DIR/SERIES/vmlinuz with OUT/initramfs.cpio (the base image,
#       built once per set of binaries into --images, default OUT/.., plus
#       the scenario), saves OUT/console.log, prints the scenario's lines.
#       A scenario may set defaults in a header line
#       "# vmtest: mem=768 smp=2 timeout=300 serial=yes"; GUARD_VM_SMP /
#       GUARD_VM_MEM / GUARD_VM_TIMEOUT in the environment override both;
#       GUARD_VM_QEMU names another qemu-system-x86_64.
#
# Exit: 0 PASS, 1 FAIL (also timeout, no result line, kernel panic), 77 SKIP
# (qemu or the kernel cannot be had: a reason is always printed).
#
# The host's own cgroup hierarchy is never touched: everything cgroup-related
# happens inside the VM.  -accel tcg only: a KVM guest hangs on the build
# machines (FACTS.md).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DEBIAN_PKG=$HERE/../debian-pkg.sh
SKIP=77

say() { printf 'vmtest: %s\n' "$*" >&2; }
skip() { printf 'vmtest: SKIP: %s\n' "$*" >&2; exit $SKIP; }
die() { printf 'vmtest: FAIL: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
sha256() { sha256sum <"$1" | cut -d' ' -f1; }

QEMU=${GUARD_VM_QEMU:-qemu-system-x86_64}
need_qemu() {
        command -v "$QEMU" >/dev/null ||
                skip "$QEMU not installed (apt-get install qemu-system-x86)"
}

# ---------------------------------------------------------------- fetch
# series_suite SERIES: the Debian suite whose cloud kernel is SERIES.
series_suite() {
        case $1 in
        6.1) echo bookworm ;;
        6.12) echo trixie ;;
        *) return 1 ;;
        esac
}

# install_kernel FILE DEST_DIR LABEL: DEST_DIR/vmlinuz (atomically, only when
# it differs) with its sha256 and a label.
install_kernel() {
        local file=$1 dest=$2 label=$3 sum
        sum=$(sha256 "$file")
        if [ "$(cat "$dest/vmlinuz.sha256" 2>/dev/null)" != "$sum" ] || [ "$(sha256 "$dest/vmlinuz" 2>/dev/null)" != "$sum" ]; then
                cp -f "$file" "$dest/vmlinuz.tmp" && mv -f "$dest/vmlinuz.tmp" "$dest/vmlinuz" ||
                        die "cannot copy the kernel into $dest"
                echo "$sum" >"$dest/vmlinuz.sha256"
        fi
        echo "$label" >"$dest/kernel-version"
}

fetch_kernel() {
        local series=$1 cache=$2 suite
        suite=$(series_suite "$series") || die "unknown kernel series '$series' (have: 6.1, 6.12)"
        local dest=$cache/$series
        mkdir -p "$dest" || die "cannot create $dest"
        need_qemu
        # One fetch per series at a time (ctest -j, or a run started by hand).
        exec 9>"$dest/.lock"
        flock 9
        local override_var=GUARD_VM_KERNEL_${series//./_}
        local override=${!override_var:-}
        if [ -n "$override" ]; then
                [ -r "$override" ] || skip "$override_var=$override is not readable"
                install_kernel "$override" "$dest" "custom: $override"
                say "kernel $series: $override ($override_var)"
                return 0
        fi
        command -v dpkg-deb >/dev/null || skip "no dpkg-deb to unpack the kernel (set $override_var=/path/to/vmlinuz)"
        local line pkg ver debsha deb rc
        line=$(bash "$DEBIAN_PKG" fetch-dep "$suite" linux-image-cloud-amd64)
        rc=$?
        [ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && skip "no $series kernel: see the line above"; die "fetching the $series kernel failed"; }
        read -r pkg ver debsha deb <<<"$line"
        case $pkg in
        linux-image-"$series".*) ;;
        *) die "$suite's linux-image-cloud-amd64 now depends on $pkg, not a $series kernel: update series_suite in $0" ;;
        esac
        local kernels store
        kernels=$(bash "$DEBIAN_PKG" cache-dir)/kernels
        store=$kernels/$debsha
        # Build trees share the store: one writer at a time.
        mkdir -p "$kernels" && exec 7>"$kernels/.lock" && flock 7 || die "cannot lock $kernels/.lock"
        if [ ! -s "$store/vmlinuz" ] || [ "$(sha256 "$store/vmlinuz")" != "$(cat "$store/vmlinuz.sha256" 2>/dev/null)" ]; then
                [ -e "$store" ] && say "$store/vmlinuz is missing or does not match its sha256: unpacking again"
                rm -rf "$store" "$store.tmp" && mkdir -p "$store.tmp" || die "cannot create $store.tmp"
                dpkg-deb -x "$deb" "$store.tmp/x" || die "dpkg-deb -x $deb failed"
                local vmlinuz
                vmlinuz=$(ls "$store.tmp"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
                [ -n "$vmlinuz" ] || die "$deb holds no boot/vmlinuz-*"
                # Only the kernel: cgroup2, tmpfs, devtmpfs are built in, no module is needed.
                mv "$vmlinuz" "$store.tmp/vmlinuz" && rm -rf "$store.tmp/x" &&
                        sha256 "$store.tmp/vmlinuz" >"$store.tmp/vmlinuz.sha256" &&
                        echo "$pkg $ver $(basename "$vmlinuz")" >"$store.tmp/kernel-version" &&
                        mv "$store.tmp" "$store" || die "cannot store the kernel in $store"
        fi
        touch "$store"
        # Kernels of superseded packages go once unused for 30 days.
        find "$kernels" -mindepth 1 -maxdepth 1 -type d -mtime +30 -exec rm -rf {} + 2>/dev/null
        install_kernel "$store/vmlinuz" "$dest" "$(cat "$store/kernel-version")"
        say "kernel $series: $(cat "$dest/kernel-version") (sha256 $(cut -c1-16 "$dest/vmlinuz.sha256")…, from $store)"
}

# ---------------------------------------------------------------- image
# Copy FILE and every shared library ldd names for it (and the loader) into
# ROOT, at the same absolute paths.
copy_with_libs() {
        local root=$1 file=$2 dest=$3 lib
        install -D -m 0755 "$file" "$root$dest" || return 1
        ldd "$file" 2>/dev/null | awk '
                $2 == "=>" && $3 ~ /^\// { print $3 }
                $1 ~ /^\// { print $1 }' | sort -u | while read -r lib; do
                [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib" || exit 1
        done
}

# build_base ROOT OUT: everything but the scenario (busybox, the binaries and
# their libraries, init, lib.sh) as an uncompressed newc archive.
build_base() {
        local root=$1 out=$2
        rm -rf "$root" && mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/vmtest} || return 1
        copy_with_libs "$root" "$BUSYBOX" /bin/busybox || return 1
        # A symlink per applet, as busybox itself lists them.
        local applet
        for applet in $("$BUSYBOX" --list-full); do
                [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
        done
        copy_with_libs "$root" "$LEAKER" /bin/leaker || return 1
        if [ -n "$LSP_ECHO" ] && [ -x "$LSP_ECHO" ]; then
                copy_with_libs "$root" "$LSP_ECHO" /bin/lsp-echo || return 1
        fi
        if [ -n "$GUARD" ] && [ -x "$GUARD" ]; then
                copy_with_libs "$root" "$GUARD" /bin/gopls-guard || return 1
        fi
        install -m 0755 "$HERE/init.sh" "$root/init"
        install -m 0644 "$HERE/lib.sh" "$root/lib/vmtest/lib.sh"
        echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
        echo 'root:x:0:' >"$root/etc/group"
        # Uncompressed: the kernel unpacks it faster under TCG than a gzip.
        (cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$out"
}

# base_image DIR: the path of the base archive for the current binaries in
# DIR, built (under a lock: ctest -j) when there is none yet.  The key is the
# content of every input, so a rebuilt guard or an edited init.sh gets a new
# image and an unchanged one is built once for all scenarios and kernels.
base_image() {
        local dir=$1 key f
        key=$(for f in "$BUSYBOX" "$LEAKER" ${GUARD:+"$GUARD"} ${LSP_ECHO:+"$LSP_ECHO"} "$HERE/init.sh" "$HERE/lib.sh" "${BASH_SOURCE[0]}"; do
                sha256 "$f"
        done | sha256sum | cut -c1-16)
        local img=$dir/base-$key.cpio
        mkdir -p "$dir" || return 1
        exec 6>"$dir/.lock"
        flock 6
        if [ ! -s "$img" ]; then
                build_base "$dir/root-$key" "$img.tmp" && mv -f "$img.tmp" "$img" || return 1
                rm -rf "$dir/root-$key"
                # Older images (earlier builds) are of no further use.
                find "$dir" -maxdepth 1 -name 'base-*.cpio' ! -name "base-$key.cpio" -delete
        fi
        exec 6>&-
        echo "$img"
}

# build_initramfs OUT: the base image, then a second archive with the
# scenario and its settings (the kernel unpacks concatenated archives in turn).
build_initramfs() {
        local out=$1 base root
        base=$(base_image "$IMAGES") || return 1
        root=$(mktemp -d) || return 1
        mkdir -p "$root/etc" "$root/lib/vmtest"
        install -m 0644 "$SCENARIO" "$root/lib/vmtest/scenario.sh"
        printf 'VMTEST_NAME=%s\nVMTEST_TIMEOUT=%s\nVMTEST_KERNEL=%s\n' "$NAME" "$((TIMEOUT - 20))" "$SERIES" >"$root/etc/vmtest.conf"
        { cat "$base" && (cd "$root" && find etc/vmtest.conf lib/vmtest/scenario.sh | cpio -o -H newc -R 0:0 --quiet); } >"$out.tmp" &&
                mv -f "$out.tmp" "$out"
        local rc=$?
        rm -rf "$root"
        return $rc
}

# ---------------------------------------------------------------- run
run_scenario() {
        local cache="" out=""
        SCENARIO="" LEAKER="" GUARD="" LSP_ECHO="" TIMEOUT="" MEM="" SMP="" SERIES=6.1 IMAGES=""
        while [ $# -gt 0 ]; do
                case $1 in
                --cache) cache=$2 ;;
                --kernel) SERIES=$2 ;;
                --images) IMAGES=$2 ;;
                --out) out=$2 ;;
                --scenario) SCENARIO=$2 ;;
                --leaker) LEAKER=$2 ;;
                --guard) GUARD=$2 ;;
                --lsp-echo) LSP_ECHO=$2 ;;
                --timeout) TIMEOUT=$2 ;;
                --mem) MEM=$2 ;;
                --smp) SMP=$2 ;;
                *) die "unknown option $1" ;;
                esac
                shift 2 || die "option $1 needs a value"
        done
        [ -n "$cache" ] && [ -n "$out" ] && [ -r "$SCENARIO" ] ||
                die "usage: vmtest.sh run --cache DIR --kernel SERIES --out DIR --scenario FILE --leaker BIN [--guard BIN] [--lsp-echo BIN] [--images DIR]"
        series_suite "$SERIES" >/dev/null || die "unknown kernel series '$SERIES' (have: 6.1, 6.12)"
        [ -x "$LEAKER" ] || die "leaker not built: $LEAKER (cmake --build BUILD --target leaker)"
        NAME=$(basename "$SCENARIO" .sh)

        # Header defaults: "# vmtest: mem=768 smp=2 timeout=300 serial=yes".
        local hdr kv
        hdr=$(sed -n 's/^# vmtest:[[:space:]]*//p' "$SCENARIO" | head -n 1)
        for kv in $hdr; do
                case $kv in
                mem=*) : "${MEM:=${kv#mem=}}" ;;
                smp=*) : "${SMP:=${kv#smp=}}" ;;
                timeout=*) : "${TIMEOUT:=${kv#timeout=}}" ;;
                esac
        done
        MEM=${GUARD_VM_MEM:-${MEM:-512}}
        SMP=${GUARD_VM_SMP:-${SMP:-1}}
        TIMEOUT=${GUARD_VM_TIMEOUT:-${TIMEOUT:-300}}

        need_qemu
        local kernel=$cache/$SERIES/vmlinuz
        if [ ! -s "$kernel" ]; then
                # Normally the vm/SERIES/fetch-kernel fixture did this.
                (fetch_kernel "$SERIES" "$cache") || exit $?
        fi
        command -v cpio >/dev/null || skip "cpio not installed (apt-get install cpio)"
        # The static one: a dynamic busybox would need its libraries too.
        BUSYBOX=/bin/busybox
        [ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox) ||
                skip "busybox not installed (apt-get install busybox-static)"
        if [ -z "$GUARD" ] || [ ! -x "$GUARD" ]; then
                say "note: gopls-guard not built (${GUARD:-no --guard}); scenarios that need it will fail"
        fi

        mkdir -p "$out" || die "cannot create $out"
        [ -n "$IMAGES" ] || IMAGES=$(dirname "$out")/images
        local t0 t1 t2
        t0=$(now)
        build_initramfs "$out/initramfs.cpio" || die "building the initramfs failed"
        t1=$(now)

        local log="$out/console.log"
        # -nodefaults: no VGA, no NIC; the serial console is all we need.
        timeout --kill-after=10 "$TIMEOUT" "$QEMU" \
                -accel tcg -nodefaults -no-user-config -nographic -no-reboot \
                -machine pc -cpu max -m "$MEM" -smp "$SMP" \
                -serial stdio -monitor none \
                -kernel "$kernel" -initrd "$out/initramfs.cpio" \
                -append "console=ttyS0 quiet panic=-1 oops=panic" \
                </dev/null >"$log" 2>"$out/qemu.stderr"
        local rc=$?
        t2=$(now)
        # The serial console writes CRLF, and the firmware terminal escapes.
        sed -i -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78]//g' "$log"

        # The scenario's own lines: from the BEGIN marker to the result line.
        sed -n "/^VMTEST-BEGIN /,/^VMTEST \(PASS\|FAIL\|SKIP\) /p" "$log"
        say "$NAME on $SERIES ($(cat "$cache/$SERIES/kernel-version" 2>/dev/null)): initramfs $(elapsed "$t0" "$t1") s, boot+run $(elapsed "$t1" "$t2") s (smp $SMP, mem ${MEM}M, tcg); console log: $log"

        # Init never ran: the kernel (or qemu) could not boot, so nothing of
        # the scenario was tested.  That is a skip with the reason, not a
        # verdict on the guard (CI turns every VM skip into a failure).
        if ! grep -q '^VMTEST-BEGIN ' "$log"; then
                local why
                why=$(grep -m1 -E 'Kernel panic|No working init|Unable to mount' "$log" ||
                        { [ -s "$out/qemu.stderr" ] && head -n 1 "$out/qemu.stderr"; } ||
                        tail -n 1 "$log")
                { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && why="no boot within ${TIMEOUT}s${why:+; last line: $why}"
                tail -n 20 "$log" | sed 's/^/console: /' >&2
                skip "$NAME: the $SERIES kernel did not boot to /init (qemu exit $rc): ${why:-no output} (see $log)"
        fi
        local results nres
        results=$(grep -E "^VMTEST (PASS|FAIL|SKIP) $NAME([: ]|\$)" "$log")
        nres=$(printf '%s' "$results" | grep -c '^VMTEST ')
        if grep -q 'Kernel panic' "$log"; then
                die "$NAME: kernel panic: $(grep -m1 'Kernel panic' "$log")"
        fi
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
                die "$NAME: qemu timed out after ${TIMEOUT}s (see $log)"
        fi
        if [ "$nres" -ne 1 ]; then
                [ -s "$out/qemu.stderr" ] && sed 's/^/qemu: /' "$out/qemu.stderr" >&2
                tail -n 20 "$log" | sed 's/^/console: /' >&2
                die "$NAME: expected exactly one result line, got $nres (qemu exit $rc)"
        fi
        case $results in
        "VMTEST PASS "*) exit 0 ;;
        "VMTEST SKIP "*) exit $SKIP ;;
        *) exit 1 ;;
        esac
}

case ${1:-} in
fetch)
        [ $# -eq 4 ] && [ "$2" = --kernel ] || die "usage: vmtest.sh fetch --kernel SERIES CACHE_DIR"
        fetch_kernel "$3" "$4"
        ;;
run)
        shift
        run_scenario "$@"
        ;;
*)
        die "usage: vmtest.sh fetch --kernel SERIES CACHE_DIR | vmtest.sh run --cache DIR --kernel SERIES --out DIR --scenario FILE --leaker BIN [--guard BIN] [--lsp-echo BIN] [--images DIR]"
        ;;
esac

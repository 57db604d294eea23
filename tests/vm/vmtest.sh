#!/bin/bash
# vmtest.sh — tier-2 tests: one scenario per boot of a real Debian cgroup v2
# kernel under qemu (TCG), with a busybox initramfs.
#
#   vmtest.sh fetch CACHE_DIR
#       Once: put the kernel into CACHE_DIR/vmlinuz (apt-get download + dpkg -x).
#       GUARD_VM_KERNEL=/path/to/vmlinuz uses that kernel instead;
#       GUARD_VM_KERNEL_PKG=linux-image-... picks another package.
#   vmtest.sh run --cache DIR --out DIR --scenario FILE --leaker BIN [--guard BIN]
#                 [--timeout S] [--mem MIB] [--smp N]
#       Builds OUT/initramfs.cpio.gz, boots it, saves OUT/console.log, prints
#       the scenario's lines.  A scenario may set defaults in a header line
#       "# vmtest: mem=768 smp=2 timeout=300 serial=yes"; GUARD_VM_SMP / GUARD_VM_MEM /
#       GUARD_VM_TIMEOUT in the environment override both; GUARD_VM_QEMU names
#       another qemu-system-x86_64.
#
# Exit: 0 PASS, 1 FAIL (also timeout, no result line, kernel panic), 77 SKIP
# (qemu or the kernel cannot be had: a reason is always printed).
#
# The host's own cgroup hierarchy is never touched: everything cgroup-related
# happens inside the VM.  -accel tcg only: a KVM guest hangs on the build
# machines (FACTS.md).
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SKIP=77

say() { printf 'vmtest: %s\n' "$*" >&2; }
skip() { printf 'vmtest: SKIP: %s\n' "$*" >&2; exit $SKIP; }
die() { printf 'vmtest: FAIL: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

QEMU=${GUARD_VM_QEMU:-qemu-system-x86_64}
need_qemu() {
        command -v "$QEMU" >/dev/null ||
                skip "$QEMU not installed (apt-get install qemu-system-x86)"
}

# ---------------------------------------------------------------- fetch
fetch_kernel() {
        local cache=$1
        mkdir -p "$cache" || die "cannot create $cache"
        need_qemu
        if [ -n "${GUARD_VM_KERNEL:-}" ]; then
                [ -r "$GUARD_VM_KERNEL" ] || skip "GUARD_VM_KERNEL=$GUARD_VM_KERNEL is not readable"
                cp -f "$GUARD_VM_KERNEL" "$cache/vmlinuz.tmp" && mv -f "$cache/vmlinuz.tmp" "$cache/vmlinuz"
                echo "custom: $GUARD_VM_KERNEL" >"$cache/kernel-version"
                say "kernel: $GUARD_VM_KERNEL"
                return 0
        fi
        # One fetch at a time (ctest -j, or a run started by hand).
        exec 9>"$cache/.lock"
        flock 9
        if [ -s "$cache/vmlinuz" ]; then
                say "kernel cached: $(cat "$cache/kernel-version" 2>/dev/null) in $cache"
                return 0
        fi
        command -v apt-get >/dev/null && command -v dpkg >/dev/null ||
                skip "no apt-get/dpkg to fetch the kernel (set GUARD_VM_KERNEL=/path/to/vmlinuz)"
        local pkg=${GUARD_VM_KERNEL_PKG:-}
        if [ -z "$pkg" ]; then
                pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
                        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
                [ -n "$pkg" ] || skip "apt-cache knows no linux-image-cloud-amd64 (run apt-get update)"
        fi
        local dl="$cache/download"
        rm -rf "$dl" && mkdir -p "$dl"
        say "fetching $pkg"
        # _apt cannot write into a build tree: download as the caller, quietly.
        (cd "$dl" && apt-get -q -o APT::Sandbox::User="$(id -un)" download "$pkg") >"$dl/apt.log" 2>&1 ||
                skip "apt-get download $pkg failed: $(tail -n 1 "$dl/apt.log")"
        local deb
        deb=$(ls "$dl"/*.deb 2>/dev/null | head -n 1)
        [ -n "$deb" ] || skip "apt-get download $pkg produced no .deb"
        dpkg -x "$deb" "$dl/x" || die "dpkg -x $deb failed"
        local vmlinuz
        vmlinuz=$(ls "$dl"/x/boot/vmlinuz-* 2>/dev/null | head -n 1)
        [ -n "$vmlinuz" ] || die "$deb holds no boot/vmlinuz-*"
        cp -f "$vmlinuz" "$cache/vmlinuz.tmp" && mv -f "$cache/vmlinuz.tmp" "$cache/vmlinuz"
        echo "$pkg $(basename "$vmlinuz")" >"$cache/kernel-version"
        rm -rf "$dl" # the modules are not needed: cgroup2, tmpfs, devtmpfs are built in
        say "kernel: $(cat "$cache/kernel-version") in $cache"
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

build_initramfs() {
        local root=$1 out=$2
        rm -rf "$root" && mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,lib/vmtest} || return 1
        local bb
        bb=$(command -v busybox) || { say "busybox not installed"; return 1; }
        [ -x /bin/busybox ] && bb=/bin/busybox
        copy_with_libs "$root" "$bb" /bin/busybox || return 1
        local applet
        for applet in $(/bin/busybox --list-full 2>/dev/null || "$bb" --list-full); do
                [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
        done
        copy_with_libs "$root" "$LEAKER" /bin/leaker || return 1
        if [ -n "$GUARD" ] && [ -x "$GUARD" ]; then
                copy_with_libs "$root" "$GUARD" /bin/gopls-guard || return 1
        fi
        install -m 0755 "$HERE/init.sh" "$root/init"
        install -m 0644 "$HERE/lib.sh" "$root/lib/vmtest/lib.sh"
        install -m 0644 "$SCENARIO" "$root/lib/vmtest/scenario.sh"
        printf 'VMTEST_NAME=%s\nVMTEST_TIMEOUT=%s\n' "$NAME" "$((TIMEOUT - 20))" >"$root/etc/vmtest.conf"
        echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
        echo 'root:x:0:' >"$root/etc/group"
        # Uncompressed: the kernel unpacks it faster under TCG than a gzip.
        (cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp" && mv -f "$out.tmp" "$out"
}

# ---------------------------------------------------------------- run
run_scenario() {
        local cache="" out=""
        SCENARIO="" LEAKER="" GUARD="" TIMEOUT="" MEM="" SMP=""
        while [ $# -gt 0 ]; do
                case $1 in
                --cache) cache=$2 ;;
                --out) out=$2 ;;
                --scenario) SCENARIO=$2 ;;
                --leaker) LEAKER=$2 ;;
                --guard) GUARD=$2 ;;
                --timeout) TIMEOUT=$2 ;;
                --mem) MEM=$2 ;;
                --smp) SMP=$2 ;;
                *) die "unknown option $1" ;;
                esac
                shift 2 || die "option $1 needs a value"
        done
        [ -n "$cache" ] && [ -n "$out" ] && [ -r "$SCENARIO" ] ||
                die "usage: vmtest.sh run --cache DIR --out DIR --scenario FILE --leaker BIN [--guard BIN]"
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
        if [ ! -s "$cache/vmlinuz" ]; then
                # Normally the vm/fetch-kernel fixture did this.
                (fetch_kernel "$cache") || exit $?
        fi
        command -v cpio >/dev/null || skip "cpio not installed (apt-get install cpio)"
        command -v busybox >/dev/null || [ -x /bin/busybox ] ||
                skip "busybox not installed (apt-get install busybox-static)"
        if [ -z "$GUARD" ] || [ ! -x "$GUARD" ]; then
                say "note: gopls-guard not built (${GUARD:-no --guard}); scenarios that need it will fail"
        fi

        mkdir -p "$out" || die "cannot create $out"
        local t0 t1 t2
        t0=$(now)
        build_initramfs "$out/root" "$out/initramfs.cpio" || die "building the initramfs failed"
        rm -rf "$out/root"
        t1=$(now)

        local log="$out/console.log"
        # -nodefaults: no VGA, no NIC; the serial console is all we need.
        timeout --kill-after=10 "$TIMEOUT" "$QEMU" \
                -accel tcg -nodefaults -no-user-config -nographic -no-reboot \
                -machine pc -cpu max -m "$MEM" -smp "$SMP" \
                -serial stdio -monitor none \
                -kernel "$cache/vmlinuz" -initrd "$out/initramfs.cpio" \
                -append "console=ttyS0 quiet panic=-1 oops=panic" \
                </dev/null >"$log" 2>"$out/qemu.stderr"
        local rc=$?
        t2=$(now)
        # The serial console writes CRLF, and the firmware terminal escapes.
        sed -i -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78]//g' "$log"

        # The scenario's own lines: from the BEGIN marker to the result line.
        sed -n "/^VMTEST-BEGIN /,/^VMTEST \(PASS\|FAIL\|SKIP\) /p" "$log"
        say "$NAME: initramfs $(elapsed "$t0" "$t1") s, boot+run $(elapsed "$t1" "$t2") s (smp $SMP, mem ${MEM}M, tcg); console log: $log"

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
        [ $# -eq 2 ] || die "usage: vmtest.sh fetch CACHE_DIR"
        fetch_kernel "$2"
        ;;
run)
        shift
        run_scenario "$@"
        ;;
*)
        die "usage: vmtest.sh fetch CACHE_DIR | vmtest.sh run --cache DIR --out DIR --scenario FILE --leaker BIN [--guard BIN]"
        ;;
esac

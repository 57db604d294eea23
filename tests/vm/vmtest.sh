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
#   vmtest.sh rootfs CACHE_DIR
#       Puts the real-systemd tier's root filesystem (tier 3: a Debian 12
#       debootstrap, systemd as PID 1) at CACHE_DIR/systemd/rootfs.cpio, a
#       link into $GUARD_CACHE_DIR/rootfs/KEY/, where KEY is the hash of the
#       recipe systemd/rootfs.sh (suite, package list and every step).  Built
#       under a lock when missing or when it does not match its recorded
#       sha256; images unused for 30 days go.
#   vmtest.sh run [--kind kernel|systemd] --cache DIR --kernel SERIES --out DIR
#                 --scenario FILE --leaker BIN [--guard BIN] [--lsp-echo BIN]
#                 [--install BUILD] [--deb FILE] [--images DIR] [--timeout S] [--mem MIB] [--smp N]
#       kernel (default): boots DIR/SERIES/vmlinuz with OUT/initramfs.cpio
#       (the base image, built once per set of binaries into --images,
#       default OUT/.., plus the scenario), saves OUT/console.log, prints the
#       scenario's lines.
#       systemd: boots the 6.1 kernel with the rootfs of `vmtest.sh rootfs`
#       plus a second archive (OUT/overlay.cpio) holding the guard as
#       install_guard installs it (the .deb, or the build tree BUILD), leaker, the
#       scenario and systemd/vmtest.service, which runs systemd/run.sh once
#       the system has booted; run.sh prints the same VMTEST lines.
#       A scenario may set defaults in a header line
#       "# vmtest: mem=768 smp=2 timeout=300 serial=yes"; GUARD_VM_SMP /
#       GUARD_VM_MEM / GUARD_VM_TIMEOUT in the environment override both;
#       GUARD_VM_QEMU names another qemu-system-x86_64.
#
# Exit: 0 PASS, 1 FAIL (also timeout, no result line, kernel panic), 77 SKIP
# (qemu, the kernel or the rootfs cannot be had: a reason is always printed).
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
        # busybox's unshare and nsenter lack the cgroup namespace: the
        # container scenarios take util-linux's, when the host has them.
        local ul
        for ul in unshare nsenter; do
                if [ -x "/usr/bin/$ul" ]; then
                        copy_with_libs "$root" "/usr/bin/$ul" "/lib/vmtest/bin/$ul" || return 1
                fi
        done
        install -m 0755 "$HERE/init.sh" "$root/init"
        install -m 0644 "$HERE/lib.sh" "$root/lib/vmtest/lib.sh"
        install -m 0644 "$HERE/runner.sh" "$root/lib/vmtest/runner.sh"
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
        key=$(for f in "$BUSYBOX" "$LEAKER" ${GUARD:+"$GUARD"} ${LSP_ECHO:+"$LSP_ECHO"} $(ls /usr/bin/unshare /usr/bin/nsenter 2>/dev/null) "$HERE/init.sh" "$HERE/lib.sh" "$HERE/runner.sh" "${BASH_SOURCE[0]}"; do
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

# ---------------------------------------------------------------- rootfs
ROOTFS_RECIPE=$HERE/systemd/rootfs.sh

# fetch_rootfs CACHE_DIR: CACHE_DIR/systemd/rootfs.cpio, a link to the image
# of the current recipe in the shared cache, built there if it is missing.
fetch_rootfs() {
        local cache=$1 key store dest=$1/systemd
        mkdir -p "$dest" || die "cannot create $dest"
        need_qemu
        local rootfs
        rootfs=$(bash "$DEBIAN_PKG" cache-dir)/rootfs
        # The recipe holds the suite, the package list and every step.
        key=$(sha256 "$ROOTFS_RECIPE" | cut -c1-16)
        store=$rootfs/$key
        # One builder at a time, across build trees (and CI) sharing the cache.
        mkdir -p "$rootfs" && exec 7>"$rootfs/.lock" && flock 7 || die "cannot lock $rootfs/.lock"
        if [ ! -s "$store/rootfs.cpio" ] || [ "$(sha256 "$store/rootfs.cpio")" != "$(cat "$store/rootfs.cpio.sha256" 2>/dev/null)" ]; then
                [ -e "$store" ] && say "$store/rootfs.cpio is missing or does not match its sha256: building it again"
                rm -rf "$store" "$store.tmp" && mkdir -p "$store.tmp" || die "cannot create $store.tmp"
                say "building the systemd rootfs $key (debootstrap, a few minutes; its .debs are kept in $rootfs/debs)"
                local t0 rc mirror
                t0=$(now)
                mirror=$(bash "$DEBIAN_PKG" mirror)
                bash "$ROOTFS_RECIPE" "$mirror" "$rootfs/debs" "$store.tmp/rootfs.cpio"
                rc=$?
                if [ "$rc" -ne 0 ]; then
                        [ "$rc" -eq 77 ] && skip "no systemd rootfs: see the line above"
                        die "building the rootfs failed (log: $store.tmp/rootfs.cpio.debootstrap.log)"
                fi
                sha256 "$store.tmp/rootfs.cpio" >"$store.tmp/rootfs.cpio.sha256" &&
                        echo "built $(date -u +%FT%TZ) from $mirror in $(elapsed "$t0" "$(now)") s" >"$store.tmp/build-info" &&
                        mv "$store.tmp" "$store" || die "cannot store the rootfs in $store"
        fi
        touch "$store"
        # Images of earlier recipes go once unused for 30 days; so do .debs.
        find "$rootfs" -mindepth 1 -maxdepth 1 -type d -mtime +30 ! -name debs -exec rm -rf {} + 2>/dev/null
        find "$rootfs/debs" -name '*.deb' -mtime +30 -delete 2>/dev/null
        ln -sfn "$store/rootfs.cpio" "$dest/rootfs.cpio" || die "cannot link $dest/rootfs.cpio"
        say "systemd rootfs $key: $(du -m "$store/rootfs.cpio" | cut -f1) MB, $(cat "$store/build-info") ($store)"
}

# install_guard STAGE: the guard as a system has it once installed, into the
# root tree STAGE that is appended to the image.  --deb FILE: the package,
# put into STAGE/var/lib/vmtest/debs/, which run.sh installs with dpkg -i at
# boot.  --install BUILD: a staged `cmake --install` of the build tree at its
# configured prefix (units and ExecStart= agree on it).  --guard BIN alone:
# the bare binary.
install_guard() {
        local stage=$1
        if [ -n "$DEB" ]; then
                install -D -m 0644 "$DEB" "$stage/var/lib/vmtest/debs/${DEB##*/}" || return 1
        elif [ -n "$INSTALL_FROM" ]; then
                command -v cmake >/dev/null || { say "no cmake to install the guard from $INSTALL_FROM"; return 1; }
                DESTDIR=$stage cmake --install "$INSTALL_FROM" >"$OUT/install.log" 2>&1 ||
                        { sed 's/^/install: /' "$OUT/install.log" >&2; return 1; }
        elif [ -n "$GUARD" ] && [ -x "$GUARD" ]; then
                install -D -m 0755 "$GUARD" "$stage/usr/bin/gopls-guard" || return 1
        else
                say "note: no guard to install (--deb, --install BUILD or --guard BIN); scenarios that need it will fail"
        fi
        # The rootfs has a merged /usr (/lib -> usr/lib, ...): the kernel
        # replaces an existing symlink with a directory of the same name from
        # a later archive, which would cut /lib off.  Anything installed to
        # /lib, /bin or /sbin (systemd's unit directory is /lib/systemd) goes
        # under /usr instead.
        local d
        for d in bin sbin lib lib64; do
                if [ -d "$stage/$d" ] && [ ! -L "$stage/$d" ]; then
                        mkdir -p "$stage/usr/$d" && cp -a "$stage/$d/." "$stage/usr/$d/" && rm -rf "${stage:?}/$d" || return 1
                fi
        done
}

# build_overlay OUT_CPIO: what a systemd-kind test adds to the rootfs.
build_overlay() {
        local out=$1 root rc
        root=$(mktemp -d) || return 1
        (
                set -e
                umask 022
                install_guard "$root"
                install -D -m 0755 "$LEAKER" "$root/usr/bin/leaker"
                if [ -n "$LSP_ECHO" ]; then
                        install -D -m 0755 "$LSP_ECHO" "$root/usr/bin/lsp-echo"
                fi
                install -D -m 0644 "$HERE/lib.sh" "$root/usr/lib/vmtest/lib.sh"
                install -D -m 0644 "$HERE/systemd/lib.sh" "$root/usr/lib/vmtest/sd-lib.sh"
                install -D -m 0755 "$HERE/systemd/run.sh" "$root/usr/lib/vmtest/run.sh"
                install -D -m 0644 "$HERE/runner.sh" "$root/usr/lib/vmtest/runner.sh"
                install -D -m 0644 "$SCENARIO" "$root/usr/lib/vmtest/scenario.sh"
                install -D -m 0644 "$HERE/systemd/vmtest.service" "$root/etc/systemd/system/vmtest.service"
                mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
                ln -s ../vmtest.service "$root/etc/systemd/system/multi-user.target.wants/vmtest.service"
                printf 'VMTEST_NAME=%s\nVMTEST_TIMEOUT=%s\nVMTEST_KERNEL=%s\n' "$NAME" "$((TIMEOUT - 20))" "$SERIES" >"$root/etc/vmtest.conf"
                # Every entry but the root itself: existing directories keep
                # their owner (0:0) and get 0755, as they have.
                cd "$root" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet >"$out.tmp"
        )
        rc=$?
        rm -rf "$root"
        [ "$rc" -eq 0 ] && mv -f "$out.tmp" "$out"
}

# ---------------------------------------------------------------- run
run_scenario() {
        local cache="" out="" kind=kernel
        SCENARIO="" LEAKER="" GUARD="" LSP_ECHO="" TIMEOUT="" MEM="" SMP="" SERIES=6.1 IMAGES="" INSTALL_FROM="" DEB=""
        while [ $# -gt 0 ]; do
                case $1 in
                --kind) kind=$2 ;;
                --install) INSTALL_FROM=$2 ;;
                --deb) DEB=$2 ;;
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
                die "usage: vmtest.sh run [--kind kernel|systemd] --cache DIR --kernel SERIES --out DIR --scenario FILE --leaker BIN [--guard BIN] [--lsp-echo BIN] [--install BUILD] [--deb FILE] [--images DIR]"
        series_suite "$SERIES" >/dev/null || die "unknown kernel series '$SERIES' (have: 6.1, 6.12)"
        case $kind in
        kernel) ;;
        # The rootfs is Debian 12's: its own kernel.
        systemd)
                [ "$SERIES" = 6.1 ] || die "--kind systemd boots Debian 12's kernel (--kernel 6.1), not $SERIES"
                [ -z "$DEB" ] || [ -r "$DEB" ] || die "--deb $DEB: no such package (build it first)"
                ;;
        *) die "unknown --kind $kind (have: kernel, systemd)" ;;
        esac
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
        # systemd, dbus, logind and the user manager: 512 MiB more than a
        # busybox VM, and the unpacked rootfs lives in RAM.
        local defmem=512
        [ "$kind" = systemd ] && defmem=1024
        MEM=${GUARD_VM_MEM:-${MEM:-$defmem}}
        SMP=${GUARD_VM_SMP:-${SMP:-1}}
        TIMEOUT=${GUARD_VM_TIMEOUT:-${TIMEOUT:-300}}

        need_qemu
        local kernel=$cache/$SERIES/vmlinuz
        if [ ! -s "$kernel" ]; then
                # Normally the vm/SERIES/fetch-kernel fixture did this.
                (fetch_kernel "$SERIES" "$cache") || exit $?
        fi
        command -v cpio >/dev/null || skip "cpio not installed (apt-get install cpio)"
        if [ "$kind" = kernel ]; then
                # The static one: a dynamic busybox would need its libraries too.
                BUSYBOX=/bin/busybox
                [ -x "$BUSYBOX" ] || BUSYBOX=$(command -v busybox) ||
                        skip "busybox not installed (apt-get install busybox-static)"
        fi
        # (The systemd kind installs it from --deb or --install: install_guard.)
        if [ "$kind" = kernel ] && { [ -z "$GUARD" ] || [ ! -x "$GUARD" ]; }; then
                say "note: gopls-guard not built (${GUARD:-no --guard}); scenarios that need it will fail"
        fi

        mkdir -p "$out" && out=$(cd "$out" && pwd) || die "cannot create $out"
        OUT=$out
        [ -n "$IMAGES" ] || IMAGES=$(dirname "$out")/images
        local t0 t1 t2 append="console=ttyS0 quiet panic=-1 oops=panic"
        t0=$(now)
        if [ "$kind" = systemd ]; then
                local rootfs=$cache/systemd/rootfs.cpio
                # Normally the systemd/rootfs fixture did this; by hand, or
                # after the recipe changed, the link may be missing or stale.
                case $(readlink "$rootfs") in
                */"$(sha256 "$ROOTFS_RECIPE" | cut -c1-16)"/rootfs.cpio) [ -s "$rootfs" ] || (fetch_rootfs "$cache") || exit $? ;;
                *) (fetch_rootfs "$cache") || exit $? ;;
                esac
                build_overlay "$out/overlay.cpio" || die "building the overlay (the guard, the scenario) failed"
                # The kernel unpacks the two archives in turn into its tmpfs
                # root, and runs systemd from there: no disk, no modules.
                cat "$rootfs" "$out/overlay.cpio" >"$out/initramfs.cpio" || die "cannot write $out/initramfs.cpio"
                append="$append rdinit=/sbin/init systemd.show_status=error"
        else
                build_initramfs "$out/initramfs.cpio" || die "building the initramfs failed"
        fi
        t1=$(now)

        local log="$out/console.log"
        # -nodefaults: no VGA, no NIC; the serial console is all we need.
        timeout --kill-after=10 "$TIMEOUT" "$QEMU" \
                -accel tcg -nodefaults -no-user-config -nographic -no-reboot \
                -machine pc -cpu max -m "$MEM" -smp "$SMP" \
                -serial stdio -monitor none \
                -kernel "$kernel" -initrd "$out/initramfs.cpio" \
                -append "$append" \
                </dev/null >"$log" 2>"$out/qemu.stderr"
        local rc=$?
        t2=$(now)
        # The systemd kind's image is the whole rootfs again: rebuilt per run.
        [ "$kind" = systemd ] && rm -f "$out/initramfs.cpio"
        # The serial console writes CRLF, and the firmware terminal escapes.
        sed -i -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c78]//g' "$log"

        # The scenario's own lines: from the BEGIN marker to the result line.
        sed -n "/^VMTEST-BEGIN /,/^VMTEST \(PASS\|FAIL\|SKIP\) /p" "$log"
        say "$NAME ($kind) on $SERIES ($(cat "$cache/$SERIES/kernel-version" 2>/dev/null)): initramfs $(elapsed "$t0" "$t1") s, boot+run $(elapsed "$t1" "$t2") s (smp $SMP, mem ${MEM}M, tcg); console log: $log"

        # Init never ran: the kernel (or qemu) could not boot, so nothing of
        # the scenario was tested.  That is a skip with the reason, not a
        # verdict on the guard (CI turns every VM skip into a failure).
        if ! grep -q '^VMTEST-BEGIN ' "$log"; then
                local why
                # systemd.show_status=error leaves its [FAILED] lines on the console.
                why=$(grep -m1 -E 'Kernel panic|No working init|Unable to mount|\[FAILED\]' "$log" ||
                        { [ -s "$out/qemu.stderr" ] && head -n 1 "$out/qemu.stderr"; } ||
                        tail -n 1 "$log")
                { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && why="no boot within ${TIMEOUT}s${why:+; last line: $why}"
                tail -n 20 "$log" | sed 's/^/console: /' >&2
                local what="the $SERIES kernel did not boot to /init"
                [ "$kind" = systemd ] && what="systemd did not boot to vmtest.service"
                skip "$NAME: $what (qemu exit $rc): ${why:-no output} (see $log)"
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
rootfs)
        [ $# -eq 2 ] || die "usage: vmtest.sh rootfs CACHE_DIR"
        fetch_rootfs "$2"
        ;;
run)
        shift
        run_scenario "$@"
        ;;
*)
        die "usage: vmtest.sh fetch --kernel SERIES CACHE_DIR | vmtest.sh rootfs CACHE_DIR | vmtest.sh run [--kind kernel|systemd] --cache DIR --kernel SERIES --out DIR --scenario FILE --leaker BIN [--guard BIN] [--lsp-echo BIN] [--install BUILD] [--deb FILE] [--images DIR]"
        ;;
esac

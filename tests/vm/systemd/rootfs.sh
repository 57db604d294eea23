#!/bin/bash
# rootfs.sh — the recipe of the real-systemd tier's root filesystem: a
# Debian 12 minbase with systemd as PID 1, packed as one uncompressed newc
# archive that the kernel unpacks into its tmpfs root (rdinit=/sbin/init).
#
#   rootfs.sh MIRROR DEBOOTSTRAP_CACHE OUT.cpio     (as root)
#
# vmtest.sh rootfs calls it and keys the cached result by this file's
# content: changing SUITE, PACKAGES or any step below rebuilds the image.
# The guard itself is not in here: each test appends it (vmtest.sh
# install_guard), so a rebuilt guard never rebuilds the rootfs.
#
# Exit: 0; 77 when the machine cannot build it (no debootstrap, not root,
# no network), with the reason on stderr; 1 when a step fails.
set -euo pipefail

SUITE=bookworm
# systemd-sysv: /sbin/init.  dbus + libpam-systemd: logind, so that
# loginctl enable-linger starts user@UID.service.  dbus-user-session: the
# user bus a guard uses to ask its user manager for a scope.  The guard's own
# libraries (what its .deb will depend on).  procps, jq: the scenarios read
# processes, `journalctl -o json` and the delegation xattrs (getfattr).
PACKAGES=systemd,systemd-sysv,dbus,dbus-user-session,libpam-systemd,libcgroup2,libinih1,libjansson4,procps,jq,attr

unavailable() { printf 'rootfs: %s\n' "$*" >&2; exit 77; }
die() { printf 'rootfs: error: %s\n' "$*" >&2; exit 1; }

[ $# -eq 3 ] || die "usage: rootfs.sh MIRROR DEBOOTSTRAP_CACHE OUT.cpio"
mirror=$1 debs=$2 out=$3
command -v debootstrap >/dev/null || unavailable "debootstrap not installed (apt-get install debootstrap)"
command -v cpio >/dev/null || unavailable "cpio not installed (apt-get install cpio)"
[ "$(id -u)" -eq 0 ] || unavailable "building the rootfs needs root (debootstrap, chroot)"

root=$(mktemp -d "${out%/*}/.root.XXXXXX")
trap 'rm -rf "$root"' EXIT
# It becomes /: mktemp's 0700 would lock every unprivileged process out of
# the whole tree (dbus-daemon could not even reach systemd's notify socket).
chmod 0755 "$root"
mkdir -p "$debs"
# --cache-dir keeps the downloaded .debs: a rebuild after a recipe change
# fetches only what changed.
if ! debootstrap --variant=minbase --include="$PACKAGES" --cache-dir="$debs" \
        "$SUITE" "$root" "$mirror" >"$out.debootstrap.log" 2>&1; then
        if grep -qE 'Failed getting release file|Couldn.t download|Temporary failure resolving' "$out.debootstrap.log"; then
                unavailable "debootstrap $SUITE from $mirror could not download (no network?): $(grep -m1 -E 'E: |W: ' "$out.debootstrap.log")"
        fi
        die "debootstrap $SUITE failed: $(grep -m1 -E '^E: ' "$out.debootstrap.log" || tail -n 1 "$out.debootstrap.log") (see $out.debootstrap.log)"
fi

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

echo vmtest >"$root/etc/hostname"
printf '127.0.0.1 localhost vmtest\n' >"$root/etc/hosts"
# Empty: systemd generates a machine id at each boot (a fresh machine each test).
: >"$root/etc/machine-id"
# Root logs in nowhere, but su from root to the test user must work.
in_root passwd -d root >/dev/null
# The unprivileged user of the scenarios (tests/vm/lib.sh: uid 1000, "u").
in_root useradd --uid 1000 --user-group --create-home --shell /bin/sh u

# Without udev no device unit ever appears: a getty (serial-getty@ttyS0 from
# console=ttyS0) would wait 90 s for its tty.  The console belongs to the
# test runner.  Timers and jobs that do nothing useful in a throwaway VM go too,
# and so does what only costs boot time on its one emulated CPU (systemd-analyze
# blame: ~1 s each under TCG): no modprobe in minbase, no disk to remount or
# scrub, users made at build time, no persistent random seed, debug mounts.
for unit in getty.target serial-getty@ttyS0.service getty@tty1.service console-getty.service \
        apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer \
        systemd-timesyncd.service systemd-networkd-wait-online.service \
        systemd-journal-flush.service systemd-update-utmp.service systemd-update-utmp-runlevel.service \
        systemd-tmpfiles-clean.timer \
        modprobe@.service systemd-modules-load.service systemd-remount-fs.service e2scrub_reap.service \
        systemd-sysusers.service systemd-random-seed.service \
        dev-hugepages.mount sys-kernel-debug.mount sys-kernel-tracing.mount; do
        ln -sf /dev/null "$root/etc/systemd/system/$unit"
done
in_root systemctl set-default multi-user.target >/dev/null 2>&1
mkdir -p "$root/etc/systemd/journald.conf.d"
# The console is the test protocol's: the journal stays in memory and off it.
printf '[Journal]\nStorage=volatile\nForwardToConsole=no\n' >"$root/etc/systemd/journald.conf.d/vmtest.conf"

# Smaller archive, faster unpacking under TCG: no docs, manuals, locales,
# package lists or downloaded .debs.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
        "$root"/usr/share/locale/* "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
        "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log

(cd "$root" && find . | cpio -o -H newc --quiet) >"$out.tmp"
mv -f "$out.tmp" "$out"

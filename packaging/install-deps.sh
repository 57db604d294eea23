#!/bin/bash
# install-deps.sh — everything gopls-guard needs to build, test and run a
# guarded gopls on a fresh Debian 12 machine (run as root).
#
#   build:   gcc, cmake, pkg-config, libsystemd, libcgroup, inih, jansson
#   tier 2:  qemu (TCG), busybox-static, cpio; the kernels themselves
#            (Debian 12's 6.1, Debian 13's 6.12) are fetched by
#            tests/debian-pkg.sh with a private apt state, into GUARD_CACHE_DIR
#   systemd tier: debootstrap builds its Debian 12 rootfs (into GUARD_CACHE_DIR)
#   tier 3:  golang-go, gopls, node + npm (vscode-jsonrpc comes from npm)
#   fuzz:    clang and its compiler-rt (libFuzzer, sanitizer runtimes)
#   package: debhelper, dpkg-dev, lintian (packaging/build-deb.sh, label
#            package); man-db, whose man(1) systemd-analyze verify runs
#            for the units' Documentation= (label units)
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps.sh: run as root (apt-get install)" >&2
        exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkgs=(gcc make cmake pkg-config libc6-dev
      libsystemd-dev libcgroup-dev libinih-dev libjansson-dev
      qemu-system-x86 busybox-static cpio debootstrap
      golang-go gopls
      clang libclang-rt-14-dev
      debhelper dpkg-dev lintian man-db)
# The machine image may carry a newer Node.js than Debian's; keep it.
command -v node >/dev/null || pkgs+=(nodejs)
command -v npm >/dev/null || pkgs+=(npm)
# integration/scope: a private bus for a scripted systemd manager.
pkgs+=(dbus)

apt-get update -q
apt-get install -y -q --no-install-recommends "${pkgs[@]}"

#!/bin/bash
# openmetrics-node-exporter.sh — openmetrics.sh with Debian 12's
# prometheus-node-exporter reading the output through its textfile
# collector.  The package is fetched by tests/debian-pkg.sh into
# GUARD_CACHE_DIR and unpacked privately (nothing is installed, no
# service started); skipped (77) when it cannot be had.
#
#   openmetrics-node-exporter.sh GOPLS_GUARD_TEST LSP_ECHO OM_CHECK
set -u
here=$(dirname "${BASH_SOURCE[0]}")
line=$(bash "$here/../debian-pkg.sh" fetch bookworm prometheus-node-exporter)
rc=$?
[ "$rc" -eq 0 ] || { echo "SKIP: prometheus-node-exporter cannot be had (debian-pkg.sh exit $rc)"; exit 77; }
deb=${line##* }
dir=$(mktemp -d /tmp/node-exporter-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
dpkg-deb -x "$deb" "$dir" || { echo "FAIL: cannot unpack $deb"; exit 1; }
NODE_EXPORTER=$dir/usr/bin/prometheus-node-exporter bash "$here/openmetrics.sh" "$@"

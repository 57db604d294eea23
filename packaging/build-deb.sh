#!/bin/bash
# build-deb.sh OUTDIR — build the gopls-guard Debian package from this source
# tree and put gopls-guard_VERSION_ARCH.deb (with its .changes, .buildinfo
# and the -dbgsym package) into OUTDIR.  Prints the .deb's path last.
#
# The source is copied to a temporary directory first (packaging/debian
# becomes debian/ there): the source tree is never written to, so this runs
# from a read-only checkout and beside a developer's own build/.
# Needs what packaging/install-deps.sh installs (debhelper, dpkg-dev; no
# fakeroot: the package declares Rules-Requires-Root: no).
#
#   KEEP_TMP=1              keep the temporary build directory (its path is printed)
#   DEB_BUILD_OPTIONS=nocheck  build only what is installed, run no test
#                           (the package's own check is the unit tier)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: build-deb.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh; do
        command -v "$tool" >/dev/null || {
                echo "build-deb.sh: $tool is missing (bash packaging/install-deps.sh installs it)" >&2
                exit 1
        }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gopls-guard-deb.XXXXXX")
cleanup() {
        if [ -n "${KEEP_TMP:-}" ]; then echo "build-deb.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
src=$tmp/gopls-guard

# The files of the tree as they are now, uncommitted edits included, but
# nothing ignored (build directories, node_modules) and no .git.
mkdir "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$top" && git ls-files -z --cached --others --exclude-standard) |
                (cd "$top" && while IFS= read -r -d '' f; do
                        [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
                done) |
                tar -C "$top" --null -T - -cf - | tar -C "$src" -xf -
else
        tar -C "$top" --exclude='./build*' --exclude=node_modules --exclude=./debian -cf - . |
                tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -r "$top/packaging/debian" "$src/debian"

# The package's version is the project's: a changelog that says otherwise
# is a mistake made when bumping one of them.
cmake_version=$(sed -n 's/^project(gopls-guard VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
deb_version=$(cd "$src" && dpkg-parsechangelog -SVersion)
if [ "$cmake_version" != "$deb_version" ]; then
        echo "build-deb.sh: packaging/debian/changelog has $deb_version, CMakeLists.txt $cmake_version" >&2
        exit 1
fi

(cd "$src" && dpkg-buildpackage -us -uc -b -jauto) > "$tmp/build.log" 2>&1 || {
        echo "build-deb.sh: dpkg-buildpackage failed; the last lines of its log:" >&2
        tail -n 40 "$tmp/build.log" >&2
        exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
base=gopls-guard_${deb_version}_${arch}
for f in "$tmp/$base.deb" "$tmp/$base.changes" "$tmp/$base.buildinfo" \
         "$tmp/gopls-guard-dbgsym_${deb_version}_${arch}.deb"; do
        [ -e "$f" ] && cp "$f" "$out/"
done
cp "$tmp/build.log" "$out/$base.build.log"
echo "$out/$base.deb"

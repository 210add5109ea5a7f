#!/usr/bin/env bash
# build-upgrade-deb.sh DEB_DIR: the package the systemd test upgrades to:
# this tree with a version above DEB_DIR's package (VERSION+systemdtest1) and
# a BPF object that differs: one blank line added near the top of
# bpf/exec.bpf.c, so the object's line info, and so its build id, change
# while the programs' instructions do not. Into DEB_DIR/upgrade/; rebuilt
# only when DEB_DIR's package is newer.
set -euo pipefail
die() { printf 'systemdtest: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 && -d $1 ]] || { echo "usage: build-upgrade-deb.sh DEB_DIR" >&2; exit 2; }
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
debs=$(cd "$1" && pwd)
mapfile -t old < <(find "$debs" -maxdepth 1 -name 'actgate_*.deb')
((${#old[@]} == 1)) || die "expected one actgate_*.deb in $debs (make deb)"
version=$(dpkg-deb -f "${old[0]}" Version)+systemdtest1
updir=$debs/upgrade
new=$updir/actgate_${version}_$(dpkg --print-architecture).deb
[[ ! -f $new || $new -ot ${old[0]} ]] || exit 0
printf 'systemdtest: building the upgrade package %s\n' "$version" >&2
src=$updir/tree
rm -rf "$src"
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) |
	tar -xf - -C "$src"
sed -i '1a\\' "$src/bpf/exec.bpf.c"
# build-deb.sh packages what git lists.
(cd "$src" && git init -q . && git add -A)
DEB_BUILD_OPTIONS=nocheck ACTGATE_DEB_VERSION=$version ACTGATE_DEB_SOURCE=$src \
	"$top/debian/build-deb.sh" "$updir" >/dev/null || die "cannot build the upgrade package"
rm -rf "$src"

#!/usr/bin/env bash
# build-deb.sh OUT_DIR: the Debian package of this tree (debian/), built from a
# copy in OUT_DIR/src so that debhelper's files and the package's build
# directory stay out of the worktree, then checked with lintian. The .deb,
# .changes and .buildinfo land in OUT_DIR. Used by `make deb`.
#
# Env: DEB_BUILD_OPTIONS (e.g. nocheck), ACTGATE_DEB_VERSION (a version to
# build instead of debian/changelog's, with its own changelog entry: the
# systemd test's upgrade target), ACTGATE_DEB_SOURCE (the tree to package,
# default this one).
set -euo pipefail

die() { printf 'deb: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 ]] || { echo "usage: build-deb.sh OUT_DIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
src=${ACTGATE_DEB_SOURCE:-$here}
mkdir -p "$1"
out=$(cd "$1" && pwd)

for tool in dpkg-buildpackage dh lintian fakeroot; do
	command -v "$tool" >/dev/null 2>&1 ||
		die "$tool not found: make deps installs debhelper, dpkg-dev, fakeroot and lintian"
done
# Build-Depends, as dpkg-checkbuilddeps reads them from debian/control.
(cd "$src" && dpkg-checkbuilddeps) || die "missing build dependencies (make deps installs them)"

version=$(cd "$src" && dpkg-parsechangelog -SVersion)
work=$out/src
rm -rf "$work"
mkdir -p "$work/actgate"
# The tracked files and new ones not ignored: what the worktree holds, no
# build directories.
(cd "$src" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) |
	tar -xf - -C "$work/actgate" || die "cannot copy $src into $work"

if [[ -n ${ACTGATE_DEB_VERSION:-} ]]; then
	version=$ACTGATE_DEB_VERSION
	{
		printf 'actgate (%s) unstable; urgency=medium\n\n' "$version"
		printf '  * Build %s of the same sources, for the upgrade test.\n\n' "$version"
		printf ' -- actgate maintainers <maintainers@users.noreply.r-seed-dc10df4c.example>  %s\n\n' \
			"$(date -R)"
		cat "$work/actgate/debian/changelog"
	} >"$work/actgate/debian/changelog.new"
	mv "$work/actgate/debian/changelog.new" "$work/actgate/debian/changelog"
fi

arch=$(dpkg --print-architecture)
echo "deb: building actgate $version ($arch) in $work" >&2
(cd "$work/actgate" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1 || {
	tail -n 40 "$out/build.log" >&2
	die "dpkg-buildpackage failed (whole log: $out/build.log)"
}
changes=$work/actgate_${version}_${arch}.changes
deb=actgate_${version}_${arch}.deb
[[ -f $changes && -f $work/$deb ]] || die "dpkg-buildpackage made no $deb"
# The package, its debug symbols (actgate-dbgsym) and the .changes naming both.
rm -f "$out"/actgate*.deb "$out"/actgate_*.changes "$out"/actgate_*.buildinfo
mv "$work"/actgate*_"${version}"_"${arch}".deb "$work"/actgate_"${version}"_"${arch}".{changes,buildinfo} "$out/"

# Clean means no error and no warning; info and pedantic tags are shown.
echo "deb: lintian $deb" >&2
lintian --fail-on error,warning --info "$out/actgate_${version}_${arch}.changes" >&2 ||
	die "lintian found errors or warnings (above); fix them or override with a reason (debian/actgate.lintian-overrides)"
echo "deb: $out/$deb"

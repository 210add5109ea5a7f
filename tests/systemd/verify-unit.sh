#!/usr/bin/env bash
# verify-unit.sh DEB_DIR: `systemd-analyze verify` of actgated.service as the
# package installs it: the package unpacked into a scratch root beside this
# system's own units (what the unit names, sysinit.target and the rest), so
# that the ExecStart=/ExecReload= binaries are the package's. The man pages
# the unit names are checked as man(1) renders them (warnings fail).
set -euo pipefail
die() { printf 'verify-unit: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 && -d $1 ]] || { echo "usage: verify-unit.sh DEB_DIR" >&2; exit 2; }
mapfile -t debs < <(find "$1" -maxdepth 1 -name 'actgate_*.deb')
((${#debs[@]} == 1)) || die "expected one actgate_*.deb in $1 (make deb)"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dpkg-deb -x "${debs[0]}" "$root"
mkdir -p "$root/usr/lib/systemd"
# This system's units, ours kept.
cp -an /usr/lib/systemd/system "$root/usr/lib/systemd/" 2>/dev/null || cp -an /lib/systemd/system "$root/usr/lib/systemd/"
ln -s usr/lib "$root/lib"
out=$(systemd-analyze verify --root="$root" --man=no /usr/lib/systemd/system/actgated.service 2>&1) || {
	printf '%s\n' "$out" >&2
	die "systemd-analyze verify failed"
}
[[ -z $out ]] || { printf '%s\n' "$out" >&2; die "systemd-analyze verify warned"; }
for page in "$root"/usr/share/man/man1/actgate.1.gz "$root"/usr/share/man/man8/actgated.8.gz; do
	warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || true
	[[ -z $warn ]] || die "${page##*/}: man(1) warns: $warn"
done
echo "verify-unit: actgated.service verifies (systemd $(systemd-analyze --version | awk 'NR == 1 { print $2 }'))"

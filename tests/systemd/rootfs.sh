#!/usr/bin/env bash
# rootfs.sh: print the path of a cached Debian bookworm root file
# system whose init is systemd (a directory), built with mmdebstrap from the apt mirror this
# machine uses, with what the actgate package needs to install (its shared
# libraries). Cached under ${SYSTEMDTEST_CACHE:-$HOME/.cache/actgate/systemd}/
# <key>/rootfs/, the key being a hash of the mirror, the suite and the
# package list: a rerun with the same list uses no network.
set -euo pipefail

die() { printf 'systemdtest: %s\n' "$*" >&2; exit 1; }
say() { printf 'systemdtest: %s\n' "$*" >&2; }

suite=bookworm
# systemd as init and udev (device units for the root disk and the console);
# the package's Depends; procps (pgrep) and e2fsprogs for the test.
packages=(systemd systemd-sysv udev libbpf1 libelf1 libyaml-0-2 libjansson4 libssl3 zlib1g libcurl4 libmicrohttpd12
	procps init-system-helpers)

# The first bookworm Debian mirror of the system's sources (deb822 or one-line).
mirror=''
if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
	mirror=$(awk 'tolower($1) == "uris:" { u = $2 } tolower($1) == "suites:" && / bookworm( |$)/ && u != "" { print u; exit }' \
		/etc/apt/sources.list.d/debian.sources)
fi
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
	mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list)
fi
[[ -n $mirror ]] || mirror=http://deb.debian.org/debian

cache_root=${SYSTEMDTEST_CACHE:-${HOME:?HOME is not set}/.cache/actgate/systemd}
key=$(printf '%s\n' "rootfs-v1" "$suite" "$mirror" "${packages[@]}" | sha256sum | cut -c1-16)
dest=$cache_root/$key
if [[ -e $dest/complete && ${SYSTEMDTEST_REFRESH:-0} != 1 ]]; then
	printf '%s\n' "$dest/rootfs"
	exit 0
fi

command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap not found (make deps installs it)"
[[ $(id -u) -eq 0 ]] || die "building the root file system needs root (mmdebstrap's root mode)"
mkdir -p "$dest"
# --one-file-system: never into a /proc or /dev an interrupted mmdebstrap left mounted.
rm -rf --one-file-system "$dest/rootfs.tmp"
exec 9>"$dest/.lock"
flock 9
if [[ -e $dest/complete && ${SYSTEMDTEST_REFRESH:-0} != 1 ]]; then
	printf '%s\n' "$dest/rootfs"
	exit 0
fi
list=$(IFS=,; echo "${packages[*]}")
say "building a $suite root file system with systemd from $mirror (cached as $dest)"
mmdebstrap --quiet --mode=root --variant=minbase --include="$list" \
	--customize-hook='echo actgate-systemdtest > "$1/etc/hostname"' \
	--customize-hook='rm -f "$1"/etc/machine-id && touch "$1"/etc/machine-id' \
	"$suite" "$dest/rootfs.tmp" "deb $mirror $suite main" >"$dest/mmdebstrap.log" 2>&1 || {
	tail -n 30 "$dest/mmdebstrap.log" >&2
	die "mmdebstrap failed (log: $dest/mmdebstrap.log)"
}
rm -rf --one-file-system "$dest/rootfs"
mv "$dest/rootfs.tmp" "$dest/rootfs"
touch "$dest/complete" # last: an interrupted build is never taken for a hit
say "cached $dest/rootfs"
printf '%s\n' "$dest/rootfs"

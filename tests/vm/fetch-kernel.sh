#!/usr/bin/env bash
# fetch-kernel.sh 6.1|6.12 — print the path of an unpacked Debian cloud vmlinuz.
#
#   6.1   bookworm's kernel: the package that the metapackage
#         linux-image-cloud-amd64 depends on, through the system's apt.
#   6.12  trixie's kernel, resolved through a private apt state (its own
#         sources, lists and cache) so the system's apt configuration and
#         lists stay untouched.
#
# The kernel is cached under ${VMTEST_CACHE:-$HOME/.cache/actgate/vm}/<version>/;
# a cache hit uses no network. VMTEST_REFRESH=1 fetches again (e.g. to pick up
# a newer Debian kernel). Only the kernel image and its config are kept.
set -euo pipefail

die() { printf 'vmtest: %s\n' "$*" >&2; exit 1; }
say() { printf 'vmtest: %s\n' "$*" >&2; }

usage() {
	cat <<'EOF'
usage: fetch-kernel.sh 6.1|6.12

Prints the path of an unpacked vmlinuz of Debian's cloud kernel (6.1 from
bookworm, 6.12 from trixie), downloading it on first use and caching it under
${VMTEST_CACHE:-$HOME/.cache/actgate/vm}/<version>/.
Env: VMTEST_CACHE (cache root), VMTEST_REFRESH=1 (ignore the cache).
EOF
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
6.1|6.12) version=$1 ;;
'') usage >&2; exit 2 ;;
*) die "unknown kernel version '$1' (expected 6.1 or 6.12)" ;;
esac

cache_root=${VMTEST_CACHE:-${HOME:?HOME is not set}/.cache/actgate/vm}
dest=$cache_root/$version
meta=linux-image-cloud-amd64

# check_config CONFIG_FILE: the kernel must be able to run BPF LSM programs
# with CO-RE; say exactly what is missing otherwise.
check_config() {
	local cfg=$1 opt bad=()
	for opt in CONFIG_BPF_LSM CONFIG_DEBUG_INFO_BTF CONFIG_BPF_SYSCALL; do
		grep -qx "$opt=y" "$cfg" || bad+=("$opt")
	done
	((${#bad[@]} == 0)) ||
		die "kernel config $cfg lacks ${bad[*]}=y: this kernel cannot run actgate's BPF LSM programs"
}

# A complete cache entry: boot/vmlinuz-REL + boot/config-REL + the marker
# `release` (written last, so an interrupted fetch is never taken for a hit).
cached_vmlinuz() {
	local rel
	[[ -s $dest/release ]] || return 1
	rel=$(<"$dest/release")
	[[ -s $dest/boot/vmlinuz-$rel && -s $dest/boot/config-$rel ]] || return 1
	check_config "$dest/boot/config-$rel"
	printf '%s\n' "$dest/boot/vmlinuz-$rel"
}

if [[ ${VMTEST_REFRESH:-0} != 1 ]] && cached_vmlinuz; then
	exit 0
fi

for tool in apt-get apt-cache dpkg-deb flock; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (needs a Debian-based system)"
done

mkdir -p "$dest" || die "cannot create cache directory $dest"
# One fetch per version at a time (parallel CI jobs share the cache).
exec 9>"$dest/.lock"
flock 9
if [[ ${VMTEST_REFRESH:-0} != 1 ]] && cached_vmlinuz; then
	exit 0 # another process fetched it while we waited
fi

work=$(mktemp -d "$dest/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The work dir is private (mode 700): apt's _apt sandbox user could not
# write there, so download as the caller.
apt_opts=(-o "APT::Sandbox::User=$(id -un)")
if [[ $version == 6.12 ]]; then
	# Private apt state for trixie. The sources entry copies the system's
	# Debian entry (URIs, Signed-By) and only changes the suite.
	sys_sources=/etc/apt/sources.list.d/debian.sources
	uris='' signed_by=''
	if [[ -r $sys_sources ]]; then
		# First stanza whose Suites include a bookworm suite.
		read -r uris signed_by < <(awk '
			function flush() {
				if (!done && suites ~ /(^| )bookworm( |$)/ && uris != "") {
					print uris, (sb == "" ? "-" : sb); done = 1
				}
				uris = ""; suites = ""; sb = ""
			}
			/^[[:space:]]*$/ { flush(); next }
			/^[[:space:]]*#/ { next }
			tolower($1) == "uris:"      { uris = $2 }
			tolower($1) == "suites:"    { $1 = ""; suites = $0 " " }
			tolower($1) == "signed-by:" { sb = $2 }
			END { flush() }' "$sys_sources") || true
	fi
	if [[ -z $uris ]]; then
		uris=http://deb.debian.org/debian
		say "no bookworm entry in $sys_sources; using $uris"
	fi
	[[ $signed_by != - && -n $signed_by ]] ||
		signed_by=/usr/share/keyrings/debian-archive-keyring.gpg
	[[ -r $signed_by ]] || die "keyring $signed_by not readable (install debian-archive-keyring)"

	mkdir -p "$work/apt/sources" "$work/apt/prefs" "$work/apt/lists/partial" \
		"$work/apt/cache/archives/partial"
	cat >"$work/apt/sources/trixie.sources" <<EOF
Types: deb
URIs: $uris
Suites: trixie
Components: main
Signed-By: $signed_by
EOF
	apt_opts+=(
		-o "Dir::Etc::SourceList=/dev/null"
		-o "Dir::Etc::SourceParts=$work/apt/sources"
		-o "Dir::Etc::Preferences=/dev/null"
		-o "Dir::Etc::PreferencesParts=$work/apt/prefs"
		-o "Dir::State::Lists=$work/apt/lists"
		-o "Dir::State::status=/dev/null"
		-o "Dir::Cache=$work/apt/cache"
		-o "Debug::NoLocking=1"
		-o "APT::Architecture=amd64"
		-o "APT::Architectures=amd64"
	)
	say "resolving trixie's $meta (private apt state)"
	apt-get "${apt_opts[@]}" -qq update </dev/null >"$work/update.log" 2>&1 || {
		cat "$work/update.log" >&2
		die "apt-get update for trixie failed (private apt state, sources $uris, keyring $signed_by)"
	}
	# Signature problems are only warnings for apt-get update: refuse them.
	if grep -Eq 'NO_PUBKEY|EXPKEYSIG|BADSIG|not signed|InRelease.*(invalid|error)' "$work/update.log"; then
		cat "$work/update.log" >&2
		die "trixie's Release file did not verify with $signed_by"
	fi
fi

# resolve: the versioned image package that the metapackage depends on.
resolve() {
	apt-cache "${apt_opts[@]}" depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

pkg=$(resolve || true)
if [[ -z $pkg && $version == 6.1 ]]; then
	# The system's lists may be missing or old (fresh machine).
	[[ $(id -u) -eq 0 ]] ||
		die "apt does not know $meta and updating the system's lists needs root: run 'apt-get update' as root"
	say "apt does not know $meta: running apt-get update"
	apt-get -qq update </dev/null >&2 || die "apt-get update failed"
	pkg=$(resolve || true)
fi
[[ -n $pkg ]] || die "cannot resolve $meta to a kernel package for $version"
case $version:$pkg in
6.1:linux-image-6.1.*|6.12:linux-image-6.12.*) ;;
*) die "$meta resolved to $pkg, which is not a $version kernel" ;;
esac
say "fetching $pkg"

download() { (cd "$work" && apt-get "${apt_opts[@]}" -qq download "$pkg" </dev/null >&2); }
if ! download; then
	if [[ $version == 6.1 && $(id -u) -eq 0 ]]; then
		# Stale lists point at a version the mirror no longer has.
		say "download failed: running apt-get update and retrying"
		apt-get -qq update </dev/null >&2 || die "apt-get update failed"
		pkg=$(resolve) || die "cannot resolve $meta after apt-get update"
		download || die "apt-get download $pkg failed"
	else
		die "apt-get download $pkg failed"
	fi
fi

debs=("$work"/linux-image-*.deb)
[[ -f ${debs[0]} ]] || die "apt-get download $pkg produced no .deb"
dpkg-deb -x "${debs[0]}" "$work/root" || die "dpkg-deb -x ${debs[0]} failed"

vmlinuz=$(find "$work/root/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit 2>/dev/null || true)
[[ -n $vmlinuz ]] || die "package $pkg contains no boot/vmlinuz-*"
rel=${vmlinuz##*/vmlinuz-}
[[ -s $work/root/boot/config-$rel ]] || die "package $pkg contains no boot/config-$rel"
check_config "$work/root/boot/config-$rel"

# Keep only what booting needs (the modules are large and unused: the VM
# boots an initramfs without modules).
rm -rf "${dest:?}/boot" "${dest:?}/release"
mkdir -p "$dest/boot"
mv "$work/root/boot/vmlinuz-$rel" "$work/root/boot/config-$rel" "$dest/boot/"
printf '%s\n' "$pkg" >"$dest/package"
printf '%s\n' "$rel" >"$dest/release"
say "cached $pkg ($rel) in $dest"
cached_vmlinuz

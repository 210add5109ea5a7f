#!/usr/bin/env bash
# install-deps.sh PKG... — install the Debian packages that are missing.
#
# Idempotent: packages already installed are left alone, and `apt-get update`
# runs only when something has to be installed. Safe without stdin or a tty
# (CI=true): apt runs non-interactively with -y. When nothing is missing it
# prints one short line and touches nothing.
set -euo pipefail

die() { printf 'vmtest: %s\n' "$*" >&2; exit 1; }

usage() {
	cat <<'EOF'
usage: install-deps.sh PKG...

Installs those of the named Debian packages that are not installed yet
(apt-get update runs first, only when something is missing). Needs root when
anything is missing.
EOF
}

case "${1:-}" in
-h|--help) usage; exit 0 ;;
'') usage >&2; exit 2 ;;
esac

command -v dpkg-query >/dev/null 2>&1 ||
	die "dpkg-query not found: install-deps.sh needs a Debian-based system"

missing=()
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)
	# "ii " = installed; anything else (absent, half-installed, removed
	# with config left, ...) needs an install.
	[[ $status == ii* ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
	echo "vmtest: dependencies present ($#)"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	die "missing packages: ${missing[*]}; run as root (e.g. sudo $0 $*) or install them: apt-get install ${missing[*]}"
fi

export DEBIAN_FRONTEND=noninteractive
echo "vmtest: installing missing packages: ${missing[*]}"
apt-get update -qq </dev/null ||
	die "apt-get update failed (see above)"
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null ||
	die "apt-get install ${missing[*]} failed (see above)"

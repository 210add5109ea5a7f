#!/usr/bin/env bash
# make demo: a real workload under a real policy, then its replayed decisions.
# Natively where this kernel enforces BPF LSM programs, otherwise inside the
# bundled VM (Debian's 6.1 cloud kernel under qemu, as the VM tests use).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=build
kernel=${DEMO_KERNEL:-6.1}
force_vm=${DEMO_VM:-0}

usage() {
	cat <<USAGE
usage: demo/demo.sh [--build DIR] [--vm] [--kernel 6.1|6.12]
Runs demo/workload-demo.sh: starts actgated with a demo policy, runs a CI-like
workload through 'actgate run', shows what was allowed and denied, and replays
the journal. Native when the BPF LSM is active and programs load here,
otherwise in the VM. Env: DEMO_VM=1 forces the VM; DEMO_KERNEL picks its kernel.
USAGE
}

while (($#)); do
	case $1 in
	--build) build=$2; shift 2 ;;
	--vm) force_vm=1; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "demo: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
build=$(cd "$build" && pwd)
for bin in actgated actgate tests/actprobe; do
	[[ -x $build/$bin ]] || { echo "demo: $build/$bin is missing: run make first" >&2; exit 1; }
done

native_reason=''
if [[ $force_vm == 1 ]]; then
	native_reason='DEMO_VM=1'
elif [[ $(id -u) != 0 ]]; then
	native_reason='not running as root'
elif ! grep -qsw bpf /sys/kernel/security/lsm; then
	native_reason='the BPF LSM is not active on this kernel (no "bpf" in /sys/kernel/security/lsm)'
fi

if [[ -z $native_reason ]]; then
	work=$(mktemp -d /tmp/actgate-demo.XXXXXX)
	echo "demo: the BPF LSM is active here: running natively in $work"
	set +e
	(cd "$work" && PATH="$build:$build/tests:$PATH" DEMO_NATIVE=1 sh "$here/workload-demo.sh")
	rc=$?
	set -e
	# 3: actgated could not load or attach its programs here; the VM can.
	[[ $rc == 3 ]] || exit "$rc"
	native_reason='actgated could not attach its programs on this kernel'
fi

echo "demo: $native_reason: running in the VM (Debian's $kernel cloud kernel under qemu)"
exec "$here/../tests/vm/run.sh" --kernel "$kernel" --build "$build" --demo "$here/workload-demo.sh"

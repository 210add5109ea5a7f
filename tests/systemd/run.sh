#!/usr/bin/env bash
# run.sh — the systemd test: the actgate package on a Debian system whose init
# is systemd, in qemu. `run.sh --help` says how.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)

die() { printf 'systemdtest: %s\n' "$*" >&2; exit 2; }
say() { printf 'systemdtest: %s\n' "$*" >&2; }

usage() {
	cat <<'EOF'
usage: run.sh --kernel 6.1|6.12 --debs DIR [--timeout SECONDS]

Boots a Debian bookworm root file system whose init is systemd (mmdebstrap,
cached by rootfs.sh) on an NVMe disk image (mke2fs -d, no mount, no loop
device) with the VM suite's kernel (tests/vm/fetch-kernel.sh; lsm=...,bpf),
and runs guest-test.sh there once multi-user.target is reached:

  boot 1  dpkg -i DIR/actgate_*.deb (postinst enables and starts), the unit
          verified and its exposure score, systemctl enable --now (readiness),
          rules on /tmp and /home hold under the sandbox, systemctl reload with
          a good then a broken policy (the reload must fail), systemctl kill -s
          KILL (enforcement meanwhile, Restart=, the outage journaled); reboot
  boot 2  a unit ordered After=actgated.service is governed from its first
          action; dpkg -i of an upgrade whose BPF object differs, while a
          governed workload acts; dpkg -r (daemon stopped, pins enforcing) and
          dpkg -P (says how to detach)

The upgrade package, DIR/upgrade/actgate_VERSION+systemdtest1_ARCH.deb, is
built by build-upgrade-deb.sh DIR (make systemdtest runs it).

Output: one line per check (PASS/FAIL/SKIP), then "N passed, N failed,
N skipped". Exit 0 when nothing failed. Console log: build/systemd/<kernel>/.

Environment: SYSTEMDTEST_CACHE (root file system cache, default
~/.cache/actgate/systemd), VMTEST_CACHE (kernels), SYSTEMDTEST_VERBOSE=1
(stream the console).
EOF
}

kernel='' debs='' timeout=${SYSTEMDTEST_TIMEOUT:-2400}
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=${2:-}; shift 2 ;;
	--debs) debs=${2:-}; shift 2 ;;
	--timeout) timeout=${2:-}; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[[ $kernel == 6.1 || $kernel == 6.12 ]] || die "--kernel must be 6.1 or 6.12"
[[ -d $debs ]] || die "--debs DIR: the directory make deb wrote (build/deb)"
debs=$(cd "$debs" && pwd)
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds"
for tool in qemu-system-x86_64 mke2fs flock dpkg-deb; do
	command -v "$tool" >/dev/null 2>&1 || die "$tool not found (make deps)"
done
[[ $(id -u) -eq 0 ]] || die "needs root: the root file system's files keep their owners only when copied as root"

mapfile -t old < <(find "$debs" -maxdepth 1 -name 'actgate_*.deb')
((${#old[@]} == 1)) || die "expected one actgate_*.deb in $debs, found ${#old[@]} (make deb)"
version=$(dpkg-deb -f "${old[0]}" Version)

# The upgrade package (build-upgrade-deb.sh, run by make systemdtest).
upgrade_version=$version+systemdtest1
updir=$debs/upgrade
new=$updir/actgate_${upgrade_version}_$(dpkg --print-architecture).deb
[[ -f $new ]] || die "no upgrade package $new: tests/systemd/build-upgrade-deb.sh $debs builds it"

vmdir=$top/build/systemd/$kernel
mkdir -p "$vmdir"
exec 8>"$vmdir/.lock"
flock -n 8 || die "another run.sh is using $vmdir"

vmlinuz=$("$top/tests/vm/fetch-kernel.sh" "$kernel") || die "cannot get the $kernel kernel"
base=$("$here/rootfs.sh") || die "cannot build the root file system"

# ---------------------------------------------------------------- disk image
root=$vmdir/root
rm -rf --one-file-system "$root"
cp -a "$base" "$root"
install -D -m 0644 "${old[0]}" "$root/var/cache/actgate-test/old/${old[0]##*/}"
install -D -m 0644 "$new" "$root/var/cache/actgate-test/new/${new##*/}"
install -D -m 0755 "$here/guest-test.sh" "$root/usr/local/lib/actgate-test/guest-test.sh"
install -m 0644 "$here/actgate-systemdtest.service" "$here/actgate-early-probe.service" \
	"$root/etc/systemd/system/"
ln -sf /etc/systemd/system/actgate-systemdtest.service \
	"$root/etc/systemd/system/multi-user.target.wants/actgate-systemdtest.service"
# The test owns the serial console; nothing waits for a login.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
printf '/dev/nvme0n1 / ext4 rw,errors=remount-ro 0 1\n' >"$root/etc/fstab"
grep -q '^tester:' "$root/etc/passwd" ||
	echo 'tester:x:1000:1000:tester:/home/tester:/bin/sh' >>"$root/etc/passwd"
grep -q '^tester:' "$root/etc/group" || echo 'tester:x:1000:' >>"$root/etc/group"

disk=$vmdir/disk.raw
rm -f "$disk"
mke2fs -q -t ext4 -L actgate-root -d "$root" "$disk" 2G || die "mke2fs -d $root failed"
rm -rf --one-file-system "$root"

# ---------------------------------------------------------------- boot
# No -no-reboot: the test reboots the guest once, and qemu boots the same
# kernel and disk again; panic=0 keeps a panic from rebooting in a loop (the
# timeout ends it).
append="console=ttyS0 root=/dev/nvme0n1 rw rootfstype=ext4 lsm=lockdown,capability,landlock,bpf"
append+=" panic=0 quiet loglevel=3 systemd.show_status=0"
qemu=(qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -nic none
	-kernel "$vmlinuz" -append "$append"
	-drive "file=$disk,format=raw,if=none,id=root" -device "nvme,serial=actgate,drive=root")

log=$vmdir/console.log
fifo=$vmdir/console.fifo
rm -f "$fifo"
mkfifo "$fifo"
qpid=''
cleanup() {
	[[ -z $qpid ]] || kill "$qpid" 2>/dev/null || true
	rm -f "$fifo"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "booting $kernel ($(basename "$vmlinuz")) with systemd, package $version, upgrade $upgrade_version"
t0=$EPOCHREALTIME
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$fifo" 2>"$vmdir/qemu.stderr" &
qpid=$!

passed=0 failed=0 skipped=0 summary='' boots=0
exec 3>"$log"
while IFS= read -r line || [[ -n $line ]]; do
	line=${line%$'\r'}
	line=${line//$'\e'c/}
	while [[ $line =~ $'\e'\[[0-9\;?]*[A-Za-z] ]]; do
		line=${line/"${BASH_REMATCH[0]}"/}
	done
	printf '%s\n' "$line" >&3
	[[ ${SYSTEMDTEST_VERBOSE:-0} != 1 ]] || printf '%s\n' "$line" >&2
	case $line in
	*"SeaBIOS ("*)
		boots=$((boots + 1))
		say "boot $boots at $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')s"
		if ((boots > 2)); then
			say "a third boot: the guest rebooted unexpectedly"
			break
		fi ;;
	"ACTGATE-SD PASS "*) passed=$((passed + 1)); printf 'PASS    %s\n' "${line#ACTGATE-SD PASS }" ;;
	"ACTGATE-SD FAIL "*) failed=$((failed + 1)); printf 'FAIL    %s\n' "${line#ACTGATE-SD FAIL }" ;;
	"ACTGATE-SD SKIP "*) skipped=$((skipped + 1)); printf 'SKIP    %s\n' "${line#ACTGATE-SD SKIP }" ;;
	"ACTGATE-SD-INFO "*|"ACTGATE-SD-NOTE "*) say "${line#ACTGATE-SD-* }" ;;
	"    "*) [[ $failed -eq 0 ]] || printf '%s\n' "$line" ;;
	"ACTGATE-SD-SUMMARY "*) summary=${line#ACTGATE-SD-SUMMARY } ;;
	esac
done <"$fifo"
exec 3>&-
wait "$qpid" 2>/dev/null || true
qpid=''
total=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')

if [[ -z $summary ]]; then
	failed=$((failed + 1))
	say "the test did not finish (no summary line); last console lines ($log):"
	tail -n 40 "$log" | sed 's/^/    /' >&2
fi
say "$kernel: ${boots} boot(s), ${total}s in all; console log: $log"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))

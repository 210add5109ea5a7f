#!/usr/bin/env bash
# run.sh — boot a Debian cloud kernel in qemu (TCG) with an initramfs holding
# actgate's binaries and run scenario scripts in it. `run.sh --help` says how.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { printf 'vmtest: %s\n' "$*" >&2; exit 2; }
say() { printf 'vmtest: %s\n' "$*" >&2; }

usage() {
	cat <<'EOF'
usage: run.sh --kernel 6.1|6.12 --build BUILD_DIR --scenarios "DIR [DIR...]"
              [--timeout SECONDS] [--only NAME_GLOB] [--jobs N]
       run.sh --kernel 6.1|6.12 --build BUILD_DIR --demo SCRIPT

Boots Debian's cloud kernel (6.1 = bookworm, 6.12 = trixie; fetched and cached
by fetch-kernel.sh) in qemu with TCG and an initramfs built under
BUILD_DIR/vm/<kernel>/, then runs every DIR/*.sh scenario in name order, each
as `sh SCRIPT` in its own session, fresh working directory and timeout.

The initramfs holds busybox (every applet), BUILD_DIR/actgated,
BUILD_DIR/actgate and BUILD_DIR/tests/actprobe in /usr/bin with their shared
libraries, users root, tester (1000) and nobody (65534), tests/vm/lib.sh as
/actgate/lib.sh, and the scenarios in /actgate/scenarios/.

A scenario sees: cwd = $T = /tmp/scenario-NAME (fresh, mode 0777),
PATH=/usr/bin:/bin:/sbin:/usr/sbin, HOME=/root, ACTGATE_SCENARIO=NAME,
ACTGATE_KERNEL=6.1|6.12, ACTGATE_LIB=/actgate/lib.sh,
ACTGATE_SCENARIO_TIMEOUT, stdin /dev/null, uid 0. Mounted: proc, sysfs,
devtmpfs, tmpfs /tmp and /run, cgroup2 /sys/fs/cgroup, bpffs /sys/fs/bpf,
securityfs, debugfs; lo up (127.0.0.1 and ::1).
Exit 0 = pass, 77 = skip, anything else = fail. After each scenario every
process is killed and bpffs pins, child cgroups and /run/actgate,
/var/lib/actgate, /var/log/actgate, /etc/actgate are removed.

Options:
  --kernel K         6.1 or 6.12
  --build DIR        build directory holding actgated, actgate, tests/actprobe
  --scenarios DIRS   space-separated scenario directories (may be repeated)
  --only GLOB        run only scenarios whose name (file name without .sh)
                     matches GLOB, e.g. '1*' or '00-vm-sane'
  --timeout S        whole-VM timeout in seconds (default: $VMTEST_TIMEOUT or 3600)
  --jobs N           run the scenarios in N VMs at once (default: $VMTEST_JOBS
                     or 1), each VM one TCG thread: on 2 cores, --jobs 2 about
                     halves the suite's time. Scenarios are shared out by
                     their durations in the last run (BUILD_DIR/vm/<kernel>.times,
                     else tests/vm/durations, else 30 s each), longest first,
                     each to the least loaded VM; VM K's initramfs and console
                     log are under BUILD_DIR/vm/<kernel>-K/. The closing line
                     counts every VM's scenarios.
  --demo SCRIPT      demo mode: run only SCRIPT (cwd /actgate/demo, which also
                     holds lib.sh and every path in $VMTEST_DEMO_FILES), its
                     output streamed live; run.sh exits with its status
  -h, --help         this text

Environment:
  VMTEST_TIMEOUT           whole-VM timeout, seconds (default 3600: the whole suite under TCG, on a busy machine)
  VMTEST_SCENARIO_TIMEOUT  per-scenario timeout, seconds (default 180)
  VMTEST_CACHE             kernel cache (default ~/.cache/actgate/vm)
  VMTEST_DEMO_FILES        demo mode: files/dirs copied under /actgate/demo/
  VMTEST_EXTRA_BINS        more host executables to put in /usr/bin (with libs)
  VMTEST_HOST_FILES        a file listing host paths, one per line (# comments):
                           each copied into the initramfs at the same path
                           (symlinks followed), an ELF file with the shared
                           libraries ldd finds for it; how `make bench` puts
                           the Debian C toolchain in the VM for its build job
                           (tests/bench/build-job-files.sh writes the list)
  VMTEST_APPEND            extra kernel command-line arguments
  VMTEST_QEMU_ARGS         extra qemu options (the benchmarks use -icount)
  VMTEST_VERBOSE=1         stream the whole console while running
  VMTEST_JOBS              VMs at once, as --jobs

Output: one line per scenario (PASS/FAIL/SKIP/TIMEOUT, with the output of a
failed one), then "N passed, N failed[, N skipped]". Exit 0 when all passed
or skipped; 1 on any failure, timeout, boot failure or when no scenario ran;
2 on bad usage or a broken setup. The console log is kept at
BUILD_DIR/vm/<kernel>/console.log.
EOF
}

kernel='' build='' only='' demo='' timeout=${VMTEST_TIMEOUT:-3600} jobs=${VMTEST_JOBS:-1}
scenario_dirs=()
need_arg() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs an argument (see --help)"; }
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) need_arg "$@"; kernel=$2; shift 2 ;;
	--build) need_arg "$@"; build=$2; shift 2 ;;
	--scenarios)
		need_arg "$@"
		read -r -a dirs <<<"$2"
		scenario_dirs+=("${dirs[@]}")
		shift 2 ;;
	--only) need_arg "$@"; only=${2%.sh}; shift 2 ;;
	--timeout) need_arg "$@"; timeout=$2; shift 2 ;;
	--demo) need_arg "$@"; demo=$2; shift 2 ;;
	--jobs) need_arg "$@"; jobs=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done

scenario_timeout=${VMTEST_SCENARIO_TIMEOUT:-180}
[[ $kernel == 6.1 || $kernel == 6.12 ]] || die "--kernel must be 6.1 or 6.12 (see --help)"
[[ -n $build ]] || die "--build BUILD_DIR is required"
[[ -d $build ]] || die "build directory $build does not exist"
build=$(cd "$build" && pwd)
[[ $timeout =~ ^[1-9][0-9]*$ ]] || die "whole-VM timeout must be a positive integer of seconds, got '$timeout'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
[[ $scenario_timeout =~ ^[1-9][0-9]*$ ]] ||
	die "VMTEST_SCENARIO_TIMEOUT must be a positive integer of seconds, got '$scenario_timeout'"
if [[ -n $demo ]]; then
	((${#scenario_dirs[@]} == 0)) || die "--demo and --scenarios exclude each other"
	[[ -z $only ]] || die "--only does not apply to --demo"
	[[ -f $demo ]] || die "demo script $demo not found"
else
	((${#scenario_dirs[@]} > 0)) || die "--scenarios DIR or --demo SCRIPT is required (see --help)"
fi

missing_tools=()
for tool in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static cpio:cpio \
	gzip:gzip ldd:libc-bin timeout:coreutils flock:util-linux perl:perl-base; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || missing_tools+=("${tool#*:}")
done
((${#missing_tools[@]} == 0)) ||
	die "missing tools; install them with: $here/install-deps.sh ${missing_tools[*]}"

# ---------------------------------------------------------------- scenarios
declare -A origin=()
names=()
if [[ -z $demo ]]; then
	for dir in "${scenario_dirs[@]}"; do
		[[ -d $dir ]] || die "scenario directory $dir does not exist"
		# Scenarios run in name order: in one directory, one number each.
		declare -A numbered=()
		for script in "$dir"/*.sh; do
			[[ -f $script ]] || continue
			name=${script##*/}
			[[ $name =~ ^([0-9]+)- ]] || continue
			[[ -z ${numbered[${BASH_REMATCH[1]}]:-} ]] ||
				die "scenarios ${numbered[${BASH_REMATCH[1]}]} and $name in $dir share the number ${BASH_REMATCH[1]}"
			numbered[${BASH_REMATCH[1]}]=$name
		done
		unset numbered
		for script in "$dir"/*.sh; do
			[[ -f $script ]] || continue
			name=${script##*/}
			name=${name%.sh}
			# shellcheck disable=SC2053 # --only is a glob
			[[ -z $only || $name == $only ]] || continue
			[[ $name =~ ^[A-Za-z0-9._+-]+$ ]] ||
				die "scenario name '$name' ($script): use only letters, digits and . _ + -"
			[[ -z ${origin[$name]:-} ]] ||
				die "scenario $name exists twice: ${origin[$name]} and $script"
			origin[$name]=$(cd "$(dirname "$script")" && pwd)/${script##*/}
			names+=("$name")
		done
	done
	if ((${#names[@]} == 0)); then
		matching=''
		[[ -z $only ]] || matching=" matching '$only'"
		say "no scenarios found in ${scenario_dirs[*]}$matching"
		exit 1
	fi
	mapfile -t names < <(printf '%s\n' "${names[@]}" | LC_ALL=C sort)
	# One VM of several (run_shards below): only the scenarios given to it.
	if [[ -n ${VMTEST_SHARD_NAMES:-} ]]; then
		declare -A mine=()
		for name in $VMTEST_SHARD_NAMES; do mine[$name]=1; done
		kept=()
		for name in "${names[@]}"; do [[ -z ${mine[$name]:-} ]] || kept+=("$name"); done
		names=("${kept[@]}")
		unset mine kept
	fi
fi

times_file=$build/vm/$kernel.times
# save_times: this run's scenario durations, for the next --jobs run's share-out.
save_times() {
	local name tmp=$times_file.$$
	mkdir -p "${times_file%/*}"
	exec 7>"$times_file.lock"
	flock 7
	{
		[[ ! -f $times_file ]] || cat "$times_file"
		for name in "${!secs[@]}"; do printf '%s %s\n' "$name" "${secs[$name]}"; done
	} | awk '{ t[$1] = $2 } END { for (n in t) print n, t[n] }' | LC_ALL=C sort >"$tmp" &&
		mv "$tmp" "$times_file" || rm -f "$tmp"
	exec 7>&-
}

# run_shards: the scenarios in $jobs VMs at once, each a run.sh of its own
# (its own initramfs, console log and lock under BUILD_DIR/vm/<kernel>-K),
# then one closing line for all. Exits.
run_shards() {
	local -A weight=() load=()
	local name k best line shard_pids=() rc=0 passed=0 failed=0 skipped=0 p f s
	local durations=$here/durations
	for name in "${names[@]}"; do weight[$name]=30; done
	for f in "$durations" "$times_file"; do
		[[ -f $f ]] || continue
		while read -r name s; do
			[[ -n ${weight[$name]:-} && $s =~ ^[0-9]+$ ]] && weight[$name]=$s
		done <"$f"
	done
	local -a shard=()
	for ((k = 1; k <= jobs; k++)); do load[$k]=0; shard[k]=''; done
	# Longest first, each to the least loaded VM.
	while read -r _ name; do
		best=1
		for ((k = 2; k <= jobs; k++)); do ((load[$k] < load[$best])) && best=$k; done
		load[$best]=$((load[$best] + weight[$name]))
		shard[best]+=" $name"
	done < <(for name in "${names[@]}"; do printf '%s %s\n' "${weight[$name]}" "$name"; done |
		LC_ALL=C sort -k1,1nr -k2,2)
	say "$kernel: ${#names[@]} scenario(s) in $jobs VMs at once"
	for ((k = 1; k <= jobs; k++)); do
		[[ -n ${shard[k]} ]] || continue
		rm -f "$build/vm/$kernel-$k.summary"
		VMTEST_SHARD=$k VMTEST_SHARD_NAMES=${shard[k]} VMTEST_JOBS=1 \
			"$here/run.sh" --kernel "$kernel" --build "$build" --timeout "$timeout" \
			--scenarios "${scenario_dirs[*]}" ${only:+--only "$only"} </dev/null &
		shard_pids+=($!)
	done
	# shellcheck disable=SC2064 # the pids are known now
	trap "kill ${shard_pids[*]} 2>/dev/null; exit 130" INT TERM
	for p in "${shard_pids[@]}"; do wait "$p" || rc=1; done
	for ((k = 1; k <= jobs; k++)); do
		[[ -n ${shard[k]} ]] || continue
		if ! read -r p f s <"$build/vm/$kernel-$k.summary" 2>/dev/null; then
			say "VM $k of $jobs left no summary"
			failed=$((failed + 1)) rc=1
			continue
		fi
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
	done
	line="$passed passed, $failed failed"
	((skipped == 0)) || line+=", $skipped skipped"
	echo "$line"
	((rc == 0 && failed == 0)) || exit 1
	exit 0
}
if [[ -z $demo && -z ${VMTEST_SHARD:-} ]] && ((jobs > 1 && ${#names[@]} > 1)); then
	((jobs <= ${#names[@]})) || jobs=${#names[@]}
	run_shards
fi

vmdir=$build/vm/$kernel${VMTEST_SHARD:+-$VMTEST_SHARD}
root=$vmdir/initramfs
initrd=$vmdir/initramfs.cpio.gz
log=$vmdir/console.log
mkdir -p "$vmdir"
# Two runs for one kernel and build directory would overwrite each other's
# initramfs and console log.
exec 8>"$vmdir/.lock"
flock -n 8 || die "another run.sh is using $vmdir (wait for it, or use another --build directory)"

vmlinuz=$("$here/fetch-kernel.sh" "$kernel") || die "cannot get the $kernel kernel (see above)"

# ---------------------------------------------------------------- initramfs
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,home/tester,proc,sys,dev,tmp,run,var/lib,var/log,actgate/scenarios}
chmod 1777 "$root/tmp"

declare -A copied=()
# copy_file SRC [DEST]: into the initramfs at the same path (or DEST),
# following symlinks.
copy_file() {
	local src=$1 dest=${2:-$1}
	[[ -z ${copied[$dest]:-} ]] || return 0
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$src" "$root$dest" || die "cannot copy $src into the initramfs"
	copied[$dest]=1
}

# copy_libs BIN: the shared libraries ldd finds for BIN, and the loader.
copy_libs() {
	local bin=$1 out line lib
	if ! out=$(LC_ALL=C ldd "$bin" 2>&1); then
		[[ $out == *"not a dynamic executable"* || $out == *"statically linked"* ]] && return 0
		die "ldd $bin failed: $out"
	fi
	while IFS= read -r line; do
		case $line in
		*"=> not found"*) die "$bin: shared library ${line%% =>*} not found (ldd)" ;;
		*statically\ linked*) return 0 ;;
		*linux-vdso.so*|*linux-gate.so*) ;;
		*"=> /"*) lib=${line#*=> }; copy_file "${lib%% (*}" ;;
		*/*) lib=${line#"${line%%/*}"}; copy_file "${lib%% (*}" ;; # the loader
		esac
	done <<<"$out"
}

# copy_bin SRC: to /usr/bin/NAME, with its libraries.
copy_bin() {
	local src=$1
	[[ -f $src && -x $src ]] || die "$src is missing or not executable${2:+: $2}"
	copy_file "$src" "/usr/bin/${src##*/}"
	copy_libs "$src"
}

for bin in actgated actgate tests/actprobe; do
	copy_bin "$build/$bin" "build it first (make)"
done
# The libraries actgate loads when it first uses them (src/util/*-lazy.c):
# no binary names them, so ldd finds none. From the directory of the
# binaries' libc.
libdir=$(LC_ALL=C ldd "$build/actgated" | sed -n 's|.*=> \(/.*\)/libc\.so\.6 .*|\1|p')
[[ -n $libdir ]] || die "cannot tell where $build/actgated's libc is (ldd)"
for soname in libcrypto.so.3 libssl.so.3 libcurl.so.4; do
	[[ -f $libdir/$soname ]] || die "$libdir/$soname is missing: actgate loads it when first used (install it: make deps)"
	copy_file "$libdir/$soname"
	copy_libs "$libdir/$soname"
done
read -r -a extra_bins <<<"${VMTEST_EXTRA_BINS:-}"
for bin in "${extra_bins[@]}"; do
	[[ $bin == */* ]] || bin=$(command -v "$bin") || die "VMTEST_EXTRA_BINS: $bin not found"
	copy_bin "$bin" "named in VMTEST_EXTRA_BINS"
done

# Host files at their own paths (the benchmarks' toolchain): a missing one
# is an error, not a VM that lacks it.
if [[ -n ${VMTEST_HOST_FILES:-} ]]; then
	[[ -f $VMTEST_HOST_FILES ]] || die "VMTEST_HOST_FILES: $VMTEST_HOST_FILES is not a file"
	while IFS= read -r f || [[ -n $f ]]; do
		[[ -n $f && $f != \#* ]] || continue
		[[ $f == /* ]] || die "VMTEST_HOST_FILES: '$f' is not an absolute path"
		[[ -f $f ]] || die "VMTEST_HOST_FILES: $f is not a file on this host"
		copy_file "$f"
		# ELF (an executable or a shared object): its libraries too.
		[[ $(head -c 4 "$f" | od -An -c | tr -d ' ') != 177ELF ]] || copy_libs "$f"
	done <"$VMTEST_HOST_FILES"
fi

# busybox and a link for every applet: in /bin (or /sbin) and where
# busybox --list-full puts it.
bb=$(command -v busybox)
copy_file "$bb" /bin/busybox
copy_libs "$bb"
# One perl process (perl-base is essential in Debian) instead of ~500 ln forks.
busybox --list-full | root=$root perl -ne '
	chomp;
	(my $name = $_) =~ s{.*/}{};
	my $dir = m{^(usr/)?sbin/} ? "sbin" : "bin";
	for my $link ("$ENV{root}/$dir/$name", "$ENV{root}/$_") {
		next if -e $link || -l $link;
		symlink("/bin/busybox", $link) or die "vmtest: symlink $link: $!\n";
	}' || die "cannot create the busybox applet links"
[[ -L $root/bin/sh ]] || die "busybox has no sh applet"

cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tester:x:1000:
nogroup:x:65534:
EOF
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
EOF
printf 'passwd: files\ngroup: files\nhosts: files\n' >"$root/etc/nsswitch.conf"

install -m 0755 "$here/init.sh" "$root/init"
[[ ! -f $here/lib.sh ]] || install -m 0644 "$here/lib.sh" "$root/actgate/lib.sh"

if [[ -n $demo ]]; then
	mkdir -p "$root/actgate/demo"
	demo_name=${demo##*/}
	install -m 0755 "$demo" "$root/actgate/demo/$demo_name"
	[[ ! -f $here/lib.sh ]] || install -m 0644 "$here/lib.sh" "$root/actgate/demo/lib.sh"
	read -r -a demo_files <<<"${VMTEST_DEMO_FILES:-}"
	for f in "${demo_files[@]}"; do
		[[ -e $f ]] || die "VMTEST_DEMO_FILES: $f does not exist"
		cp -RL "$f" "$root/actgate/demo/" || die "cannot copy $f into the initramfs"
	done
else
	for name in "${names[@]}"; do
		install -m 0755 "${origin[$name]}" "$root/actgate/scenarios/$name.sh"
	done
fi

{
	printf 'KERNEL=%s\n' "$kernel"
	printf 'SCENARIO_TIMEOUT=%s\n' "$scenario_timeout"
	if [[ -n $demo ]]; then
		printf 'MODE=demo\nDEMO_SCRIPT=%q\n' "$demo_name"
	else
		printf 'MODE=scenarios\n'
	fi
} >"$root/actgate/vm.conf"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet | gzip -1 >"$initrd.tmp") ||
	die "cannot build the initramfs $initrd"
mv "$initrd.tmp" "$initrd"

# ---------------------------------------------------------------- boot
append="console=ttyS0 lsm=lockdown,capability,landlock,bpf panic=-1 rdinit=/init"
append+=" quiet loglevel=1 ${VMTEST_APPEND:-}"
qemu=(qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -nographic -no-reboot
	-nic none -kernel "$vmlinuz" -initrd "$initrd" -append "$append")
# Extra qemu options, e.g. "-icount shift=0,sleep=off" for instruction counts.
read -r -a extra_qemu <<<"${VMTEST_QEMU_ARGS:-}"
qemu+=("${extra_qemu[@]}")

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

if [[ -n $demo ]]; then
	say "booting $kernel ($(basename "$vmlinuz")) for demo $demo_name"
else
	say "booting $kernel ($(basename "$vmlinuz")) with ${#names[@]} scenario(s), timeout ${timeout}s (${scenario_timeout}s each)"
fi
# stdin from /dev/null: no tty needed (CI), and qemu leaves the terminal alone.
timeout -k 10 "$timeout" "${qemu[@]}" </dev/null >"$fifo" 2>"$vmdir/qemu.stderr" &
qpid=$!

declare -A result=() detail=() secs=()
t0=$EPOCHREALTIME
boot_s='' up=0 done=0 current='' demo_rc=''
red='' green='' yellow='' reset=''
if [[ -t 1 && -z ${NO_COLOR:-} ]]; then
	red=$'\e[31m' green=$'\e[32m' yellow=$'\e[33m' reset=$'\e[0m'
fi

# scenario_output NAME: its console lines, indented.
scenario_output() {
	local p="[$1] "
	awk -v p="$p" 'index($0, p) == 1 { print "    " substr($0, length(p) + 1) }' "$log"
}

report() { # STATUS NAME [DETAIL]
	local st=$1 name=$2 color=''
	case $st in
	PASS) color=$green ;;
	SKIP) color=$yellow ;;
	*) color=$red ;;
	esac
	local text
	text=$(printf '%s%-7s%s %s%s%s' "$color" "$st" "$reset" "$name" "${3:+ $3}" \
		"${secs[$name]:+ (${secs[$name]}s)}")
	if [[ $st == FAIL || $st == TIMEOUT ]]; then
		text+=$'\n'$(scenario_output "$name")
	fi
	# One write, so that the lines of VMs running at once do not interleave.
	printf '%s\n' "$text"
}

exec 3>"$log"
while IFS= read -r line || [[ -n $line ]]; do
	line=${line%$'\r'}
	# SeaBIOS and the kernel reset the terminal (ESC c, CSI ...): drop
	# escape sequences so the log reads clean and the user's terminal
	# keeps its settings.
	line=${line//$'\e'c/}
	while [[ $line =~ $'\e'\[[0-9\;?]*[A-Za-z] ]]; do
		line=${line/"${BASH_REMATCH[0]}"/}
	done
	printf '%s\n' "$line" >&3
	[[ ${VMTEST_VERBOSE:-0} != 1 ]] || printf '%s\n' "$line" >&2
	case $line in
	"[demo] "*) [[ -z $demo ]] || printf '%s\n' "${line#\[demo\] }" ;;
	"["*) ;; # a scenario's output
	*ACTGATE-VM-UP*)
		# Anywhere in the line: it may follow the firmware's unterminated last line.
		((up == 0)) || continue
		up=1
		line=ACTGATE-VM-UP${line#*ACTGATE-VM-UP}
		boot_s=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
		say "VM up after ${boot_s}s: ${line#ACTGATE-VM-UP }" ;;
	ACTGATE-BEGIN\ *) current=${line#ACTGATE-BEGIN } ;;
	ACTGATE-RESULT\ *)
		read -r _ st name rest <<<"$line"
		result[$name]=$st
		detail[$name]=$rest ;;
	ACTGATE-TIME\ *)
		read -r _ name s <<<"$line"
		secs[$name]=$s
		[[ -z ${result[$name]:-} ]] || report "${result[$name]}" "$name" "${detail[$name]}"
		current='' ;;
	ACTGATE-DEMO-EXIT\ *) demo_rc=${line#ACTGATE-DEMO-EXIT } ;;
	ACTGATE-DEMO-TIMEOUT*) say "demo script timed out (${line#ACTGATE-DEMO-TIMEOUT })" ;;
	ACTGATE-VM-DONE*) done=1 ;;
	ACTGATE-WARN*|*' ACTGATE-WARN '*) say "${line#vmtest: }" ;;
	esac
done <"$fifo"
exec 3>&-
qrc=0
wait "$qpid" || qrc=$?
qpid=''
total=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

vm_problem='' running='' during=''
if [[ -n $current ]]; then
	running="; scenario '$current' was running"
	during=" during scenario '$current'"
fi
if ((done == 0)); then
	if ((qrc == 124 || qrc == 137)); then
		vm_problem="the VM did not finish within ${timeout}s (hang?)$running"
	elif panic=$(grep -m1 -o 'Kernel panic.*' "$log"); then
		((up == 1)) || during=" before /init ran"
		vm_problem="kernel panic$during: ${panic#Kernel panic - }"
	elif ((up == 0)); then
		vm_problem="the VM did not boot (no ACTGATE-VM-UP; qemu exit $qrc)"
	else
		vm_problem="the VM stopped before ACTGATE-VM-DONE (qemu exit $qrc)$running"
	fi
	say "$vm_problem"
	if [[ -s $vmdir/qemu.stderr ]]; then
		say "qemu stderr:"
		sed 's/^/    /' "$vmdir/qemu.stderr" >&2
	fi
	say "last console lines ($log):"
	tail -n 40 "$log" | sed 's/^/    /' >&2
elif ((qrc != 0)); then
	say "qemu exited with $qrc after ACTGATE-VM-DONE (ignored)"
fi

if [[ -n $demo ]]; then
	if [[ -z $demo_rc ]]; then
		say "demo $demo_name did not report its exit status"
		exit 1
	fi
	say "demo $demo_name exited $demo_rc (VM ${total}s)"
	exit "$demo_rc"
fi

passed=0 failed=0 skipped=0
for name in "${names[@]}"; do
	case ${result[$name]:-} in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	FAIL|TIMEOUT) failed=$((failed + 1)) ;;
	*)
		failed=$((failed + 1))
		if [[ $name == "$current" ]]; then
			report FAIL "$name" "(did not finish: ${vm_problem:-no result})"
		else
			report FAIL "$name" "(not run)"
		fi ;;
	esac
done
if [[ -n $vm_problem ]] && ((failed == 0)); then
	# Every scenario reported, but the VM did not end cleanly.
	failed=$((failed + 1))
	printf '%s%-7s%s %s\n' "$red" FAIL "$reset" "(vm: $vm_problem)"
fi
say "$kernel: booted in ${boot_s:-?}s, total ${total}s; console log: $log"
summary="$passed passed, $failed failed"
((skipped == 0)) || summary+=", $skipped skipped"
save_times
if [[ -n ${VMTEST_SHARD:-} ]]; then
	# One VM of several: the first run.sh prints the closing line for all.
	failed_all=$failed
	[[ -z $vm_problem ]] || ((failed_all > 0)) || failed_all=1
	echo "$passed $failed_all $skipped" >"$vmdir.summary"
	say "VM $VMTEST_SHARD: $summary"
else
	echo "$summary"
fi
[[ $failed -eq 0 && -z $vm_problem ]]

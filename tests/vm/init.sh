#!/bin/sh
# /init of actgate's test VM (busybox sh, PID 1). Installed by tests/vm/run.sh.
#
# Mounts what actgate needs, then runs every /actgate/scenarios/*.sh in name
# order, each in its own session with a timeout, and reports on the console:
#   ACTGATE-VM-UP kernel=REL             init started
#   ACTGATE-BEGIN NAME                   a scenario starts
#   [NAME] ...                           its output (stdout and stderr)
#   ACTGATE-RESULT PASS|SKIP NAME        exit 0 / exit 77
#   ACTGATE-RESULT FAIL NAME (exit N)    any other exit status
#   ACTGATE-RESULT TIMEOUT NAME          its session killed after SCENARIO_TIMEOUT s
#   ACTGATE-TIME NAME SECONDS
#   ACTGATE-VM-DONE                      all done; then poweroff -f
# In demo mode (/actgate/vm.conf: MODE=demo) the one script is
# /actgate/demo/$DEMO_SCRIPT, its output prefixed "[demo] ", and its status
# reported as ACTGATE-DEMO-EXIT N (124 after ACTGATE-DEMO-TIMEOUT).
#
# Between scenarios every process but this one is killed, and bpffs pins,
# child cgroups and actgate's default state directories are removed, so a
# scenario never sees another's leftovers.

export PATH=/usr/bin:/bin:/sbin:/usr/sbin
umask 022

mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The kernel could not open /dev/console before devtmpfs was mounted.
exec </dev/null >/dev/console 2>&1

say() { echo "vmtest: $*"; }
must_mount() { # TYPE DIR [OPTIONS]
	mkdir -p "$2"
	mount -t "$1" ${3:+-o "$3"} "$1" "$2" || say "ACTGATE-WARN cannot mount $1 on $2"
}
must_mount tmpfs /tmp mode=1777
must_mount tmpfs /run mode=0755
must_mount cgroup2 /sys/fs/cgroup
must_mount bpf /sys/fs/bpf
must_mount securityfs /sys/kernel/security
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true # bpf_printk
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null || true
mount -t tmpfs tmpfs /dev/shm 2>/dev/null || true
# Kernel messages stay off the console (dmesg still has them).
echo 1 >/proc/sys/kernel/printk 2>/dev/null

ip link set lo up || say "ACTGATE-WARN cannot bring lo up"
hostname actgate-vm
chown 1000:1000 /home/tester 2>/dev/null
if ! ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
	say "ACTGATE-WARN ::1 is not configured on lo (IPv6 missing?)"
fi

MODE=scenarios
SCENARIO_TIMEOUT=180
KERNEL=unknown
DEMO_SCRIPT=
# shellcheck source=/dev/null
[ -r /actgate/vm.conf ] && . /actgate/vm.conf

# The leading newline: the kernel's UART setup may have eaten the end of
# the firmware's last line, leaving it unterminated.
echo
echo "ACTGATE-VM-UP kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"

# The per-scenario watchdog: WATCHDOG TIMEOUT PGID FLAG DIR. On timeout it
# shows what was still running and the tail of DIR/*.log, then kills the
# scenario's process group.
cat >/run/vmtest-watchdog.sh <<'EOF'
sleep "$1"
: >"$3"
echo "vmtest: timed out after $1 s; processes:"
ps -o pid,ppid,pgid,stat,args | grep -v -e ' \[' -e 'ps -o' -e 'grep -v'
for f in "$4"/*.log; do
	[ -f "$f" ] || continue
	echo "vmtest: last lines of $f:"
	tail -n 20 "$f"
done
kill -TERM -"$2"
sleep 5
kill -KILL -"$2"
EOF

uptime_s() { cut -d. -f1 /proc/uptime; }

# alive_group PGID: does the process group still have a member?
alive_group() { kill -0 -"$1" 2>/dev/null; }

# stop_actgated: a leftover daemon gets TERM and up to 2 s to exit.
stop_actgated() {
	killall -0 actgated 2>/dev/null || return 0
	killall -TERM actgated 2>/dev/null
	i=0
	while [ $i -lt 20 ] && killall -0 actgated 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
}

# kill_all_but PID...: SIGKILL every process except init and the PIDs given
# (kernel threads ignore it).
kill_all_but() {
	for p in /proc/[0-9]*; do
		p=${p#/proc/}
		case " 1 $* " in *" $p "*) continue ;; esac
		kill -KILL "$p" 2>/dev/null
	done
}

# reset_vm: no process but init left; forget the scenario's kernel state.
reset_vm() {
	stop_actgated
	# kill(-1) from PID 1 reaches every other process.
	kill -KILL -1 2>/dev/null
	wait 2>/dev/null
	rm -rf /sys/fs/bpf/* 2>/dev/null
	# SIGKILL is asynchronous: a cgroup empties only once its last task
	# has exited, so retry for up to 2 s.
	i=0
	while :; do
		find /sys/fs/cgroup -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
		[ -z "$(find /sys/fs/cgroup -mindepth 1 -type d 2>/dev/null)" ] && break
		i=$((i + 1))
		if [ $i -ge 20 ]; then
			say "ACTGATE-WARN cgroups left behind: $(find /sys/fs/cgroup -mindepth 1 -type d)"
			break
		fi
		sleep 0.1
	done
	rm -rf /run/actgate /var/lib/actgate /var/log/actgate /etc/actgate
}

# run_one NAME SCRIPT WORKDIR PREFIX: run SCRIPT in its own session with a
# timeout, output prefixed; sets $rc, $timed_out (0/1) and $elapsed.
run_one() {
	name=$1 script=$2 workdir=$3 prefix=$4
	T=/tmp/scenario-$name
	rm -rf "$T"
	mkdir -p "$T"
	chmod 0777 "$T" # scenarios may act as uid 1000 or 65534 there
	fifo=/run/vmtest-out.$$
	flag=/run/vmtest-timeout.$$
	rm -f "$fifo" "$flag"
	mkfifo "$fifo"
	# awk, not sed: busybox sed reads a line ahead, which delays live output.
	awk -v p="$prefix" '{ print p $0; fflush() }' <"$fifo" &
	outpid=$!
	cd "${workdir:-$T}" || cd /
	# setsid: not a group leader here, so it execs in place: $! is the
	# session and process group id of the scenario.
	setsid env -i \
		PATH=/usr/bin:/bin:/sbin:/usr/sbin \
		HOME=/root \
		T="$T" \
		ACTGATE_SCENARIO="$name" \
		ACTGATE_KERNEL="$KERNEL" \
		ACTGATE_LIB=/actgate/lib.sh \
		ACTGATE_SCENARIO_TIMEOUT="$SCENARIO_TIMEOUT" \
		sh "$script" </dev/null >"$fifo" 2>&1 &
	pid=$!
	cd /
	setsid sh /run/vmtest-watchdog.sh "$SCENARIO_TIMEOUT" "$pid" "$flag" "$T" \
		</dev/null >"$fifo" 2>&1 &
	watcher=$!
	start=$(uptime_s)
	wait "$pid" 2>/dev/null # no "Terminated" from the shell on the console
	rc=$?
	kill -KILL -"$watcher" 2>/dev/null
	if alive_group "$pid"; then # background leftovers of the scenario
		kill -TERM -"$pid" 2>/dev/null
		sleep 0.5
		kill -KILL -"$pid" 2>/dev/null
	fi
	timed_out=0
	[ -e "$flag" ] && timed_out=1
	# Processes that left the session (daemons) may still hold the output
	# fifo open: stop them, so the prefixer sees EOF and prints everything.
	stop_actgated
	kill_all_but "$outpid"
	i=0
	while [ $i -lt 30 ] && kill -0 "$outpid" 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	reset_vm
	rm -f "$fifo" "$flag"
	elapsed=$(($(uptime_s) - start))
}

if [ "$MODE" = demo ]; then
	run_one demo "/actgate/demo/$DEMO_SCRIPT" /actgate/demo "[demo] "
	if [ "$timed_out" = 1 ]; then
		echo "ACTGATE-DEMO-TIMEOUT after ${SCENARIO_TIMEOUT}s"
		rc=124
	fi
	echo "ACTGATE-DEMO-EXIT $rc"
else
	n=0
	for script in /actgate/scenarios/*.sh; do
		[ -e "$script" ] || continue
		n=$((n + 1))
		name=${script##*/}
		name=${name%.sh}
		echo "ACTGATE-BEGIN $name"
		run_one "$name" "$script" "" "[$name] "
		if [ "$timed_out" = 1 ]; then
			echo "ACTGATE-RESULT TIMEOUT $name"
		else
			case $rc in
			0) echo "ACTGATE-RESULT PASS $name" ;;
			77) echo "ACTGATE-RESULT SKIP $name" ;;
			*) echo "ACTGATE-RESULT FAIL $name (exit $rc)" ;;
			esac
		fi
		echo "ACTGATE-TIME $name $elapsed"
		rm -rf "/tmp/scenario-$name"
	done
	[ "$n" -gt 0 ] || echo "vmtest: no scenarios in /actgate/scenarios"
fi

sync
echo "ACTGATE-VM-DONE"
poweroff -f
# Not reached; if poweroff failed, the kernel panics on init's exit and
# qemu (-no-reboot, panic=-1) ends.
sleep 5

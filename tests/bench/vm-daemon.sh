# The daemon's own size and start, in the VM (qemu -icount shift=0: one
# guest nanosecond per instruction, so the CPU time the kernel accounts to
# actgated, in ticks of 10 ms, is instructions to 10M). Two runs: one
# policy of 1,000 path rules with one workload running under it, and 100
# such policies (100,000 rules) with one workload each, every policy's
# rules in the kernel. For each: the CPU time actgated used until it
# answers, from nothing (the start: parse, compile, load and attach the
# programs; `actgate detach` before it) and, for 100,000 rules, again as a
# restart that adopts the pins the previous daemon left (no program load:
# the policy's own cost, daemon_restart_100k); and,
# with its workloads bound, its resident size (VmRSS, the peak VmHWM, and
# VmRSS less the ring buffer's mapping) and the mappings that hold most of
# it. Lines "BENCH|key|value|0" for report.sh (daemon_start_*:
# instructions, to a tick; daemon_rss_*, daemon_hwm_*: KiB). Figures,
# never pass/fail.
set -u

W=/tmp/bench-daemon
mkdir -p "$W/policies" "$W/rules"
export ACTGATE_SOCKET=$W/actgate.sock

# policy NAME SELECTOR DIR: 1,000 exact rules on DIR/f0..f999 and a subtree rule on DIR.
policy() {
	mkdir -p "$3"
	actprobe mkfiles "$3" 1000 >/dev/null
	awk -v name="$1" -v sel="$2" -v dir="$3" 'BEGIN {
		print "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: " name "}"
		print "spec:\n  selector: {workloads: [\"" sel "\"]}\n  record: deny"
		print "  open:\n    default: allow\n    deny:"
		print "      - " dir "/"
		for (i = 0; i < 1000; i++) print "      - " dir "/f" i
	}' >"$W/policies/$1.yaml"
}

# cpu_ticks PID FIELD: user (14) or system (15) time, in clock ticks, from stat.
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk -v f="$2" '{ print $(f - 2) }'
}

start() {
	actgated --policy-dir "$W/policies" --journal-dir "$W/journal" --socket "$ACTGATE_SOCKET" \
		>"$W/actgated.log" 2>&1 &
	DAEMON=$!
	until actgate status >/dev/null 2>&1; do
		kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
		sleep 0.2
	done
	# The polling above is `actgate status`'s CPU, not the daemon's. System
	# time is mostly the kernel verifying and loading the BPF programs.
	user=$(($(cpu_ticks $DAEMON 14) * 10000000))
	sys=$(($(cpu_ticks $DAEMON 15) * 10000000))
	echo "BENCH|daemon_start_$1|$((user + sys))|0"
	echo "BENCH|daemon_start_user_$1|$user|0"
	echo "BENCH|daemon_start_sys_$1|$sys|0"
}

# holders N PREFIX: N idle workloads PREFIX1..PREFIXN (or PREFIX alone for 1), each binding its policy.
holders() {
	HOLDERS=
	i=1
	while [ $i -le "$1" ]; do
		w=$2$i
		[ "$1" = 1 ] && w=$2
		actgate run --quiet --workload "$w" -- sleep 100000 &
		HOLDERS="$HOLDERS $!"
		i=$((i + 1))
	done
	until [ "$(actgate status | sed -n 's/^workloads: //p')" = "$1" ]; do
		kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
		sleep 0.2
	done
}

# size KEY: the daemon's resident size now, and the mappings that hold most of it.
size() {
	rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON/status")
	hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$DAEMON/status")
	# The ring buffer's pages, mapped twice (a record that wraps reads whole):
	# kernel memory every reader of the map shares, not the daemon's own.
	ring=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 == "anon_inode:bpf-map") }
		    /^Rss:/ && m { n += $2 } END { print n + 0 }' "/proc/$DAEMON/smaps")
	echo "BENCH|daemon_rss_$1|$rss|0"
	echo "BENCH|daemon_hwm_$1|$hwm|0"
	echo "BENCH|daemon_rss_own_$1|$((rss - ring))|0"
	echo "  largest mappings (Rss kB, mapping):"
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6) }
	     /^Rss:/ { rss[name] += $2 }
	     END { for (n in rss) if (rss[n] >= 512) printf "    %8d  %s\n", rss[n], n }' \
		"/proc/$DAEMON/smaps" | sort -rn | head -8
}

stop() {
	# shellcheck disable=SC2086 # one pid per word
	kill $HOLDERS 2>/dev/null
	wait $HOLDERS 2>/dev/null
	kill -TERM $DAEMON
	wait $DAEMON 2>/dev/null
	rm -rf "$W/journal"
}

# Nothing pinned: the next start loads and attaches the programs.
detach() {
	actgate detach >/dev/null 2>&1 || { echo "actgate detach failed" >&2; exit 1; }
}

echo "== 1,000 rules"
policy bench bench "$W/rules/bench"
detach
start 1k
holders 1 bench
size 1k
stop

echo "== 100,000 rules"
i=1
while [ $i -lt 100 ]; do
	policy "other$i" "other:$i" "$W/rules/other$i"
	i=$((i + 1))
done
policy other100 "other:100" "$W/rules/bench"
rm -f "$W/policies/bench.yaml"
detach
start 100k
holders 100 other:
size 100k
# A restart: the workloads keep running, the new daemon adopts the pins.
kill -TERM $DAEMON
wait $DAEMON 2>/dev/null
start restart_100k
stop

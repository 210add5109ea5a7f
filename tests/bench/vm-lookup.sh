# Kernel-side cost of a governed open, in guest instructions: run in the VM
# with qemu -icount shift=0 (one guest nanosecond per instruction), so the
# figures are deterministic to ~1% and not TCG wall-clock noise. Every figure
# is a ratio to the baseline measured in the same boot: the same open+close
# with no actgated running, of a file 4 levels deep (and, for the depth-14
# rows, of one 14 levels deep). Baselines are taken at the start, the middle
# and the end of the boot; the ratios use the start's, and the report shows
# all three. Lines "BENCH|key|instructions|baseline" are what `make bench`
# turns into build/bench/results.md and .json (tests/bench/report.sh). The 1,000 and 100,000 rule rows load the same
# rules for the measured workload (1,000 of them); the 100,000 row adds 99,000
# rules of 99 other policies to the same maps, so its ratio to the 1,000 row
# shows whether the lookup cost grows with the number of rules. A policy's
# rules reach the kernel when a workload it selects starts (its effective
# policy is compiled then), so one idle workload holds each of the 99 there.
# Exec (fork+exec+wait of a static binary) and UDP/TCP connect rows are
# ratios to baselines of their own; the "per call" rows are one program's
# instructions as the kernel's program statistics count them (with the
# statistics' own clock reads), where an exec shows how many walks it makes.
#
# BENCH_ROWS=open (tests/bench/vm-open.sh) measures only the open rows with
# 1,000 rules and the per-call counts of the file hooks: the quick loop for
# work on the open path.
set -u

ROWS=${BENCH_ROWS:-all}
W=/tmp/bench
ITER=${BENCH_ITERATIONS:-4000}
mkdir -p "$W/policies" "$W/target/a/b/c" "$W/rules"
echo x >"$W/target/a/b/c/file"
FILE=$W/target/a/b/c/file
# 14 levels: /tmp/bench/target/a/b/c/d/e/f/g/h/i/j/k/file
mkdir -p "$W/target/a/b/c/d/e/f/g/h/i/j/k"
echo x >"$W/target/a/b/c/d/e/f/g/h/i/j/k/file"
FILE14=$W/target/a/b/c/d/e/f/g/h/i/j/k/file
export ACTGATE_SOCKET=$W/actgate.sock

EXEC_ITER=${BENCH_EXEC_ITERATIONS:-300}
NET_ITER=${BENCH_NET_ITERATIONS:-2000}
# The exec target: a static binary (busybox), so that an exec is the exec
# hook, the open of the binary and its executable mappings, no loader.
EXEC_TARGET=/bin/true

# policy NAME SELECTOR DIR [RECORD]: 1,000 exact rules on DIR/f0..f999 and a
# subtree rule on DIR itself, none of which matches FILE (so the whole walk runs).
policy() {
	mkdir -p "$3"
	actprobe mkfiles "$3" 1000 >/dev/null
	awk -v name="$1" -v sel="$2" -v dir="$3" -v record="${4:-all}" 'BEGIN {
		print "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: " name "}"
		print "spec:\n  selector: {workloads: [\"" sel "\"]}\n  record: " record
		print "  open:\n    default: allow\n    deny:"
		print "      - " dir "/"
		for (i = 0; i < 1000; i++) print "      - " dir "/f" i
	}' >"$W/policies/$1.yaml"
}

start() {
	actgated --policy-dir "$W/policies" --journal-dir "$W/journal" --socket "$ACTGATE_SOCKET" \
		>"$W/actgated.log" 2>&1 &
	DAEMON=$!
	until actgate status >/dev/null 2>&1; do
		kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
		sleep 0.2
	done
}

# A stopped daemon leaves its pins enforcing: detach, so that each start is
# a fresh one and a baseline is measured without programs.
stop() {
	kill -TERM $DAEMON
	wait $DAEMON 2>/dev/null
	actgate detach >/dev/null || exit 1
}

row() { # label instructions [baseline]
	awk -v l="$1" -v v="$2" -v b="${3:-$BASE}" 'BEGIN { printf "  %-60s %8d  %5.2f\n", l, v, v / b }'
}
# krow KEY LABEL INSTRUCTIONS [BASELINE]: a row, and its line for the report
krow() {
	row "$2" "$3" "${4:-$BASE}"
	echo "BENCH|$1|$3|${4:-$BASE}"
}

measure() { actprobe openloop "$FILE" "$ITER"; }
measure14() { actprobe openloop "$FILE14" "$ITER"; }
governed() { actgate run --quiet --workload bench:run -- actprobe openloop "$FILE" "$ITER"; }
governed14() { actgate run --quiet --workload bench:run -- actprobe openloop "$FILE14" "$ITER"; }
governed_udp() { actgate run --quiet --workload bench:run -- actprobe connectloop 127.0.0.1 9 "$NET_ITER" udp; }
governed_tcp() { actgate run --quiet --workload bench:run -- actprobe connectloop 127.0.0.1 9 "$NET_ITER" tcp; }
# The other actions: fork+exec+wait of a static binary, UDP connect (no
# packet sent), TCP connect to a closed port on loopback (refused).
exec_loop() { actprobe execloop "$EXEC_TARGET" "$EXEC_ITER"; }
udp_loop() { actprobe connectloop 127.0.0.1 9 "$NET_ITER" udp; }
tcp_loop() { actprobe connectloop 127.0.0.1 9 "$NET_ITER" tcp; }
governed_exec() { actgate run --quiet --workload bench:run -- actprobe execloop "$EXEC_TARGET" "$EXEC_ITER"; }

# An ungoverned caller that is not in the root cgroup, as most processes of
# a host are not (a systemd service sits 2 levels down, a user's app 5):
# every ancestor level is a step of the workload lookup.
FREE_CG=
for m in $(awk '$9 == "cgroup2" { print $5 }' /proc/self/mountinfo); do FREE_CG=$m/bench-free/a/b; break; done
mkdir -p "$FREE_CG"
in_free_cgroup() { sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$FREE_CG" "$@"; }

# others LABEL: the ungoverned rows of exec and both connects, against
# their baselines.
# others LABEL KEY: the same, with report lines KEY_exec, KEY_udp, KEY_tcp
others() {
	krow "${2}_exec" "$1, fork+exec+wait" "$(exec_loop)" "$BASE_EXEC"
	krow "${2}_udp" "$1, UDP connect" "$(udp_loop)" "$BASE_UDP"
	krow "${2}_tcp" "$1, TCP connect (refused)" "$(tcp_loop)" "$BASE_TCP"
}
# governed_rows LABEL KEY: a governed workload's open at depths 4 and 14,
# exec and connects, and check_open's own instructions per call at both depths
governed_rows() {
	krow "${2}_open4" "$1, open, depth 4" "$(governed)"
	krow "${2}_open14" "$1, open, depth 14" "$(governed14)" "$BASE14"
	krow "${2}_exec" "$1, fork+exec+wait" "$(governed_exec)" "$BASE_EXEC"
	krow "${2}_udp" "$1, UDP connect" "$(governed_udp)" "$BASE_UDP"
	krow "${2}_tcp" "$1, TCP connect (refused)" "$(governed_tcp)" "$BASE_TCP"
	hook_row "  check_open alone, per call, depth 4" check_open governed "${2}_hook4"
	hook_row "  check_open alone, per call, depth 14" check_open governed14 "${2}_hook14"
}

# hook_row LABEL: the instructions per call of check_open itself over one
# governed run, as the kernel's program statistics count them (run time in
# guest ns = instructions here); switched on for that run only, as they cost
# two clock reads per call.
# hook_row LABEL [PROGRAM [COMMAND...]]: the same for PROGRAM (default
# check_open) over one run of COMMAND (default governed), with its calls
# per run.
# An optional fourth argument KEY (with COMMAND a single word) adds a
# report line BENCH|KEY|instructions per call|0.
hook_row() {
	label=$1 prog=${2:-check_open} cmd=${3:-governed} key=${4:-}
	link=/sys/fs/bpf/actgate/links/$prog
	sysctl -w kernel.bpf_stats_enabled=1 >/dev/null || exit 1
	before=$(actprobe prog-stats "$link") || exit 1
	$cmd >/dev/null
	after=$(actprobe prog-stats "$link") || exit 1
	sysctl -w kernel.bpf_stats_enabled=0 >/dev/null
	echo "$before $after" | awk -v l="$label" -v key="$key" '{
		calls = $5 - $2
		per = calls ? ($6 - $3) / calls : 0
		printf "  %-60s %8d  (%d calls)\n", l, per, calls
		if (key != "") printf "BENCH|%s|%d|0\n", key, per }'
}

# Two things inflate a baseline taken early in the boot (docs: DESIGN,
# "Measuring kernel-side cost"): until the random pool is seeded, open, exec
# and socket paths cost 1.4-4x more (actgated's first getrandom() would seed
# it between the baseline and the rest); and on 6.12 the crypto self-tests
# (cryptomgr_test threads) run for the first seconds. Seed, wait for them,
# then take the baseline again in the middle and at the end.
head -c 1 /dev/random >/dev/null
n=0
while ps -o comm 2>/dev/null | grep -q '^cryptomgr' && [ $n -lt 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
measure >/dev/null # warm the caches
measure14 >/dev/null
BASE=$(measure)
BASE14=$(measure14)
if [ "$ROWS" = open ]; then
	BASE_FREE=$(in_free_cgroup actprobe openloop "$FILE" "$ITER")
	krow base_start_open4 "no actgated (baseline, start), open, depth 4" "$BASE"
	krow base_start_open14 "no actgated (baseline, start), open, depth 14" "$BASE14" "$BASE14"
	policy bench bench:* "$W/rules/bench" deny
	start
	actgate run --quiet --workload bench:holder -- sleep 100000 &
	HOLDER=$!
	until [ "$(actgate status | sed -n 's/^workloads: //p')" = 1 ]; do
		kill -0 $HOLDER 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
		sleep 0.2
	done
	krow free_open4 "actgated, caller not governed, open, depth 4" "$(measure)"
	row "actgated, caller not governed, 3 cgroup levels down" \
		"$(in_free_cgroup actprobe openloop "$FILE" "$ITER")" "$BASE_FREE"
	hook_row "  check_open alone, per call, caller not governed" check_open measure free_hook4
	kill $HOLDER
	wait $HOLDER 2>/dev/null
	krow deny1k_open4 "governed, 1,000 rules, record: deny, open, depth 4" "$(governed)"
	krow deny1k_open14 "governed, 1,000 rules, record: deny, open, depth 14" "$(governed14)" "$BASE14"
	hook_row "  check_open alone, per call, depth 4" check_open governed deny1k_hook4
	hook_row "  check_open alone, per call, depth 14" check_open governed14 deny1k_hook14
	hook_row "  check_exec alone, per call (governed exec)" check_exec governed_exec
	hook_row "  check_open alone, per call (governed exec)" check_open governed_exec
	hook_row "  check_mmap alone, per call (governed exec)" check_mmap governed_exec
	stop
	sleep 2
	krow base_end_open4 "no actgated (baseline, end), open, depth 4" "$(measure)"
	exit 0
fi
exec_loop >/dev/null
udp_loop >/dev/null
tcp_loop >/dev/null
BASE_EXEC=$(exec_loop)
BASE_UDP=$(udp_loop)
BASE_TCP=$(tcp_loop)
BASE_FREE=$(in_free_cgroup actprobe openloop "$FILE" "$ITER")
echo "instructions per open+close of a file 4 levels deep ($ITER iterations each),"
echo "per fork+exec+wait of $EXEC_TARGET ($EXEC_ITER) and per connect ($NET_ITER)"
printf '  %-60s %8s  %5s\n' "configuration" "instr/op" "ratio"
# baselines KEY LABEL: every baseline, as report lines KEY_open4 ... KEY_tcp
baselines() {
	krow "${1}_open4" "$2, open, depth 4" "${3:-$(measure)}"
	krow "${1}_open14" "$2, open, depth 14" "${4:-$(measure14)}" "$BASE14"
	krow "${1}_exec" "$2, fork+exec+wait" "${5:-$(exec_loop)}" "$BASE_EXEC"
	krow "${1}_udp" "$2, UDP connect" "${6:-$(udp_loop)}" "$BASE_UDP"
	krow "${1}_tcp" "$2, TCP connect" "${7:-$(tcp_loop)}" "$BASE_TCP"
}
baselines base_start "no actgated (baseline, start)" "$BASE" "$BASE14" "$BASE_EXEC" "$BASE_UDP" "$BASE_TCP"
row "no actgated, open, caller 3 cgroup levels down (baseline)" "$BASE_FREE" "$BASE_FREE"

policy bench bench:* "$W/rules/bench" deny
start
row "actgated, caller not governed, no workload at all" "$(measure)"
# Ungoverned callers are measured while a workload is governed, as on a
# host where actgated has work to do: a lookup that only answers "nothing
# is governed at all" would not show here.
actgate run --quiet --workload bench:holder -- sleep 100000 &
HOLDER=$!
until [ "$(actgate status | sed -n 's/^workloads: //p')" = 1 ]; do
	kill -0 $HOLDER 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
	sleep 0.2
done
krow free_open4 "actgated, caller not governed, open, depth 4" "$(measure)"
row "actgated, caller not governed, 3 cgroup levels down" \
	"$(in_free_cgroup actprobe openloop "$FILE" "$ITER")" "$BASE_FREE"
others "actgated, caller not governed" free
hook_row "  check_open alone, per call, caller not governed" check_open measure free_hook4
kill $HOLDER
wait $HOLDER 2>/dev/null
governed_rows "governed, 1,000 rules, record: deny" deny1k
hook_row "  check_exec alone, per call (governed exec)" check_exec governed_exec
hook_row "  check_open alone, per call (governed exec)" check_open governed_exec
hook_row "  check_mmap alone, per call (governed exec)" check_mmap governed_exec
policy bench bench:* "$W/rules/bench"
actgate policy reload >/dev/null || exit 1
G1=$(governed)
krow all1k_open4 "governed, 1,000 rules, record: all, open, depth 4" "$G1"
krow all1k_exec "governed, 1,000 rules, record: all, fork+exec+wait" "$(governed_exec)" "$BASE_EXEC"
krow all1k_udp "governed, 1,000 rules, record: all, UDP connect" "$(governed_udp)" "$BASE_UDP"
krow all1k_tcp "governed, 1,000 rules, record: all, TCP connect" "$(governed_tcp)" "$BASE_TCP"
hook_row "  check_open alone, per call (every open recorded)" check_open governed all1k_hook4
# record_rate_open: decisions journaled per guest second (10^9 guest
# instructions under -icount shift=0; idle time counts too) while a governed
# workload opens as fast as it can under record: all, with the daemon on
# the same CPU: from the loop's start to the last of its records in the
# journal. record_rate_dropped: the decisions dropped meanwhile (issue 11's
# goal: 200,000/s and none dropped).
status_value() { actgate status | sed -n "s/^$1: //p"; }
RATE_OPENS=${BENCH_RATE_OPENS:-20000}
written0=$(status_value records_written)
dropped0=$(status_value dropped_open)
ns=$(actprobe timed sh -c "actgate run --quiet --workload bench:run -- actprobe openloop '$FILE' $RATE_OPENS \
	>/dev/null && until [ \"\$(actgate status | sed -n 's/^records_written: //p')\" -ge $((written0 + RATE_OPENS)) ]; do
	sleep 0.01; done") || exit 1
dropped=$(($(status_value dropped_open) - dropped0))
rate=$((RATE_OPENS * 1000000000 / ns))
printf '  %-60s %8d\n' "record: all, decisions journaled per guest second (open loop)" "$rate"
printf '  %-60s %8d\n' "record: all, decisions dropped meanwhile" "$dropped"
echo "BENCH|record_rate_open|$rate|0"
echo "BENCH|record_rate_dropped|$dropped|0"
policy bench bench:* "$W/rules/bench" deny
stop
# Freeing the programs and maps runs later, in kernel threads, on the one CPU
# whose instructions are counted: let it finish before measuring.
sleep 2
baselines base_mid "no actgated (baseline again, mid-run)"

i=1
while [ $i -lt 100 ]; do
	policy "other$i" "other:$i" "$W/rules/other$i"
	i=$((i + 1))
done
start
HOLDERS=
i=1
while [ $i -lt 100 ]; do
	actgate run --quiet --workload "other:$i" -- sleep 100000 &
	HOLDERS="$HOLDERS $!"
	i=$((i + 1))
done
until [ "$(actgate status | sed -n 's/^effective_policies: //p')" = 99 ]; do
	kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
	sleep 0.2
done
governed_rows "governed, 100,000 rules, record: deny" deny100k
# shellcheck disable=SC2086 # one pid per word
kill $HOLDERS 2>/dev/null
wait $HOLDERS 2>/dev/null
stop
sleep 2
baselines base_end "no actgated (baseline again, at the end)"

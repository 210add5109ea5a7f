# Kernel-side cost of a governed open, in guest instructions: run in the VM
# with qemu -icount shift=0 (one guest nanosecond per instruction), so the
# figures are deterministic to ~1% and not TCG wall-clock noise. Every figure
# is a ratio to the baseline measured in the same boot: the same open+close
# with no actgated running. The 1,000 and 100,000 rule rows load the same
# rules for the measured workload (1,000 of them); the 100,000 row adds 99,000
# rules of 99 other policies to the same maps, so its ratio to the 1,000 row
# shows whether the lookup cost grows with the number of rules. A policy's
# rules reach the kernel when a workload it selects starts (its effective
# policy is compiled then), so one idle workload holds each of the 99 there.
# Exec (fork+exec+wait of a static binary) and UDP/TCP connect rows are
# ratios to baselines of their own; the "per call" rows are one program's
# instructions as the kernel's program statistics count them (with the
# statistics' own clock reads), where an exec shows how many walks it makes.
set -u

W=/tmp/bench
ITER=${BENCH_ITERATIONS:-4000}
mkdir -p "$W/policies" "$W/target/a/b/c" "$W/rules"
echo x >"$W/target/a/b/c/file"
FILE=$W/target/a/b/c/file
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

measure() { actprobe openloop "$FILE" "$ITER"; }
governed() { actgate run --quiet --workload bench:run -- actprobe openloop "$FILE" "$ITER"; }
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
others() {
	row "$1, fork+exec+wait" "$(exec_loop)" "$BASE_EXEC"
	row "$1, UDP connect" "$(udp_loop)" "$BASE_UDP"
	row "$1, TCP connect (refused)" "$(tcp_loop)" "$BASE_TCP"
}

# hook_row LABEL: the instructions per call of check_open itself over one
# governed run, as the kernel's program statistics count them (run time in
# guest ns = instructions here); switched on for that run only, as they cost
# two clock reads per call.
# hook_row LABEL [PROGRAM [COMMAND...]]: the same for PROGRAM (default
# check_open) over one run of COMMAND (default governed), with its calls
# per run.
hook_row() {
	label=$1 prog=${2:-check_open}
	link=/sys/fs/bpf/actgate/links/$prog
	[ $# -ge 2 ] && shift 2 || set --
	[ $# -gt 0 ] || set -- governed
	sysctl -w kernel.bpf_stats_enabled=1 >/dev/null || exit 1
	before=$(actprobe prog-stats "$link") || exit 1
	"$@" >/dev/null
	after=$(actprobe prog-stats "$link") || exit 1
	sysctl -w kernel.bpf_stats_enabled=0 >/dev/null
	echo "$before $after" | awk -v l="$label" '{
		calls = $5 - $2
		printf "  %-60s %8d  (%d calls)\n", l, calls ? ($6 - $3) / calls : 0, calls }'
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
exec_loop >/dev/null
udp_loop >/dev/null
tcp_loop >/dev/null
BASE=$(measure)
BASE_EXEC=$(exec_loop)
BASE_UDP=$(udp_loop)
BASE_TCP=$(tcp_loop)
BASE_FREE=$(in_free_cgroup actprobe openloop "$FILE" "$ITER")
echo "instructions per open+close of a file 4 levels deep ($ITER iterations each),"
echo "per fork+exec+wait of $EXEC_TARGET ($EXEC_ITER) and per connect ($NET_ITER)"
printf '  %-60s %8s  %5s\n' "configuration" "instr/op" "ratio"
row "no actgated (baseline)" "$BASE"
row "no actgated, fork+exec+wait (baseline)" "$BASE_EXEC" "$BASE_EXEC"
row "no actgated, UDP connect (baseline)" "$BASE_UDP" "$BASE_UDP"
row "no actgated, TCP connect (baseline)" "$BASE_TCP" "$BASE_TCP"
row "no actgated, open, caller 3 cgroup levels down (baseline)" "$BASE_FREE" "$BASE_FREE"

policy bench bench:* "$W/rules/bench"
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
row "actgated, caller not governed" "$(measure)"
row "actgated, caller not governed, 3 cgroup levels down" \
	"$(in_free_cgroup actprobe openloop "$FILE" "$ITER")" "$BASE_FREE"
others "actgated, caller not governed"
hook_row "  check_open alone, per call, caller not governed" check_open measure
kill $HOLDER
wait $HOLDER 2>/dev/null
G1=$(governed)
row "governed, 1,000 rules loaded (every open recorded)" "$G1"
hook_row "  check_open alone, per call (every open recorded)"
policy bench bench:* "$W/rules/bench" deny
actgate policy reload >/dev/null || exit 1
row "governed, 1,000 rules, record: deny (allows not journaled)" "$(governed)"
hook_row "  check_open alone, per call (allows not journaled)"
row "governed, record: deny, fork+exec+wait" "$(governed_exec)" "$BASE_EXEC"
hook_row "  check_exec alone, per call (governed exec)" check_exec governed_exec
hook_row "  check_open alone, per call (governed exec)" check_open governed_exec
hook_row "  check_mmap alone, per call (governed exec)" check_mmap governed_exec
policy bench bench:* "$W/rules/bench"
stop
# Freeing the programs and maps runs later, in kernel threads, on the one CPU
# whose instructions are counted: let it finish before measuring.
sleep 2
row "no actgated (baseline again, mid-run)" "$(measure)"
others "no actgated (baseline again, mid-run)"

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
G100=$(governed)
row "governed, 100,000 rules loaded (every open recorded)" "$G100"
# shellcheck disable=SC2086 # one pid per word
kill $HOLDERS 2>/dev/null
wait $HOLDERS 2>/dev/null
stop
sleep 2
row "no actgated (baseline again, at the end)" "$(measure)"
others "no actgated (baseline again, at the end)"
awk -v a="$G1" -v b="$G100" 'BEGIN { printf "  100,000 vs 1,000 rules loaded: %.2f (1.00 = lookup cost independent of rule count)\n", b / a }'

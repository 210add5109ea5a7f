# Enforcement outlives the daemon. A workload runs a decision storm (opens,
# execs and connects with known verdicts, each answer written down); actgated
# is killed with SIGKILL in the middle; while it is down the workload keeps
# acting and its denials hold; a new actgated adopts the pins and journals
# what the kernel recorded meanwhile, so that every attempt is either in the
# journal or counted as dropped: exactly, per action. With the default ring
# buffer nothing is dropped; with a 16 KiB one and a long outage the
# overflow is dropped and counted. Then: a second daemon on the same pins is
# refused, a clean stop keeps enforcing, `actgate detach` ends it.
. /actgate/lib.sh

PIN_DIR=/sys/fs/bpf/actgate
mkdir -p "$T/files" "$T/bin"
echo ok >"$T/files/ok"
echo secret >"$T/files/secret"
copy_binary denied

# Only the storm's own actions are recorded: the policy records denials, and
# the two allowed targets of the storm are recorded by their rules.
cat >"$POLICIES/storm.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: storm}
spec:
  selector: {workloads: ["storm:*"]}
  record: deny
  exec: {default: allow, deny: [$T/bin/denied]}
  open:
    default: allow
    allow: [{path: $T/files/ok, record: all}]
    deny: [$T/files/secret]
  connect:
    default: allow
    allow: [{to: "127.0.0.1:7", record: all}]
    deny: ["127.0.0.1:9"]
YAML

# One cycle of the storm: five actions and the answer each must get.
EXPECT="ok EPERM EPERM ECONNREFUSED EPERM"
cat >"$T/storm.sh" <<SH
while [ ! -e "$T/stop" ]; do
	echo "open $T/files/ok"
	echo "open $T/files/secret"
	echo "exec $T/bin/denied"
	echo "connect 127.0.0.1 7"
	echo "connect 127.0.0.1 9"
done | actprobe batch >"$T/answers"
SH

answers() { if [ -e "$T/answers" ]; then wc -l <"$T/answers"; else echo 0; fi; }

# check_answers FROM TO: answers FROM..TO (1-based lines) are what the policy gives.
check_answers() {
	bad=$(awk -v from="$1" -v to="$2" -v expect="$EXPECT" '
		BEGIN { n = split(expect, e, " ") }
		NR >= from && NR <= to && $0 != e[(NR - 1) % n + 1] { print NR ": " $0; exit }
	' "$T/answers")
	[ -z "$bad" ] || fail "answer $bad, expected the cycle $EXPECT"
}

# wait_answers N: until the storm has given at least N answers
has_answers() { [ "$(answers)" -ge "$1" ]; }
wait_answers() {
	wait_for 600 "the storm did not reach $1 answers" has_answers "$1"
}

# status_field NAME: a number from actgate status
status_field() { actgate status | sed -n "s/^$1: //p"; }

# journaled ACTION: records of this round's workload for ACTION
journaled() { replay_json --action "$1" --workload "$ROUND" | wc -l; }

# account: every attempt of this round is journaled or dropped, per action
# (each round has pins of its own, so the drop counts are the round's);
# sets DROPPED.
account() {
	total=$(answers)
	[ $((total % 5)) -eq 0 ] || fail "the storm ended mid-cycle ($total answers)"
	cycles=$((total / 5))
	want_open=$((2 * cycles))
	want_exec=$cycles
	want_connect=$((2 * cycles))
	d_open=$(status_field dropped_open)
	d_exec=$(status_field dropped_exec)
	d_connect=$(status_field dropped_connect)
	# The journal catches up on the drain timer.
	i=0
	while :; do
		j_open=$(journaled open)
		j_exec=$(journaled exec)
		j_connect=$(journaled connect)
		[ $((j_open + d_open)) -ge $want_open ] && [ $((j_exec + d_exec)) -ge $want_exec ] &&
			[ $((j_connect + d_connect)) -ge $want_connect ] && break
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	# A record journaled twice (the same time, task and target) would
	# come from a daemon killed after writing records and before giving
	# their space back; say so, whatever the sums below.
	twice=$(replay_json --workload "$ROUND" | sort | uniq -d | wc -l)
	note "attempted open $want_open exec $want_exec connect $want_connect;" \
		"journaled $j_open $j_exec $j_connect; dropped $d_open $d_exec $d_connect;" \
		"journaled twice: $twice"
	expect_eq $((j_open + d_open)) $want_open "open: journaled + dropped"
	expect_eq $((j_exec + d_exec)) $want_exec "exec: journaled + dropped"
	expect_eq $((j_connect + d_connect)) $want_connect "connect: journaled + dropped"
	DROPPED=$((d_open + d_exec + d_connect))
}

# storm_round NAME OUTAGE: run the storm as workload NAME, SIGKILL actgated
# after 100 answers, let OUTAGE more answers happen while it is down, start a
# new actgated, end the storm after 100 more.
storm_round() {
	ROUND=$1
	outage=$2
	shift 2
	rm -f "$T/stop" "$T/answers"
	in_workload "$ROUND" sh "$T/storm.sh" &
	STORM=$!
	wait_answers 100
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
	down_at=$(answers)
	[ -e "$PIN_DIR/meta" ] || fail "no pins after SIGKILL"
	actgate status >/dev/null 2>&1 && fail "a daemon answers after SIGKILL"
	wait_answers $((down_at + outage))
	up_at=$(answers)
	check_answers 1 "$up_at"
	note "answers $down_at..$up_at came while no daemon ran: denials held"
	t0=$(cut -d' ' -f1 /proc/uptime)
	start_daemon "$@"
	t1=$(cut -d' ' -f1 /proc/uptime)
	note "adopting start answered after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" \
		"($(sed -n 's/.*journal: \([0-9]*\) records journaled from the adopted.*/\1/p' "$T/actgated.log") records from the pinned ring buffer)"
	grep -q "adopting $PIN_DIR" "$T/actgated.log" || fail "the new daemon did not adopt the pins"
	expect_eq "$(status_field pins)" adopted "status: pins"
	wait_answers $((up_at + 100))
	touch "$T/stop"
	wait "$STORM"
	check_answers 1 "$(answers)"
}

t0=$(cut -d' ' -f1 /proc/uptime)
start_daemon
t1=$(cut -d' ' -f1 /proc/uptime)
note "fresh start (load, attach, pin) answered after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
expect_eq "$(status_field pins)" created "status: pins of the first daemon"
storm_round storm:one 300
account
expect_eq "$DROPPED" 0 "dropped with a 16 MiB ring buffer and a short outage"
expect_eq "$(status_field dropped_while_down)" 0 "dropped_while_down"
gen=$(status_field generation)
expect_eq "$gen" 2 "the generation after adoption (the policy swapped in like a reload)"
expect_record '"workload":"storm:one"' '"verdict":"deny"' "\"target\":\"$T/files/secret\"" \
	'"generation":1'
# Every storm record is decided by a rule, also those of generation 1 that
# the second daemon journaled: each names its rule and policy.
unnamed=$(replay_json --workload storm:one | grep -e '"rule":""' -e '"policy":""')
[ -z "$unnamed" ] || fail "records of storm:one without a rule or policy name: $unnamed"

# A second daemon, even on another socket, is refused: the pins are held.
actgated --policy-dir "$POLICIES" --journal-dir "$T/journal2" --socket "$T/second.sock" \
	>"$T/second.log" 2>&1
expect_eq "$?" 1 "a second actgated on the same pins"
grep -q "an actgated is running on these pins" "$T/second.log" ||
	fail "second daemon: $(cat "$T/second.log")"
actgate status >/dev/null || fail "the first daemon stopped answering"

# A clean stop (SIGTERM) keeps enforcing; detach is refused while a daemon
# runs and ends enforcement after it stopped.
actgate detach >"$T/detach.out" 2>&1
expect_eq "$?" 1 "detach while actgated runs"
grep -q "actgated is running" "$T/detach.out" || fail "detach: $(cat "$T/detach.out")"
in_workload storm:idle sh -c "while [ ! -e $T/idle-stop ]; do sleep 0.1; done" &
IDLE=$!
wait_for 100 "the idle workload did not start" sh -c "actgate status | grep -q storm:idle"
idle_cgroup=$(actgate status | sed -n 's/^workload\.[0-9]*\.cgroup: \(.*storm_idle.*\)/\1/p')
[ -n "$idle_cgroup" ] || fail "no cgroup for the idle workload in: $(actgate status)"
# probe_idle: an open of the secret from inside the idle workload's cgroup
probe_idle() {
	sh -c "echo \$\$ >/sys/fs/cgroup$idle_cgroup/cgroup.procs && exec actprobe open $T/files/secret"
}
expect_probe EPERM probe_idle
stop_daemon
expect_probe EPERM probe_idle
note "after SIGTERM: still enforced"
actgate detach >"$T/detach.out" 2>&1 || fail "detach: $(cat "$T/detach.out")"
[ ! -e "$PIN_DIR" ] || fail "$PIN_DIR is still there after detach"
expect_probe ok probe_idle
note "after detach: nothing enforced"
touch "$T/idle-stop"
wait "$IDLE"

# A small ring buffer and a long outage: the overflow is dropped, and counted.
start_daemon --ring-buffer-size 16384
storm_round storm:two 1500 --ring-buffer-size 16384
account
[ "$DROPPED" -gt 0 ] || fail "nothing dropped with a 16 KiB ring buffer over 1500 actions"
down=$(status_field dropped_while_down)
[ "$down" -gt 0 ] || fail "dropped_while_down is $down"
grep -q "records dropped while no daemon ran" "$T/actgated.log" || fail "the drops were not logged"
note "$DROPPED dropped in all, $down while no daemon ran"

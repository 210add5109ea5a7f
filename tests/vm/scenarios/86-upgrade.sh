# Upgrades without a gap. A workload runs a decision storm (opens, execs and
# connects with known verdicts, each answer written down) while actgated of
# one BPF build stops and actgated-next, another BPF build (make
# BPF_BUILD_SALT=1), starts on its pins: the new build's programs are
# attached and running before the old ones are detached. Then: no action the
# policy denies succeeded at any moment (the storm counts its own successes
# of denied actions: 0), every attempt is journaled or counted as dropped,
# per action, and the pins are the new build's. A refused upgrade leaves the
# old build enforcing.
. /actgate/lib.sh

PIN_DIR=/sys/fs/bpf/actgate
command -v actgated-next >/dev/null ||
	fail "no actgated-next (the second BPF build): run through make vmtest, or build" \
		"it (make BUILD/actgated-next) and give VMTEST_EXTRA_BINS=BUILD/actgated-next"
mkdir -p "$T/files" "$T/bin"
echo ok >"$T/files/ok"
echo secret >"$T/files/secret"
copy_binary denied

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

# One cycle of the storm: five actions and the answer each must get; the
# 2nd, 3rd and 5th are denied.
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
has_answers() { [ "$(answers)" -ge "$1" ]; }
wait_answers() { wait_for 900 "the storm did not reach $1 answers" has_answers "$1"; }
status_field() { actgate status | sed -n "s/^$1: //p"; }
journaled() { replay_json --action "$1" --workload "$ROUND" | wc -l; }

# denied_allowed: answers to denied actions that are not EPERM (each one an
# action the policy denies that succeeded)
denied_allowed() {
	awk 'NR % 5 == 2 || NR % 5 == 3 || NR % 5 == 0 { if ($0 != "EPERM") n++ } END { print n + 0 }' \
		"$T/answers"
}

check_answers() {
	bad=$(awk -v expect="$EXPECT" '
		BEGIN { n = split(expect, e, " ") }
		$0 != e[(NR - 1) % n + 1] { print NR ": " $0; exit }
	' "$T/answers")
	[ -z "$bad" ] || fail "answer $bad, expected the cycle $EXPECT"
}

# start_build BINARY [ARGS...]: like start_daemon, with another actgated
start_build() {
	bin=$1
	shift
	"$bin" --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
		--cgroup-parent "/actgate-$ACTGATE_SCENARIO" "$@" >"$T/actgated.log" 2>&1 &
	DAEMON_PID=$!
	i=0
	while ! actgate status >/dev/null 2>&1; do
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "$bin exited during start-up"
		i=$((i + 1))
		[ $i -lt 600 ] || fail "$bin did not answer within 60 s"
		sleep 0.1
	done
}

# account: every attempt of this round is journaled or dropped, per action
account() {
	total=$(answers)
	[ $((total % 5)) -eq 0 ] || fail "the storm ended mid-cycle ($total answers)"
	cycles=$((total / 5))
	i=0
	while :; do
		d_open=$(status_field dropped_open)
		d_exec=$(status_field dropped_exec)
		d_connect=$(status_field dropped_connect)
		j_open=$(journaled open)
		j_exec=$(journaled exec)
		j_connect=$(journaled connect)
		[ $((j_open + d_open)) -ge $((2 * cycles)) ] && [ $((j_exec + d_exec)) -ge $cycles ] &&
			[ $((j_connect + d_connect)) -ge $((2 * cycles)) ] && break
		i=$((i + 1))
		[ $i -lt 100 ] || break
		sleep 0.1
	done
	note "attempted open $((2 * cycles)) exec $cycles connect $((2 * cycles));" \
		"journaled $j_open $j_exec $j_connect; dropped $d_open $d_exec $d_connect"
	expect_eq $((j_open + d_open)) $((2 * cycles)) "open: journaled + dropped"
	expect_eq $((j_exec + d_exec)) $cycles "exec: journaled + dropped"
	expect_eq $((j_connect + d_connect)) $((2 * cycles)) "connect: journaled + dropped"
}

# upgrade_round NAME FROM TO: the storm as workload NAME; actgated FROM
# stops (SIGTERM, as a package upgrade stops the service) after 100
# answers, TO starts on its pins after 100 more, the storm ends 100 answers
# after TO answered.
upgrade_round() {
	ROUND=$1 from=$2 to=$3
	rm -f "$T/stop" "$T/answers"
	in_workload "$ROUND" sh "$T/storm.sh" &
	STORM=$!
	wait_answers 100
	stop_daemon
	down_at=$(answers)
	wait_answers $((down_at + 100))
	start_build "$to"
	up_at=$(answers)
	cp "$T/actgated.log" "$T/$ROUND.log"
	grep -q "upgraded the pins at $PIN_DIR from BPF build [0-9a-f]* to [0-9a-f]* without a gap" \
		"$T/actgated.log" || fail "$to did not upgrade the pins"
	note "$(grep -o 'upgraded the pins.*' "$T/actgated.log")"
	note "$(grep -o '[0-9]* decisions of the upgrade.*' "$T/actgated.log")"
	grep -q "adopting $PIN_DIR" "$T/actgated.log" || fail "$to did not take over the state"
	[ ! -e "$PIN_DIR-upgrade" ] || fail "the staging directory is left: $(ls -R "$PIN_DIR-upgrade")"
	wait_answers $((up_at + 100))
	touch "$T/stop"
	wait "$STORM"
	note "$ROUND: $(answers) answers, the upgrade from $from to $to between answers $down_at and $up_at"
	expect_eq "$(denied_allowed)" 0 "$ROUND: denied actions that succeeded"
	check_answers
	account
}

start_build actgated
expect_eq "$(status_field pins)" created "status: pins of the first build"

# A refused upgrade: a map the new build must carry over is missing from the
# pins. actgated-next exits 1, says so, and the first build goes on enforcing.
stop_daemon
mv "$PIN_DIR/maps/task_marks" /sys/fs/bpf/task_marks_saved
actgated-next --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
	--cgroup-parent "/actgate-$ACTGATE_SCENARIO" >"$T/refused.log" 2>&1
expect_eq "$?" 1 "actgated-next on pins without task_marks"
grep -q "cannot upgrade the pins at $PIN_DIR to this BPF build: the pinned set has no map task_marks" \
	"$T/refused.log" || fail "refused upgrade: $(cat "$T/refused.log")"
grep -q "previous build's programs stay attached and keep enforcing" "$T/refused.log" ||
	fail "no word on enforcement: $(cat "$T/refused.log")"
[ ! -e "$PIN_DIR-upgrade" ] || fail "a refused upgrade left $PIN_DIR-upgrade"
note "refused: $(grep -o 'cannot upgrade.*task_marks[^.]*' "$T/refused.log")"
mv /sys/fs/bpf/task_marks_saved "$PIN_DIR/maps/task_marks"
start_build actgated
grep -q "adopting $PIN_DIR" "$T/actgated.log" || fail "the first build did not adopt its pins again"
expect_probe EPERM in_workload storm:probe actprobe open "$T/files/secret"

upgrade_round storm:up actgated actgated-next
expect_probe EPERM in_workload storm:probe actprobe open "$T/files/secret"
expect_probe ok in_workload storm:probe actprobe open "$T/files/ok"

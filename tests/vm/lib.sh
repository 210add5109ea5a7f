# Helpers for VM scenarios (busybox sh). A scenario sources this file, runs as a
# user would (actgated, actgate, actprobe), and exits 0 when every assertion held.
# The harness gives each scenario a fresh working directory in $T.

set -u

: "${T:?T is not set: scenarios run under tests/vm/run.sh}"
export ACTGATE_SOCKET="$T/actgate.sock"
JOURNAL="$T/journal"
POLICIES="$T/policies"
mkdir -p "$POLICIES"

fail() {
	echo "FAIL: $*" >&2
	if [ -f "$T/actgated.log" ]; then
		echo "--- actgated log ---" >&2
		tail -n 30 "$T/actgated.log" >&2
	fi
	exit 1
}

note() {
	echo "# $*"
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# expect_probe EXPECTED CMD... : CMD (an actprobe call, maybe through in_workload)
# must print EXPECTED (ok, EPERM, ...)
expect_probe() {
	want=$1
	shift
	got=$("$@" 2>"$T/probe.err")
	[ "$got" = "$want" ] || fail "$*: expected $want, got '$got' (stderr: $(cat "$T/probe.err"))"
	note "$* -> $got"
}

# in_workload NAME CMD... : run CMD as workload NAME, with the scenario's labels and principal
in_workload() {
	name=$1
	shift
	actgate run --quiet --workload "$name" -- "$@"
}

# start_daemon [EXTRA-ARGS...]: actgated on this scenario's policies, waits until it answers.
start_daemon() {
	actgated --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
		--cgroup-parent "/actgate-$ACTGATE_SCENARIO" "$@" >"$T/actgated.log" 2>&1 &
	DAEMON_PID=$!
	i=0
	while ! actgate status >/dev/null 2>&1; do
		kill -0 "$DAEMON_PID" 2>/dev/null || fail "actgated exited during start-up"
		i=$((i + 1))
		[ $i -lt 600 ] || fail "actgated did not answer within 60 s"
		sleep 0.1
	done
}

stop_daemon() {
	[ -n "${DAEMON_PID:-}" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}

# replay_json [FILTER-ARGS...]: the journal as JSON lines
replay_json() {
	actgate replay --journal-dir "$JOURNAL" --json "$@"
}

# expect_record PATTERN... : some JSON record contains every fixed string; waits for
# the daemon to drain the ring buffer (records are journaled asynchronously).
expect_record() {
	i=0
	while :; do
		out=$(replay_json 2>/dev/null)
		for p in "$@"; do
			out=$(printf '%s\n' "$out" | grep -F -- "$p")
		done
		if [ -n "$out" ]; then
			note "record: $(printf '%s\n' "$out" | head -n 1)"
			return 0
		fi
		i=$((i + 1))
		[ $i -lt 100 ] || fail "no journal record with: $*"
		sleep 0.1
	done
}

# expect_no_record PATTERN... : after the daemon drained, no record has all of them
expect_no_record() {
	sleep 0.5
	out=$(replay_json 2>/dev/null)
	for p in "$@"; do
		out=$(printf '%s\n' "$out" | grep -F -- "$p")
	done
	[ -z "$out" ] || fail "unexpected journal record: $out"
}

# wait_for TRIES WHAT CMD...: run CMD every 0.1 s until it succeeds; after
# TRIES failures, fail saying WHAT did not happen.
wait_for() {
	tries=$1
	what=$2
	shift 2
	n=0
	until "$@"; do
		n=$((n + 1))
		[ $n -lt "$tries" ] || fail "$what"
		sleep 0.1
	done
}

# listen_on ADDR PORT: a TCP listener in the background, ready on return
listen_on() {
	actprobe listen "$1" "$2" &
	LISTENERS="${LISTENERS:-} $!"
	wait_for 100 "listener on $1 port $2 did not come up" probe_is ok actprobe connect "$1" "$2"
}

# probe_is EXPECTED CMD...: does CMD print EXPECTED?
probe_is() {
	want=$1
	shift
	[ "$("$@" 2>&1)" = "$want" ]
}

# copy_binary NAME: a distinct executable (own inode) at $T/bin/NAME
copy_binary() {
	mkdir -p "$T/bin"
	cp /bin/busybox "$T/bin/$1"
	chmod 0755 "$T/bin/$1"
}

# damage_byte FILE OFFSET: the byte at OFFSET inverted (every bit), so
# that the file always changes: writing a fixed byte does nothing to a
# byte that already holds it (1 time in 256 in compressed data).
damage_byte() {
	old=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	[ -n "$old" ] || fail "damage_byte: $1 has no byte at $2"
	printf "\\$(printf '%03o' $((old ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
	[ "$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')" = $((old ^ 255)) ] ||
		fail "damage_byte: $1 at $2 unchanged"
}

cleanup() {
	stop_daemon
	[ -z "${LISTENERS:-}" ] || kill $LISTENERS 2>/dev/null
}
trap cleanup EXIT

# start_batch ID WRITE-FD READ-FD RUN-ARGS...: `actprobe batch` as a workload
# (actgate run RUN-ARGS -- actprobe batch) that keeps its stdin and stdout
# (fifos opened outside the workload) whatever it is later denied; then
# `batch_ask WRITE-FD READ-FD LINE` sends one probe line and prints its answer.
start_batch() {
	id=$1 wfd=$2 rfd=$3
	shift 3
	mkfifo "$T/$id.in" "$T/$id.out"
	actgate run --quiet "$@" -- actprobe batch <"$T/$id.in" >"$T/$id.out" &
	# Read-write opens of the fifos do not block (a blocking open can be
	# interrupted by SIGCHLD, and a failed exec redirection ends the shell).
	eval "exec $wfd<>\"\$T/\$id.in\" $rfd<>\"\$T/\$id.out\""
}

batch_ask() {
	echo "$3" >&"$1"
	read -r answer <&"$2" || fail "the batch workload stopped answering ($3)"
	echo "$answer"
}

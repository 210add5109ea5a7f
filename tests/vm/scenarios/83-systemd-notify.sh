# What actgated tells systemd and journald, without systemd: busybox syslogd
# listens on /dev/log, which stands in for $NOTIFY_SOCKET (each datagram is
# one line of its log). A daemon with a bad policy never says READY=1; a
# good one says READY=1 with its STATUS= only once the policy decides in the
# kernel; a workload changes STATUS=; a reload is RELOADING=1 with
# MONOTONIC_USEC= then READY=1; WatchdogSec= gets WATCHDOG=1 pings from the
# loop; the stop says STOPPING=1. With $JOURNAL_STREAM naming its stderr,
# every log line carries its syslog priority.
. /actgate/lib.sh

copy_binary tool-a
copy_binary tool-b
write_policy() { # $1: the exec deny list
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: notified}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$1]}
YAML
}
NOTIFY_LOG="$T/notify.log"
[ ! -e /dev/log ] || fail "/dev/log exists before the scenario"
busybox syslogd -n -O "$NOTIFY_LOG" &
SYSLOGD=$!
wait_for 50 "syslogd did not listen on /dev/log" test -S /dev/log
stop_all() { stop_daemon; kill "$SYSLOGD" 2>/dev/null; rm -f /dev/log; }
trap stop_all EXIT
notified() { grep -q "$1" "$NOTIFY_LOG"; }

# A policy with an error: exit 1, and never READY=1.
write_policy "relative/tool"
NOTIFY_SOCKET=/dev/log actgated --policy-dir "$POLICIES" --journal-dir "$JOURNAL" \
	--socket "$ACTGATE_SOCKET" --cgroup-parent "/actgate-$ACTGATE_SCENARIO" >"$T/bad.log" 2>&1
expect_eq "$?" 1 "actgated with a bad policy"
sleep 0.5
notified "READY=1" && fail "READY=1 from a daemon that refused its policy: $(cat "$NOTIFY_LOG")"
note "bad policy: exit 1, no READY=1"

# A good one, as systemd would start it: notify socket, watchdog (0.5 s pings),
# and stderr as the journal's stream.
write_policy "$T/bin/tool-a"
: >"$T/actgated.log"
sh -c 'export WATCHDOG_PID=$$ WATCHDOG_USEC=1000000 NOTIFY_SOCKET=/dev/log
	export JOURNAL_STREAM=$(stat -c %d:%i "$1")
	exec actgated --policy-dir "$2" --journal-dir "$3" --socket "$4" --cgroup-parent "$5"' \
	sh "$T/actgated.log" "$POLICIES" "$JOURNAL" "$ACTGATE_SOCKET" "/actgate-$ACTGATE_SCENARIO" \
	>>"$T/actgated.log" 2>&1 &
DAEMON_PID=$!
wait_for 600 "no READY=1 within 60 s" notified "READY=1"
# At READY=1 the socket answers and the policy decides, with no retry.
actgate status >/dev/null 2>&1 || fail "READY=1 before the control socket answered"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-a" true
notified "READY=1 STATUS=generation 1: 1 policy, 0 workloads" ||
	fail "READY=1 without the STATUS line: $(cat "$NOTIFY_LOG")"
notified "STATUS=generation 1: 1 policy, 1 workload" ||
	fail "no STATUS= line while a workload ran: $(cat "$NOTIFY_LOG")"

# A reload: RELOADING=1 with the monotonic time, then READY=1 with the new generation.
write_policy "$T/bin/tool-a, $T/bin/tool-b"
actgate reload >/dev/null 2>&1 || fail "reload"
grep -q "RELOADING=1 MONOTONIC_USEC=[0-9][0-9]*" "$NOTIFY_LOG" ||
	fail "no RELOADING=1 with MONOTONIC_USEC: $(cat "$NOTIFY_LOG")"
reloading=$(grep -n "RELOADING=1" "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
ready2=$(grep -n "READY=1 STATUS=generation 2:" "$NOTIFY_LOG" | head -n 1 | cut -d: -f1)
[ -n "$ready2" ] && [ "$ready2" -gt "$reloading" ] ||
	fail "READY=1 for generation 2 does not follow RELOADING=1: $(cat "$NOTIFY_LOG")"
note "reload: $(sed -n "${reloading}p" "$NOTIFY_LOG" | sed 's/.*notice //')"

# A refused reload ends with READY=1 too (generation 2 stays); its errors reach
# the journal as errors.
write_policy "relative/tool"
actgate reload >/dev/null 2>&1 && fail "a bad policy was accepted"
expect_eq "$(grep -c "RELOADING=1" "$NOTIFY_LOG")" 2 "RELOADING=1 count"
wait_for 50 "no READY=1 after the refused reload" \
	sh -c "[ \$(grep -c 'READY=1 STATUS=generation 2:' '$NOTIFY_LOG') -ge 2 ]"

# The watchdog: pings keep coming from the loop.
pings=$(grep -c "WATCHDOG=1" "$NOTIFY_LOG")
sleep 2
later=$(grep -c "WATCHDOG=1" "$NOTIFY_LOG")
[ "$later" -ge $((pings + 2)) ] || fail "watchdog pings: $pings, 2 s later $later"
note "watchdog: $later pings so far"

# journald priorities: <6> for information, <3> for errors, on every line.
grep -q "^<6>actgated: daemon: enforcing 1 policies" "$T/actgated.log" ||
	fail "no <6> prefix: $(head -n 5 "$T/actgated.log")"
grep -q "^<3>actgated: policy: error: .*refusing a policy" "$T/actgated.log" ||
	fail "no <3> prefix on the error: $(cat "$T/actgated.log")"
grep -q "^<3>$POLICIES/p.yaml:6:33: error:" "$T/actgated.log" ||
	fail "no <3> prefix on the policy diagnostic: $(cat "$T/actgated.log")"
grep -v -q "^<[346]>" "$T/actgated.log" && fail "a line without a priority: $(grep -v "^<[346]>" "$T/actgated.log" | head -n 3)"
# Without $JOURNAL_STREAM (the bad start above): no prefixes.
grep -q "^<" "$T/bad.log" && fail "priority prefixes without JOURNAL_STREAM: $(cat "$T/bad.log")"

# The stop.
stop_daemon
wait_for 50 "no STOPPING=1" notified "STOPPING=1"
note "stop: $(grep "STOPPING=1" "$NOTIFY_LOG" | sed 's/.*notice //')"

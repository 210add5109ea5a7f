# A governed workload, even as root, cannot kill or ptrace actgated or use
# bpf(2); each attempt is denied and recorded as a tamper decision, also under
# an audit-mode policy. Outside workloads nothing changes.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: observed}
spec:
  selector: {workloads: ["agent:*"]}
  mode: audit
YAML
start_daemon

in_workload agent:rogue kill -9 "$DAEMON_PID" 2>"$T/kill.err"
[ $? -ne 0 ] || fail "kill -9 of actgated from a workload succeeded"
grep -q "Operation not permitted" "$T/kill.err" || fail "kill: no EPERM: $(cat "$T/kill.err")"
kill -0 "$DAEMON_PID" || fail "actgated died"
actgate status >/dev/null || fail "actgated stopped answering"
# Signal 0 (does it exist?) stays allowed.
in_workload agent:rogue kill -0 "$DAEMON_PID" || fail "kill -0 was refused"

expect_probe EPERM in_workload agent:rogue actprobe ptrace "$DAEMON_PID"
expect_probe EPERM in_workload agent:rogue actprobe bpf
# Outside any workload bpf(2) works.
expect_probe ok actprobe bpf

expect_record '"action":"tamper"' '"target":"ptrace of actgated"' '"workload":"agent:rogue"'
expect_record '"action":"tamper"' '"target":"bpf() command 0"' '"workload":"agent:rogue"'
expect_record '"action":"tamper"' '"verdict":"deny"' '"enforced":true' \
	'"reason":"self-protection"' '"target":"signal 9 to actgated"' '"workload":"agent:rogue"'

# Outside workloads, signals to actgated work as usual (SIGTERM stops it).
stop_daemon

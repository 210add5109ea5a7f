# Loud refusals: bad policy, unselected workload, requests from inside a workload.
. /actgate/lib.sh

cat >"$POLICIES/bad.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: bad}
spec:
  selector: {workloads: ["x"]}
  exec: {default: allow, deny: [relative/path]}
YAML
actgate policy check "$POLICIES/bad.yaml" 2>"$T/check.err"
expect_eq "$?" 1 "policy check exit status for a bad policy"
grep -q "bad.yaml:6:" "$T/check.err" || fail "no file:line:col error: $(cat "$T/check.err")"

# The daemon refuses to start rather than run without the policy.
actgated --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
	>"$T/bad-start.log" 2>&1
expect_eq "$?" 1 "actgated exit status with a bad policy"
grep -q "bad.yaml:6:" "$T/bad-start.log" || fail "actgated did not say why: $(cat "$T/bad-start.log")"

rm "$POLICIES/bad.yaml"
cat >"$POLICIES/good.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: good}
spec:
  selector: {workloads: ["ci:*"]}
  connect: {default: deny}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: open-net}
spec:
  selector: {workloads: ["svc:*"]}
  exec: {default: allow}
YAML
start_daemon

# A second daemon on the same socket refuses to start and leaves the first alone.
actgated --policy-dir "$POLICIES" --journal-dir "$T/journal2" --socket "$ACTGATE_SOCKET" \
	>"$T/second.log" 2>&1
expect_eq "$?" 1 "a second actgated's exit status"
grep -q "another actgated is running" "$T/second.log" || fail "second daemon: $(cat "$T/second.log")"
actgate status >/dev/null || fail "the first daemon lost its socket"

# A workload no policy selects is refused, with status 125 and the reason.
actgate run --workload unknown:job -- true 2>"$T/run.err"
expect_eq "$?" 125 "run status for an unselected workload"
grep -q "no policy" "$T/run.err" || fail "run did not say why: $(cat "$T/run.err")"

# A workload cannot talk to the control socket to change its own lot: the
# daemon refuses every request from a governed process but starting a
# sub-workload (docs/delegation.md), and under connect default deny the
# kernel does not even let it connect.
in_workload svc:x actgate status >"$T/inside.out" 2>&1
expect_eq "$?" 1 "status from inside a workload"
grep -q "a governed workload may only start sub-workloads" "$T/inside.out" ||
	fail "no refusal reason: $(cat "$T/inside.out")"
in_workload ci:x actgate status >"$T/inside.out" 2>&1
expect_eq "$?" 1 "status from inside a workload denied unix connects"
grep -q "Operation not permitted" "$T/inside.out" || fail "not refused by the kernel: $(cat "$T/inside.out")"

# Malformed requests get an error and the daemon keeps serving.
out=$(actprobe send-unix "$ACTGATE_SOCKET" '{"verb": [1,2')
echo "$out" | grep -q '"ok":false' || fail "malformed request: no error reply: $out"
note "malformed request -> $out"
out=$(actprobe send-unix "$ACTGATE_SOCKET" '{"verb":"no-such-verb"}')
echo "$out" | grep -q 'unknown verb' || fail "unknown verb: no error reply: $out"
out=$(actprobe send-unix "$ACTGATE_SOCKET" '{"verb":"run","workload":"ci:x","principle":"typo"}')
echo "$out" | grep -q 'unknown key \\"principle\\"' || fail "unknown key: no error reply: $out"
actgate status >/dev/null || fail "daemon stopped answering after malformed requests"

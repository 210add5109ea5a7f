# A governed process may ask the control socket for one thing only, a
# sub-workload: signals, grants, revocations, a policy reload, status, a
# malformed line or a run for another principal are refused and recorded
# (action delegate, verdict deny), from the agent and from a tool it
# started, as root, and nothing changes. The caller is known by its task's
# kernel mark: a process that moved itself to an ungoverned cgroup is still
# its workload's.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: agent}
spec:
  selector: {workloads: ["agent:*", "tool:*"]}
  exec: {default: allow}
  open: {default: allow}
  connect: {default: allow}
YAML
start_daemon
gen=$(actgate status --json | grep -o '"generation":"\?[0-9]*' | head -n 1)

# attempts: every verb but run, from this workload.
attempts='
actgate signal set risk=low >/dev/null 2>&1; echo signal $?
actgate signal set --workload agent:a risk=low >/dev/null 2>&1; echo signal-workload $?
actgate grant agent:a --connect 10.0.0.1:443 --ttl 1h --reason x >/dev/null 2>&1; echo grant $?
actgate revoke agent:other >/dev/null 2>&1; echo revoke $?
actgate revoke --principal someone >/dev/null 2>&1; echo revoke-principal $?
actgate policy reload >/dev/null 2>&1; echo reload $?
actgate status >/dev/null 2>&1; echo status $?
actgate run --quiet --workload tool:x --delegated-by admin -- true 2>/dev/null; echo run-principal $?
'
printf '%s\n' "$attempts" >"$T/attempts.sh"
printf 'sh %s\nactgate run --quiet --workload tool:inner -- sh %s\n' "$T/attempts.sh" "$T/attempts.sh" >"$T/agent.sh"
out=$(actgate run --quiet --workload agent:a -- sh "$T/agent.sh" 2>&1)
note "$(echo $out)"
for verb in signal signal-workload grant revoke revoke-principal reload status run-principal; do
	n=$(echo "$out" | grep -c "^$verb [1-9]")
	expect_eq "$n" 2 "$verb refused from the agent and from its tool"
done
expect_record '"workload":"agent:a"' '"action":"delegate"' '"verdict":"deny"' '"target":"signal-set"' \
	'"reason":"delegation"' '"chain":"- > agent:a#'
expect_record '"workload":"tool:inner"' '"action":"delegate"' '"verdict":"deny"' '"target":"reload"' \
	'"chain":"- > agent:a#' '> tool:inner#'
expect_record '"workload":"agent:a"' '"verdict":"deny"' '"target":"grant"'
expect_record '"workload":"agent:a"' '"verdict":"deny"' '"target":"revoke"'
expect_record '"workload":"agent:a"' '"verdict":"deny"' '"target":"run tool:x"'

# Nothing changed.
actgate signal list | grep -q risk && fail "a signal was set: $(actgate signal list)"
actgate grant --list | grep -q 10.0.0.1 && fail "a grant was made: $(actgate grant --list)"
actgate revoke --list | grep -q -e agent:other -e someone && fail "a revocation: $(actgate revoke --list)"
expect_eq "$(actgate status --json | grep -o '"generation":"\?[0-9]*' | head -n 1)" "$gen" \
	"the policy generation (no reload)"

# A process that left the workload's cgroup for the root's.
cat >"$T/raw.sh" <<SH
echo "\$\$" >"$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)/cgroup.procs" 2>/dev/null
actgate revoke agent:z --reason r; echo "revoke \$?"
SH
out=$(actgate run --quiet --workload agent:b -- sh "$T/raw.sh" 2>&1)
note "$out"
echo "$out" | grep -q '^revoke [1-9]' || fail "a revoke from a process that left its cgroup: $out"
expect_record '"workload":"agent:b"' '"action":"delegate"' '"verdict":"deny"' '"target":"revoke"'
actgate revoke --list | grep -q agent:z && fail "agent:z revoked"
exit 0

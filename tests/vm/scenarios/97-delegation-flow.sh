# Authority flows down: revoking an agent denies its running tools at once;
# a tool never outlives its agent's --ttl, whatever its own; a tool whose
# agent ended is orphaned (denied, reason parent-ended) unless the agent's
# delegate: lets it outlive it; replay shows the chain of every tool
# decision and --tree prints agent -> tools with their decisions.
. /actgate/lib.sh

echo data >"$T/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: agent}
spec:
  selector: {workloads: ["agent:*"]}
  exec: {default: allow}
  open: {default: allow}
  connect: {default: allow}
  delegate:
    - workloads: ["tool:keeper"]
      outlive: true
    - workloads: ["tool:*"]
YAML
start_daemon

# tool_batch ID AGENT TOOL [AGENT-RUN-ARGS]: AGENT (actprobe batch, asked on
# fds 5 and 6) starts TOOL (actprobe batch with $TOOL_ARGS, asked on fds 3
# and 4); end_agent closes the agent's input, and the agent ends.
tool_batch() {
	id=$1 agent=$2 tool=$3
	shift 3
	mkfifo "$T/$id.in" "$T/$id.out" "$T/$id.ain" "$T/$id.aout"
	cat >"$T/$id.sh" <<SH
actgate run --quiet --workload $tool ${TOOL_ARGS:-} -- actprobe batch <"$T/$id.in" >"$T/$id.out" &
exec actprobe batch <"$T/$id.ain" >"$T/$id.aout"
SH
	actgate run --quiet --workload "$agent" "$@" -- sh "$T/$id.sh" &
	AGENT_PID=$!
	exec 3<>"$T/$id.in" 4<>"$T/$id.out" 5<>"$T/$id.ain" 6<>"$T/$id.aout"
}
end_agent() {
	exec 5>&- 6>&-
	wait "$AGENT_PID"
}

# 1. Revoking the agent denies its running tool at once.
tool_batch r agent:rev tool:b
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "tool before the agent is revoked"
actgate revoke agent:rev --reason "agent compromised" >/dev/null || fail "revoke agent:rev"
expect_eq "$(batch_ask 3 4 "open $T/file r")" EPERM "tool after its agent is revoked"
expect_record '"workload":"tool:b"' '"action":"open"' '"verdict":"deny"' '"reason":"revoked"' \
	'"chain":"- > agent:rev#'
end_agent
exec 3>&- 4>&-

# 2. A tool cannot outlive its agent's --ttl: it asked for an hour, the
# agent has 3 s; once the agent's own actions are denied (expired), so are
# the tool's (no assertion on time: the order alone).
TOOL_ARGS="--ttl 1h" tool_batch t agent:ttl tool:long --ttl 10s
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "tool before the agent's time is up"
wait_for 600 "the agent's time never ended" probe_is EPERM batch_ask 5 6 "open $T/file r"
expect_eq "$(batch_ask 3 4 "open $T/file r")" EPERM "tool after its agent's time is up"
expect_record '"workload":"agent:ttl"' '"verdict":"deny"' '"reason":"expired"'
expect_record '"workload":"tool:long"' '"verdict":"deny"' '"reason":"expired"'
end_agent
exec 3>&- 4>&-

# 3. The agent ends; its tool stays running and is orphaned.
tool_batch o agent:gone tool:orphan
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "tool while its agent runs"
end_agent
wait_for 100 "the tool was not orphaned" probe_is EPERM batch_ask 3 4 "open $T/file r"
expect_record '"workload":"tool:orphan"' '"verdict":"deny"' '"reason":"parent-ended"' \
	'"chain":"- > agent:gone#'
exec 3>&- 4>&-

# ... unless delegate: lets it outlive the agent.
tool_batch k agent:keep tool:keeper
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "keeper while its agent runs"
end_agent
sleep 0.5
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "keeper after its agent ended (outlive: true)"
exec 3>&- 4>&-

# 4. Replay: every tool decision carries its chain; --tree prints the agent,
# its tools below it, and each one's decisions.
n=$(replay_json --workload 'tool:*' | grep -c '"action":"open"')
[ "$n" -ge 5 ] || fail "tool open records: $n"
m=$(replay_json --workload 'tool:*' | grep '"action":"open"' | grep -c '"chain":"- > agent:[a-z]*#[0-9]*\[agent;[^]]*\] > tool:[a-z]*#[0-9]*\[agent;')
expect_eq "$m" "$n" "tool records with the full chain"
actgate replay --journal-dir "$JOURNAL" --tree 'agent:gone' >"$T/tree" || fail "replay --tree"
cat "$T/tree"
grep -q '^workload agent:gone' "$T/tree" || fail "--tree: no agent"
grep -q '^ *`- sub-workload tool:orphan' "$T/tree" || fail "--tree: no tool below the agent"
grep -A20 'sub-workload tool:orphan' "$T/tree" | grep -q "open.*deny.*$T/file" ||
	fail "--tree: the tool's denied open is not shown"

# Delegation: a governed "agent" starts tool sub-workloads with `actgate run`
# from inside itself. Each tool is held to its own policy and to its
# parent's (attenuation); a child asking for more than its parent without a
# delegate: section is refused and recorded; with delegate: it gets exactly
# the widened rule, only while the signal it names holds. On main the
# control socket refused every governed peer, so no tool could start.
. /actgate/lib.sh

copy_binary tool
echo data >"$T/file"
echo other >"$T/other"
echo secret >"$T/secret"
agent_rules() {
	cat <<YAML
  exec: {default: allow}
  open: {default: allow, deny: [$T/secret]}
  connect: {default: allow, deny: [127.0.0.1:7002]}
YAML
}
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: agent-plain}
spec:
  selector: {workloads: ["agent:plain"]}
$(agent_rules)
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: agent-deleg}
spec:
  selector: {workloads: ["agent:deleg"]}
$(agent_rules)
  delegate:
    - workloads: ["tool:*"]
      policies: [tool-read, tool-net, tool-noexec]
    - workloads: ["tool:deploy"]
      allow: {connect: ["127.0.0.1:7002"]}
      when: {region: eu}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: tool-read}
spec:
  selector: {workloads: ["tool:read"]}
  open: {default: allow, deny: [$T/other]}
  connect: {default: deny}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: tool-net}
spec:
  selector: {workloads: ["tool:net"]}
  connect: {default: deny, allow: [127.0.0.1:7001]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: tool-noexec}
spec:
  selector: {workloads: ["tool:noexec"]}
  exec: {deny: [$T/bin/tool]}
YAML
start_daemon
listen_on 127.0.0.1 7001
listen_on 127.0.0.1 7002
listen_on 127.0.0.1 7003

# agent NAME SCRIPT: the script runs as workload NAME; its output is the answer.
agent() {
	printf '%s\n' "$2" >"$T/agent.sh"
	actgate run --quiet --workload "$1" -- sh "$T/agent.sh" 2>"$T/agent.err"
}
tool() { # NAME [RUN-ARGS] -- PROBE...
	n=$1
	shift
	actgate run --quiet --workload "$n" "$@"
}

# Three tools with different policies, each held to its own rules.
out=$(agent agent:plain "
tool() { n=\$1; shift; actgate run --quiet --workload \"\$n\" \"\$@\"; }
echo read \$(tool tool:read -- actprobe open $T/file r) \$(tool tool:read -- actprobe open $T/other r) \$(tool tool:read -- actprobe connect 127.0.0.1 7001) \$(tool tool:read -- actprobe exec $T/bin/tool)
echo net \$(tool tool:net -- actprobe connect 127.0.0.1 7001) \$(tool tool:net -- actprobe connect 127.0.0.1 7003) \$(tool tool:net -- actprobe open $T/other r)
echo noexec \$(tool tool:noexec -- actprobe exec $T/bin/tool) \$(tool tool:noexec -- actprobe connect 127.0.0.1 7003)
echo parent \$(tool tool:net -- actprobe open $T/secret r) \$(tool tool:noexec -- actprobe connect 127.0.0.1 7002)
echo agent \$(actprobe open $T/other r) \$(actprobe connect 127.0.0.1 7003) \$(actprobe exec $T/bin/tool)
") || fail "agent: $out $(cat "$T/agent.err")"
note "$out"
expect_eq "$(echo "$out" | grep '^read')" "read ok EPERM EPERM ok" "tool:read (its own open deny, connect default deny)"
expect_eq "$(echo "$out" | grep '^net')" "net ok EPERM ok" "tool:net (only 7001)"
expect_eq "$(echo "$out" | grep '^noexec')" "noexec EPERM ok" "tool:noexec"
expect_eq "$(echo "$out" | grep '^parent')" "parent EPERM EPERM" "children keep the parent's denials"
expect_eq "$(echo "$out" | grep '^agent')" "agent ok ok ok" "the agent itself is not narrowed"

# Every child decision carries its chain: principal > agent > tool.
expect_record '"workload":"tool:read"' '"action":"open"' "\"target\":\"$T/other\"" \
	'"verdict":"deny"' '"chain":"- > agent:plain#' '> tool:read#'
expect_record '"workload":"agent:plain"' '"action":"delegate"' '"verdict":"allow"' \
	'"target":"run tool:net"' '"reason":"delegation"'

# Asking for more than the parent without delegate: refused and recorded.
out=$(agent agent:plain "actgate run --quiet --workload tool:deploy --allow connect:127.0.0.1:7002 -- actprobe connect 127.0.0.1 7002; echo status \$?")
note "$out / $(cat "$T/agent.err")"
expect_eq "$out" "status 125" "a child asking for a rule beyond its parent without delegate:"
grep -q "permission denied: run tool:deploy --allow connect:127.0.0.1:7002: no policy of the parent has a delegate: section" \
	"$T/agent.err" || fail "refusal: $(cat "$T/agent.err")"
expect_record '"workload":"agent:plain"' '"action":"delegate"' '"verdict":"deny"' \
	'"reason":"delegation"' '"target":"run tool:deploy --allow connect:127.0.0.1:7002"'
# Without asking, it gets the attenuation: the parent's denial holds.
out=$(agent agent:plain "actgate run --quiet --workload tool:deploy -- actprobe connect 127.0.0.1 7002")
expect_eq "$out" "EPERM" "tool:deploy by attenuation alone"
# A --policy the delegate: section does not list is refused.
out=$(agent agent:deleg "actgate run --quiet --workload tool:read --policy agent-plain -- true; echo status \$?")
expect_eq "$out" "status 125" "a --policy delegate: does not list"
expect_record '"workload":"agent:deleg"' '"verdict":"deny"' '"target":"run tool:read --policy agent-plain"'

# With delegate:, exactly the widened rule, and only while region=eu holds.
# A delegated rule is a grant without an expiry of its own; the daemon's tick
# once took that for "expired a minute ago" whenever the machine had been up
# over a minute, and dropped it from the kernel: wait for that (an order,
# not a time asserted), so the rule is checked where it failed.
wait_for 1200 "the machine's uptime did not pass 65 s" \
	awk '$1 < 65 { exit 1 }' /proc/uptime
out=$(agent agent:deleg "actgate run --quiet --workload tool:deploy --allow connect:127.0.0.1:7002 -- actprobe connect 127.0.0.1 7002; echo status \$?")
expect_eq "$out" "status 125" "delegate: whose when: does not hold"
grep -q "when: does not hold" "$T/agent.err" || fail "refusal: $(cat "$T/agent.err")"
actgate signal set region=eu >/dev/null || fail "signal set region=eu"
out=$(agent agent:deleg "
tool() { n=\$1; shift; actgate run --quiet --workload \"\$n\" \"\$@\"; }
echo deploy \$(tool tool:deploy --allow connect:127.0.0.1:7002 -- sh -c 'actprobe connect 127.0.0.1 7002; actprobe connect 127.0.0.1 7003; actprobe open $T/secret r')
echo sibling \$(tool tool:deploy -- actprobe connect 127.0.0.1 7002)
echo other \$(tool tool:deploy --allow connect:127.0.0.1:7003 -- true; echo \$?)
echo agent \$(actprobe connect 127.0.0.1 7002)
") || fail "agent:deleg: $out $(cat "$T/agent.err")"
note "$out"
expect_eq "$(echo "$out" | grep '^deploy')" "deploy ok ok EPERM" "tool:deploy with the delegated rule"
expect_eq "$(echo "$out" | grep '^sibling')" "sibling EPERM" "a sibling that did not ask"
expect_eq "$(echo "$out" | grep '^other')" "other 125" "a rule delegate: does not list"
expect_eq "$(echo "$out" | grep '^agent')" "agent EPERM" "the parent itself does not gain it"
# Still in force after some of the daemon's ticks (the loop's, well under a
# second apart) have passed over it.
out=$(agent agent:deleg "actgate run --quiet --workload tool:deploy --allow connect:127.0.0.1:7002 -- sh -c 'sleep 2; actprobe connect 127.0.0.1 7002'")
expect_eq "$out" "ok" "the delegated rule after the daemon's ticks"
expect_record '"workload":"tool:deploy"' '"action":"connect"' '"target":"127.0.0.1:7002/tcp"' \
	'"verdict":"allow"' '"reason":"grant"' '"chain":"- > agent:deleg#'
expect_record '"workload":"agent:deleg"' '"action":"delegate"' '"verdict":"allow"' \
	'"target":"run tool:deploy --allow connect:127.0.0.1:7002"'

# What-if knows delegation: under the same policies nothing would change
# (every tool decided with its agent's policies too, the delegated rule's
# allows kept, each commission decided again by delegate:); without the
# delegate: entry for tool:deploy, its commission with the rule would be
# refused.
actgate replay --journal-dir "$JOURNAL" --what-if "$POLICIES" >"$T/whatif.out" 2>&1 ||
	fail "what-if under the same policies: $(cat "$T/whatif.out")"
note "$(tail -n 1 "$T/whatif.out")"
mkdir "$T/candidate"
awk '/workloads: \["tool:deploy"\]/ { skip = 3 } skip { skip--; next } { print }' \
	"$POLICIES/p.yaml" >"$T/candidate/p.yaml"
grep -q 'tool:deploy' "$T/candidate/p.yaml" && fail "the candidate kept tool:deploy's entry"
actgate replay --journal-dir "$JOURNAL" --json --what-if "$T/candidate" >"$T/whatif.json" 2>&1
expect_eq "$?" 1 "what-if exit status when something would change"
grep '"what_if":"now-denied"' "$T/whatif.json" |
	grep -q '"target":"run tool:deploy --allow connect:127.0.0.1:7002"' ||
	fail "the commission with the rule is not now-denied: $(cat "$T/whatif.json")"
expect_eq "$(grep -c '"what_if":' "$T/whatif.json")" \
	"$(grep '"what_if":"now-denied"' "$T/whatif.json" | grep -c '"action":"delegate"')" \
	"what-if changes other than the refused commissions"

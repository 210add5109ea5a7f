# Hot reload: a running workload sees the new policy at its next action; a bad
# policy, or one that would leave a running workload unselected, is refused
# and the running policy stays; SIGHUP reloads too; and during 100 reloads
# between two policies that agree on a loop of opens, execs and connects, no
# action gets another verdict.
. /actgate/lib.sh

copy_binary tool-a
copy_binary tool-b
write_policy() { # $1: list that denies, $2: selector
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: live}
spec:
  selector: {workloads: ["${2:-ci:*}"]}
  exec: {default: allow, deny: [$1]}
YAML
}
write_policy "$T/bin/tool-a"
start_daemon

# A long-running workload that probes both tools whenever asked.
cat >"$T/worker.sh" <<SH
while [ ! -e "$T/stop" ]; do
	if [ -e "$T/go" ]; then
		rm -f "$T/go"
		echo "\$(actprobe exec "$T/bin/tool-a" true 2>/dev/null) \$(actprobe exec "$T/bin/tool-b" true 2>/dev/null)" >"$T/result.tmp"
		mv "$T/result.tmp" "$T/result"
	fi
	sleep 0.05
done
SH
in_workload ci:long sh "$T/worker.sh" &
WORKER=$!
ask() {
	rm -f "$T/result"
	touch "$T/go"
	wait_for 150 "the worker did not answer within 15 s" test -e "$T/result"
	cat "$T/result"
}
generation() { actgate status | sed -n 's/^generation: //p'; }

expect_eq "$(ask)" "EPERM ok" "generation 1 (tool-a denied)"

write_policy "$T/bin/tool-b"
actgate policy reload >"$T/reload.out" 2>&1 || fail "reload refused: $(cat "$T/reload.out")"
grep -q "generation 2" "$T/reload.out" || fail "reload output: $(cat "$T/reload.out")"
expect_eq "$(ask)" "ok EPERM" "generation 2 (tool-b denied), same running workload"

# A bad policy is refused, with file:line:col, and changes nothing.
write_policy "relative/tool"
actgate policy reload 2>"$T/bad.err"
expect_eq "$?" 1 "reload status for a bad policy"
grep -q "p.yaml:6:33: error" "$T/bad.err" || fail "no file:line:col in: $(cat "$T/bad.err")"
expect_eq "$(generation)" 2 "generation after a refused reload"
expect_eq "$(ask)" "ok EPERM" "the running policy after a refused reload"

# A policy that no longer selects a running workload is refused too.
write_policy "$T/bin/tool-a" "other:*"
actgate policy reload 2>"$T/unselected.err"
expect_eq "$?" 1 "reload status when a running workload would be unselected"
grep -q 'ci:long' "$T/unselected.err" || fail "the refusal does not name the workload: $(cat "$T/unselected.err")"
expect_eq "$(ask)" "ok EPERM" "the running policy after a refused reload"

# SIGHUP reloads as well.
write_policy "$T/bin/tool-a"
kill -HUP "$DAEMON_PID"
wait_for 100 "SIGHUP did not reload to generation 3 within 10 s" probe_is 3 generation
expect_eq "$(ask)" "EPERM ok" "generation 3 after SIGHUP"
expect_record '"verdict":"deny"' "\"target\":\"$T/bin/tool-b\"" '"generation":2' \
	'"rule":"live:exec.deny[0]"' '"policy":"live"'
expect_record '"verdict":"deny"' "\"target\":\"$T/bin/tool-a\"" '"generation":3'
touch "$T/stop"
wait $WORKER

# 100 reloads between two policies that agree on every action a workload
# takes in a loop, one written with exact rules and allowing defaults, the
# other with subtree rules, exceptions and denying defaults: open f1 EPERM,
# f2 ok; exec tool-a EPERM, tool-b ok; connect 127.0.0.1:7001 ok,
# 127.0.0.2:7001 EPERM. Any other answer is a verdict neither policy gives.
mkdir -p "$T/files"
echo 1 >"$T/files/f1"
echo 2 >"$T/files/f2"
rm -f "$T/stop"
listen_on 127.0.0.1 7001
policy_exact() {
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: live}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: allow, deny: [$T/files/f1]}
  exec: {default: allow, deny: [$T/bin/tool-a]}
  connect: {default: allow, deny: ["127.0.0.2"]}
YAML
}
policy_subtree() {
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: live}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: deny, allow: [/, $T/files/f2], deny: [$T/files/]}
  exec: {default: deny, allow: [/, $T/bin/tool-b], deny: [$T/bin/]}
  connect: {default: deny, allow: ["127.0.0.0/8:7001"], deny: ["127.0.0.2/32"]}
YAML
}
EXPECTED="EPERM ok EPERM ok ok EPERM"
cat >"$T/looper.sh" <<SH
n=0
while [ ! -e "$T/stop" ]; do
	got="\$(actprobe open "$T/files/f1") \$(actprobe open "$T/files/f2")"
	got="\$got \$(actprobe exec "$T/bin/tool-a" true 2>/dev/null) \$(actprobe exec "$T/bin/tool-b" true 2>/dev/null)"
	got="\$got \$(actprobe connect 127.0.0.1 7001) \$(actprobe connect 127.0.0.2 7001)"
	[ "\$got" = "$EXPECTED" ] || echo "\$got" >>"$T/wrong"
	n=\$((n + 1))
	echo \$n >"$T/rounds"
done
SH
policy_exact
actgate policy reload >/dev/null || fail "reload to the exact-rule policy"
in_workload ci:loop sh "$T/looper.sh" &
LOOPER=$!
r=0
while [ $r -lt 100 ]; do
	if [ $((r % 2)) -eq 0 ]; then policy_subtree; else policy_exact; fi
	actgate policy reload >/dev/null 2>"$T/reload.err" || fail "reload $r: $(cat "$T/reload.err")"
	r=$((r + 1))
done
touch "$T/stop"
wait $LOOPER
[ ! -e "$T/wrong" ] || fail "verdicts neither policy gives ($EXPECTED expected), during reloads: $(sort "$T/wrong" | uniq -c)"
rounds=$(cat "$T/rounds")
[ "$rounds" -gt 0 ] || fail "the looping workload made no round"
note "$rounds rounds of open, exec and connect across 100 reloads, each as both policies decide"

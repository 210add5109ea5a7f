# One semantics, two evaluators: a corpus of over 1,000 generated actions
# (files and directories at several depths under exact and subtree rules that
# overlap, IPv4, IPv4-mapped IPv6 and IPv6 destinations across port ranges) is
# decided by the kernel; the kernel's answers are written as a PolicyTest file
# and `actgate policy test` (the userspace evaluator) must agree on every one.
. /actgate/lib.sh

R="$T/tree"
for a in a b c; do
	for x in x y; do
		for p in p q; do
			mkdir -p "$R/$a/$x/$p"
		done
	done
done
FILES=$(find "$R" -type d | sort | while read -r d; do
	for n in n1 n2 n3; do echo "$d/$n"; done
done)
for f in $FILES; do
	cp /usr/bin/actprobe "$f"
done

cat >"$POLICIES/diff.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-exec}
spec:
  selector: {workloads: ["diff:exec"]}
  exec: {default: allow, deny: [$R/a/, $R/b/x/p/n1, $R/c/y/, $R/b/y/q/n3],
         allow: [$R/a/x/, $R/c/y/q/n2, $R/b/y/q/n3]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-open}
spec:
  selector: {workloads: ["diff:open"]}
  open: {default: allow, deny: [$R/a/, $R/b/x/n2, $R/c/, $R/b/y/p/],
         allow: [$R/a/x/, $R/c/x/p/, $R/a/y/q/n1, $R/b/y/p/n3]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-net}
spec:
  selector: {workloads: ["diff:net"]}
  connect:
    default: deny
    allow: ["127.0.0.0/24:80-443", "127.0.0.16/28", "[::1]:8000-9000", "127.0.0.32/27:22",
            "127.0.0.0/8:9000-9100", "[::1]:22"]
    deny: ["127.0.0.20/30", "127.0.0.0/24:443", "127.0.0.17:8080", "127.0.0.40/29:80-90"]
YAML
start_daemon

# The corpus, one workload per action kind (an exec also opens its file, so
# open rules stay in their own policy).
for f in $FILES; do echo "exec $f"; done >"$T/exec.in"
{
	find "$R" | sort | while read -r f; do echo "open $f"; done
} >"$T/open.in"
PORTS="1 21 22 23 79 80 81 90 91 442 443 444 8000 8080 8999 9000 9050 9100 9101 65535"
{
	i=1
	while [ $i -le 48 ]; do
		for port in $PORTS; do
			echo "connect 127.0.0.$i $port"
			[ $((i % 2)) -eq 0 ] && echo "connect ::ffff:127.0.0.$i $port"
		done
		i=$((i + 1))
	done
	for port in $PORTS; do echo "connect ::1 $port"; done
} >"$T/net.in"

in_workload diff:exec actprobe batch <"$T/exec.in" >"$T/exec.out" || fail "exec batch failed"
in_workload diff:open actprobe batch <"$T/open.in" >"$T/open.out" || fail "open batch failed"
in_workload diff:net actprobe batch <"$T/net.in" >"$T/net.out" || fail "connect batch failed"

# The kernel's answers as test cases: EPERM is a denial, anything else (ok,
# ECONNREFUSED, ...) means the LSM let the action through.
{
	cat <<YAML
apiVersion: actgate.dev/v1
kind: PolicyTest
metadata: {name: differential}
spec:
  policies: [policies]
  cases:
YAML
	for kind in exec open net; do
		paste -d' ' "$T/$kind.in" "$T/$kind.out"
	done | awk -v q='"' '
		$1 == "connect" {
			target = ($2 ~ /:/) ? "[" $2 "]:" $3 : $2 ":" $3
			print "    - {workload: " q "diff:net" q ", action: connect, target: " q target q ", expect: " ($4 == "EPERM" ? "deny" : "allow") "}"
			next
		}
		{ print "    - {workload: " q "diff:" $1 q ", action: " $1 ", target: " q $2 q ", expect: " ($3 == "EPERM" ? "deny" : "allow") "}" }
	'
} >"$T/diff.test.yaml"

total=$(grep -c '^    - ' "$T/diff.test.yaml")
denied=$(grep -c 'expect: deny' "$T/diff.test.yaml")
note "$total actions, $denied denied by the kernel"
[ "$total" -ge 1000 ] || fail "only $total actions in the corpus"
[ "$denied" -gt 100 ] && [ "$((total - denied))" -gt 100 ] || fail "a one-sided corpus: $denied of $total denied"
grep -q BADLINE "$T"/*.out && fail "actprobe did not understand a line"

actgate policy test "$T/diff.test.yaml" >"$T/test.out" 2>&1
status=$?
tail -n 20 "$T/test.out"
expect_eq "$status" 0 "actgate policy test on the kernel's answers"
grep -q "^$total passed, 0 failed" "$T/test.out" || fail "unexpected summary: $(tail -n 1 "$T/test.out")"

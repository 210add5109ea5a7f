# One semantics, two evaluators: a corpus of over 10,000 generated actions is
# decided by the kernel; the kernel's answers are written as a PolicyTest file
# and `actgate policy test` (the userspace evaluator) must agree on every one.
# The corpus: exec of files at several depths under exact and subtree rules
# that overlap; open of the same files for read, write, truncation (create)
# and executable mapping, and creation of new files, under rules that name
# accesses; IPv4, IPv4-mapped IPv6 and IPv6 destinations across port ranges,
# the unspecified addresses (0.0.0.0, ::ffff:0.0.0.0, ::) among them, over TCP
# and UDP, under rules with and without a protocol; unix sockets
# under exact and subtree rules. The open and connect workloads are each
# selected by two policies, which compose. The tree is six levels deep and
# the path corpus is decided in several passes with the path verdict cache
# (bpf/lib/cache.h) cold, warm, and after ungoverned renames that move
# directories away and back between passes, so that cached answers are held
# to the evaluator too.
. /actgate/lib.sh

R="$T/tree"
for a in a b c; do
	for x in x y; do
		for p in p q; do
			for r in r s; do
				mkdir -p "$R/$a/$x/$p/$r/t" "$R/$a/$x/$p/$r/u"
			done
		done
	done
done
DIRS=$(find "$R" -type d | sort)
FILES=$(for d in $DIRS; do
	for n in n1 n2 n3; do echo "$d/$n"; done
done)
for f in $FILES; do
	cp /usr/bin/actprobe "$f"
done

# Unix sockets, bound before the daemon resolves the rules that name them.
S="$T/socks"
SOCKS="$S/a/s1.sock $S/a/s2.sock $S/b/s1.sock $S/b/s2.sock $S/b/c/s3.sock $S/s0.sock"
mkdir -p "$S/a" "$S/b/c"
for s in $SOCKS; do
	actprobe unix-listen "$s" stream &
	LISTENERS="${LISTENERS:-} $!"
done
for s in $SOCKS; do
	wait_for 100 "unix listener on $s did not come up" test -S "$s"
done

cat >"$POLICIES/diff.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-exec}
spec:
  selector: {workloads: ["diff:exec"]}
  exec: {default: allow, deny: [$R/a/, $R/b/x/p/n1, $R/c/y/, $R/b/y/q/],
         allow: [$R/a/x/, $R/c/y/q/n2, $R/b/y/q/n3]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-open}
spec:
  selector: {workloads: ["diff:open"]}
  open:
    default: allow
    deny:
      - $R/a/
      - $R/b/x/n2
      - {path: $R/c/, access: [write, create]}
      - {path: $R/b/y/p/, access: exec-map}
      - {path: $R/b/, access: create}
    allow:
      - $R/a/x/
      - {path: $R/c/x/p/, access: write}
      - $R/a/y/q/n1
      - {path: $R/b/y/p/n3, access: exec-map}
      - {path: $R/b/x/, access: create}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-open2}
spec:
  selector: {workloads: ["diff:open"]}
  open:
    default: allow
    deny:
      - {path: $R/a/x/p/, access: read}
      - {path: $R/c/x/p/n1, access: write}
      - {path: $R/b/y/, access: exec-map}
      - {path: $R/b/x/q/, access: [create, write]}
    allow:
      - {path: $R/b/y/q/, access: exec-map}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-net}
spec:
  selector: {workloads: ["diff:net"]}
  connect:
    default: deny
    allow: ["127.0.0.0/24:80-443", "127.0.0.16/28", "[::1]:8000-9000", "127.0.0.32/27:22",
            "127.0.0.0/8:9000-9100", "[::1]:22", {to: "127.0.0.0/24:53", protocol: udp},
            {to: "127.0.0.40/29:8000-8999", protocol: tcp}, {to: "[::1]:53", protocol: udp},
            unix:$S/a/s1.sock, unix:$S/b/, unix:$S/s0.sock]
    deny: ["127.0.0.20/30", "127.0.0.0/24:443", "127.0.0.17:8080", "127.0.0.40/29:80-90",
           {to: "127.0.0.16/28:9000-9100", protocol: udp}, {to: "[::1]:8080", protocol: tcp},
           unix:$S/a/, unix:$S/b/c/]
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: diff-net2}
spec:
  selector: {workloads: ["diff:net"]}
  connect:
    default: allow
    deny: ["127.0.0.8/29:9000-9100", {to: "127.0.0.0/26:22", protocol: tcp},
           {to: "127.0.0.0/24:53", protocol: udp}, unix:$S/b/s2.sock]
    allow: ["127.0.0.12/30:9000-9050"]
YAML
start_daemon

# The corpus, one workload per action kind (an exec also opens and maps its
# file, so open rules stay in their own policies).
for f in $FILES; do echo "exec $f"; done >"$T/exec1.in"
{
	for d in $DIRS; do
		echo "open $d r"
		for n in n1 n2 n3; do
			f="$d/$n"
			echo "open $f r"
			echo "open $f w"
			echo "open $f rw"
			echo "mmap-exec $f"
			echo "open $f wt"
		done
		echo "open $d/new wc"
	done
} >"$T/open1.in"
PORTS="1 21 22 23 53 79 80 81 90 91 442 443 444 8000 8080 8999 9000 9050 9100 9101 65535"
{
	i=1
	while [ $i -le 48 ]; do
		for port in $PORTS; do
			echo "connect 127.0.0.$i $port tcp"
			[ $((i % 2)) -eq 0 ] && echo "connect ::ffff:127.0.0.$i $port tcp"
			[ $((i % 4)) -eq 0 ] && echo "connect 127.0.0.$i $port udp"
		done
		i=$((i + 1))
	done
	for port in $PORTS; do
		echo "connect ::1 $port tcp"
		echo "connect ::1 $port udp"
		# The unspecified address, judged as the loopback address it reaches.
		echo "connect 0.0.0.0 $port tcp"
		echo "connect ::ffff:0.0.0.0 $port udp"
		echo "connect :: $port tcp"
	done
	for s in $SOCKS; do echo "unix-connect $s stream"; done
} >"$T/net1.in"

# Directories moved away, under other rules, and back by an ungoverned
# shell: the same paths afterwards, every cached segment made before stale.
# Only directories below every rule's path move, so that the daemon, which
# follows rule paths, has nothing to compile anew: the policy generation
# stays the one the corpus began with (checked below), and what answers
# after a move is the cache's invalidation, not a reload.
shuffle() {
	for t in "$R"/a/x/p/r/t "$R"/b/y/q/s/u "$R"/c/x/q/r/t; do
		mv "$t" "$R/b/y/p/s/away" && mv "$R/b/y/p/s/away" "$t" || fail "could not move $t"
	done
}
generation() { actgate status | sed -n 's/^generation: //p'; }
G=$(generation)
# Passes: the path corpus cold, warm, and after each shuffle; connect twice.
for pass in 1 2 3 4; do
	[ $pass -ge 3 ] && shuffle
	# What the last pass created is created anew (an existing file is opened, not created).
	find "$R" -name new -exec rm -f {} +
	[ $pass -eq 1 ] || cp "$T/open1.in" "$T/open$pass.in"
	in_workload diff:open actprobe batch <"$T/open$pass.in" >"$T/open$pass.out" ||
		fail "open batch $pass failed"
done
for pass in 1 2; do
	[ $pass -eq 1 ] || cp "$T/exec1.in" "$T/exec$pass.in"
	[ $pass -ge 2 ] && shuffle
	in_workload diff:exec actprobe batch <"$T/exec$pass.in" >"$T/exec$pass.out" ||
		fail "exec batch $pass failed"
	[ $pass -eq 1 ] || cp "$T/net1.in" "$T/net$pass.in"
	in_workload diff:net actprobe batch <"$T/net$pass.in" >"$T/net$pass.out" ||
		fail "connect batch $pass failed"
done
expect_eq "$(generation)" "$G" "the policy generation after the passes"
# Every pass of a corpus must give the same answers.
for kind in open exec net; do
	for f in "$T/$kind"[2-9].out; do
		[ -f "$f" ] || continue
		cmp -s "$T/${kind}1.out" "$f" || fail "$kind: $f differs from the first pass"
	done
done

# The kernel's answers as test cases: EPERM is a denial, anything else (ok,
# ECONNREFUSED, ...) means the LSM let the action through. A mapping whose
# open was refused (open:EPERM) asked for read, and exec-map never came.
{
	for run in exec1 exec2 open1 open2 open3 open4 net1 net2; do
		kind=${run%[0-9]}
		paste -d' ' "$T/$run.in" "$T/$run.out" | sed "s/^/$kind /"
	done | awk -v q='"' '
		function verdict(answer) { return (answer == "EPERM" || answer == "open:EPERM") ? "deny" : "allow" }
		function emit(workload, action, target, extra, answer) {
			print "    - {workload: " q workload q ", action: " action ", target: " q target q extra ", expect: " verdict(answer) "}"
		}
		$2 == "exec" { emit("diff:exec", "exec", $3, "", $4); next }
		$2 == "open" {
			access = "read"
			if ($4 ~ /^w/) access = "write"
			if ($4 ~ /^rw/) access = "[read, write]"
			if ($4 ~ /[tc]/) access = ($4 ~ /^rw/) ? "[read, write, create]" : "[write, create]"
			emit("diff:open", "open", $3, ", access: " access, $5)
			next
		}
		$2 == "mmap-exec" {
			emit("diff:open", "open", $3, ", access: " ($4 ~ /^open:/ ? "[read, exec-map]" : "exec-map"), $4)
			next
		}
		$2 == "connect" {
			target = ($3 ~ /:/) ? "[" $3 "]:" $4 : $3 ":" $4
			emit("diff:net", "connect", target, ", protocol: " $5, $6)
			next
		}
		$2 == "unix-connect" { emit("diff:net", "connect", "unix:" $3, "", $5); next }
		{ print "unexpected line: " $0 > "/dev/stderr"; exit 1 }
	'
} >"$T/diff.cases" || fail "could not write the test cases"

grep -q BADLINE "$T"/*.out && fail "actprobe did not understand a line"
total=$(grep -c '^    - ' "$T/diff.cases")
denied=$(grep -c 'expect: deny' "$T/diff.cases")
note "$total actions, $denied denied by the kernel"
[ "$total" -ge 10000 ] || fail "only $total actions in the corpus"
[ "$denied" -gt 100 ] && [ "$((total - denied))" -gt 100 ] || fail "a one-sided corpus: $denied of $total denied"
# Each kind must be two-sided too, or its half of the comparison proves little.
for what in 'action: exec' 'access: write' 'create' 'exec-map' 'protocol: udp' 'unix:'; do
	d=$(grep -F "$what" "$T/diff.cases" | grep -c 'expect: deny')
	a=$(grep -F "$what" "$T/diff.cases" | grep -c 'expect: allow')
	note "$what: $d denied, $a allowed"
	[ "$d" -gt 0 ] && [ "$a" -gt 0 ] || fail "one-sided answers for '$what': $d denied, $a allowed"
done

# A test file may hold at most 1 MiB: the cases go in files of 2,000.
awk -v dir="$T" '{ f = sprintf("%s/diff-part.%02d", dir, int((NR - 1) / 2000)); print > f }' "$T/diff.cases" ||
	fail "could not split the test cases"
passed=0
for part in "$T"/diff-part.[0-9][0-9]; do
	n=$(grep -c '^    - ' "$part")
	{
		cat <<YAML
apiVersion: actgate.dev/v1
kind: PolicyTest
metadata: {name: differential}
spec:
  policies: [policies]
  cases:
YAML
		cat "$part"
	} >"$T/diff.test.yaml"
	actgate policy test "$T/diff.test.yaml" >"$T/test.out" 2>&1
	status=$?
	tail -n 3 "$T/test.out"
	expect_eq "$status" 0 "actgate policy test on the kernel's answers ($part)"
	grep -q "^$n passed, 0 failed" "$T/test.out" || fail "unexpected summary: $(tail -n 1 "$T/test.out")"
	passed=$((passed + n))
done
expect_eq "$passed" "$total" "cases the userspace evaluator agreed on"

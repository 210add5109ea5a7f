# Egress by name, in guest instructions (qemu -icount shift=0): a TCP connect
# to an address learned from an allowed lookup (a closed port on loopback,
# refused, as tests/bench/vm-lookup.sh measures connects: no listener's work
# in the count), with 1,000 rules by name in the workload's policy, against
# the same connect with no actgated; and a
# lookup through actgated's resolver (steered, decided, forwarded, learned)
# against the same lookup asked of the upstream directly. Lines
# "BENCH|key|instructions|baseline" for tests/bench/report.sh.
set -u

W=/tmp/bench-names
ITER=${BENCH_NET_ITERATIONS:-2000}
LOOKUPS=${BENCH_LOOKUPS:-200}
mkdir -p "$W/policies"
export ACTGATE_SOCKET=$W/actgate.sock

krow() { # KEY LABEL INSTRUCTIONS BASELINE
	awk -v l="$2" -v v="$3" -v b="$4" 'BEGIN { printf "  %-60s %8d  %5.2f\n", l, v, v / b }'
	echo "BENCH|$1|$3|$4"
}

actprobe dns-serve 127.0.0.54 53 &
RESP=$!
until [ "$(actprobe resolve a.test a udp 127.0.0.54 2>&1)" = "NOERROR 127.0.0.21" ]; do
	sleep 0.2
done

# Measured at the start and again at the end, after actgated stopped and
# detached: the ratios use the end's, since the first minutes after boot
# counted twice as many instructions per connect in the first runs of this
# script (58,518 against 27,320); both are printed.
START_TCP=$(actprobe connectloop 127.0.0.21 7001 "$ITER" tcp)
START_DNS=$(actprobe resolveloop a.test "$LOOKUPS" 127.0.0.54)
echo "per TCP connect, refused ($ITER) and per UDP lookup ($LOOKUPS)"
echo "no actgated, at the start: TCP connect $START_TCP, lookup $START_DNS"

awk 'BEGIN {
	print "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: bench}"
	print "spec:\n  selector: {workloads: [\"bench:*\"]}\n  record: deny"
	print "  connect:\n    default: deny\n    allow:"
	for (i = 0; i < 999; i++) print "      - \"host" i ".example:443\""
	print "      - \"a.test:7001\""
}' >"$W/policies/bench.yaml"
cat >"$W/actgated.yaml" <<YAML
resolver: {listen: 127.0.0.153:53, upstream: 127.0.0.54:53}
YAML
actgated --config "$W/actgated.yaml" --policy-dir "$W/policies" --journal-dir "$W/journal" \
	--socket "$ACTGATE_SOCKET" >"$W/actgated.log" 2>&1 &
DAEMON=$!
until actgate status >/dev/null 2>&1; do
	kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
	sleep 0.2
done
GOV_TCP=$(actgate run --quiet --workload bench:run -- sh -c \
	"actprobe resolve a.test >/dev/null && actprobe connectloop 127.0.0.21 7001 $ITER tcp")
GOV_DNS=$(actgate run --quiet --workload bench:run -- actprobe resolveloop a.test "$LOOKUPS")
kill -TERM $DAEMON
wait $DAEMON 2>/dev/null
actgate detach >/dev/null
sleep 2 # programs and maps are freed later, in kernel threads, on the counted CPU
BASE_TCP=$(actprobe connectloop 127.0.0.21 7001 "$ITER" tcp)
BASE_DNS=$(actprobe resolveloop a.test "$LOOKUPS" 127.0.0.54)
krow names_base_tcp "no actgated, TCP connect (refused), at the end" "$BASE_TCP" "$BASE_TCP"
krow names_base_lookup "no actgated, lookup asked of the upstream, at the end" "$BASE_DNS" \
	"$BASE_DNS"
krow names1k_tcp "governed, 1,000 rules by name, TCP connect (learned, refused)" "$GOV_TCP" \
	"$BASE_TCP"
krow names1k_lookup "governed, 1,000 rules by name, lookup through the resolver" "$GOV_DNS" \
	"$BASE_DNS"
echo "lookup latency added by the resolver: $((GOV_DNS - BASE_DNS)) instructions per lookup"
kill $RESP 2>/dev/null
exit 0

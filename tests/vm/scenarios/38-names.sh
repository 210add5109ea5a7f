# Egress by name (docs/egress.md): a workload whose policy allows names has
# its lookups (to any server, UDP or TCP) answered by actgated's resolver,
# which refuses names outside the list and learns the addresses of allowed
# ones, for that workload only, before the answer arrives. A DNS responder
# of the test's own (actprobe dns-serve) is the upstream; every name
# resolves to a listener on 127.0.0.0/8 or ::1.
. /actgate/lib.sh

actprobe dns-serve 127.0.0.54 53 &
LISTENERS="$!"
wait_for 100 "the test responder did not come up" probe_is "NOERROR 127.0.0.21" \
	actprobe resolve a.test a udp 127.0.0.54

cat >"$T/actgated.yaml" <<YAML
resolver:
  listen: 127.0.0.153:53
  upstream: 127.0.0.54:53
  ttl_min: 1s
  ttl_max: 1h
YAML
cat >"$POLICIES/names.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: names}
spec:
  selector: {workloads: ["names:*"]}
  connect:
    default: deny
    allow: ["a.test:7001", "*.wild.test:7001", "cname.test:7001", "six.test:8080",
            "short.test:7001", "shared.test:7001"]
YAML
cat >"$POLICIES/other.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: other}
spec:
  selector: {workloads: ["other:*"]}
  connect: {default: deny, allow: ["shared.test:7002"]}
YAML
start_daemon --config "$T/actgated.yaml"

for l in 127.0.0.21:7001 127.0.0.23:7001 127.0.0.24:7001 127.0.0.25:7001 127.0.0.26:7001 \
	127.0.0.27:7001 127.0.0.28:7001 127.0.0.28:7002; do
	listen_on "${l%:*}" "${l#*:}"
done
listen_on ::1 8080

# Nothing looked up yet: the address alone is refused.
expect_probe EPERM in_workload names:a actprobe connect 127.0.0.21 7001
# An allowed name: answered, and its address reachable at once.
expect_probe ok in_workload names:a actprobe resolve-connect a.test 7001 1
expect_probe "NOERROR 127.0.0.21" in_workload names:a actprobe resolve a.test
# A name outside the list: refused at the lookup, never asked upstream...
expect_probe REFUSED in_workload names:a actprobe resolve deny.test
# ...and its address refused at the connect.
expect_probe EPERM in_workload names:a sh -c \
	'actprobe resolve deny.test >/dev/null; actprobe connect 127.0.0.23 7001'
# Wildcards: one or more labels before the suffix, never the suffix itself.
expect_probe ok in_workload names:a actprobe resolve-connect x.wild.test 7001 1
expect_probe ok in_workload names:a actprobe resolve-connect y.z.wild.test 7001 1
expect_probe REFUSED in_workload names:a actprobe resolve wild.test
# A CNAME chain: the name asked governs, the chain's address is learned.
expect_probe ok in_workload names:a actprobe resolve-connect cname.test 7001 1
# AAAA, to ::1.
expect_probe ok in_workload names:a sh -c \
	'actprobe resolve six.test aaaa >/dev/null && actprobe connect ::1 8080'
# DNS over TCP.
expect_probe ok in_workload names:a sh -c \
	'actprobe resolve a.test a tcp >/dev/null && actprobe connect 127.0.0.21 7001'
# A server other than the configured one: steered all the same, and answered by the upstream.
expect_probe "NOERROR 127.0.0.21" in_workload names:a actprobe resolve a.test a udp 192.0.2.1
expect_probe "NOERROR 127.0.0.21" in_workload names:a actprobe resolve a.test a tcp 127.0.0.54
# TTL expiry: short.test answers with TTL 1 (ttl_min 1s): reachable, then not.
expect_probe "ok
EPERM" in_workload names:a sh -c 'actprobe resolve short.test >/dev/null;
	actprobe connect 127.0.0.25 7001; sleep 2.5; actprobe connect 127.0.0.25 7001'
# Two workloads with different lists resolve the same name: each gets its own ports.
expect_probe "ok
EPERM" in_workload names:c sh -c 'actprobe resolve shared.test >/dev/null;
	actprobe connect 127.0.0.28 7001; actprobe connect 127.0.0.28 7002'
expect_probe "ok
EPERM" in_workload other:d sh -c 'actprobe resolve shared.test >/dev/null;
	actprobe connect 127.0.0.28 7002; actprobe connect 127.0.0.28 7001'
# A raw-IP connect to an address other workloads learned: denied.
expect_probe EPERM in_workload other:e actprobe connect 127.0.0.21 7001
# Nobody asks as another workload: a socket bound to another source cannot
# reach the resolver (the steering binds a lookup's source itself).
expect_probe EPERM in_workload other:g actprobe connect-from 127.255.255.254 127.0.0.153 53 udp
expect_probe EPERM in_workload other:g actprobe connect-from 127.255.255.254 10.53.0.1 53 tcp
# No first-connect race: 1,000 rounds of lookup then connect at once, none denied.
expect_probe ok in_workload names:f actprobe resolve-connect a.test 7001 1000

expect_record '"action":"resolve"' '"verdict":"deny"' '"target_name":"deny.test"'
expect_record '"action":"resolve"' '"verdict":"allow"' '"target_name":"a.test"'
expect_record '"action":"connect"' '"verdict":"allow"' '"reason":"learned"' \
	'"target":"127.0.0.21:7001/tcp"' '"target_name":"a.test"'
expect_record '"action":"connect"' '"verdict":"allow"' '"target_name":"cname.test"'
actgate replay --journal-dir "$JOURNAL" --target a.test --json | grep -q '"reason":"learned"' ||
	fail "replay --target a.test finds no learned connect"
actgate status | grep -q 'resolver.learned_entries' || fail "status shows no learned set"

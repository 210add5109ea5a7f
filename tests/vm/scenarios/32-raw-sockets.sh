# Raw and packet sockets choose their destination in the packet, where no
# connect rule can see it: a governed task may not create one unless every
# policy of its workload lists the kind in connect's sockets, whatever the
# section's default. Raw IPv4 (IPPROTO_RAW, that is IP_HDRINCL, too) and IPv6,
# AF_PACKET of every type, the legacy (AF_INET, SOCK_PACKET), and the same
# through io_uring; UDP, netlink and unix socket pairs are not affected.
. /actgate/lib.sh

# The first set has no sockets list at all: creation is refused all the same.
cat >"$POLICIES/raw.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: nosock}
spec:
  selector: {workloads: ["raw:none"]}
  connect: {default: allow}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: watch}
spec:
  selector: {workloads: ["raw:audit"]}
  mode: audit
YAML
start_daemon

# Outside any workload the kernel decides alone (AF_PACKET may be a module
# this VM lacks: whatever it answers there, an allowed workload gets too).
expect_probe ok actprobe socket inet raw icmp
expect_probe ok actprobe uring-socket inet raw icmp
packet_outside=$(actprobe socket packet raw all)
note "AF_PACKET outside a workload: $packet_outside"

expect_probe EPERM in_workload raw:none actprobe socket inet raw icmp
expect_probe EPERM in_workload raw:none actprobe socket inet raw raw
expect_probe EPERM in_workload raw:none actprobe socket inet6 raw icmpv6
expect_probe EPERM in_workload raw:none actprobe socket packet raw all
expect_probe EPERM in_workload raw:none actprobe socket packet dgram all
expect_probe EPERM in_workload raw:none actprobe socket inet packet all
expect_probe EPERM in_workload raw:none actprobe uring-socket inet raw icmp
expect_probe EPERM in_workload raw:none actprobe uring-socket packet raw all
# Sockets whose destination is in a sockaddr, or that reach no network.
expect_probe ok in_workload raw:none actprobe socket inet dgram udp
expect_probe ok in_workload raw:none actprobe socket inet6 stream 0
expect_probe ok in_workload raw:none actprobe socket netlink raw 0
expect_probe ok in_workload raw:none actprobe socketpair
# An audit policy records the would-be denial and lets it through.
expect_probe ok in_workload raw:audit actprobe socket inet raw icmp

expect_record '"action":"connect"' '"verdict":"deny"' '"target":"raw:ipv4/icmp"' \
	'"rule":"nosock:connect.sockets.raw"' '"reason":"default"' '"mode":"enforce"'
expect_record '"verdict":"deny"' '"target":"raw:ipv4/raw"' '"rule":"nosock:connect.sockets.raw"'
expect_record '"verdict":"deny"' '"target":"raw:ipv6/icmp"' '"rule":"nosock:connect.sockets.raw"'
expect_record '"verdict":"deny"' '"target":"packet:raw/0x0003"' \
	'"rule":"nosock:connect.sockets.packet"'
expect_record '"verdict":"deny"' '"target":"packet:dgram/0x0003"'
expect_record '"verdict":"deny"' '"target":"packet:packet/0x0003"'
expect_record '"verdict":"deny"' '"mode":"audit"' '"target":"raw:ipv4/icmp"' \
	'"rule":"watch:connect.sockets.raw"'
expect_no_record '"target":"raw:' '"workload":"raw:none"' '"verdict":"allow"'

# Listed by name: allowed; every policy of a workload must list it.
cat >"$POLICIES/allow.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: some}
spec:
  selector: {workloads: ["raw:some", "raw:both"]}
  connect: {default: deny, allow: ["127.0.0.1"], sockets: [raw]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: pkt}
spec:
  selector: {workloads: ["raw:pkt", "raw:both"]}
  connect: {sockets: [packet]}
YAML
actgate policy reload >"$T/reload.out" 2>&1 || fail "reload refused: $(cat "$T/reload.out")"
expect_probe ok in_workload raw:some actprobe socket inet raw icmp
expect_probe ok in_workload raw:some actprobe socket inet6 raw icmpv6
expect_probe ok in_workload raw:some actprobe uring-socket inet raw raw
expect_probe EPERM in_workload raw:some actprobe socket packet raw all
# An allowed raw socket still has the address it sends to judged, also when
# its family is AF_UNSPEC (raw_sendmsg and rawv6_sendmsg read it as their own).
expect_probe ok in_workload raw:some actprobe sendto 127.0.0.1 0 raw-unspec
expect_probe EPERM in_workload raw:some actprobe sendto 127.0.0.2 0 raw-unspec
expect_probe EPERM in_workload raw:some actprobe sendto ::1 0 raw-unspec
expect_probe "$packet_outside" in_workload raw:pkt actprobe socket packet raw all
expect_probe EPERM in_workload raw:pkt actprobe socket inet raw icmp
# some lists raw only, pkt packet only: both together allow neither.
expect_probe EPERM in_workload raw:both actprobe socket inet raw icmp
expect_probe EPERM in_workload raw:both actprobe socket packet raw all

expect_record '"verdict":"allow"' '"target":"raw:ipv4/icmp"' '"rule":"some:connect.sockets.raw"' \
	'"reason":"rule"' '"workload":"raw:some"'
expect_record '"verdict":"deny"' '"target":"[::1]:0/proto253"' '"rule":"some:connect.default"'
expect_record '"verdict":"deny"' '"target":"127.0.0.2:0/proto253"' '"rule":"some:connect.default"'
expect_record '"verdict":"deny"' '"target":"raw:ipv4/icmp"' '"rule":"pkt:connect.sockets.raw"' \
	'"workload":"raw:both"'
expect_record '"verdict":"deny"' '"target":"packet:raw/0x0003"' \
	'"rule":"some:connect.sockets.packet"' '"workload":"raw:both"'

# The userspace evaluator decides these records as the kernel did, and
# names the sockets list when a candidate policy changes it.
mkdir -p "$T/candidate"
cp "$POLICIES"/*.yaml "$T/candidate/"
actgate replay --what-if "$T/candidate" "$JOURNAL" >"$T/whatif"
expect_eq "$?" 0 "what-if with the same policies"
grep -q " 0 would change" "$T/whatif" || fail "what-if: $(tail -n 1 "$T/whatif")"
sed -i 's/connect: {default: allow}/connect: {default: allow, sockets: [raw]}/' "$T/candidate/raw.yaml"
actgate replay --what-if "$T/candidate" "$JOURNAL" >"$T/whatif"
expect_eq "$?" 1 "what-if with raw sockets listed"
grep -q "deny->allow .*raw:ipv4/icmp .*nosock:connect.sockets.raw" "$T/whatif" ||
	fail "what-if: $(cat "$T/whatif")"
grep -q "packet:raw/0x0003" "$T/whatif" && fail "what-if changed a packet socket: $(cat "$T/whatif")"
note "$(tail -n 1 "$T/whatif")"

# Export: a socket created has no destination yet: activity Other ("Create
# Socket"), the unspecified address as dst_endpoint (OCSF requires one), never a port.
actgate export --format ocsf --output "$T/ocsf.jsonl" "$JOURNAL" || fail "export ocsf failed"
grep '"message":"raw:ipv4/icmp"' "$T/ocsf.jsonl" | grep '"class_uid":4001' |
	grep -q '"activity_id":99,"activity_name":"Create Socket"' ||
	fail "no OCSF record of a raw socket: $(grep raw: "$T/ocsf.jsonl" | head -n 2)"
grep '"message":"raw:ipv4' "$T/ocsf.jsonl" | grep -q '"dst_endpoint":{"ip":"0.0.0.0"}' ||
	fail "a raw socket exported with a destination: $(grep raw: "$T/ocsf.jsonl" | head -n 1)"
exit 0

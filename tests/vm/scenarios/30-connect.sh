# connect: IPv4 and IPv6 destinations outside the allow list are refused with
# EPERM; allowed ones connect to a real listener.
. /actgate/lib.sh

cat >"$POLICIES/net.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: net}
spec:
  selector: {workloads: ["net:*"]}
  connect: {default: deny, allow: ["127.0.0.1", "[::1]:8080", "10.0.0.0/8:443"]}
YAML
start_daemon

listen_on 127.0.0.1 7001
listen_on ::1 8080

expect_probe ok in_workload net:a actprobe connect 127.0.0.1 7001
expect_probe ok in_workload net:a actprobe connect ::1 8080
expect_probe EPERM in_workload net:a actprobe connect 127.0.0.2 7001
expect_probe EPERM in_workload net:a actprobe connect ::1 8081
expect_probe EPERM in_workload net:a actprobe connect 10.1.2.3 80
# An IPv4-mapped IPv6 destination matches the IPv4 rules.
expect_probe EPERM in_workload net:a actprobe connect ::ffff:127.0.0.2 7001
# The shortest IPv6 address connect(2) accepts (24 bytes, no scope id).
expect_probe EPERM in_workload net:a actprobe connect ::1 8081 short
expect_probe ok in_workload net:a actprobe connect ::1 8080 short
# Destinations reached without connect(2): UDP sendto and TCP Fast Open.
expect_probe EPERM in_workload net:a actprobe sendto 127.0.0.2 7001 udp
expect_probe EPERM in_workload net:a actprobe sendto ::1 8081 udp
expect_probe ok in_workload net:a actprobe sendto 127.0.0.1 7002 udp
expect_probe EPERM in_workload net:a actprobe sendto 127.0.0.2 7001 tfo
# Outside the workload nothing is refused (no listener: the kernel's own answer).
expect_probe ECONNREFUSED actprobe connect 127.0.0.2 7001
expect_probe ok actprobe sendto 127.0.0.2 7001 udp

expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.2:7001/tcp"' \
	'"rule":"net:connect.default"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"[::1]:8081/tcp"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.2:7001/udp"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"[::1]:8081/udp"'
expect_record '"action":"connect"' '"verdict":"allow"' '"target":"[::1]:8080/tcp"' \
	'"rule":"net:connect.allow[1]"'
expect_record '"action":"connect"' '"verdict":"allow"' '"target":"127.0.0.1:7001/tcp"' \
	'"rule":"net:connect.allow[0]"'

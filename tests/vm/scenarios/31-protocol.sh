# connect protocols: a rule with a protocol decides only that protocol; for
# the same address and ports, a rule with a protocol wins over one without.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: proto}
spec:
  selector: {workloads: ["proto"]}
  connect:
    default: deny
    allow:
      - {to: "127.0.0.1:7001", protocol: tcp}
      - {to: "127.0.0.1:7002", protocol: udp}
      - "127.0.0.1:7003"
      - {to: "[::1]:7004", protocol: udp}
    deny:
      - {to: "127.0.0.1:7003", protocol: udp}
YAML
start_daemon
listen_on 127.0.0.1 7001
listen_on 127.0.0.1 7003

expect_probe ok in_workload proto actprobe connect 127.0.0.1 7001 tcp
expect_probe EPERM in_workload proto actprobe connect 127.0.0.1 7001 udp
expect_probe EPERM in_workload proto actprobe sendto 127.0.0.1 7001 udp
expect_probe ok in_workload proto actprobe connect 127.0.0.1 7002 udp
expect_probe ok in_workload proto actprobe sendto 127.0.0.1 7002 udp
expect_probe EPERM in_workload proto actprobe connect 127.0.0.1 7002 tcp
expect_probe ok in_workload proto actprobe connect 127.0.0.1 7003 tcp
expect_probe EPERM in_workload proto actprobe connect 127.0.0.1 7003 udp
expect_probe ok in_workload proto actprobe sendto ::1 7004 udp
expect_probe EPERM in_workload proto actprobe connect ::1 7004 tcp
# TCP Fast Open is TCP.
expect_probe EPERM in_workload proto actprobe sendto 127.0.0.1 7002 tfo

expect_record '"action":"connect"' '"verdict":"allow"' '"target":"127.0.0.1:7001/tcp"' \
	'"rule":"proto:connect.allow[0]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.1:7001/udp"' \
	'"rule":"proto:connect.default"'
expect_record '"action":"connect"' '"verdict":"allow"' '"target":"127.0.0.1:7002/udp"' \
	'"rule":"proto:connect.allow[1]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.1:7003/udp"' \
	'"rule":"proto:connect.deny[0]"'
expect_record '"action":"connect"' '"verdict":"allow"' '"target":"127.0.0.1:7003/tcp"' \
	'"rule":"proto:connect.allow[2]"'

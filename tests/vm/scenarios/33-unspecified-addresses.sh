# Addresses that are not what they say: the unspecified address (0.0.0.0,
# ::ffff:0.0.0.0, ::) reaches loopback, or the address the socket is bound
# to, and is judged as that address; a UDP send with an AF_UNSPEC sockaddr
# goes where the IPv4 address in it says, and is judged as IPv4. A policy
# that denies loopback denies all of them.
. /actgate/lib.sh

cat >"$POLICIES/u.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: noloop}
spec:
  selector: {workloads: ["unspec:noloop"]}
  connect: {default: allow, deny: ["127.0.0.0/8", "::1"]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: bound}
spec:
  selector: {workloads: ["unspec:bound"]}
  connect: {default: allow, deny: ["127.0.0.2"]}
YAML
start_daemon
listen_on 127.0.0.1 7101
listen_on ::1 7102
listen_on 127.0.0.2 7103

# Outside a workload these reach the listeners: they are real doors.
expect_probe ok actprobe connect 0.0.0.0 7101
expect_probe ok actprobe connect :: 7102
expect_probe ok actprobe connect ::ffff:0.0.0.0 7101
expect_probe ok actprobe connect-from 127.0.0.2 0.0.0.0 7103
expect_probe ok actprobe connect-from ::ffff:127.0.0.2 ::ffff:0.0.0.0 7103

expect_probe EPERM in_workload unspec:noloop actprobe connect 0.0.0.0 7101
expect_probe EPERM in_workload unspec:noloop actprobe connect :: 7102
expect_probe EPERM in_workload unspec:noloop actprobe connect ::ffff:0.0.0.0 7101
expect_probe EPERM in_workload unspec:noloop actprobe connect 0.0.0.0 7101 udp
expect_probe EPERM in_workload unspec:noloop actprobe connect :: 7102 udp
expect_probe EPERM in_workload unspec:noloop actprobe sendto 0.0.0.0 7101 udp
expect_probe EPERM in_workload unspec:noloop actprobe sendto :: 7102 udp
expect_probe EPERM in_workload unspec:noloop actprobe sendto ::ffff:0.0.0.0 7101 udp
expect_probe EPERM in_workload unspec:noloop actprobe sendto 0.0.0.0 7101 tfo
# AF_UNSPEC: udp_sendmsg reads the address as IPv4.
expect_probe EPERM in_workload unspec:noloop actprobe sendto 127.0.0.2 7101 unspec

# Bound to one of the host's addresses, 0.0.0.0 reaches that address.
expect_probe EPERM in_workload unspec:bound actprobe connect-from 127.0.0.2 0.0.0.0 7103
expect_probe EPERM in_workload unspec:bound actprobe connect-from ::ffff:127.0.0.2 ::ffff:0.0.0.0 7103
expect_probe ECONNREFUSED in_workload unspec:bound actprobe connect-from 127.0.0.3 0.0.0.0 7103
expect_probe ok in_workload unspec:bound actprobe connect 0.0.0.0 7101
expect_probe EPERM in_workload unspec:bound actprobe sendto 127.0.0.2 7101 unspec
expect_probe ok in_workload unspec:bound actprobe sendto 127.0.0.3 7101 unspec

# Recorded as the address they were judged as.
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.1:7101/tcp"' \
	'"rule":"noloop:connect.deny[0]"'
expect_record '"verdict":"deny"' '"target":"[::1]:7102/tcp"' '"rule":"noloop:connect.deny[1]"'
expect_record '"verdict":"deny"' '"target":"127.0.0.1:7101/udp"' '"rule":"noloop:connect.deny[0]"'
expect_record '"verdict":"deny"' '"target":"[::1]:7102/udp"' '"rule":"noloop:connect.deny[1]"'
expect_record '"verdict":"deny"' '"target":"127.0.0.2:7101/udp"' '"rule":"noloop:connect.deny[0]"'
expect_record '"verdict":"deny"' '"target":"127.0.0.2:7103/tcp"' '"rule":"bound:connect.deny[0]"'
expect_record '"verdict":"deny"' '"target":"127.0.0.2:7101/udp"' '"rule":"bound:connect.deny[0]"'
expect_record '"verdict":"allow"' '"target":"127.0.0.3:7101/udp"' '"workload":"unspec:bound"'
expect_no_record '"target":"0.0.0.0:'
exit 0

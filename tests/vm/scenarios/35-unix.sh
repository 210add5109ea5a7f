# unix sockets: connects to path-bound sockets (stream, seqpacket, datagram
# connect and sendto) are decided by the socket file they reach, whatever
# name the workload used; the connect default covers them; abstract sockets
# are not governed.
. /actgate/lib.sh

mkdir -p "$T/secrets" "$T/names"
serve_unix() { # PATH TYPE
	actprobe unix-listen "$1" "$2" &
	LISTENERS="${LISTENERS:-} $!"
	case $1 in
	@*) sleep 0.3 ;;
	*) wait_for 100 "unix listener on $1 did not come up" test -S "$1" ;;
	esac
}
serve_unix "$T/ok.sock" stream
serve_unix "$T/no.sock" stream
serve_unix "$T/seq-no.sock" seqpacket
serve_unix "$T/dgram-ok.sock" dgram
serve_unix "$T/dgram-no.sock" dgram
serve_unix "$T/secrets/api.sock" stream
serve_unix @actgate-abstract stream
ln -s "$T/no.sock" "$T/names/symlink.sock"
ln "$T/no.sock" "$T/names/hardlink.sock"

# Sockets are resolved when the policy loads: the listeners come first.
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: sock}
spec:
  selector: {workloads: ["sock"]}
  connect:
    default: allow
    deny: [unix:$T/no.sock, "unix:$T/seq-no.sock", {unix: $T/dgram-no.sock}, unix:$T/secrets/]
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: closed}
spec:
  selector: {workloads: ["closed"]}
  connect: {default: deny, allow: [unix:$T/ok.sock, unix:$T/dgram-ok.sock]}
YAML
start_daemon

expect_probe ok in_workload sock actprobe unix-connect "$T/ok.sock" stream
expect_probe EPERM in_workload sock actprobe unix-connect "$T/no.sock" stream
expect_probe EPERM in_workload sock actprobe unix-connect "$T/seq-no.sock" seqpacket
expect_probe EPERM in_workload sock actprobe unix-connect "$T/secrets/api.sock" stream
expect_probe ok in_workload sock actprobe unix-connect "$T/dgram-ok.sock" dgram
expect_probe EPERM in_workload sock actprobe unix-connect "$T/dgram-no.sock" dgram
expect_probe ok in_workload sock actprobe unix-sendto "$T/dgram-ok.sock"
expect_probe EPERM in_workload sock actprobe unix-sendto "$T/dgram-no.sock"
# Other names for a denied socket: a symbolic link, a hard link, a relative path.
expect_probe EPERM in_workload sock actprobe unix-connect "$T/names/symlink.sock" stream
expect_probe EPERM in_workload sock actprobe unix-connect "$T/names/hardlink.sock" stream
expect_probe EPERM in_workload sock sh -c "cd '$T' && actprobe unix-connect no.sock stream"
# Abstract sockets are not governed by connect rules.
expect_probe ok in_workload closed actprobe unix-connect @actgate-abstract stream
# The default covers unix sockets too.
expect_probe ok in_workload closed actprobe unix-connect "$T/ok.sock" stream
expect_probe EPERM in_workload closed actprobe unix-connect "$T/no.sock" stream
expect_probe ok in_workload closed actprobe unix-sendto "$T/dgram-ok.sock"
expect_probe EPERM in_workload closed actprobe unix-sendto "$T/dgram-no.sock"
# Outside a workload nothing is refused.
expect_probe ok actprobe unix-connect "$T/no.sock" stream
expect_probe ok actprobe unix-sendto "$T/dgram-no.sock"

expect_record '"action":"connect"' '"verdict":"deny"' '"workload":"sock"' "\"target\":\"unix:$T/no.sock\"" \
	'"rule":"sock:connect.deny[0]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"workload":"sock"' "\"target\":\"unix:$T/secrets/api.sock\"" \
	'"rule":"sock:connect.deny[3]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"workload":"sock"' "\"target\":\"unix:$T/dgram-no.sock\"" \
	'"rule":"sock:connect.deny[2]"'
expect_record '"action":"connect"' '"verdict":"allow"' '"workload":"closed"' "\"target\":\"unix:$T/ok.sock\"" \
	'"rule":"closed:connect.allow[0]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"workload":"closed"' "\"target\":\"unix:$T/no.sock\"" \
	'"rule":"closed:connect.default"'

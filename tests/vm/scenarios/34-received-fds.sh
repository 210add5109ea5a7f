# Descriptors a governed task receives from another process are judged as
# what they stand for: a file received over a unix socket (SCM_RIGHTS) or
# taken with pidfd_getfd as an open of that file with its accesses, a
# connected TCP socket as a connect to its peer, a connected unix socket as
# a connect to the socket file it reaches. Refused, the descriptor is
# dropped (MSG_CTRUNC; pidfd_getfd fails with EPERM) and the record says
# "received". Allowed ones arrive; outside workloads nothing changes.
. /actgate/lib.sh

echo secret >"$T/secret"
echo fine >"$T/fine"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: fds}
spec:
  selector: {workloads: ["fd:*"]}
  open:
    default: allow
    deny: [$T/secret]
  connect:
    default: allow
    deny: ["127.0.0.1/32:8081", "unix:$T/denied.sock"]
YAML
# Outside every workload: the peers (the unix ones before the daemon, so
# that the rule's path resolves at load; they never accept, so that a
# connection's peer stays alive: one whose peer closed reaches nobody), and
# the processes that hand out descriptors.
actprobe unix-hold "$T/denied.sock" &
LISTENERS="${LISTENERS:-} $!"
actprobe unix-hold "$T/ok.sock" &
LISTENERS="$LISTENERS $!"
wait_for 100 "unix listeners did not come up" test -S "$T/ok.sock" -a -S "$T/denied.sock"
start_daemon
listen_on 127.0.0.1 8081
listen_on 127.0.0.1 8082
serve() { # NAME KIND ARG [ARG2]
	name=$1
	shift
	actprobe fd-serve "$T/$name.sock" "$@" &
	LISTENERS="$LISTENERS $!"
	wait_for 100 "fd-serve $name did not come up" test -S "$T/$name.sock"
}
serve secret file "$T/secret" r
serve secret-w file "$T/secret" w
serve fine file "$T/fine" r
serve tcp-denied tcp 127.0.0.1 8081
serve tcp-ok tcp 127.0.0.1 8082
serve unix-denied unix "$T/denied.sock"
serve unix-ok unix "$T/ok.sock"

expect_probe EPERM in_workload fd:job actprobe fd-recv "$T/secret.sock"
expect_probe EPERM in_workload fd:job actprobe fd-recv "$T/secret-w.sock"
expect_probe ok in_workload fd:job actprobe fd-recv "$T/fine.sock"
expect_probe EPERM in_workload fd:job actprobe fd-recv "$T/tcp-denied.sock"
expect_probe ok in_workload fd:job actprobe fd-recv "$T/tcp-ok.sock"
# The rule holds for a connect of the workload's own ...
expect_probe EPERM in_workload fd:job actprobe unix-connect "$T/denied.sock" stream
# ... and for the socket another process connected.
expect_probe EPERM in_workload fd:job actprobe fd-recv "$T/unix-denied.sock"
expect_probe ok in_workload fd:job actprobe fd-recv "$T/unix-ok.sock"

# pidfd_getfd inside the workload of a descriptor that came from outside
# (inherited as fd 5, passed on to a child as fd 3 without an open).
getfd='sleep 1000 3<&5 & p=$!; actprobe reach getfd $p 3; kill $p'
expect_probe EPERM in_workload fd:job sh -c "$getfd" 5<"$T/secret"
expect_probe ok in_workload fd:job sh -c "$getfd" 5<"$T/fine"

expect_record '"action":"open"' "\"target\":\"$T/secret\"" '"access":"read,received"' \
	'"verdict":"deny"' '"workload":"fd:job"'
expect_record '"action":"open"' "\"target\":\"$T/secret\"" '"access":"write,received"' \
	'"verdict":"deny"'
expect_record '"action":"connect"' '"target":"127.0.0.1:8081/tcp"' '"verdict":"deny"' \
	'"access":"received"' '"workload":"fd:job"'
expect_record '"action":"connect"' "\"target\":\"unix:$T/denied.sock\"" '"verdict":"deny"' \
	'"access":"received"'

# Outside every workload nothing changes.
expect_probe ok actprobe fd-recv "$T/secret.sock"
expect_probe ok actprobe fd-recv "$T/tcp-denied.sock"

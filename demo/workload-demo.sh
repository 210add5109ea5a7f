# The demo itself (POSIX sh: runs natively or as busybox sh in the VM), from
# its working directory: a CI job "ci:demo-build", commissioned by
# alice@example.com, under a policy that denies a secret, a tool and all
# network but loopback port 7070.
set -u

DEMO=$(pwd)
SOCK="$DEMO/actgate.sock"
export ACTGATE_SOCKET="$SOCK"
mkdir -p policies workspace secrets tools
echo "build notes" >workspace/README
echo "-----BEGIN DEPLOY KEY-----" >secrets/deploy-key
cp "$(command -v actprobe)" tools/curl

cat >policies/demo-ci.yaml <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: demo-ci}
spec:
  selector: {workloads: ["ci:*"]}
  mode: enforce
  exec:    {default: allow, deny: [$DEMO/tools/curl]}
  open:    {default: allow, deny: [$DEMO/secrets/]}
  connect: {default: deny,  allow: ["127.0.0.1:7070", "[::1]:7070"]}
YAML

echo "== the policy: $DEMO/policies/demo-ci.yaml"
cat policies/demo-ci.yaml
echo
actgate policy check policies || exit 1

echo "== starting actgated"
# Pins and state of its own, removed at the end: the demo leaves nothing
# enforcing behind it (a real actgated keeps enforcing after it stops).
actgated --policy-dir policies --journal-dir journal --socket "$SOCK" \
	--cgroup-parent /actgate-demo --pin-dir /sys/fs/bpf/actgate-demo --state-dir "$DEMO/state" \
	>actgated.log 2>&1 &
daemon=$!
i=0
until actgate status >/dev/null 2>&1; do
	if ! kill -0 $daemon 2>/dev/null; then
		cat actgated.log
		grep -q "bpf:" actgated.log && exit 3
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 600 ] || { echo "actgated did not start"; exit 1; }
	sleep 0.1
done
actgate status
actprobe listen 127.0.0.1 7070 &
listener=$!
cleanup() {
	kill $listener 2>/dev/null
	kill -TERM $daemon 2>/dev/null
	wait $daemon 2>/dev/null
	actgate detach --pin-dir /sys/fs/bpf/actgate-demo --state-dir "$DEMO/state" >/dev/null
}
trap cleanup EXIT

cat >job.sh <<'JOB'
try() {
	what=$1
	shift
	printf '  %-44s -> %s\n' "$what" "$("$@" 2>&1)"
}
try "read workspace/README" actprobe open "$DEMO/workspace/README"
try "read secrets/deploy-key" actprobe open "$DEMO/secrets/deploy-key"
try "exec tools/curl" actprobe exec "$DEMO/tools/curl"
try "exec /bin/sh -c true" actprobe exec /bin/sh -c true
try "connect 127.0.0.1:7070" actprobe connect 127.0.0.1 7070
try "connect 127.0.0.2:7070 (not allowed)" actprobe connect 127.0.0.2 7070
try "connect [::1]:22 (not allowed)" actprobe connect ::1 22
JOB

echo
echo "== the workload: actgate run --workload ci:demo-build --delegated-by alice@example.com"
DEMO=$DEMO actgate run --workload ci:demo-build --label repo=example/app \
	--delegated-by alice@example.com -- sh job.sh
echo
echo "== the same secret read outside any workload (not governed)"
printf '  %-44s -> %s\n' "read secrets/deploy-key" "$(actprobe open "$DEMO/secrets/deploy-key")"

# Records are journaled as the daemon drains the ring buffer: wait for the last one.
i=0
until actgate replay --journal-dir journal --json --action connect 2>/dev/null | grep -q '127.0.0.2\|::1'; do
	i=$((i + 1))
	[ $i -lt 50 ] || break
	sleep 0.1
done
echo
echo "== replay: every denial (actgate replay --journal-dir journal --verdict deny)"
actgate replay --journal-dir journal --verdict deny
echo
echo "== replay: one denial as JSON (actgate replay --json --action exec --verdict deny)"
actgate replay --journal-dir journal --json --action exec --verdict deny | head -n 1
echo
echo "== replay: decisions by action and verdict"
for a in exec open connect; do
	printf '  %-8s allow %4s   deny %4s\n' $a \
		"$(actgate replay --journal-dir journal --json --action $a --verdict allow | wc -l)" \
		"$(actgate replay --journal-dir journal --json --action $a --verdict deny | wc -l)"
done

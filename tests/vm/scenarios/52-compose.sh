# Composition: every policy that selects a workload applies, and an action is
# allowed only when all of them allow it. On a tie the earlier policy (file
# name order) names the decision.
. /actgate/lib.sh

copy_binary a-denied
copy_binary b-denied
echo a >"$T/a-secret"
echo b >"$T/both"
mkdir -p "$T/data"
echo d >"$T/data/x"
cat >"$POLICIES/a.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: base}
spec:
  selector: {workloads: ["team:*"]}
  exec: {default: allow, deny: [$T/bin/a-denied]}
  open:
    default: allow
    deny: [$T/a-secret, $T/both, {path: $T/data/, access: write}]
YAML
cat >"$POLICIES/b.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: build}
spec:
  selector: {labels: {team: build}}
  exec: {default: allow, deny: [$T/bin/b-denied]}
  open: {default: allow, deny: [$T/both, {path: $T/data/x, access: read}]}
  connect: {default: deny, allow: ["127.0.0.1:7001"]}
YAML
start_daemon
listen_on 127.0.0.1 7001

as_build() { actgate run --quiet --workload team:build --label team=build -- "$@"; }
as_other() { actgate run --quiet --workload team:other --label team=other -- "$@"; }

expect_probe EPERM as_build actprobe exec "$T/bin/a-denied" true
expect_probe EPERM as_build actprobe exec "$T/bin/b-denied" true
expect_probe EPERM as_build actprobe open "$T/a-secret"
expect_probe EPERM as_build actprobe open "$T/both"
expect_probe EPERM as_build actprobe open "$T/data/x" r
expect_probe EPERM as_build actprobe open "$T/data/x" w
expect_probe ok as_build actprobe connect 127.0.0.1 7001
expect_probe EPERM as_build actprobe connect 127.0.0.1 7002
# A workload only the first policy selects.
expect_probe EPERM as_other actprobe exec "$T/bin/a-denied" true
expect_probe ok as_other actprobe exec "$T/bin/b-denied" true
expect_probe ok as_other actprobe open "$T/data/x" r
expect_probe EPERM as_other actprobe open "$T/data/x" w
expect_probe ECONNREFUSED as_other actprobe connect 127.0.0.1 7002

expect_record '"workload":"team:build"' '"action":"exec"' '"verdict":"deny"' \
	"\"target\":\"$T/bin/b-denied\"" '"rule":"build:exec.deny[0]"'
expect_record '"workload":"team:build"' '"action":"open"' '"verdict":"deny"' \
	"\"target\":\"$T/both\"" '"rule":"base:open.deny[1]"'
expect_record '"workload":"team:build"' '"action":"open"' '"verdict":"deny"' \
	"\"target\":\"$T/data/x\"" '"rule":"build:open.deny[1]"'
expect_record '"workload":"team:build"' '"action":"connect"' '"verdict":"deny"' \
	'"target":"127.0.0.1:7002/tcp"' '"rule":"build:connect.default"'

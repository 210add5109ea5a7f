# audit mode: the would-be denial is recorded (enforced: false) and the action happens.
. /actgate/lib.sh

copy_binary watched-tool
echo data >"$T/watched-file"
cat >"$POLICIES/audit.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: observe}
spec:
  selector: {workloads: ["agent:*"]}
  mode: audit
  exec: {default: allow, deny: [$T/bin/watched-tool]}
  open: {default: allow, deny: [$T/watched-file]}
  connect: {default: deny}
YAML
start_daemon

expect_probe ok in_workload agent:x actprobe exec "$T/bin/watched-tool" true
expect_probe ok in_workload agent:x actprobe open "$T/watched-file"
expect_probe ECONNREFUSED in_workload agent:x actprobe connect 127.0.0.1 7999
expect_record '"action":"exec"' '"verdict":"deny"' '"enforced":false' '"mode":"audit"' \
	"\"target\":\"$T/bin/watched-tool\""
expect_record '"action":"open"' '"verdict":"deny"' '"enforced":false' \
	"\"target\":\"$T/watched-file\""
expect_record '"action":"connect"' '"verdict":"deny"' '"enforced":false' \
	'"target":"127.0.0.1:7999/tcp"'

# record: which decisions reach the journal. "deny" keeps denials (enforced or
# audited) only, "none" keeps nothing; the verdicts themselves do not change.
. /actgate/lib.sh

copy_binary denied-tool
echo x >"$T/denied-file"
echo y >"$T/fine-file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: quiet}
spec:
  selector: {workloads: ["quiet"]}
  record: deny
  open: {default: allow, deny: [$T/denied-file]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: silent}
spec:
  selector: {workloads: ["silent"]}
  record: none
  exec: {default: allow, deny: [$T/bin/denied-tool]}
YAML
start_daemon

expect_probe EPERM in_workload quiet actprobe open "$T/denied-file"
expect_probe ok in_workload quiet actprobe open "$T/fine-file"
expect_probe EPERM in_workload silent actprobe exec "$T/bin/denied-tool" true
expect_record '"workload":"quiet"' '"verdict":"deny"' "\"target\":\"$T/denied-file\""
expect_no_record '"workload":"quiet"' '"verdict":"allow"'
expect_no_record '"workload":"silent"'

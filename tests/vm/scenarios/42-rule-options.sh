# Rule options inside an enforce policy: a rule in audit mode lets the action
# happen and records an audited denial; record: none keeps a rule's decisions
# out of the journal; accesses combine by rank (an enforced denial of one
# access beats an audited denial of another, and names the record).
. /actgate/lib.sh

copy_binary watched-tool
copy_binary blocked-tool
echo a >"$T/audit-file"
echo q >"$T/quiet-file"
echo m >"$T/mixed-file"
mkdir -p "$T/noisy"
echo n >"$T/noisy/file"
echo f >"$T/fine-file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: opts}
spec:
  selector: {workloads: ["opts"]}
  mode: enforce
  record: all
  exec:
    default: allow
    deny: [{path: $T/bin/watched-tool, mode: audit}, $T/bin/blocked-tool]
  open:
    default: allow
    deny:
      - {path: $T/quiet-file, record: none}
      - {path: $T/audit-file, mode: audit, record: deny}
      - {path: $T/mixed-file, access: read, mode: audit}
      - {path: $T/mixed-file, access: write}
    allow:
      - {path: $T/noisy/, record: none}
  connect:
    default: allow
    deny: [{to: "127.0.0.2", mode: audit}, "127.0.0.3"]
YAML
start_daemon

expect_probe ok in_workload opts actprobe exec "$T/bin/watched-tool" true
expect_probe EPERM in_workload opts actprobe exec "$T/bin/blocked-tool" true
expect_probe EPERM in_workload opts actprobe open "$T/quiet-file"
expect_probe ok in_workload opts actprobe open "$T/audit-file"
expect_probe ok in_workload opts actprobe open "$T/noisy/file"
expect_probe ok in_workload opts actprobe open "$T/fine-file"
expect_probe ok in_workload opts actprobe open "$T/mixed-file" r
expect_probe EPERM in_workload opts actprobe open "$T/mixed-file" w
expect_probe EPERM in_workload opts actprobe open "$T/mixed-file" rw
expect_probe ECONNREFUSED in_workload opts actprobe connect 127.0.0.2 7999
expect_probe EPERM in_workload opts actprobe connect 127.0.0.3 7999

expect_record '"action":"exec"' '"verdict":"deny"' '"enforced":false' '"mode":"audit"' \
	"\"target\":\"$T/bin/watched-tool\"" '"rule":"opts:exec.deny[0]"'
expect_record '"action":"exec"' '"verdict":"deny"' '"enforced":true' \
	"\"target\":\"$T/bin/blocked-tool\"" '"rule":"opts:exec.deny[1]"'
expect_record '"action":"open"' '"verdict":"deny"' '"enforced":false' \
	"\"target\":\"$T/audit-file\"" '"rule":"opts:open.deny[1]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"enforced":false' \
	'"target":"127.0.0.2:7999/tcp"' '"rule":"opts:connect.deny[0]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"enforced":true' \
	'"target":"127.0.0.3:7999/tcp"' '"rule":"opts:connect.deny[1]"'
# read alone: the audited rule; read+write: the enforced write rule outranks it.
expect_record '"action":"open"' '"verdict":"deny"' '"enforced":false' \
	"\"target\":\"$T/mixed-file\"" '"rule":"opts:open.deny[2]"'
expect_record '"action":"open"' '"verdict":"deny"' '"enforced":true' \
	"\"target\":\"$T/mixed-file\"" '"rule":"opts:open.deny[3]"'
expect_record '"action":"open"' '"verdict":"allow"' "\"target\":\"$T/fine-file\""
# record: none on a deny rule and on an allow rule.
expect_no_record "\"target\":\"$T/quiet-file\""
expect_no_record "\"target\":\"$T/noisy/file\""

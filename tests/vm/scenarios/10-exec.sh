# exec: a denied binary is refused with EPERM inside the workload and recorded;
# the same binary runs outside the governed cgroup; allowed binaries run.
. /actgate/lib.sh

copy_binary denied-tool
copy_binary allowed-tool
cat >"$POLICIES/ci.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: ci-runner}
spec:
  selector: {workloads: ["ci:*"]}
  mode: enforce
  exec: {default: allow, deny: [$T/bin/denied-tool]}
YAML
start_daemon

expect_probe EPERM in_workload ci:build actprobe exec "$T/bin/denied-tool" true
expect_probe ok in_workload ci:build actprobe exec "$T/bin/allowed-tool" true
# Outside any workload the same file runs.
expect_probe ok actprobe exec "$T/bin/denied-tool" true

# actgate run itself reports the denial of CMD with status 126.
in_workload ci:build "$T/bin/denied-tool" true 2>"$T/run.err"
expect_eq "$?" 126 "actgate run exit status for a denied command"
grep -q "Operation not permitted" "$T/run.err" || fail "run did not say why: $(cat "$T/run.err")"

# A hardlink and a symlink to the denied file are the same inode: also denied.
ln "$T/bin/denied-tool" "$T/hardlink-tool"
ln -s "$T/bin/denied-tool" "$T/symlink-tool"
expect_probe EPERM in_workload ci:build actprobe exec "$T/hardlink-tool" true
expect_probe EPERM in_workload ci:build actprobe exec "$T/symlink-tool" true

expect_record '"action":"exec"' '"verdict":"deny"' '"enforced":true' \
	"\"target\":\"$T/bin/denied-tool\"" '"workload":"ci:build"' '"rule":"ci-runner:exec.deny[0]"'
expect_record '"action":"exec"' '"verdict":"allow"' "\"target\":\"$T/bin/allowed-tool\""
# Nothing is recorded for the ungoverned exec.
expect_no_record '"comm":"actprobe"' '"workload":""'

# A fresh install: an empty policy directory starts a daemon that governs
# nothing and says so (log, `actgate status`), refuses workloads for want of
# a policy, and governs once a policy is added and `actgate reload` runs.
# Then `actgate doctor` inside the VM, whose kernel runs BPF LSM: the kernel,
# BTF, BPF LSM and load checks pass.
. /actgate/lib.sh

copy_binary tool-a
start_daemon
grep -q "no policy files (\*.yaml, \*.yml): governing nothing" "$T/actgated.log" ||
	fail "the log does not say it governs nothing: $(cat "$T/actgated.log")"
actgate status >"$T/status.out" || fail "status"
grep -q "^governing: generation 1: governing nothing: no policy files" "$T/status.out" ||
	fail "status does not say it governs nothing: $(cat "$T/status.out")"
expect_eq "$(sed -n 's/^policies: //p' "$T/status.out")" 0 "policies"
actgate run --workload ci:a -- true 2>"$T/run.err"
[ $? -ne 0 ] || fail "a workload started with no policy"
note "run refused: $(cat "$T/run.err")"

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: first}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$T/bin/tool-a]}
YAML
actgate reload >"$T/reload.out" 2>&1 || fail "reload: $(cat "$T/reload.out")"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-a" true
actgate status >"$T/status2.out"
grep -q "^governing:" "$T/status2.out" && fail "status still says it governs nothing"
stop_daemon

# doctor: the BPF LSM checks pass on this kernel.
actgate doctor --journal-dir "$JOURNAL" \
	--journal-key "$T/none.key" >"$T/doctor.out" 2>&1
rc=$?
cat "$T/doctor.out"
for check in kernel btf bpf-lsm bpf-lsm-load cgroup2; do
	grep -q "^pass  $check " "$T/doctor.out" || fail "doctor: $check did not pass"
done
grep -q "^pass  pins *ABI [0-9]* in /sys/fs/bpf/actgate, no actgated runs" "$T/doctor.out" || fail "doctor: the pins left by the stopped daemon"
grep -q "^warn  seal-key " "$T/doctor.out" || fail "doctor: a missing key is not a warning"
[ "$rc" -ge 1 ] || fail "doctor exit status $rc with a warning"
actgate doctor --json --journal-dir "$JOURNAL" \
	--journal-key "$T/none.key" >"$T/doctor.json"
grep -q '"bpf-lsm-load":{"result":"pass"' "$T/doctor.json" || fail "doctor --json: $(cat "$T/doctor.json")"

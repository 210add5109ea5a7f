# An exec deny rule also denies mapping its file executable, so the dynamic
# loader cannot run what exec denies (`ld.so /usr/bin/denied`) although no
# open exec-map rule names it. Only deny rules: a default deny, as under an
# allow-list, has no say on mappings, so libraries still load.
. /actgate/lib.sh

ldso=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-x86-64.so.2 2>/dev/null | head -n 1)
[ -n "$ldso" ] || fail "no dynamic loader in the VM"
mkdir -p "$T/bin" "$T/denied"
cp /usr/bin/actprobe "$T/bin/denied-tool"
cp /usr/bin/actprobe "$T/bin/other-tool"
cp /usr/bin/actprobe "$T/bin/audited-tool"
cp /usr/bin/actprobe "$T/denied/lib.so"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: door}
spec:
  selector: {workloads: ["door"]}
  exec:
    default: allow
    deny: [$T/bin/denied-tool, $T/denied/, {path: $T/bin/audited-tool, mode: audit}]
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: list}
spec:
  selector: {workloads: ["list"]}
  exec: {default: deny, allow: [$T/bin/other-tool, /usr/bin/actprobe]}
YAML
start_daemon

expect_probe EPERM in_workload door actprobe exec "$T/bin/denied-tool"
if in_workload door "$ldso" "$T/bin/denied-tool" open /etc/passwd >/dev/null 2>"$T/ldso.err"; then
	fail "$ldso ran $T/bin/denied-tool, which exec denies"
fi
grep -q "failed to map segment" "$T/ldso.err" || fail "ld.so failed for another reason: $(cat "$T/ldso.err")"
note "ld.so: $(cat "$T/ldso.err")"
expect_probe EPERM in_workload door actprobe mmap-exec "$T/bin/denied-tool"
expect_probe EPERM in_workload door actprobe mprotect-exec "$T/bin/denied-tool"
# Under a denied directory.
expect_probe EPERM in_workload door actprobe mmap-exec "$T/denied/lib.so"
# Reading it is still allowed: open rules decide that.
expect_probe ok in_workload door actprobe open "$T/bin/denied-tool" r
# Other files map and run, through the loader too.
expect_probe ok in_workload door actprobe mmap-exec "$T/bin/other-tool"
expect_probe ok in_workload door "$ldso" "$T/bin/other-tool" open /etc/passwd
# An audited deny rule audits the mapping: it happens, and is recorded.
expect_probe ok in_workload door actprobe mmap-exec "$T/bin/audited-tool"
# Outside the workload the loader runs the denied program.
expect_probe ok "$ldso" "$T/bin/denied-tool" open /etc/passwd

# An allow-list (default deny) does not deny libraries: the program runs.
expect_probe ok in_workload list actprobe exec "$T/bin/other-tool"
expect_probe EPERM in_workload list actprobe exec "$T/bin/denied-tool"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/bin/denied-tool\"" \
	'"rule":"door:exec.deny[0]"' '"access":"exec-map"' '"enforced":true'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/denied/lib.so\"" \
	'"rule":"door:exec.deny[1]"' '"access":"exec-map"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/bin/audited-tool\"" \
	'"rule":"door:exec.deny[2]"' '"enforced":false'

# exec's written: deny (drift prevention): under an exec allow-list, a file a
# governed workload wrote is denied exec and executable mapping whatever its
# path: a copy of a denied binary written into an allowed directory, an
# allowed binary modified in place, then renamed or hard-linked elsewhere,
# the written file run through the dynamic loader or by descriptor. The mark
# follows the inode; files written outside every workload run as before.
. /actgate/lib.sh

ldso=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-x86-64.so.2 2>/dev/null | head -n 1)
[ -n "$ldso" ] || fail "no dynamic loader in the VM"
mkdir -p "$T/bin" "$T/ro" "$T/elsewhere"
cp /usr/bin/actprobe "$T/bin/tool"
cp /usr/bin/actprobe "$T/bin/denied-tool"
cp /usr/bin/actprobe "$T/ro/tool"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: drift}
spec:
  selector: {workloads: ["drift"]}
  exec:
    default: deny
    allow: [$T/bin/, $T/ro/, $T/elsewhere/, /bin/, /sbin/, /usr/bin/, /usr/sbin/, $ldso]
    deny: [$T/bin/denied-tool]
    written: deny
  open:
    deny: [{path: $T/ro/, access: write}]
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: free}
spec:
  selector: {workloads: ["free"]}
  exec: {default: allow}
YAML
start_daemon

# Before anything is written: the allow-list decides.
expect_probe ok in_workload drift actprobe exec "$T/bin/tool"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/denied-tool"

# A copy of the denied binary, written by the workload into an allowed directory.
in_workload drift cp "$T/bin/denied-tool" "$T/bin/copy-tool" || fail "the workload could not copy"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/copy-tool"
expect_probe EPERM in_workload drift actprobe fd-exec "$T/bin/copy-tool"
expect_probe EPERM in_workload drift actprobe mmap-exec "$T/bin/copy-tool"
expect_probe EPERM in_workload drift actprobe mprotect-exec "$T/bin/copy-tool"
# Through the dynamic loader: the loader may run, the written file may not be mapped.
if in_workload drift "$ldso" "$T/bin/copy-tool" open /etc/passwd >/dev/null 2>"$T/ldso.err"; then
	fail "$ldso ran the written $T/bin/copy-tool"
fi
grep -q "failed to map segment" "$T/ldso.err" || fail "ld.so failed for another reason: $(cat "$T/ldso.err")"
note "ld.so: $(cat "$T/ldso.err")"

# The same copy made outside every workload is just a file of the allow-list.
cp "$T/bin/denied-tool" "$T/bin/outside-copy"
expect_probe ok in_workload drift actprobe exec "$T/bin/outside-copy"
# Outside the workload the written file runs.
expect_probe ok actprobe exec "$T/bin/copy-tool"
# A workload whose policies do not ask runs it too.
expect_probe ok in_workload free actprobe exec "$T/bin/copy-tool"

# An allowed binary modified in place (appended to), then renamed and hard-linked.
in_workload drift sh -c "printf '' >>'$T/bin/tool'" || fail "the workload could not append"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/tool"
in_workload drift mv "$T/bin/tool" "$T/bin/renamed-tool" || fail "the workload could not rename"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/renamed-tool"
ln "$T/bin/renamed-tool" "$T/elsewhere/linked-tool"
expect_probe EPERM in_workload drift actprobe exec "$T/elsewhere/linked-tool"
mv "$T/bin/renamed-tool" "$T/elsewhere/moved-tool"
expect_probe EPERM in_workload drift actprobe exec "$T/elsewhere/moved-tool"

# Another workload's writes count too: any governed task's.
in_workload free cp /usr/bin/actprobe "$T/bin/free-copy" || fail "free could not copy"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/free-copy"

# Truncated by name (truncate(2)): written.
cp /usr/bin/actprobe "$T/bin/trunc-tool"
expect_probe ok in_workload drift actprobe exec "$T/bin/trunc-tool"
expect_probe ok in_workload drift actprobe truncate "$T/bin/trunc-tool"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/trunc-tool"
# Written through a descriptor received from a process outside (SCM_RIGHTS).
actprobe send-fd "$T/fd.sock" "$T/bin/received-tool" >"$T/send.out" 2>&1 &
sender=$!
wait_for 100 "the descriptor's sender did not come up" test -S "$T/fd.sock"
expect_probe ok in_workload drift actprobe recv-write "$T/fd.sock" /usr/bin/actprobe
wait "$sender"
expect_probe ok actprobe exec "$T/bin/received-tool"
expect_probe EPERM in_workload drift actprobe exec "$T/bin/received-tool"

# A write the policy refused wrote nothing: the file is not marked.
expect_probe EPERM in_workload drift actprobe open "$T/ro/tool" w
expect_probe ok in_workload drift actprobe exec "$T/ro/tool"

# A restarted daemon adopts the pinned marks.
stop_daemon
start_daemon
expect_probe EPERM in_workload drift actprobe exec "$T/bin/copy-tool"

# An exec grant on a written file lifts its denial, for that file only.
start_batch job 3 4 --workload drift
expect_eq "$(batch_ask 3 4 "exec $T/bin/copy-tool")" EPERM "written file, no grant"
actgate grant drift --exec "$T/bin/copy-tool" --ttl 60s --reason "drift test" >/dev/null ||
	fail "grant exec"
expect_eq "$(batch_ask 3 4 "exec $T/bin/copy-tool")" ok "written file under a grant"
expect_eq "$(batch_ask 3 4 "exec $T/bin/free-copy")" EPERM "another written file, no grant"

expect_record '"action":"exec"' '"verdict":"deny"' "\"target\":\"$T/bin/copy-tool\"" \
	'"reason":"written"' '"rule":"drift:exec.written"' '"workload":"drift"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/bin/copy-tool\"" \
	'"reason":"written"' '"rule":"drift:exec.written"' '"access":"exec-map"'
expect_record '"action":"exec"' '"verdict":"deny"' "\"target\":\"$T/elsewhere/linked-tool\"" \
	'"reason":"written"'
# Nothing failed to be marked.
actgate status >"$T/status.out" 2>&1
grep -qx "failure.written-mark: 0" "$T/status.out" ||
	fail "written marks failed: $(grep failure "$T/status.out")"

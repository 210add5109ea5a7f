# A governed task, even as root and under an audit-mode policy, cannot change
# how a process outside its workload runs: its resource limits (prlimit), nice
# value, I/O priority, CPU affinity (the scheduler hook) or memory placement
# (migrate_pages). Each attempt is refused and recorded as tamper. actgated is
# the prize: a zero RLIMIT_NOFILE or a starved scheduler class blinds it.
# Its own processes, and those outside every workload, are unaffected.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: contained}
spec:
  selector: {workloads: ["settings:*"]}
  mode: audit
YAML
start_daemon
DAEMON=$DAEMON_PID
[ -n "$DAEMON" ] || fail "no actgated pid"

sleep 1000 &
OUT=$!

for how in rlimit nice ioprio affinity movemem; do
	expect_probe EPERM in_workload settings:job actprobe reach "$how" "$OUT"
	expect_probe EPERM in_workload settings:job actprobe reach "$how" "$DAEMON"
done
expect_record '"action":"tamper"' \
	"\"target\":\"change of resource limits of process $OUT outside the workload\"" \
	'"workload":"settings:job"' '"verdict":"deny"' '"enforced":true' '"reason":"self-protection"'
expect_record '"action":"tamper"' "\"target\":\"change of actgated's scheduling\"" \
	'"workload":"settings:job"'
expect_record '"action":"tamper"' "\"target\":\"change of memory placement of process $OUT outside the workload\""

# Inside the workload: its own processes and itself.
cat >"$T/inside.sh" <<'SH'
sleep 1000 &
p=$!
for how in rlimit nice ioprio affinity movemem; do actprobe reach $how $p; done
actprobe reach rlimit $$
kill $p
SH
out=$(in_workload settings:job sh "$T/inside.sh" | tr '\n' ' ')
expect_eq "$out" "ok ok ok ok ok ok " "settings of the workload's own processes"

# Outside every workload nothing changes.
for how in rlimit nice ioprio affinity movemem; do
	expect_probe ok actprobe reach "$how" "$OUT"
done
kill "$OUT"

# Time from a revocation (and from a signal change) written to the control
# socket to the first denied action of a running workload, in the VM
# (wall-clock time under TCG), beside one plain action as the baseline.
set -u

W=/tmp/bench-signals
mkdir -p "$W/policies"
echo x >"$W/file"
export ACTGATE_SOCKET=$W/actgate.sock
cat >"$W/policies/bench.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: bench}
spec:
  selector: {workloads: ["bench:*"]}
  record: deny
  open:
    default: allow
    when:
      - signals: {lock: engaged}
        default: deny
YAML
actgated --policy-dir "$W/policies" --journal-dir "$W/journal" --socket "$ACTGATE_SOCKET" \
	>"$W/actgated.log" 2>&1 &
DAEMON=$!
until actgate status >/dev/null 2>&1; do
	kill -0 $DAEMON 2>/dev/null || { cat "$W/actgated.log"; exit 1; }
	sleep 0.2
done
bench_signals "$W/file" "${BENCH_TRIALS:-200}"
status=$?
kill -TERM $DAEMON
wait $DAEMON 2>/dev/null
exit $status

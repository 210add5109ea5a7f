# Signals and revocations outlive the daemon: a principal and a workload name
# revoked before a restart stay revoked after it, and after the pins are gone
# too (a detach, as a reboot leaves no pins), until `actgate revoke --clear`;
# a host signal comes back with the value it had. A state file that is not
# what the daemon writes stops the start, naming the file and line.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: open}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow}
  open: {default: allow}
  connect: {default: allow}
YAML
STATE=/var/lib/actgate

start_daemon
actgate revoke --principal mallory@example.com --reason "stolen laptop" >/dev/null ||
	fail "revoke --principal"
actgate revoke ci:old-deploy >/dev/null || fail "revoke ci:old-deploy"
actgate signal set risk=high >/dev/null || fail "signal set"
actgate signal set zone=blue --ttl 1h >/dev/null || fail "signal set --ttl"

# run_status NAME [PRINCIPAL]: actgate run's exit status for a workload that does nothing
run_status() {
	if [ -n "${2:-}" ]; then
		actgate run --quiet --workload "$1" --delegated-by "$2" -- true 2>>"$T/run.err"
	else
		actgate run --quiet --workload "$1" -- true 2>>"$T/run.err"
	fi
	echo $?
}
expect_eq "$(run_status ci:job mallory@example.com)" 125 "mallory before the restart"

# A restart: the daemon stops cleanly and another one adopts the pins.
stop_daemon
start_daemon
expect_eq "$(run_status ci:job mallory@example.com)" 125 "mallory after a restart"
grep -q 'principal "mallory@example.com" is revoked (stolen laptop)' "$T/run.err" ||
	fail "refusal: $(cat "$T/run.err")"
expect_eq "$(run_status ci:old-deploy)" 125 "a revoked name after a restart"
expect_eq "$(run_status ci:job alice@example.com)" 0 "alice after a restart"
actgate signal list >"$T/signals" || fail "signal list"
grep -q "risk" "$T/signals" && grep -q "high" "$T/signals" ||
	fail "risk=high did not survive the restart: $(cat "$T/signals")"
grep -q "zone" "$T/signals" || fail "zone=blue did not survive the restart: $(cat "$T/signals")"
grep -q "restored 2 signals and 2 revocations" "$T/actgated.log" ||
	fail "the daemon did not say what it restored: $(cat "$T/actgated.log")"

# As after a reboot: no pins, no workload state; the revocations stay.
stop_daemon
actgate detach >"$T/detach.out" 2>&1 || fail "detach: $(cat "$T/detach.out")"
start_daemon
expect_eq "$(run_status ci:job mallory@example.com)" 125 "mallory after the pins are gone"
actgate revoke --list >"$T/list" || fail "revoke --list"
grep -q "mallory@example.com" "$T/list" || fail "revoke --list: $(cat "$T/list")"

# Cleared: new workloads may start, and that too survives a restart.
out=$(actgate revoke --clear --principal mallory@example.com) || fail "revoke --clear: $out"
echo "$out" | grep -q "revocation cleared" || fail "revoke --clear said: $out"
out=$(actgate revoke --clear --principal nobody@example.com) || fail "second clear: $out"
echo "$out" | grep -q "was not revoked" || fail "clear of nothing said: $out"
expect_eq "$(run_status ci:job mallory@example.com)" 0 "mallory after the clear"
stop_daemon
start_daemon
expect_eq "$(run_status ci:job mallory@example.com)" 0 "mallory after the clear and a restart"
expect_eq "$(run_status ci:old-deploy)" 125 "the other revocation stays"

# A damaged state file stops the start, loudly, and is left as it was.
stop_daemon
printf 'revocation\tprincipal\tbob\n' >>"$STATE/signals"
cp "$STATE/signals" "$T/damaged"
actgated --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
	--cgroup-parent "/actgate-$ACTGATE_SCENARIO" >"$T/bad-start.log" 2>&1 &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 300 ] || { kill "$pid"; fail "actgated started on a damaged state file"; }
	sleep 0.1
done
wait "$pid"
[ $? -ne 0 ] || fail "actgated exited 0 on a damaged state file"
grep -q "$STATE/signals:[0-9]*: " "$T/bad-start.log" ||
	fail "the refusal names no line: $(cat "$T/bad-start.log")"
cmp -s "$STATE/signals" "$T/damaged" || fail "the damaged file was changed"
exit 0

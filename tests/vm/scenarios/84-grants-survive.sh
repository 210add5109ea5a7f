# Grants outlive a restart of the daemon: a grant given before a restart is
# listed after it with the expiry it had, still allows what it allowed, and
# can be removed (which ends it at once, and for good: a further restart
# does not bring it back); a grant that expired is not made live again by a
# restart; grant ids go on where they were; after a reboot (no pins, no
# workloads) the grants go with their workloads.
. /actgate/lib.sh

echo secret >"$T/secret"
echo short >"$T/short"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: strict}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: allow, deny: [$T/secret, $T/short]}
YAML

start_daemon
in_workload ci:job sh -c "while [ ! -e $T/stop ]; do sleep 0.1; done" &
JOB=$!
wait_for 100 "the workload did not start" sh -c "actgate status | grep -q ci:job"
cg=$(actgate status | sed -n 's/^workload\.[0-9]*\.cgroup: \(.*ci_job.*\)/\1/p')
[ -n "$cg" ] || fail "no cgroup for ci:job in: $(actgate status)"
# probe FILE: an open of FILE from inside the workload's cgroup
probe() {
	sh -c "echo \$\$ >/sys/fs/cgroup$cg/cgroup.procs && exec actprobe open $1"
}
expect_probe EPERM probe "$T/secret"

actgate grant ci:job --open "$T/secret" --ttl 1h --reason "INC-7 keep" >/dev/null ||
	fail "grant keep"
actgate grant ci:job --open "$T/short" --ttl 3s --reason "INC-7 short" >/dev/null ||
	fail "grant short"
START=$(cut -d' ' -f1 /proc/uptime)
expect_probe ok probe "$T/secret"
keep=$(actgate grant --list --json | grep '"reason":"INC-7 keep"' | sed 's/.*"id":"\([0-9]*\)".*/\1/')
short=$(actgate grant --list --json | grep '"reason":"INC-7 short"' | sed 's/.*"id":"\([0-9]*\)".*/\1/')
[ -n "$keep" ] && [ -n "$short" ] || fail "no ids in: $(actgate grant --list --json)"

# listed ID: grant ID's line of grant --list --json ("" when not listed)
listed() { actgate grant --list --json | grep "\"id\":\"$1\"" || true; }

# A restart: the grants are listed again, with their expiry.
stop_daemon
start_daemon
grep -q "restored 2 grants" "$T/actgated.log" ||
	fail "the daemon did not say it restored the grants: $(cat "$T/actgated.log")"
line=$(listed "$keep")
[ -n "$line" ] || fail "grant $keep is not listed after a restart: $(actgate grant --list --json)"
echo "$line" | grep -q '"target":"'"$T/secret"'"' || fail "grant $keep's target: $line"
ms=$(echo "$line" | sed -n 's/.*"expires_in_ms":"\([0-9]*\)".*/\1/p')
[ -n "$ms" ] && [ "$ms" -gt 3000000 ] && [ "$ms" -le 3600000 ] ||
	fail "grant $keep's expiry after a restart: $line"
note "after a restart: grant $keep listed, expires in $ms ms"
expect_probe ok probe "$T/secret"

# The short grant expires; a restart does not make it live again.
while :; do
	now=$(cut -d' ' -f1 /proc/uptime)
	awk "BEGIN { exit !($now - $START > 3.5) }" && break
	sleep 0.2
done
expect_probe EPERM probe "$T/short"
stop_daemon
start_daemon
expect_probe EPERM probe "$T/short"
line=$(listed "$short")
[ -z "$line" ] || echo "$line" | grep -q '"expires_in_ms":"expired"' ||
	fail "the expired grant $short is listed as live after a restart: $line"
note "after its expiry and a restart: grant $short is ${line:+listed as }${line:-not listed}"

# Removal after a restart ends the grant, and a further restart does not bring it back.
actgate grant --remove "$keep" >"$T/remove.out" 2>&1 ||
	fail "grant --remove $keep after a restart: $(cat "$T/remove.out")"
expect_probe EPERM probe "$T/secret"
stop_daemon
start_daemon
expect_probe EPERM probe "$T/secret"
[ -z "$(listed "$keep")" ] || fail "the removed grant $keep came back: $(listed "$keep")"

# Ids go on where they were: records name grants by id.
actgate grant ci:job --open "$T/secret" --ttl 1h --reason "INC-8" >/dev/null || fail "grant INC-8"
next=$(actgate grant --list --json | grep '"reason":"INC-8"' | sed 's/.*"id":"\([0-9]*\)".*/\1/')
[ "$next" -gt "$short" ] || fail "a new grant after restarts got id $next, not above $short"
expect_probe ok probe "$T/secret"

# As after a reboot: no pins, no workloads; the grants go with them.
stop_daemon
touch "$T/stop"
wait "$JOB"
actgate detach >"$T/detach.out" 2>&1 || fail "detach: $(cat "$T/detach.out")"
start_daemon
[ -z "$(actgate grant --list --json | grep '"id"')" ] ||
	fail "grants of workloads that are gone: $(actgate grant --list --json)"

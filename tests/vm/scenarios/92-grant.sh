# Time-bound grants: an exception to a deny rule for a running workload,
# named in the records; it ends on time in the kernel even while no daemon
# runs (SIGKILL: the pinned programs and maps go on enforcing); a restarted
# daemon adopts them; it is listed and removed; it never lifts a
# revocation; bad grants are refused.
. /actgate/lib.sh

copy_binary tool
echo secret >"$T/secret"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: strict}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$T/bin/tool]}
  open: {default: allow, deny: [$T/secret]}
  connect: {default: allow, deny: ["127.0.0.1:7001"]}
YAML
start_daemon
listen_on 127.0.0.1 7001

# Probes through fifos opened outside the workload (it stays able to answer
# once it is revoked, at the end).
start_batch job 3 4 --workload ci:job
ask() {
	e=$(batch_ask 3 4 "exec $T/bin/tool")
	o=$(batch_ask 3 4 "open $T/secret r")
	c=$(batch_ask 3 4 "connect 127.0.0.1 7001")
	echo "$e $o $c"
}
expect_eq "$(ask)" "EPERM EPERM EPERM" "no grant"

out=$(actgate grant ci:job --exec "$T/bin/tool" --ttl 4s --reason "OPS-1 hotfix") ||
	fail "grant exec: $out"
note "$out"
actgate grant ci:job --open "$T/secret" --ttl 4s --reason "OPS-1" >/dev/null || fail "grant open"
actgate grant ci:job --connect 127.0.0.1:7001 --ttl 4s --reason "OPS-1" >/dev/null ||
	fail "grant connect"
START=$(cut -d' ' -f1 /proc/uptime)
expect_eq "$(ask)" "ok ok ok" "with the three grants"
expect_record '"workload":"ci:job"' '"action":"exec"' '"verdict":"allow"' '"reason":"grant"' \
	'"rule":"grant:1"'
expect_record '"workload":"ci:job"' '"action":"connect"' '"verdict":"allow"' '"reason":"grant"'
actgate grant --list | grep -q "OPS-1 hotfix" || fail "grant --list: $(actgate grant --list)"

# The daemon dies; the pinned programs still end the grants on time.
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
while :; do
	now=$(cut -d' ' -f1 /proc/uptime)
	awk "BEGIN { exit !($now - $START > 4.5) }" && break
	sleep 0.2
done
expect_eq "$(ask)" "EPERM EPERM EPERM" "after the grants' expiry, no daemon running"
start_daemon # adopts the pins and drains what was decided meanwhile
expect_record '"workload":"ci:job"' '"action":"exec"' '"verdict":"deny"' '"reason":"grant-expired"'
expect_record '"workload":"ci:job"' '"action":"open"' '"verdict":"deny"' '"reason":"grant-expired"'

# Removal ends a grant at once.
actgate grant ci:job --exec "$T/bin/tool" --ttl 1h --reason again >/dev/null || fail "grant again"
expect_eq "$(ask | cut -d' ' -f1)" ok "with a fresh grant"
id=$(actgate grant --list --json | grep '"reason":"again"' | sed 's/.*"id":"\([0-9]*\)".*/\1/')
[ -n "$id" ] || fail "no id in: $(actgate grant --list --json)"
actgate grant --remove "$id" || fail "grant --remove $id"
expect_eq "$(ask | cut -d' ' -f1)" EPERM "after removing grant $id"

# A revocation beats a grant.
actgate grant ci:job --exec "$T/bin/tool" --ttl 1h --reason "before revoke" >/dev/null ||
	fail "grant before revoke"
expect_eq "$(ask | cut -d' ' -f1)" ok "granted"
actgate revoke ci:job >/dev/null || fail "revoke"
expect_eq "$(ask)" "EPERM EPERM EPERM" "revoked despite the grant"
expect_record '"workload":"ci:job"' '"action":"exec"' "\"target\":\"$T/bin/tool\"" \
	'"reason":"revoked"'

# Bad grants: refused, exit 1 (daemon) or 2 (usage), and nothing is added.
before=$(actgate grant --list --json | wc -l)
actgate grant ci:nobody --exec "$T/bin/tool" --ttl 1m --reason x 2>"$T/e1"
expect_eq "$?" 1 "grant for a workload that is not running"
grep -q "no running workload" "$T/e1" || fail "message: $(cat "$T/e1")"
actgate grant ci:job --exec "$T/bin/" --ttl 1m --reason x 2>/dev/null
expect_eq "$?" 1 "a directory"
actgate grant ci:job --exec "$T/bin/none" --ttl 1m --reason x 2>/dev/null
expect_eq "$?" 1 "a missing file"
actgate grant ci:job --connect 10.0.0.0/8 --ttl 1m --reason x 2>/dev/null
expect_eq "$?" 1 "a prefix"
actgate grant ci:job --exec "$T/bin/tool" --ttl 1m 2>/dev/null
expect_eq "$?" 2 "no reason"
actgate grant ci:job --exec "$T/bin/tool" --reason x 2>/dev/null
expect_eq "$?" 2 "no ttl"
actgate grant ci:job --exec "$T/bin/tool" --open "$T/secret" --ttl 1m --reason x 2>/dev/null
expect_eq "$?" 2 "two targets"
expect_eq "$(actgate grant --list --json | wc -l)" "$before" "grants after refused requests"

exec 3>&-

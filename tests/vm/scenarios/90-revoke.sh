# Revocation: a running workload is revoked and its very next exec, open and
# connect are denied in the kernel (reason revoked), also under an audit
# policy and in a process it started before the revocation; other workloads
# go on; a revoked name or principal cannot start new workloads; a CAEP
# session-revoked event revokes a principal's workloads.
. /actgate/lib.sh

copy_binary tool
echo data >"$T/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: open}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow}
  open: {default: allow}
  connect: {default: allow}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: watched}
spec:
  selector: {workloads: ["audit:*"]}
  mode: audit
  exec: {default: deny}
YAML
start_daemon
listen_on 127.0.0.1 7001

# Long-running workloads that probe when asked, through fifos opened before
# the revocation (a revoked workload can no longer open a file to answer).
start_batch a 3 4 --workload ci:victim
start_batch b 5 6 --workload ci:bystander
start_batch c 7 8 --workload audit:x
ask() {
	e=$(batch_ask "$1" "$2" "exec $T/bin/tool")
	o=$(batch_ask "$1" "$2" "open $T/file r")
	c=$(batch_ask "$1" "$2" "connect 127.0.0.1 7001")
	echo "$e $o $c"
}
expect_eq "$(ask 3 4)" "ok ok ok" "victim before the revocation"
expect_eq "$(ask 5 6)" "ok ok ok" "bystander before"
expect_eq "$(ask 7 8)" "ok ok ok" "audit workload before (audit: denials not enforced)"

out=$(actgate revoke ci:victim --reason "token leaked") || fail "revoke: $out"
note "$out"
echo "$out" | grep -q "revoked: 1 running" || fail "revoke output: $out"
expect_eq "$(ask 3 4)" "EPERM EPERM EPERM" "victim after the revocation (same running shell)"
expect_eq "$(ask 5 6)" "ok ok ok" "bystander after"
expect_record '"workload":"ci:victim"' '"action":"exec"' "\"target\":\"$T/bin/tool\"" \
	'"verdict":"deny"' '"reason":"revoked"'
expect_record '"workload":"ci:victim"' '"action":"open"' '"verdict":"deny"' '"reason":"revoked"'
expect_record '"workload":"ci:victim"' '"action":"connect"' '"verdict":"deny"' '"reason":"revoked"'

# An audit policy does not soften a revocation.
actgate revoke audit:x >/dev/null || fail "revoke audit:x"
expect_eq "$(ask 7 8)" "EPERM EPERM EPERM" "audit workload after the revocation"
expect_record '"workload":"audit:x"' '"verdict":"deny"' '"mode":"enforce"' '"reason":"revoked"'

# A revoked name cannot start again.
actgate run --quiet --workload ci:victim -- true 2>"$T/again.err"
expect_eq "$?" 125 "run of a revoked workload name"
grep -q "revoked" "$T/again.err" || fail "refusal: $(cat "$T/again.err")"
actgate revoke --list | grep -q "ci:victim" || fail "revoke --list: $(actgate revoke --list)"

# Malformed requests are refused and change nothing.
actgate revoke 2>/dev/null
expect_eq "$?" 2 "revoke without a subject"
actgate revoke "bad name!" 2>/dev/null
expect_eq "$?" 2 "revoke with an invalid name"
expect_eq "$(ask 5 6)" "ok ok ok" "bystander after refused requests"

# CAEP session-revoked on a principal: its workloads are revoked.
exec 3>&- 7>&-
start_batch d 3 7 --workload ci:alice-job --delegated-by alice@example.com
cat >"$T/set.json" <<JSON
{"iss": "https://idp.example.com", "jti": "j-1", "iat": 1764300000,
 "sub_id": {"format": "email", "email": "alice@example.com"},
 "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {}}}
JSON
expect_eq "$(ask 3 7)" "ok ok ok" "alice's job before the CAEP event"
actgate signal ingest "$T/set.json" >"$T/ingest.out" 2>&1 || fail "ingest: $(cat "$T/ingest.out")"
expect_eq "$(ask 3 7)" "EPERM EPERM EPERM" "alice's job after session-revoked"
expect_eq "$(ask 5 6)" "ok ok ok" "bystander after the CAEP event"

exec 3>&- 5>&- 7>&-

# A signal flips a `when:` overlay: the next action of a running workload
# sees it, without a reload; clearing it (or its time to live running out)
# flips it back; each decision record carries the signal generation and the
# values its policy read; bad signals are refused and change nothing.
. /actgate/lib.sh

copy_binary tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: risky}
spec:
  selector: {workloads: ["agent:*"]}
  exec:
    default: allow
    when:
      - signals: {risk: high}
        deny: [$T/bin/tool]
YAML
start_daemon

start_batch a 3 4 --workload agent:1 --delegated-by bob
ask() { batch_ask 3 4 "exec $T/bin/tool"; }
expect_eq "$(ask)" ok "no signal yet"

actgate signal set --principal bob risk=high || fail "signal set"
expect_eq "$(ask)" EPERM "risk=high on the workload's principal"
expect_record '"workload":"agent:1"' '"verdict":"deny"' '"rule":"risky:exec.when[0].deny[0]"' \
	'"signal_generation":1' '"signals":"risk=high"'
actgate signal list | grep -q "principal.*bob.*risk.*high" || fail "signal list: $(actgate signal list)"
# The workload is bound under the store's generation, with the values its policy read.
actgate status --json | grep -q '"workload\.[0-9]*\.signals":"risk=high"' ||
	fail "status: $(actgate status --json)"
gen=$(actgate signal list --json >/dev/null; actgate status --json | sed -n 's/.*"signal_generation":\([0-9]*\).*/\1/p')
expect_eq "$gen" 1 "signal generation after one change"

# A workload-scoped value wins over the principal's.
actgate signal set --workload agent:1 risk=low || fail "signal set workload"
expect_eq "$(ask)" ok "risk=low on the workload itself"
expect_record '"workload":"agent:1"' '"verdict":"allow"' '"signal_generation":2' \
	'"signals":"risk=low"'
actgate signal clear --workload agent:1 risk || fail "signal clear"
expect_eq "$(ask)" EPERM "back to the principal's risk=high"
actgate signal clear --principal bob risk || fail "signal clear principal"
expect_eq "$(ask)" ok "no risk signal"

# A time to live: the overlay holds, then the timer ends it.
actgate signal set risk=high --ttl 1s || fail "signal set host with ttl"
expect_eq "$(ask)" EPERM "host risk=high, 1 s"
sleep 1.5
expect_eq "$(ask)" ok "after the host signal's time to live"

# Bad input: refused, nothing changes.
actgate signal set --principal bob "Risk=high" 2>/dev/null
expect_eq "$?" 2 "an invalid signal name"
actgate signal set --principal bob risk= 2>/dev/null
expect_eq "$?" 2 "an empty value"
actgate signal set risk=high --ttl 0s 2>/dev/null
expect_eq "$?" 2 "a zero ttl"
printf '{"verb":"signal-set","name":"risk","value":"high","bogus":1}\n' >"$T/bad.req"
cat >"$T/bad.json" <<JSON
{"iss": "x", "jti": "1", "iat": 1,
 "sub_id": {"format": "email", "email": "bob"},
 "events": {"https://schemas.openid.net/secevent/caep/event-type/risk-level-change": {"current_level": "extreme"}}}
JSON
actgate signal ingest "$T/bad.json" 2>"$T/bad.err"
expect_eq "$?" 1 "ingest of a bad token"
grep -q "bad.json:" "$T/bad.err" || fail "no file:line:col: $(cat "$T/bad.err")"
expect_eq "$(ask)" ok "after refused signals"
actgate signal list | grep -q "no signal set" || fail "signals after refusals: $(actgate signal list)"

# A CAEP risk-level-change from a spool file would need --spool-dir; the
# control-socket ingest sets risk on the principal.
cat >"$T/risk.json" <<JSON
{"iss": "https://idp.example.com", "jti": "r-1", "iat": 1764300000,
 "sub_id": {"format": "opaque", "id": "agent:1"},
 "events": {"https://schemas.openid.net/secevent/caep/event-type/risk-level-change": {"current_level": "HIGH"}}}
JSON
actgate signal ingest "$T/risk.json" >/dev/null || fail "ingest risk"
expect_eq "$(ask)" EPERM "risk=high from CAEP on the workload"

exec 3>&-

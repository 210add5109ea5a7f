# CAEP events dropped into the spool directory are applied and removed; a
# bad one is refused, logged and moved to spool/rejected; the control socket
# is root:GROUP 0660 with --socket-group; a workload started with --ttl is
# denied everything (reason expired) once its time is up, by the kernel.
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
SPOOL=$T/spool
start_daemon --spool-dir "$SPOOL" --socket-group 4242
expect_eq "$(stat -c '%a %u %g' "$ACTGATE_SOCKET")" "660 0 4242" "socket mode, owner, group"

start_batch a 3 4 --workload agent:1 --delegated-by carol@example.com
expect_eq "$(batch_ask 3 4 "exec $T/bin/tool")" ok "before any event"

cat >"$T/risk.json" <<JSON
{"iss": "https://idp.example.com", "jti": "s-1", "iat": 1764300000,
 "sub_id": {"format": "email", "email": "carol@example.com"},
 "events": {"https://schemas.openid.net/secevent/caep/event-type/risk-level-change": {"current_level": "high"}}}
JSON
# Writers put the file in place with a rename, so a half-written one is never read.
cp "$T/risk.json" "$SPOOL/.risk.json" && mv "$SPOOL/.risk.json" "$SPOOL/risk.json"
wait_for 100 "the spool file was not taken" sh -c "[ ! -e '$SPOOL/risk.json' ]"
expect_eq "$(batch_ask 3 4 "exec $T/bin/tool")" EPERM "after the spooled risk-level-change"
actgate signal list | grep -q "carol@example.com.*risk.*high.*caep https://idp.example.com" ||
	fail "signal list: $(actgate signal list)"

printf '{"iss": "x", "jti": "2", "iat": 1, "events": {"bogus": {}}}\n' >"$SPOOL/bad.json"
wait_for 100 "the bad spool file was not moved aside" test -e "$SPOOL/rejected/bad.json"
grep -q "spool: error: $SPOOL/bad.json: refused, moved to $SPOOL/rejected: $SPOOL/bad.json:1:" \
	"$T/actgated.log" || fail "log: $(tail -n 5 "$T/actgated.log")"
expect_eq "$(actgate signal list --json | wc -l)" 1 "signals after the bad file"

# A workload's time to live, enforced in the kernel.
start_batch t 5 6 --workload agent:short --ttl 2s
expect_eq "$(batch_ask 5 6 "open $T/bin/tool r")" ok "within its time"
sleep 2.5
expect_eq "$(batch_ask 5 6 "open $T/bin/tool r")" EPERM "after its time to live"
expect_record '"workload":"agent:short"' '"verdict":"deny"' '"reason":"expired"'
actgate run --quiet --workload agent:x --ttl 0s -- true 2>/dev/null
expect_eq "$?" 125 "a zero --ttl"
exec 3>&- 5>&-

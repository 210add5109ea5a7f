# replay: JSON records carry the workload name, labels and principal; filters work.
. /actgate/lib.sh

copy_binary denied-tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: replayed}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$T/bin/denied-tool]}
YAML
start_daemon

actgate run --quiet --workload ci:deploy --label team=payments --label env=prod \
	--delegated-by alice@example.com -- actprobe exec "$T/bin/denied-tool" true >/dev/null
expect_record '"workload":"ci:deploy"' '"principal":"alice@example.com"' \
	'"labels":{"env":"prod","team":"payments"}' '"verdict":"deny"' '"policy":"replayed"'

# Filters: only denials of exec by ci:* workloads.
n_all=$(replay_json | wc -l)
n_deny=$(replay_json --verdict deny | wc -l)
n_exec_deny=$(replay_json --action exec --verdict deny --workload 'ci:*' | wc -l)
n_none=$(replay_json --workload 'other:*' | wc -l)
[ "$n_all" -gt "$n_deny" ] || fail "--verdict deny did not filter ($n_all vs $n_deny)"
expect_eq "$n_exec_deny" 1 "exec denials of ci:*"
expect_eq "$n_none" 0 "records of other:*"
replay_json --verdict deny | grep -q '"verdict":"allow"' && fail "--verdict deny printed an allow"

# The table for people has a header and the denial.
actgate replay --journal-dir "$JOURNAL" --verdict deny >"$T/table"
head -n 1 "$T/table" | grep -q WORKLOAD || fail "no table header: $(head -n 1 "$T/table")"
grep -q "ci:deploy" "$T/table" || fail "the table lacks the workload"
exit 0

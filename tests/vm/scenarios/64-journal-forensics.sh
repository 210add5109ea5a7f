# Forensics on a real journal: replay's filters, --stats, --tree, --follow,
# --what-if, verify (intact, then a damaged copy) and export.
. /actgate/lib.sh

copy_binary denied-tool
mkdir -p "$T/public" "$T/candidate"
echo secret >"$T/secret"
echo fine >"$T/public/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: forensic}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$T/bin/denied-tool]}
  open: {default: allow, deny: [$T/secret]}
YAML
start_daemon --journal-key "$T/journal.key"

actgate replay --follow --json --target "$T/public/*" "$JOURNAL" >"$T/follow" 2>"$T/follow.err" &
FOLLOWER=$!
LISTENERS="${LISTENERS:-} $FOLLOWER" # stopped by the cleanup if a check fails first
actgate run --quiet --workload ci:build --label team=a --delegated-by alice -- \
	sh -c "actprobe open $T/secret; actprobe exec $T/bin/denied-tool true; actprobe open $T/public/file" \
	>/dev/null
actgate run --quiet --workload ci:test --label team=b --delegated-by bob -- \
	actprobe open "$T/secret" >/dev/null
expect_record '"workload":"ci:test"' "\"target\":\"$T/secret\""
expect_record '"workload":"ci:build"' "\"target\":\"$T/public/file\""

# --follow printed the allowed open as it was journaled.
followed() {
	grep -q "\"target\":\"$T/public/file\"" "$T/follow"
}
wait_for 100 "replay --follow did not print the new record" followed
kill -INT "$FOLLOWER"
wait "$FOLLOWER"
expect_eq "$?" 0 "replay --follow's exit status after SIGINT"

# Filters.
n=$(replay_json --principal alice | wc -l)
[ "$n" -ge 3 ] || fail "--principal alice: $n records"
replay_json --principal alice | grep -q '"principal":"bob"' && fail "--principal alice printed bob's"
expect_eq "$(replay_json --label team=b --verdict deny | wc -l)" 1 "--label team=b denials"
expect_eq "$(replay_json --rule 'forensic:open.deny*' | wc -l)" 2 "--rule open denials"
expect_eq "$(replay_json --target "$T/secret" | wc -l)" 2 "--target $T/secret"
expect_eq "$(replay_json --target "$T/*" --action exec --verdict deny | wc -l)" 1 "exec denials"
pid=$(replay_json --workload ci:test --target "$T/secret" | sed 's/.*"pid":\([0-9]*\).*/\1/')
expect_eq "$(replay_json --pid "$pid" --target "$T/secret" | wc -l)" 1 "--pid $pid"
all=$(replay_json | wc -l)
expect_eq "$(replay_json --since 1h | wc -l)" "$all" "--since 1h"
expect_eq "$(replay_json --until 1h | wc -l)" 0 "--until 1h"
expect_eq "$(replay_json --since 2000-01-01T00:00:00Z | wc -l)" "$all" "--since 2000"
actgate replay --since yesterday "$JOURNAL" 2>"$T/err"
expect_eq "$?" 2 "exit status of a bad --since"
grep -q "actgate: replay: --since yesterday: " "$T/err" || fail "bad --since: $(cat "$T/err")"

# Stats: one row per workload, action and verdict.
actgate replay --stats "$JOURNAL" >"$T/stats"
grep -Eq '^ci:test +open +deny +1$' "$T/stats" || fail "stats: $(cat "$T/stats")"
grep -Eq '^ci:build +exec +deny +1$' "$T/stats" || fail "stats: $(cat "$T/stats")"

# Tree: sh, then its children, with their actions.
actgate replay --tree ci:build "$JOURNAL" >"$T/tree"
head -n 1 "$T/tree" | grep -q "^workload ci:build$" || fail "tree: $(cat "$T/tree")"
grep -Eq '^[0-9]+ .* \(ppid [0-9]+, uid [0-9]+\)$' "$T/tree" || fail "tree has no root: $(cat "$T/tree")"
grep -q "^  \`- [0-9]* .*actprobe" "$T/tree" || fail "tree has no child actprobe: $(cat "$T/tree")"
grep -q "open(read) *deny *$T/secret" "$T/tree" || fail "tree lacks the denied open: $(cat "$T/tree")"
note "tree: $(wc -l <"$T/tree") lines"

# What-if: the same policy changes nothing (exit 0); allowing the secret changes
# two decisions (exit 1), named with the rule that would decide.
cp "$POLICIES/p.yaml" "$T/candidate/p.yaml"
actgate replay --what-if "$T/candidate" "$JOURNAL" >"$T/whatif"
expect_eq "$?" 0 "what-if with the same policy"
grep -q "0 would change" "$T/whatif" || fail "what-if: $(tail -n 1 "$T/whatif")"
sed -i "s|deny: \[$T/secret\]|deny: [$T/public/file]|" "$T/candidate/p.yaml"
actgate replay --what-if "$T/candidate" "$JOURNAL" >"$T/whatif"
expect_eq "$?" 1 "what-if with a changed policy"
grep -q "deny->allow .*$T/secret .*forensic:open.default" "$T/whatif" || fail "what-if: $(cat "$T/whatif")"
grep -q "allow->deny .*$T/public/file .*forensic:open.deny\[0\]" "$T/whatif" || fail "what-if: $(cat "$T/whatif")"
note "$(tail -n 1 "$T/whatif")"
actgate replay --what-if "$T/nowhere" "$JOURNAL" 2>/dev/null
expect_eq "$?" 2 "what-if with no candidate policy"

# Export for a SIEM.
actgate export --format ocsf --output "$T/ocsf.jsonl" "$JOURNAL" || fail "export ocsf failed"
expect_eq "$(wc -l <"$T/ocsf.jsonl")" "$all" "OCSF events"
grep -q '"class_uid":1001,.*"action":"Denied".*"file":{"name":"secret","path":"'"$T/secret"'",' "$T/ocsf.jsonl" ||
	fail "no OCSF file denial: $(head -n 2 "$T/ocsf.jsonl")"
expect_eq "$(actgate export --format jsonl --verdict deny "$JOURNAL" | wc -l)" \
	"$(replay_json --verdict deny | wc -l)" "jsonl export of the denials"

stop_daemon
grep -q "daemon: stopping: " "$T/actgated.log" || fail "actgated did not stop cleanly on SIGTERM"
# A restarted daemon continues the same journal, after a clean close.
start_daemon --journal-key "$T/journal.key"
actgate run --quiet --workload ci:test -- actprobe open "$T/secret" >/dev/null
expect_record '"workload":"ci:test"' "\"target\":\"$T/secret\"" '"verdict":"deny"'
expect_eq "$(replay_json --target "$T/secret" | wc -l)" 3 "denials after the restart"
stop_daemon
actgate verify --closed --key "$T/journal.key" "$JOURNAL" >"$T/verify"
expect_eq "$?" 0 "verify of the intact journal ($(cat "$T/verify"))"
grep -q "seals checked with the key" "$T/verify" || fail "verify: $(cat "$T/verify")"
grep -q "did not close" "$T/verify" && fail "a stop was not clean: $(cat "$T/verify")"
note "$(tr '\n' ' ' <"$T/verify")"
all=$(replay_json | wc -l)

# A damaged copy: one byte flipped in the middle of the first segment.
mkdir "$T/copy"
cp "$JOURNAL"/journal-* "$T/copy/"
seg=$(ls "$T/copy"/journal-* | head -n 1)
size=$(stat -c %s "$seg")
damage_byte "$seg" $((size / 2))
actgate verify --key "$T/journal.key" "$T/copy" >"$T/verify"
expect_eq "$?" 1 "verify of a damaged copy"
grep -q "^DAMAGED: " "$T/verify" || fail "verify: $(cat "$T/verify")"
note "$(head -n 2 "$T/verify" | tr '\n' ' ')"
actgate replay --json "$T/copy" >/dev/null 2>"$T/err"
[ -s "$T/err" ] || fail "replay did not report the damage"
exit 0

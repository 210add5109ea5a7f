# Segment summaries on a real journal. A restarted daemon summarises the
# segment its predecessor wrote (first in its own segment); replay answers
# the same with and without summaries, and skips for real the segment a
# summary excludes (a damaged copy of it is not even read); verify checks
# the summary; a summary edited by root on the host hides nothing: replay
# no longer trusts it and reads the segment, verify reports the damage.
. /actgate/lib.sh

echo secret >"$T/secret"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: summaries}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: allow, deny: [$T/secret]}
YAML
start_daemon --journal-key "$T/journal.key"
actgate run --quiet --workload ci:build -- actprobe open "$T/secret" >/dev/null
expect_record '"workload":"ci:build"' "\"target\":\"$T/secret\""
stop_daemon
start_daemon --journal-key "$T/journal.key"
actgate run --quiet --workload ci:test -- actprobe open "$T/secret" >/dev/null
expect_record '"workload":"ci:test"' "\"target\":\"$T/secret\""

# The second daemon summarised the first one's segment; verify checked it.
actgate verify --key "$T/journal.key" "$JOURNAL" >"$T/verify"
expect_eq "$?" 0 "verify of the journal"
grep -q "^  1 segment summaries checked against their segments$" "$T/verify" ||
	fail "verify: $(cat "$T/verify")"

# The same answers with and without summaries.
for w in ci:build ci:test 'ci:*' nobody; do
	a=$(replay_json --workload "$w" | wc -l)
	b=$(replay_json --no-summaries --workload "$w" | wc -l)
	expect_eq "$a" "$b" "records of $w with and without summaries"
done
expect_eq "$(replay_json --workload ci:build --target "$T/secret" | wc -l)" 1 "ci:build's denial"

# Skipped for real: a byte flipped in the middle of the first segment (a
# copy) is not seen by a query for ci:test, which its summary excludes.
mkdir "$T/copy"
cp "$JOURNAL"/journal-* "$T/copy/"
seg=$(ls "$T/copy"/journal-* | head -n 1)
size=$(wc -c <"$seg")
damage_byte "$seg" $((size / 2))
actgate replay --json --workload ci:test "$T/copy" >/dev/null 2>"$T/err"
[ -s "$T/err" ] && fail "a skipped segment was read: $(cat "$T/err")"
actgate replay --json --no-summaries --workload ci:test "$T/copy" >/dev/null 2>"$T/err"
grep -q "journal-0000000000000001" "$T/err" || fail "--no-summaries: no damage seen: $(cat "$T/err")"

# Root edits the summary (in the segment being written, after the header and
# the store's open record) to hide ci:build: the CRC no longer matches, replay
# reads the first segment again and verify reports it.
seg2="$JOURNAL/journal-0000000000000002.seg"
[ -f "$seg2" ] || fail "no plain second segment: $(ls "$JOURNAL")"
printf 'X' | dd of="$seg2" bs=1 seek=300 conv=notrunc 2>/dev/null
expect_eq "$(replay_json --workload ci:build --target "$T/secret" 2>/dev/null | wc -l)" 1 \
	"ci:build's denial after the summary was edited"
actgate verify --key "$T/journal.key" "$JOURNAL" >"$T/verify"
expect_eq "$?" 1 "verify after the summary was edited"
grep -q "^DAMAGED: " "$T/verify" || fail "verify: $(cat "$T/verify")"
note "$(head -n 1 "$T/verify")"
stop_daemon

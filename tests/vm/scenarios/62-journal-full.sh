# The journal's file system fills up: enforcement goes on, the losses are counted,
# reported by `actgate status` and logged once per stretch; once space is freed
# writing resumes with a gap record, every decision made after that reads back
# with its own texts (the string table starts again only with a new segment),
# and the journal verifies.
. /actgate/lib.sh

mkdir -p "$T/private" "$T/public"
echo secret >"$T/private/before"
echo secret >"$T/private/after"
echo fine >"$T/public/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: full}
spec:
  selector: {workloads: ["job-*"]}
  open: {default: allow, deny: [$T/private/]}
YAML
JOURNAL="$T/jfull"
mkdir -p "$JOURNAL"
mount -t tmpfs -o size=512k tmpfs "$JOURNAL" || fail "cannot mount a tmpfs"
start_daemon --journal-key "$T/journal.key"
expect_eq "$(stat -c %a "$T/journal.key")" 600 "the seal key's mode"

# Fill the file system to the last block.
dd if=/dev/zero of="$JOURNAL/filler" bs=4096 2>/dev/null
in_workload job-1 actprobe openloop "$T/public/file" 3000 >/dev/null ||
	fail "the workload could not open an allowed file on a full journal"
expect_probe EPERM in_workload job-1 actprobe open "$T/private/before"
lost_reported() {
	actgate status --json | grep -q '"records_unwritten":[1-9]'
}
wait_for 100 "actgate status reports no lost records" lost_reported
actgate status >"$T/status"
note "$(grep -E '^(records_unwritten|journal_error)' "$T/status" | tr '\n' ' ')"
# The error, while it lasts (a write that fits in the last block's slack still
# succeeds, so the store may be between two failures just now).
grep -q '^journal_error: $' "$T/status" || grep -q "^journal_error: No space left on device$" "$T/status" ||
	fail "status gives another reason: $(grep journal_error "$T/status")"
# A write failed, or (the daemon starts a new segment after a failed write) a
# segment could not be started because its header did not fit.
failed=$(grep -cE "(write failed|cannot start the next segment): No space left on device" \
	"$T/actgated.log")
recovered=$(grep -c ": writing works again;" "$T/actgated.log")
[ "$failed" -ge 1 ] || fail "the loss was not logged"
# Logged once per stretch of failures, not once per lost record.
[ "$failed" -eq "$recovered" ] || [ "$failed" -eq $((recovered + 1)) ] ||
	fail "$failed failures logged for $recovered recoveries"

# Space again: writing resumes, with what was lost on the record.
rm "$JOURNAL/filler"
expect_probe EPERM in_workload job-1 actprobe open "$T/private/after"
expect_record '"verdict":"deny"' "\"target\":\"$T/private/after\""
resumed() {
	actgate status | grep -q '^journal_error: $'
}
wait_for 100 "status still reports the error after space returned" resumed
grep -q ": writing works again;" "$T/actgated.log" || fail "the recovery was not logged"
# Decisions after the recovery, each workload with texts of its own: an allowed
# open and a denied one.
for i in 1 2 3 4 5 6; do
	echo fine >"$T/public/f$i"
	echo secret >"$T/private/s$i"
	in_workload "job-after-$i" actprobe open "$T/public/f$i" >/dev/null ||
		fail "job-after-$i could not open an allowed file"
	expect_probe EPERM in_workload "job-after-$i" actprobe open "$T/private/s$i"
done
expect_record '"workload":"job-after-6"' "\"target\":\"$T/private/s6\""
stop_daemon

actgate verify --closed --key "$T/journal.key" "$JOURNAL" >"$T/verify" ||
	fail "the journal does not verify: $(cat "$T/verify")"
grep -q "gap records" "$T/verify" || fail "verify does not count the gap: $(cat "$T/verify")"
actgate replay --json "$JOURNAL" >"$T/replay" 2>"$T/replay.err"
grep -q "decisions lost from" "$T/replay.err" || fail "replay does not report the gap: $(cat "$T/replay.err")"
note "$(cat "$T/replay.err")"
grep -E "skipped a malformed decision|texts are lost" "$T/replay.err" &&
	fail "decisions after the recovery do not read back"
# Each decision on f<i> or s<i> is job-after-<i>'s, with the verdict and rule of
# its target: no decision took another's texts, none vanished.
sed -n "s|.*\"verdict\":\"\([a-z]*\)\".*\"workload\":\"\([^\"]*\)\".*\"target\":\"$T/\([a-z]*\)/[fs]\([0-9][0-9]*\)\".*\"rule\":\"\([^\"]*\)\".*|\1 \2 \3 \4 \5|p" \
	"$T/replay" >"$T/after"
while read -r verdict workload dir i rule; do
	expect_eq "$workload" "job-after-$i" "the workload of a decision on $dir/$i"
	if [ "$dir" = private ]; then
		expect_eq "$verdict $rule" "deny full:open.deny[0]" "the denial of $dir/s$i"
	else
		expect_eq "$verdict $rule" "allow full:open.default" "the open of $dir/f$i"
	fi
done <"$T/after"
for i in 1 2 3 4 5 6; do
	grep -q "^deny job-after-$i private $i " "$T/after" || fail "job-after-$i's denial vanished from replay"
	grep -q "^allow job-after-$i public $i " "$T/after" || fail "job-after-$i's open vanished from replay"
done
note "$(wc -l <"$T/after") decisions after the recovery read back with their own texts"
umount "$JOURNAL"
exit 0

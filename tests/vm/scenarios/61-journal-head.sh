# The journal seen from outside: segments removed under the running daemon
# (by root outside every workload; a governed task cannot, 59-own-files)
# are noticed, logged and shown by `actgate status`; the daemon keeps the
# journal's head (its last synced seal) in the state directory, and
# `actgate verify --head` finds a journal cut after it, or emptied, which
# plain verify cannot tell from an intact one.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: all}
spec:
  selector: {workloads: ["jh:*"]}
YAML
start_daemon
HEAD=/var/lib/actgate/journal-head
status_value() { # KEY: the value of KEY in `actgate status`
	actgate status | sed -n "s/^$1: //p"
}
head_at_least() { # N: the kept head's seal is N or later
	[ "$(status_value journal_head_seal)" -ge "$1" ] 2>/dev/null
}

for i in 1 2 3; do in_workload jh:job true || fail "workload $i"; done
expect_record '"workload":"jh:job"'
wait_for 150 "the daemon kept no journal head" head_at_least 1
[ -f "$HEAD" ] || fail "no head file at $HEAD"
note "head: $(tr '\n' ' ' <"$HEAD")"
expect_eq "$(status_value journal_segments_removed)" "0" "segments removed, before"
# The head file is actgate's own: a workload cannot rewrite it.
expect_probe EPERM in_workload jh:job actprobe open "$HEAD" w

actgate verify --journal-dir "$JOURNAL" --head "$HEAD" >"$T/v.out" ||
	fail "verify --head of the live journal: $(cat "$T/v.out")"

# A copy cut to its first segment's header: plain verify says intact, --head does not.
cp -r "$JOURNAL" "$T/cut"
rm -f "$T/cut/.lock"
first=$(ls "$T"/cut/journal-*.seg | head -n 1)
for f in "$T"/cut/journal-*; do [ "$f" = "$first" ] || rm -f "$f"; done
# (192 bytes: the version-3 header, docs/journal-store.md)
dd if="$first" of="$T/cut.hdr" bs=192 count=1 2>/dev/null && mv "$T/cut.hdr" "$first"
actgate verify --no-key --journal-dir "$T/cut" >"$T/v.out" 2>&1
note "plain verify of the cut copy: exit $? ($(head -n 1 "$T/v.out"))"
actgate verify --no-key --journal-dir "$T/cut" --head "$HEAD" >"$T/v.out" 2>&1
rc=$?
expect_eq "$rc" "1" "verify --head of a cut journal (exit)"
grep -q '^DAMAGED: behind-head: ' "$T/v.out" || fail "verify --head: $(cat "$T/v.out")"
note "$(head -n 1 "$T/v.out")"
# Emptied: no segment at all.
mkdir "$T/empty"
actgate verify --no-key --journal-dir "$T/empty" --head "$HEAD" >"$T/v.out" 2>&1
expect_eq "$?" "1" "verify --head of an emptied journal (exit)"
grep -q '^DAMAGED: behind-head: the journal has no segments' "$T/v.out" ||
	fail "verify --head of an emptied journal: $(cat "$T/v.out")"
# A damaged head file is refused, not taken as a pass.
echo "seal 1" >"$T/bad-head"
actgate verify --no-key --journal-dir "$JOURNAL" --head "$T/bad-head" 2>"$T/v.err"
expect_eq "$?" "3" "verify with a malformed head file (exit)"

# Root outside every workload removes the segments: the daemon notices.
rm -f "$JOURNAL"/journal-*.seg "$JOURNAL"/journal-*.seg.gz
wait_for 100 "status does not show the removed segment" \
	sh -c '[ "$(actgate status | sed -n "s/^journal_segments_removed: //p")" -ge 1 ]'
grep -q 'removed under the running daemon' "$T/actgated.log" ||
	fail "the log does not say a segment was removed"
note "$(grep 'removed under the running daemon' "$T/actgated.log" | head -n 1)"
stop_daemon
actgate verify --no-key --journal-dir "$JOURNAL" --head "$HEAD" >"$T/v.out" 2>&1
expect_eq "$?" "1" "verify --head of the journal whose segments were removed (exit)"

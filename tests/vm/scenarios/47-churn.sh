# Many short-lived workloads leave nothing behind: after CHURN workloads of
# `actgate run` (two at a time, each a real cgroup with its exec and opens
# decided and recorded) have come and gone, the daemon holds what it held
# before: every pinned hash and LPM trie map has its entry count of the
# baseline (and every array its non-zero elements: the governed buckets),
# the daemon's open descriptors and the cgroups under its parent
# are as many as before, its workload table is empty, and its resident
# memory (VmRSS without the BPF maps' pages, and RssAnon, its heap) does not
# keep growing.
#
# The memory is measured in four rounds of CHURN/4 workloads. The first
# brings the daemon's buffers (the journal's batch and segment, the
# allocator's arenas) to their working size; over the three after it, a
# leak grows the heap in every round, so the round that grew least must
# have grown by no more than 4 KiB in the allocator's own count of bytes in
# use (`actgate status`: heap_in_use; about 160 bytes a workload at 100
# workloads, 2 at 10,000) and by no more than 64 KiB in resident pages
# (page and allocator slack), and all three rounds together by no more than
# 1 MiB. A single step is no leak: a buffer that doubles once when the
# daemon, starved on a loaded host, drains a larger batch, or heap pages
# malloc_trim gave back and a later allocation touches again (a CI run saw
# 436 KiB resident at once in one round, none before or after). The
# resident figures alone would miss a small leak: a daemon leaking 400
# bytes a workload grew its heap in use by 11 KiB a round and its resident
# heap by nothing, the leak filling pages already resident.
#
# CHURN: `actgate.churn=N` on the kernel command line (VMTEST_APPEND=
# "actgate.churn=10000" VMTEST_SCENARIO_TIMEOUT=4000, as the issue asks);
# 100 by default: on TCG a workload of `actgate run` takes 0.3 s to 1 s
# (the CLI's start, the cgroup made and removed, the state saved, the
# records journaled; more on a loaded host), so 10,000 take about an hour.
# The exact checks (map entries, descriptors, cgroups) hold at any count;
# the memory check needs the large one.
. /actgate/lib.sh

CHURN=$(sed -n 's/.*actgate\.churn=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
CHURN=${CHURN:-100}
PINS=/sys/fs/bpf/actgate
CGROUP_PARENT=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
CGROUP_PARENT=$CGROUP_PARENT/actgate-$ACTGATE_SCENARIO
echo x >"$T/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: churn}
spec:
  selector: {workloads: ["churn:*"]}
  exec: {default: allow}
  open: {default: allow, deny: [$T/file]}
YAML
start_daemon

# One workload: an exec of cat and an open denied, both recorded. Each is
# its own workload (id, cgroup, map entries); they share a few names, so
# that the journal's per-segment string table, which grows with every new
# text until the segment rotates, holds still and cannot pass for a leak.
one() {
	actgate run --quiet --workload "churn:$(($1 % 4))" -- cat "$T/file" 2>/dev/null
	[ $? -eq 1 ] || echo "workload $1 did not end as expected" >>"$T/errors"
}

# loop FIRST LAST: workloads FIRST..LAST, one after another
loop() {
	i=$1
	while [ "$i" -le "$2" ]; do
		one "$i"
		i=$((i + 1))
	done
}

# settle: every workload swept and every record journaled
settle() {
	wait_for 600 "workloads were not swept: $(actgate status | grep '^workloads:')" \
		sh -c "actgate status | grep -qx 'workloads: 0'"
	last=-1
	while :; do
		n=$(actgate status | sed -n 's/^records_written: //p')
		[ "$n" = "$last" ] && break
		last=$n
		sleep 1
	done
}

# rss_of BPF <smaps: the resident kB of the BPF maps' mappings (BPF=1) or of
# every other mapping (BPF=0)
rss_of() {
	awk -v want="$1" '/^[0-9a-f]+-[0-9a-f]+ / { bpf = ($6 ~ /bpf/) ? 1 : 0 }
		/^Rss:/ && bpf == want { n += $2 } END { print n + 0 }'
}

# snapshot NAME: what the daemon holds, in $T/NAME.*
snapshot() {
	actprobe map-counts "$PINS/maps" | sort >"$T/$1.maps" || fail "cannot count the map entries"
	ls "/proc/$DAEMON_PID/fd" | wc -l >"$T/$1.fds"
	find "$CGROUP_PARENT" -type d | wc -l >"$T/$1.cgroups"
	awk '/^VmRSS:/ { print $2 }' "/proc/$DAEMON_PID/status" >"$T/$1.vmrss"
	awk '/^RssAnon:/ { print $2 }' "/proc/$DAEMON_PID/status" >"$T/$1.anon"
	# The allocator's bytes in use, in kB: exact, where the pages above are not.
	actgate status | awk '$1 == "heap_in_use:" { print int($2 / 1024) }' >"$T/$1.inuse"
	[ -s "$T/$1.inuse" ] || fail "actgate status shows no heap_in_use"
	# The resident pages of every mapping but the BPF maps' (the ring buffer).
	cp "/proc/$DAEMON_PID/smaps" "$T/$1.smaps"
	rss_of 0 <"$T/$1.smaps" >"$T/$1.rss"
	rss_of 1 <"$T/$1.smaps" >"$T/$1.maprss"
	note "$1: VmRSS $(cat "$T/$1.vmrss") kB = $(cat "$T/$1.rss") kB own + $(cat "$T/$1.maprss") kB of BPF maps (heap: $(cat "$T/$1.anon") kB resident, $(cat "$T/$1.inuse") kB in use), fds $(cat "$T/$1.fds"), cgroups $(cat "$T/$1.cgroups"), maps: $(tr '\n' ' ' <"$T/$1.maps")"
}

# churn FIRST LAST: workloads FIRST..LAST, two at a time, then settled
churn() {
	mid=$((($1 + $2) / 2))
	loop "$1" "$mid" &
	other=$!
	loop $((mid + 1)) "$2"
	wait $other
	[ ! -s "$T/errors" ] || fail "$(wc -l <"$T/errors") workloads failed: $(head -n 3 "$T/errors")"
	settle
}

# same_as_baseline NAME: map entries, descriptors and cgroups as at the baseline
same_as_baseline() {
	expect_eq "$(cat "$T/$1.maps")" "$(cat "$T/baseline.maps")" "$1: map entries"
	expect_eq "$(cat "$T/$1.fds")" "$(cat "$T/baseline.fds")" "$1: the daemon's descriptors"
	expect_eq "$(cat "$T/$1.cgroups")" "$(cat "$T/baseline.cgroups")" \
		"$1: cgroups under $CGROUP_PARENT"
}

[ -d "$CGROUP_PARENT" ] || fail "no cgroup parent at $CGROUP_PARENT"
loop 1 10
settle
snapshot baseline
grep -q '^workloads 0$' "$T/baseline.maps" || fail "the workloads map is not empty at rest"

# Four rounds; the first is the warm-up the other three are measured against.
round=$((CHURN / 4))
[ "$round" -ge 1 ] || round=1
start=$(date +%s)
r_first=11
for r in 1 2 3 4; do
	r_last=$((r_first + round - 1))
	[ "$r" -lt 4 ] || r_last=$((10 + CHURN))
	[ "$r_last" -ge "$r_first" ] || r_last=$r_first
	churn "$r_first" "$r_last"
	snapshot "round$r"
	same_as_baseline "round$r"
	r_first=$((r_last + 1))
done
note "$((r_first - 11)) workloads in $(($(date +%s) - start)) s"

# growth WHAT: per measured round (kB), the least of them, and all three
# together, of $T/roundN.WHAT
growth() {
	g2=$(($(cat "$T/round2.$1") - $(cat "$T/round1.$1")))
	g3=$(($(cat "$T/round3.$1") - $(cat "$T/round2.$1")))
	g4=$(($(cat "$T/round4.$1") - $(cat "$T/round3.$1")))
	least=$g2
	[ "$g3" -ge "$least" ] || least=$g3
	[ "$g4" -ge "$least" ] || least=$g4
	echo "$g2 $g3 $g4 $least $((g2 + g3 + g4))"
}
# smaps_growth: the mappings whose resident kB changed over the measured rounds
smaps_growth() {
	for r in 1 4; do
		awk '/^[0-9a-f]+-[0-9a-f]+ / { m = $1 " " $6 } /^Rss:/ { print m, $2 }' \
			"$T/round$r.smaps" >"$T/round$r.rsslist"
	done
	diff "$T/round1.rsslist" "$T/round4.rsslist" | grep '^[<>]' | head -n 20 | tr '\n' ';'
}

# VmRSS also counts the ring buffer's pages (16 MiB, mapped twice), which
# become resident as records first reach them: bounded, and not the
# daemon's to free. Its own pages, and the heap (RssAnon) among them, are
# where a leak would grow.
for what in rss anon inuse; do
	set -- $(growth "$what")
	case $what in
	rss) name="own resident memory" ;;
	anon) name="resident heap (RssAnon)" ;;
	*) name="heap in use (the allocator's count)" ;;
	esac
	note "$name over rounds 2, 3 and 4: $1 kB, $2 kB, $3 kB (least $4 kB, together $5 kB);" \
		"from the baseline: $(($(cat "$T/round4.$what") - $(cat "$T/baseline.$what"))) kB"
	least_max=64
	[ "$what" != inuse ] || least_max=4
	[ "$4" -le "$least_max" ] ||
		fail "the daemon's $name grew in every round, by $4 kB at least: $(smaps_growth)"
	[ "$5" -le 1024 ] ||
		fail "the daemon's $name grew by $5 kB over three rounds: $(smaps_growth)"
done
# The workloads were real: each one's denial is in the journal, by name.
expect_record '"workload":"churn:'"$(((10 + CHURN) % 4))"'"' '"verdict":"deny"' "\"target\":\"$T/file\""
# Every one of them: an exec and a denied open each, none lost (the default
# ring buffer does not fill at this pace).
expect_eq "$(actgate replay --journal-dir "$JOURNAL" --stats --workload 'churn:*' --verdict deny |
	awk '$1 == "total" { print $NF }')" "$((10 + CHURN))" "denied opens journaled"
exit 0

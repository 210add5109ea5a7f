# Pins that are not this build's are never adopted: of another ABI version,
# incomplete or reshaped, actgated refuses to start, says what is wrong and
# how to get out, and the pins stay (another BPF build of this ABI version is
# upgraded, at the end). The same for a state file that
# does not hold. A pin directory off the bpffs is refused.
. /actgate/lib.sh

PINS=/sys/fs/bpf/actgate
STATE=/var/lib/actgate/state
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: p}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: allow, deny: [$T/secret]}
YAML
echo secret >"$T/secret"

# refused_start WHAT PATTERN [ARGS...]: actgated exits 1 and its log has PATTERN
refused_start() {
	what=$1 pattern=$2
	shift 2
	actgated --policy-dir "$POLICIES" --journal-dir "$JOURNAL" --socket "$ACTGATE_SOCKET" \
		"$@" >"$T/refused.log" 2>&1
	expect_eq "$?" 1 "actgated's exit status with $what"
	grep -q -- "$pattern" "$T/refused.log" || fail "$what: no \"$pattern\" in: $(cat "$T/refused.log")"
	note "$what: $(grep -m1 -- "$pattern" "$T/refused.log")"
}

refused_start "a pin directory off the bpffs" "/tmp is not on a bpffs" --pin-dir /tmp/pins
[ ! -e /tmp/pins ] || fail "a pin directory was made off the bpffs"
refused_start "the bpffs root as pin directory" "/sys/fs/bpf is the root of a bpffs mount" \
	--pin-dir /sys/fs/bpf
mkdir /sys/fs/bpf/foreign
ln -s elsewhere /sys/fs/bpf/foreign/theirs
refused_start "a pin directory with another's pins" '"theirs", which is not actgate'"'"'s' \
	--pin-dir /sys/fs/bpf/foreign
[ -L /sys/fs/bpf/foreign/theirs ] || fail "a foreign pin was removed"
rm -r /sys/fs/bpf/foreign
refused_start "a state directory that cannot be written" "/proc/actgate-state" \
	--state-dir /proc/actgate-state
[ ! -e "$PINS" ] || fail "pins were made although the state could not be written"

start_daemon
in_workload ci:held sh -c "while [ ! -e $T/stop ]; do sleep 0.1; done" &
HELD=$!
wait_for 100 "the workload did not start" sh -c "actgate status | grep -q ci:held"
cg=$(actgate status | sed -n 's/^workload\.[0-9]*\.cgroup: \(.*ci_held.*\)/\1/p')
probe_held() {
	sh -c "echo \$\$ >/sys/fs/cgroup$cg/cgroup.procs && exec actprobe open $T/secret"
}
# A second workload whose cgroup goes while no daemon runs.
in_workload ci:gone sh -c "while [ ! -e $T/gone-stop ]; do sleep 0.1; done" &
GONE=$!
wait_for 100 "the second workload did not start" sh -c "actgate status | grep -q ci:gone"
gone_cg=$(actgate status | sed -n 's/^workload\.[0-9]*\.cgroup: \(.*ci_gone.*\)/\1/p')
stop_daemon
touch "$T/gone-stop"
wait "$GONE"
rmdir "/sys/fs/cgroup$gone_cg" || fail "cannot remove $gone_cg"
expect_probe EPERM probe_held

# An incomplete set: a link is missing.
mv "$PINS/links/check_exec" /sys/fs/bpf/check_exec
refused_start "a missing link" "cannot adopt the pins at $PINS: $PINS/links/check_exec: No such file"
grep -q "actgate detach --pin-dir $PINS" "$T/refused.log" || fail "no way out in: $(cat "$T/refused.log")"
mv /sys/fs/bpf/check_exec "$PINS/links/check_exec"
# A map of another shape where one of ours should be.
mv "$PINS/maps/workloads" /sys/fs/bpf/workloads
mv "$PINS/maps/policies" "$PINS/maps/workloads"
refused_start "a map of another layout" "$PINS/maps/workloads does not have this build's layout"
mv "$PINS/maps/workloads" "$PINS/maps/policies"
mv /sys/fs/bpf/workloads "$PINS/maps/workloads"
expect_probe EPERM probe_held
note "the refused starts left enforcement as it was"

# The state file: missing, then damaged.
mv "$STATE" "$T/state.saved"
refused_start "no state file" "Start actgated with the --state-dir the pins were made with"
sed 's/^generation\t.*/generation\tx/' "$T/state.saved" >"$STATE"
refused_start "a damaged state file" "$STATE:2: expected \"generation\""
grep -q "keep enforcing" "$T/refused.log" || fail "no word on enforcement: $(cat "$T/refused.log")"
expect_probe EPERM probe_held
cp "$T/state.saved" "$STATE"

# Pins of another ABI version, or of another BPF build (struct actgate_meta:
# abi_version at byte 0, build_id from byte 24).
abi=$(actprobe map-poke "$PINS/meta" 0 99) || fail "cannot change the meta map"
refused_start "pins of another ABI version" \
	"the pins were made by an actgated of ABI version 99; this one is version $abi"
actprobe map-poke "$PINS/meta" 0 "$abi" >/dev/null
expect_probe EPERM probe_held

# Back in good order, the pins are adopted and the workload known again.
start_daemon
grep -q "adopting $PINS: generation 1, 2 workloads" "$T/actgated.log" ||
	fail "not adopted: $(cat "$T/actgated.log")"
grep -q "workload ci:gone (id [0-9]*): its cgroup $gone_cg went while no daemon ran; removed" \
	"$T/actgated.log" || fail "the gone workload was not swept: $(cat "$T/actgated.log")"
actgate status | grep -q "ci:gone" && fail "the gone workload is still known: $(actgate status)"
actgate status | grep -q "ci:held" || fail "the workload was not adopted: $(actgate status)"

# Pins of another BPF build of this ABI version are not refused: they are
# upgraded without a gap (docs/upgrades.md; 86-upgrade shows it under load).
stop_daemon
b=$(actprobe map-poke "$PINS/meta" 24 0)
[ "$b" != 0 ] || actprobe map-poke "$PINS/meta" 24 1 >/dev/null
start_daemon
grep -q "upgraded the pins at $PINS from BPF build" "$T/actgated.log" ||
	fail "pins of another build were not upgraded: $(cat "$T/actgated.log")"
actgate status | grep -q "ci:held" || fail "the workload was not taken over: $(actgate status)"
expect_probe EPERM probe_held
touch "$T/stop"
wait "$HELD"

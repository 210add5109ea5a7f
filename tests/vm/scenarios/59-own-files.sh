# A governed workload, even as root and under an audit-mode policy, cannot
# read the journal's seal key, nor write, create, truncate, remove, rename,
# hard-link, lock, chmod or mount over anything of actgate's own (the pin,
# state, policy and journal directories and the key), nor rename or mount
# over the directories on the way to them; each attempt is refused and
# recorded as tamper. Reading the policies, the state and the journal, and
# mounts elsewhere or in a private mount namespace, stay allowed. Outside
# workloads nothing changes, and the next daemon starts.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: observed}
spec:
  selector: {workloads: ["own:*"]}
  mode: audit
YAML
start_daemon
KEY=/var/lib/actgate/journal.key
STATE=/var/lib/actgate
PINS=/sys/fs/bpf/actgate
[ -f "$KEY" ] || fail "no seal key at $KEY"
[ -f "$STATE/state" ] || fail "no state file at $STATE/state"
SEG=$(ls "$JOURNAL"/journal-*.seg | head -n 1)
[ -n "$SEG" ] || fail "no journal segment in $JOURNAL"
key_sum=$(md5sum <"$KEY")
policy_sum=$(md5sum <"$POLICIES/p.yaml")

# The key: not even read.
expect_probe EPERM in_workload own:job actprobe open "$KEY" r
# Writes, truncation and new files under each directory.
expect_probe EPERM in_workload own:job actprobe open "$POLICIES/p.yaml" w
expect_probe EPERM in_workload own:job actprobe open "$POLICIES/p.yaml" rt
expect_probe EPERM in_workload own:job actprobe open "$POLICIES/evil.yaml" wc
expect_probe EPERM in_workload own:job actprobe open "$STATE/state" w
expect_probe EPERM in_workload own:job actprobe open "$STATE/new" wc
expect_probe EPERM in_workload own:job actprobe open "$SEG" w
expect_probe EPERM in_workload own:job actprobe mknod "$JOURNAL/journal-99.seg"
expect_probe EPERM in_workload own:job actprobe open "$KEY" w
# The same file by another way: through /proc/self/root and a relative path.
expect_probe EPERM in_workload own:job actprobe open "/proc/self/root$STATE/state" w
expect_probe EPERM in_workload own:job sh -c "cd '$POLICIES' && actprobe open p.yaml w"
# Locks: the pin directory (the next daemon would wait for it), the state, the journal's lock.
expect_probe EPERM in_workload own:job actprobe flock "$PINS"
expect_probe EPERM in_workload own:job actprobe flock "$STATE/state"
expect_probe EPERM in_workload own:job actprobe flock "$JOURNAL/.lock"
# Mounts over them, and over the directories on the way.
for dir in /sys/fs/bpf "$PINS" "$STATE" /var/lib /var "$JOURNAL" "$POLICIES"; do
	expect_probe EPERM in_workload own:job actprobe mount-over "$dir"
done
# Removal, renames, hard links, truncate, chmod, chown.
for cmd in "rm -f $SEG" "rm -f $STATE/state" "rm -f $KEY" "mv $STATE /var/lib/gone" \
	"mv $SEG $T/seg" "mv $POLICIES/p.yaml $POLICIES/p.off" "ln $KEY /var/lib/key" \
	"ln $SEG $T/seg" "truncate -s 0 $SEG" "chmod 0644 $KEY" "chown 1:1 $STATE/state" \
	"mkdir $JOURNAL/sub" "ln -s /etc/passwd $POLICIES/x.yaml"; do
	# shellcheck disable=SC2086
	in_workload own:job $cmd 2>"$T/cmd.err" && fail "$cmd from a workload succeeded"
	grep -q "Operation not permitted" "$T/cmd.err" || fail "$cmd: no EPERM: $(cat "$T/cmd.err")"
	note "$cmd -> EPERM"
done
[ -f "$SEG" ] && [ -f "$STATE/state" ] && [ -f "$KEY" ] || fail "a file of actgate's is gone"
expect_eq "$(md5sum <"$KEY")" "$key_sum" "the key"
expect_eq "$(md5sum <"$POLICIES/p.yaml")" "$policy_sum" "the policy file"
[ ! -e "$POLICIES/evil.yaml" ] && [ ! -e /var/lib/key ] || fail "a new name was made"

# What stays allowed: reading, and mounts elsewhere or in a private namespace.
in_workload own:job cat "$POLICIES/p.yaml" "$STATE/state" "$SEG" >/dev/null ||
	fail "reading the policy, the state or the journal was refused"
mkdir -p "$T/scratch"
expect_probe ok in_workload own:job actprobe mount-over "$T/scratch"
expect_probe ok in_workload own:job unshare -m --propagation private actprobe mount-over /var

expect_record '"action":"tamper"' "\"target\":\"read of actgate's $KEY\"" \
	'"workload":"own:job"' '"verdict":"deny"' '"enforced":true' '"reason":"self-protection"'
expect_record '"action":"tamper"' "\"target\":\"write of actgate's $POLICIES/p.yaml\""
expect_record '"action":"tamper"' "\"target\":\"create of actgate's $POLICIES/evil.yaml\""
expect_record '"action":"tamper"' "\"target\":\"lock of actgate's $PINS\""
expect_record '"action":"tamper"' "\"target\":\"mount of actgate's /sys/fs/bpf\""
expect_record '"action":"tamper"' '"target":"unlink of actgate'"'"'s ' '/journal/journal-'
expect_record '"action":"tamper"' '"target":"rename of actgate'"'"'s /var/lib/actgate"'

# Outside workloads nothing changes; the next daemon adopts the pins and starts.
cp "$POLICIES/p.yaml" "$POLICIES/p.yaml.bak" && rm "$POLICIES/p.yaml.bak" ||
	fail "writing the policy directory outside workloads"
stop_daemon
start_daemon
actgate status >/dev/null || fail "the next daemon does not answer"
grep -q 'adopted' "$T/actgated.log" || fail "the next daemon did not adopt the pins"

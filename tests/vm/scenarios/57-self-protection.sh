# A governed workload, even as root, cannot kill or ptrace actgated or use
# bpf(2), nor remove, rename or unmount the pins that keep enforcement going
# without the daemon; each attempt is denied and recorded as a tamper
# decision, also under an audit-mode policy. Outside workloads nothing changes.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: observed}
spec:
  selector: {workloads: ["agent:*"]}
  mode: audit
YAML
start_daemon

in_workload agent:rogue kill -9 "$DAEMON_PID" 2>"$T/kill.err"
[ $? -ne 0 ] || fail "kill -9 of actgated from a workload succeeded"
grep -q "Operation not permitted" "$T/kill.err" || fail "kill: no EPERM: $(cat "$T/kill.err")"
kill -0 "$DAEMON_PID" || fail "actgated died"
actgate status >/dev/null || fail "actgated stopped answering"
# Signal 0 (does it exist?) stays allowed.
in_workload agent:rogue kill -0 "$DAEMON_PID" || fail "kill -0 was refused"

expect_probe EPERM in_workload agent:rogue actprobe ptrace "$DAEMON_PID"
expect_probe EPERM in_workload agent:rogue actprobe bpf
# Outside any workload bpf(2) works.
expect_probe ok actprobe bpf

expect_record '"action":"tamper"' '"target":"ptrace of actgated"' '"workload":"agent:rogue"'
expect_record '"action":"tamper"' '"target":"bpf() command 0"' '"workload":"agent:rogue"'
expect_record '"action":"tamper"' '"verdict":"deny"' '"enforced":true' \
	'"reason":"self-protection"' '"target":"signal 9 to actgated"' '"workload":"agent:rogue"'

# The pins: unlink, rmdir, rename and umount on the bpffs are refused.
PINS=/sys/fs/bpf/actgate
[ -e "$PINS/links/check_exec" ] || fail "no pinned link at $PINS/links/check_exec"
in_workload agent:rogue rm -f "$PINS/links/check_exec" 2>"$T/rm.err"
[ $? -ne 0 ] || fail "rm of a pinned link from a workload succeeded"
grep -q "Operation not permitted" "$T/rm.err" || fail "rm: no EPERM: $(cat "$T/rm.err")"
in_workload agent:rogue rmdir "$PINS/maps" 2>"$T/rmdir.err"
grep -q "Operation not permitted" "$T/rmdir.err" || fail "rmdir: no EPERM: $(cat "$T/rmdir.err")"
in_workload agent:rogue mv "$PINS/meta" /sys/fs/bpf/moved 2>"$T/mv.err"
grep -q "Operation not permitted" "$T/mv.err" || fail "mv: no EPERM: $(cat "$T/mv.err")"
in_workload agent:rogue umount /sys/fs/bpf 2>"$T/umount.err"
grep -q "Operation not permitted" "$T/umount.err" || fail "umount: no EPERM: $(cat "$T/umount.err")"
in_workload agent:rogue umount -l /sys/fs/bpf 2>"$T/umount.err"
grep -q "Operation not permitted" "$T/umount.err" || fail "umount -l: no EPERM: $(cat "$T/umount.err")"
for f in meta links/check_exec links/protect_pin_unlink maps/workloads maps/events; do
	[ -e "$PINS/$f" ] || fail "$PINS/$f is gone"
done
grep -q " /sys/fs/bpf bpf " /proc/mounts || fail "the bpffs was unmounted"
expect_record '"action":"tamper"' '"target":"unlink of check_exec on the bpffs"' \
	'"workload":"agent:rogue"' '"reason":"self-protection"'
expect_record '"action":"tamper"' '"target":"rmdir of maps on the bpffs"'
expect_record '"action":"tamper"' '"target":"rename of meta on the bpffs"'
expect_record '"action":"tamper"' '"target":"umount of the bpffs at /sys/fs/bpf"'
# Outside workloads the bpffs is as usual.
mkdir /sys/fs/bpf/scratch && rmdir /sys/fs/bpf/scratch || fail "mkdir/rmdir on the bpffs outside workloads"

# Outside workloads, signals to actgated work as usual (SIGTERM stops it).
stop_daemon

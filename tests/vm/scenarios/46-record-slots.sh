# Every way a record is made gives its record slot back: after workloads
# exec, open, create, map, mprotect, link, rename, connect (IP and unix) and
# tamper, several at once, every recorded, no slot of any CPU is still
# claimed, and the programs counted no failure and dropped no record. The
# records built by hand from the dentry (mknod, link, rename) name their
# path. (bpf/lib/record.h: a task claims a slot per record, so that tasks
# preempted on one CPU never share one.)
. /actgate/lib.sh

PINS=/sys/fs/bpf/actgate
copy_binary tool
mkdir -p "$T/files" "$T/sealed"
echo x >"$T/files/a"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: everything}
spec:
  selector: {workloads: ["rec:*"]}
  record: all
  exec: {default: allow, deny: [$T/files/a]}
  open:
    default: allow
    deny: [{path: $T/sealed/, access: create}]
  connect: {default: allow, deny: ["127.0.0.2/32"]}
YAML
start_daemon
actprobe unix-listen "$T/sock" stream &
LISTENERS="${LISTENERS:-} $!"
wait_for 100 "unix listener did not come up" test -S "$T/sock"

# One workload's worth of every recorded action; $1 tells the runs apart.
cat >"$T/actions.sh" <<SH
for k in 1 2 3; do
	i=\$1\$k
	actprobe exec "$T/bin/tool" true
	actprobe exec "$T/files/a"
	actprobe open "$T/files/a"
	actprobe open "$T/files/new\$i" wc
	actprobe mknod "$T/files/node\$i"
	actprobe mknod "$T/sealed/node\$i"
	actprobe mmap-exec "$T/bin/tool"
	actprobe mprotect-exec "$T/bin/tool"
	ln "$T/files/a" "$T/files/link\$i"
	mv "$T/files/link\$i" "$T/files/moved\$i"
	actprobe connect 127.0.0.1 9 tcp
	actprobe connect 127.0.0.2 9 tcp
	actprobe sendto 127.0.0.1 9 udp
	actprobe unix-connect "$T/sock" stream
	actprobe bpf
done
SH
chmod 0755 "$T/files/a"
pids=
for n in 1 2 3 4; do
	in_workload "rec:$n" sh "$T/actions.sh" "$n" >"$T/run$n.out" 2>&1 &
	pids="$pids $!"
done
# shellcheck disable=SC2086 # one pid per word
wait $pids
grep -q EPERM "$T/run1.out" || fail "no action was denied: $(cat "$T/run1.out")"

expect_record '"workload":"rec:1"' '"action":"open"' "\"target\":\"$T/files/node11\"" \
	'"access":"create"' '"verdict":"allow"'
expect_record '"workload":"rec:4"' '"action":"open"' "\"target\":\"$T/sealed/node43\"" \
	'"verdict":"deny"'
expect_record '"workload":"rec:2"' "\"target\":\"$T/files/moved22\"" '"access":"create,link"'
expect_record '"workload":"rec:3"' '"action":"tamper"' '"target":"bpf() command 0"'

# Claims open now would be leaked ones: every record above was submitted.
actprobe percpu-sum "$PINS/maps/record_slots" 0 >"$T/slots" || fail "cannot read the record slots"
note "record slots claimed: $(tr '\n' ' ' <"$T/slots")"
[ "$(wc -l <"$T/slots")" -ge 1 ] || fail "no record slot"
awk '$2 != 0 { exit 1 }' "$T/slots" || fail "record slots still claimed: $(cat "$T/slots")"
actprobe percpu-sum "$PINS/maps/failures" 0 >"$T/failures" || fail "cannot read the failure counts"
note "failures: $(tr '\n' ' ' <"$T/failures")"
awk '$2 != 0 { exit 1 }' "$T/failures" || fail "failures counted: $(cat "$T/failures")"
# actgate status shows the same counts, one key per reason.
actgate status >"$T/status" || fail "actgate status failed"
for f in task-mark child-mark record-slot address-read name-read; do
	grep -qx "failure.$f: 0" "$T/status" || fail "status lacks failure.$f: 0: $(grep failure "$T/status")"
done
actprobe percpu-sum "$PINS/maps/dropped" 0 >"$T/dropped" || fail "cannot read the drop counts"
awk '$2 != 0 { exit 1 }' "$T/dropped" || fail "records dropped: $(cat "$T/dropped")"
exit 0

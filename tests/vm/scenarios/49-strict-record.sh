# record: strict: no action succeeds without its record. With a ring buffer
# of one page, a storm of opens, connects and execs from many processes of
# strict workloads fills it: every open and connect that succeeded has its
# allow record in the journal (every exec too), the ones whose record could
# not be written were denied (EPERM), and those denials, which have no
# record, are counted (failure.unrecorded-denied), one per denied attempt. A workload under an ordinary policy beside it
# loses records to the same full buffer but is never denied.
#
# The storm's length in seconds: `actgate.storm=S` on the kernel command
# line (VMTEST_APPEND="actgate.storm=60"); 10 by default.
. /actgate/lib.sh

STORM=$(sed -n 's/.*actgate\.storm=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
STORM=${STORM:-10}
PROCS=6
echo x >"$T/file"
cp /bin/busybox "$T/true"
chmod 0755 "$T/true"
echo y >"$T/lax-file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: strict}
spec:
  selector: {workloads: ["strict:*"]}
  record: strict
  open: {default: allow}
  connect: {default: allow}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: lax}
spec:
  selector: {workloads: ["lax"]}
  open: {default: allow}
YAML
start_daemon --ring-buffer-size 4096
actgate status >"$T/status0" || fail "actgate status failed"
grep -qx 'failure.unrecorded-denied: 0' "$T/status0" ||
	fail "status lacks failure.unrecorded-denied: 0: $(grep failure "$T/status0")"

# Each storm is one workload whose processes fork after start-up and begin
# together once $T/go exists. The workloads start one after another, each
# once the one before has all its processes: a start (exec, the loader's
# mappings and opens) is recorded too, and four at once, on a loaded
# machine, can fill a one-page buffer before the daemon drains it, which
# strict recording would rightly refuse.
export ACTPROBE_STORM_GO="$T/go"
CGROUPS=$(grep -m1 cgroup2 /proc/self/mounts | cut -d' ' -f2)/actgate-$ACTGATE_SCENARIO
# started CGROUP-PREFIX COUNT: the workload's cgroup holds COUNT processes
started() {
	n=$(cat "$CGROUPS/$1"-*/cgroup.procs 2>/dev/null | wc -l)
	[ "$n" -ge "$2" ]
}
note "storm: $PROCS processes x 2 workloads, 2 x 2 more, $STORM s"
in_workload strict:open actprobe storm "$PROCS" "$STORM" open "$T/file" >"$T/open.out" 2>&1 &
p1=$!
wait_for 600 "the open storm did not start: $(cat "$T/open.out")" started strict_open $((PROCS + 1))
in_workload strict:connect actprobe storm "$PROCS" "$STORM" connect 127.0.0.1 9 >"$T/connect.out" 2>&1 &
p2=$!
wait_for 600 "the connect storm did not start: $(cat "$T/connect.out")" \
	started strict_connect $((PROCS + 1))
in_workload lax actprobe storm 2 "$STORM" open "$T/lax-file" >"$T/lax.out" 2>&1 &
p3=$!
wait_for 600 "the lax storm did not start" started lax 3
in_workload strict:exec actprobe storm 2 "$STORM" exec "$T/true" >"$T/exec.out" 2>&1 &
p4=$!
wait_for 600 "the exec storm did not start: $(cat "$T/exec.out")" started strict_exec 3
sleep 2
actgate status >"$T/status1" || fail "actgate status failed"
grep -qx 'failure.unrecorded-denied: 0' "$T/status1" ||
	fail "a storm's start was refused for want of buffer space: $(grep failure "$T/status1")"
touch "$T/go"
wait $p1 || fail "open storm: $(cat "$T/open.out")"
wait $p2 || fail "connect storm: $(cat "$T/connect.out")"
wait $p3 || fail "lax storm: $(cat "$T/lax.out")"
wait $p4 || fail "exec storm: $(cat "$T/exec.out")"
note "open: $(cat "$T/open.out"); connect: $(cat "$T/connect.out"); exec: $(cat "$T/exec.out");" \
	"lax: $(cat "$T/lax.out")"

# count FIELD FILE: the number after FIELD in an actprobe storm line
count() {
	sed -n "s/.*$1 \([0-9][0-9]*\).*/\1/p" "$2"
}

# journaled FILTER...: records matching the replay filters, once the daemon
# has drained the ring buffer (the count holds still for a second).
journaled() {
	last=-1
	while :; do
		n=$(actgate replay --journal-dir "$JOURNAL" --stats "$@" |
			awk '$1 == "total" { n = $NF } END { print n + 0 }')
		[ "$n" = "$last" ] && break
		last=$n
		sleep 1
	done
	echo "$n"
}

open_ok=$(count ok "$T/open.out")
open_denied=$(count denied "$T/open.out")
connect_ok=$(count ok "$T/connect.out")
connect_denied=$(count denied "$T/connect.out")
exec_ok=$(count ok "$T/exec.out")
exec_denied=$(count denied "$T/exec.out")
# An exec refused a mapping of its program after execve's point of no
# return dies of SIGSEGV: denied too, and counted as one.
exec_killed=$(count killed "$T/exec.out")
open_records=$(journaled --workload strict:open --action open --target "$T/file" --verdict allow)
connect_records=$(journaled --workload strict:connect --action connect --target '127.0.0.1:9*' \
	--verdict allow)
note "open: $open_ok succeeded, $open_records journaled allowed, $open_denied denied"
note "connect: $connect_ok succeeded, $connect_records journaled allowed, $connect_denied denied"
exec_records=$(journaled --workload strict:exec --action exec --target "$T/true" --verdict allow)
note "exec: $exec_ok succeeded, $exec_records journaled allowed, $exec_denied denied, $exec_killed killed"

# Every action that succeeded is in the journal, once.
expect_eq "$open_records" "$open_ok" "opens that succeeded vs their allow records"
expect_eq "$connect_records" "$connect_ok" "connects that succeeded vs their allow records"
# An execve makes several decisions, in order: the binary's open, the exec
# (its record), the program's mappings. One that cannot be recorded denies
# it: before the exec's, with EPERM and no exec record; after it (a
# mapping), by killing the process: journaled as allowed, yet it failed.
expect_eq "$exec_records" "$((exec_ok + exec_killed))" "exec allow records vs execs that succeeded or were killed"
# The storm did fill the buffer: some were denied for want of space...
[ "$open_denied" -gt 0 ] || fail "no open was denied: the ring buffer never filled"
[ "$((open_ok + connect_ok))" -gt 0 ] || fail "nothing succeeded"
# ...and no policy denies them: nothing journaled says deny.
expect_eq "$(journaled --workload 'strict:*' --verdict deny)" 0 "deny records of the strict storm"
# Each such denial is counted, and nothing else was (the workloads started
# before the storm), and each is also a record dropped.
actgate status >"$T/status1" || fail "actgate status failed"
unrecorded=$(sed -n 's/^failure\.unrecorded-denied: //p' "$T/status1")
note "failure.unrecorded-denied: $unrecorded; $(grep '^dropped_' "$T/status1" | tr '\n' ' ')"
expect_eq "$unrecorded" "$((open_denied + connect_denied + exec_denied + exec_killed))" \
	"strict denials counted"
expect_eq "$(sed -n 's/^dropped_connect: //p' "$T/status1")" "$connect_denied" \
	"connect records dropped"
# The ordinary workload lost records to the same buffer and was never denied.
expect_eq "$(count denied "$T/lax.out")" 0 "lax denials"
lax_ok=$(count ok "$T/lax.out")
lax_records=$(journaled --workload lax --action open --target "$T/lax-file")
note "lax: $lax_ok opened, $lax_records journaled"
[ "$lax_records" -le "$lax_ok" ] || fail "lax: more records ($lax_records) than opens ($lax_ok)"
exit 0

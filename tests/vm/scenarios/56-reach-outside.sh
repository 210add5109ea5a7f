# A governed task, even as root and under an audit-mode policy, cannot act on
# a process outside its workload: ptrace (attach, seize, PTRACE_TRACEME to an
# ungoverned parent), /proc/PID/mem, process_vm_readv/writev, pidfd_getfd,
# and signals by kill, tgkill, rt_sigqueueinfo and pidfd_send_signal are
# refused and recorded as tamper. Inside its workload, and in cgroups below
# it, all of them work; outside workloads nothing changes.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: contained}
spec:
  selector: {workloads: ["reach:*"]}
  mode: audit
YAML
start_daemon
CG=$(grep -m1 cgroup2 /proc/self/mounts | cut -d' ' -f2)
SIGCONT=18

# An ungoverned process outside, holding a file it opened as descriptor 3.
echo secret >"$T/secret"
sleep 1000 3<"$T/secret" &
OUT=$!
# A process of another workload.
in_workload reach:other sh -c "echo \$\$ > '$T/other.pid'; exec sleep 1000" &
wait_for 100 "the other workload did not start" test -s "$T/other.pid"
OTHER=$(cat "$T/other.pid")

for how in attach vm-read vm-write; do
	expect_probe EPERM in_workload reach:job actprobe reach "$how" "$OUT"
done
expect_probe EPERM in_workload reach:job actprobe ptrace "$OUT"
# /proc/PID/mem: the kernel turns the refusal into EACCES.
expect_probe EACCES in_workload reach:job actprobe reach mem "$OUT"
expect_probe EPERM in_workload reach:job actprobe reach getfd "$OUT" 3
for how in kill tgkill sigqueue pidfd-signal; do
	expect_probe EPERM in_workload reach:job actprobe reach "$how" "$OUT" $SIGCONT
done
expect_probe EPERM in_workload reach:job actprobe reach attach "$OTHER"
expect_probe EPERM in_workload reach:job actprobe reach kill "$OTHER" $SIGCONT
# actgate run's own process waits outside the workload: the nearest target.
out=$(in_workload reach:job sh -c 'actprobe reach attach $PPID; actprobe reach kill $PPID 18' |
	tr '\n' ' ')
expect_eq "$out" "EPERM EPERM " "ptrace and signal to actgate run's process"
# PTRACE_TRACEME asks the parent, here actgate run's process, to trace.
expect_probe EPERM in_workload reach:job actprobe reach traceme 0
kill -0 "$OUT" || fail "the outside process is gone"
# Signal 0 (does it exist?) stays allowed.
in_workload reach:job kill -0 "$OUT" || fail "kill -0 of an outside process was refused"

expect_record '"action":"tamper"' "\"target\":\"ptrace of process $OUT outside the workload\"" \
	'"workload":"reach:job"' '"verdict":"deny"' '"enforced":true' '"reason":"self-protection"'
expect_record '"action":"tamper"' \
	"\"target\":\"signal $SIGCONT to process $OUT outside the workload\"" '"workload":"reach:job"'
expect_record '"action":"tamper"' "\"target\":\"ptrace of process $OTHER outside the workload\""
expect_record '"action":"tamper"' '"target":"PTRACE_TRACEME by process' '"workload":"reach:job"'

# Inside the workload: its own processes, and one in a cgroup below its own.
cat >"$T/inside.sh" <<SH
sleep 1000 3<"$T/secret" &
p=\$!
for how in attach vm-read mem; do actprobe reach \$how \$p; done
actprobe reach getfd \$p 3
actprobe reach kill \$p $SIGCONT
own=\$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p "$CG\$own/inner"
echo \$p > "$CG\$own/inner/cgroup.procs" || echo move-failed
actprobe reach attach \$p
actprobe reach pidfd-signal \$p $SIGCONT
kill \$p
sh -c 'actprobe reach traceme 0'
SH
out=$(in_workload reach:job sh "$T/inside.sh" | tr '\n' ' ')
expect_eq "$out" "ok EFAULT ok ok ok ok ok ok " "ptrace and signals inside the workload"

# Outside every workload nothing changes.
expect_probe EFAULT actprobe reach vm-read "$OUT"
expect_probe ok actprobe reach getfd "$OUT" 3
kill "$OUT" || fail "kill of the outside process from outside"
kill "$OTHER"

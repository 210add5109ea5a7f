# A workload cannot shed its policy by leaving its cgroup: moving itself to the
# root cgroup, or creating a child directly in another cgroup, keeps it governed.
. /actgate/lib.sh

copy_binary denied-tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: sticky}
spec:
  selector: {workloads: ["escape:*"]}
  exec: {default: allow, deny: [$T/bin/denied-tool]}
YAML
start_daemon
CG=$(grep -m1 cgroup2 /proc/self/mounts | cut -d' ' -f2)
mkdir -p "$CG/elsewhere"

# The shell moves itself to the root cgroup, then to an ungoverned one, and runs
# the denied tool from there and from a child it starts there.
cat >"$T/escape.sh" <<SH
echo \$\$ > "$CG/cgroup.procs" || exit 9
actprobe exec "$T/bin/denied-tool" true
echo \$\$ > "$CG/elsewhere/cgroup.procs" || exit 9
sh -c 'actprobe exec "$T/bin/denied-tool" true'
SH
out=$(in_workload escape:job sh "$T/escape.sh" | tr '\n' ' ')
expect_eq "$out" "EPERM EPERM " "exec after moving out of the workload's cgroup"
expect_record '"action":"exec"' '"verdict":"deny"' '"workload":"escape:job"' \
	"\"target\":\"$T/bin/denied-tool\""
# An unrelated process in that cgroup is not governed.
sh -c "echo \$\$ > '$CG/elsewhere/cgroup.procs' && exec actprobe exec '$T/bin/denied-tool' true" \
	>"$T/other.out"
expect_eq "$(cat "$T/other.out")" ok "exec by an ungoverned process in the same cgroup"

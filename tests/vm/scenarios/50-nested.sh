# A grandchild in a nested cgroup below the workload's cgroup is governed too.
. /actgate/lib.sh

copy_binary denied-tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: nest}
spec:
  selector: {workloads: ["nest"]}
  exec: {default: allow, deny: [$T/bin/denied-tool]}
YAML
start_daemon
CG=$(grep -m1 cgroup2 /proc/self/mounts | cut -d' ' -f2)

cat >"$T/inner.sh" <<SH
own=\$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir -p "$CG\$own/inner/deeper"
# A grandchild process, moved two cgroup levels down, then exec'ing.
sh -c 'echo \$\$ > "$CG\$0/inner/deeper/cgroup.procs" && exec actprobe exec "$T/bin/denied-tool" true' "\$own"
SH
out=$(in_workload nest sh "$T/inner.sh")
expect_eq "$out" EPERM "exec from a grandchild in a nested cgroup"
expect_record '"action":"exec"' '"verdict":"deny"' '"workload":"nest"' \
	"\"target\":\"$T/bin/denied-tool\""

# When the workload's command ends, its cgroup and the ones it made below are
# removed and the daemon forgets it.
registered() { actgate status | sed -n 's/^workloads: //p'; }
wait_for 100 "the ended workload is still registered after 10 s" probe_is 0 registered
left=$(find "$CG/actgate-$ACTGATE_SCENARIO" -mindepth 1 -type d)
expect_eq "$left" "" "cgroups left behind"

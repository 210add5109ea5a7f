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
i=0
until [ "$(actgate status | sed -n 's/^workloads: //p')" = 0 ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the ended workload is still registered: $(actgate status)"
	sleep 0.1
done
left=$(find "$CG/actgate-$ACTGATE_SCENARIO" -mindepth 1 -type d)
expect_eq "$left" "" "cgroups left behind"

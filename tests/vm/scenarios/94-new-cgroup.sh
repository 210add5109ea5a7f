# A container-like cgroup created below a governed workload and exec'ing at
# once is governed from its first action (by its nearest governed ancestor,
# before the daemon knows anything about it); one created outside every
# workload is not.
. /actgate/lib.sh

copy_binary tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: p}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$T/bin/tool]}
YAML
start_daemon
ROOT=$(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | head -n 1)

# Inside the workload: make a runtime-style cgroup (docker, then a pod's), move
# into it and exec straight away.
cat >"$T/spawn.sh" <<SH
base=$ROOT\$(sed -n 's/^0:://p' /proc/self/cgroup)
for leaf in docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope \
	kubepods-besteffort-pod1234abcd_5678_90ef_1234_567890abcdef.slice; do
	mkdir "\$base/\$leaf" || exit 9
	sh -c "echo \\\$\\\$ >\$base/\$leaf/cgroup.procs && exec actprobe exec $T/bin/tool true"
done
SH
in_workload ci:runtime sh "$T/spawn.sh" >"$T/out" 2>&1
expect_eq "$(tr '\n' ' ' <"$T/out")" "EPERM EPERM " "first exec in each new cgroup"
expect_record '"workload":"ci:runtime"' '"action":"exec"' '"verdict":"deny"' '"rule":"p:exec.deny[0]"'

# Outside every workload a new cgroup is not governed.
mkdir "$ROOT/free-$ACTGATE_SCENARIO"
sh -c "echo \$\$ >$ROOT/free-$ACTGATE_SCENARIO/cgroup.procs && exec actprobe exec $T/bin/tool true" >"$T/free"
expect_eq "$(cat "$T/free")" ok "exec in an ungoverned new cgroup"
echo $$ >"$ROOT/cgroup.procs"
rmdir "$ROOT/free-$ACTGATE_SCENARIO" 2>/dev/null || true

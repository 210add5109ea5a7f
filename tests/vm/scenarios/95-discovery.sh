# Discovery under a watched root (actgated --watch-cgroup): a container-like
# cgroup created there and exec'ing at once is governed from its first action
# (by the root's default policy, unidentified:ROOT), then identified as
# container:ID (labels runtime, pod-uid) and governed by the policy selecting
# it; systemd units become systemd:NAME; a removed cgroup's workload goes; a
# watched root no policy selects refuses the start.
. /actgate/lib.sh

copy_binary tool-a
copy_binary tool-b
ROOT=$(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | head -n 1)
W=/watched-$ACTGATE_SCENARIO
mkdir -p "$ROOT$W"
ID=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: unknown}
spec:
  selector: {workloads: ["unidentified:*"]}
  exec: {default: allow, deny: [$T/bin/tool-a, $T/bin/tool-b]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: containers}
spec:
  selector: {workloads: ["container:*"], labels: {runtime: docker}}
  exec: {default: allow, deny: [$T/bin/tool-b]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: units}
spec:
  selector: {workloads: ["systemd:*"]}
  exec: {default: allow}
YAML
start_daemon --watch-cgroup "$W"
actgate status | grep -q "name: unidentified:$W" || fail "root not a workload: $(actgate status)"

# Created and exec'ing at once: governed whether or not it is identified yet.
C=$W/system.slice/docker-$ID.scope
mkdir -p "$ROOT$W/system.slice"
mkdir "$ROOT$C"
got=$(sh -c "echo \$\$ >$ROOT$C/cgroup.procs && exec actprobe exec $T/bin/tool-b true")
expect_eq "$got" EPERM "first exec in a brand-new container cgroup"
wait_for 100 "container:$ID was not discovered" sh -c "actgate status | grep -q 'name: container:$ID'"
actgate status | grep -q "labels: runtime=docker" || fail "labels: $(actgate status)"
got=$(sh -c "echo \$\$ >$ROOT$C/cgroup.procs && exec actprobe exec $T/bin/tool-a true")
expect_eq "$got" ok "tool-a in the identified container (its policy allows it)"
got=$(sh -c "echo \$\$ >$ROOT$C/cgroup.procs && exec actprobe exec $T/bin/tool-b true")
expect_eq "$got" EPERM "tool-b in the identified container"
expect_record "\"workload\":\"container:$ID\"" '"verdict":"deny"' '"rule":"containers:exec.deny[0]"'

# A cgroup nothing identifies stays under the root's default.
mkdir "$ROOT$W/system.slice/plain"
got=$(sh -c "echo \$\$ >$ROOT$W/system.slice/plain/cgroup.procs && exec actprobe exec $T/bin/tool-a true")
expect_eq "$got" EPERM "tool-a in an unidentified cgroup (the root's default policy)"

# A systemd unit.
mkdir "$ROOT$W/system.slice/web.service"
wait_for 100 "systemd:web.service was not discovered" sh -c "actgate status | grep -q 'name: systemd:web.service'"

# A removed cgroup's workload goes.
rmdir "$ROOT$C"
wait_for 100 "container:$ID stayed after its cgroup was removed" sh -c "! actgate status | grep -q 'name: container:$ID'"

# A watched root no policy selects refuses the start (of a daemon on fresh
# pins: one adopting these would refuse the policy for the same reason).
stop_daemon
actgate detach >"$T/detach.out" 2>&1 || fail "detach: $(cat "$T/detach.out")"
mkdir -p "$T/p2" "$ROOT/nowhere-selected"
cat >"$T/p2/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: units}
spec:
  selector: {workloads: ["systemd:*"]}
  exec: {default: allow}
YAML
actgated --policy-dir "$T/p2" --journal-dir "$T/j2" --socket "$T/second.sock" \
	--cgroup-parent /actgate-second --watch-cgroup /nowhere-selected >"$T/second.log" 2>&1
expect_eq "$?" 1 "start with an unselected watched root"
grep -q "watch-cgroup /nowhere-selected: no policy .* selects workload \"unidentified:/nowhere-selected\"" \
	"$T/second.log" || fail "message: $(cat "$T/second.log")"
rmdir "$ROOT/nowhere-selected" "$ROOT$W/system.slice/plain" "$ROOT$W/system.slice/web.service" \
	2>/dev/null
true

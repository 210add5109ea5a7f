# DNS steering's programs (bpf/steer.bpf.c) are on the cgroup root only
# while actgated runs a resolver: without one they would cost every connect
# and datagram on the host a run that changes nothing. A restart that adds
# the resolver attaches them (the adopted pins replaced make-before-break),
# one that keeps it keeps them (not twice), one that removes it detaches
# them; and lookups are steered, or judged as connects, accordingly.
. /actgate/lib.sh

# The programs attached to the cgroup root on the steering's hooks, in all.
steering_programs() {
	actprobe cgroup-progs /sys/fs/cgroup | awk '{ n += $2 } END { print n }'
}
steering_pins() {
	ls /sys/fs/bpf/actgate/links | grep -c '^steer_'
}

actprobe dns-serve 127.0.0.54 53 &
LISTENERS="$!"
wait_for 100 "the test responder did not come up" probe_is "NOERROR 127.0.0.21" \
	actprobe resolve a.test a udp 127.0.0.54

cat >"$POLICIES/plain.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: plain}
spec:
  selector: {workloads: ["plain:*"]}
  connect: {default: deny, allow: ["127.0.0.0/8:7001"]}
YAML
cat >"$T/resolver.yaml" <<YAML
resolver:
  listen: 127.0.0.153:53
  upstream: 127.0.0.54:53
YAML

# No resolver: none of the programs, whatever the pins held before.
start_daemon
expect_eq "$(steering_programs)" 0 "steering programs on the cgroup root without a resolver"
expect_eq "$(steering_pins)" 0 "steering link pins without a resolver"
actgate status --json | grep -q '"steering":"detached"' || fail "status: $(actgate status --json)"
# A governed lookup is a connect like any other: to a server no rule lists, denied.
expect_probe "connect:EPERM" in_workload plain:a actprobe resolve a.test a udp 127.0.0.54
expect_probe "NOERROR 127.0.0.21" actprobe resolve a.test a udp 127.0.0.54
stop_daemon

# The resolver added: the adopted pins had no steering, so they are replaced.
cat >"$POLICIES/names.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: names}
spec:
  selector: {workloads: ["names:*"]}
  connect: {default: deny, allow: ["a.test:7001"]}
YAML
start_daemon --config "$T/resolver.yaml"
grep -q "hold no DNS steering programs: replacing them" "$T/actgated.log" ||
	fail "the pins were not replaced: $(cat "$T/actgated.log")"
expect_eq "$(steering_programs)" 6 "steering programs with a resolver"
expect_eq "$(steering_pins)" 6 "steering link pins with a resolver"
actgate status --json | grep -q '"steering":"attached"' || fail "status: $(actgate status --json)"
# Steered: a lookup sent to a server that does not exist is answered.
expect_probe "NOERROR 127.0.0.21" in_workload names:a actprobe resolve a.test a udp 192.0.2.1
expect_probe REFUSED in_workload names:a actprobe resolve deny.test a udp 192.0.2.1
stop_daemon

# Kept across a restart that keeps the resolver: adopted as they are, not attached twice.
start_daemon --config "$T/resolver.yaml"
grep -q "replacing them" "$T/actgated.log" && fail "replaced again: $(cat "$T/actgated.log")"
expect_eq "$(steering_programs)" 6 "steering programs after a restart with the resolver"
expect_probe "NOERROR 127.0.0.21" in_workload names:a actprobe resolve a.test a udp 192.0.2.1
stop_daemon

# The resolver removed (and the rules by name, which need it): detached.
rm "$POLICIES/names.yaml"
start_daemon
grep -q "detached the 6 DNS steering programs" "$T/actgated.log" ||
	fail "no detach said: $(cat "$T/actgated.log")"
expect_eq "$(steering_programs)" 0 "steering programs after the resolver was removed"
expect_eq "$(steering_pins)" 0 "steering link pins after the resolver was removed"
actgate status --json | grep -q '"steering":"detached"' || fail "status: $(actgate status --json)"
expect_probe "connect:EPERM" in_workload plain:a actprobe resolve a.test a udp 127.0.0.54
expect_probe "NOERROR 127.0.0.21" actprobe resolve a.test a udp 127.0.0.54
note "without a resolver: 0 programs on the steering hooks; with one: 6"

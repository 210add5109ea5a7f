# Capacity: a policy with more address rules than the kernel's connect map
# used to hold (65,536) runs and is enforced: `actgate run` used to fail
# with ENOSPC writing its rules. (A policy beyond the map's present size,
# 1,048,576 prefixes for one policy, is refused when it is loaded: unit
# test test_capacity_refused; a policy file holds at most 1 MiB, too little
# to show it here.)
. /actgate/lib.sh

# 70,000 addresses 10.0.0.0 to 10.1.17.111, then the one the probe reaches.
awk 'BEGIN {
	printf "apiVersion: actgate.dev/v1\nkind: Policy\nmetadata: {name: many}\nspec:\n"
	printf "  selector: {workloads: [\"cap:*\"]}\n  connect:\n    default: deny\n    allow: ["
	for (i = 0; i < 70000; i++)
		printf "%d.%d.%d.%d, ", 10, int(i / 65536), int(i / 256) % 256, i % 256
	print "127.0.0.1]"
}' >"$POLICIES/many.yaml"
start_daemon

listen_on 127.0.0.1 7001
expect_probe ok in_workload cap:a actprobe connect 127.0.0.1 7001
expect_probe EPERM in_workload cap:a actprobe connect 127.0.0.2 7001
expect_record '"action":"connect"' '"verdict":"allow"' '"target":"127.0.0.1:7001/tcp"' \
	'"rule":"many:connect.allow[70000]"'
expect_record '"action":"connect"' '"verdict":"deny"' '"target":"127.0.0.2:7001/tcp"' \
	'"rule":"many:connect.default"'

# exec's written: deny also denies code with no file behind it: a memfd run
# with fexecve or execveat(AT_EMPTY_PATH), mapped executable with mmap or
# mprotect, and SysV shared memory attached executable. A script the
# workload wrote is denied as a program; run as `sh script` it is data.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: anon}
spec:
  selector: {workloads: ["anon"]}
  exec: {default: allow, written: deny}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: free}
spec:
  selector: {workloads: ["free"]}
  exec: {default: allow}
YAML
start_daemon

expect_probe EPERM in_workload anon actprobe anon exec /usr/bin/actprobe
expect_probe EPERM in_workload anon actprobe anon execveat /usr/bin/actprobe
expect_probe EPERM in_workload anon actprobe anon mmap /usr/bin/actprobe
expect_probe EPERM in_workload anon actprobe anon mprotect /usr/bin/actprobe
expect_probe EPERM in_workload anon actprobe anon shm /usr/bin/actprobe
# Outside every workload, and in a workload whose policy does not ask, they run.
expect_probe ok actprobe anon exec /usr/bin/actprobe
expect_probe ok in_workload free actprobe anon exec /usr/bin/actprobe
expect_probe ok in_workload free actprobe anon shm /usr/bin/actprobe
# Files the workload did not write still run and map.
expect_probe ok in_workload anon actprobe exec /usr/bin/actprobe
expect_probe ok in_workload anon actprobe mmap-exec /usr/bin/actprobe

# A script the workload wrote: denied as a program (execve checks the
# script itself); read by an interpreter it is data, which no exec rule sees.
in_workload anon sh -c "printf '#!/bin/sh\necho from-script\n' >'$T/s.sh' && chmod +x '$T/s.sh'" ||
	fail "the workload could not write its script"
expect_probe EPERM in_workload anon actprobe exec "$T/s.sh"
out=$(in_workload anon sh "$T/s.sh")
expect_eq "$out" from-script "sh SCRIPT (the script is data to sh)"

expect_record '"action":"exec"' '"verdict":"deny"' '"reason":"written"' '"rule":"anon:exec.written"' \
	'memfd:actprobe-payload'
expect_record '"action":"open"' '"verdict":"deny"' '"reason":"written"' '"access":"exec-map"' \
	'memfd:actprobe-payload'
expect_record '"action":"exec"' '"verdict":"deny"' '"reason":"written"' "\"target\":\"$T/s.sh\""

# The "real job" row of `make bench`: a C build (tests/bench/build-job.mk,
# actgate's own utility code compiled with the Debian toolchain that
# build-job-files.sh lists and run.sh's VMTEST_HOST_FILES puts in the VM),
# timed in guest instructions (qemu -icount shift=0: CLOCK_MONOTONIC
# nanoseconds are instructions) with no agent, then as a workload of the
# shipped CI policy (policies/ci-runner.yaml) with `record: deny` and with
# `record: all`. actgated runs on the same (only) CPU, so its decoding and
# journaling count. The build is timed inside the workload (actprobe timed
# make ...): `actgate run`'s own start is not part of the job's cost, but
# what actgated does for the build after it ended is (after_job).
# Baselines at the start, middle and end of the boot; the ratios use the
# start's. Lines "BENCH|key|instructions|baseline" go to results.md/.json
# (tests/bench/report.sh).
set -u

# The build's tree, and actgated's (apart: a workload may not change
# actgated's places, the directory of its socket among them).
W=/tmp/bench-build
A=/tmp/bench-actgated
D=/actgate/demo
mkdir -p "$W" "$A/policies"
export ACTGATE_SOCKET=$A/actgate.sock

die() { echo "vm-build: $*" >&2; exit 1; }

# job: one clean build; prints its instructions, fails on a failed build.
job() {
	rm -rf "$W/out"
	actprobe timed make -s -f "$D/build-job.mk" SRC="$D" OUT="$W/out" || die "the build failed"
	[ -f "$W/out/libjob.a" ] || die "the build left no libjob.a"
}
governed_job() {
	rm -rf "$W/out"
	actgate run --quiet --workload ci:build -- \
		actprobe timed make -s -f "$D/build-job.mk" SRC="$D" OUT="$W/out" ||
		die "the governed build failed; its denials: $(actgate replay --journal-dir "$A/journal" \
			--verdict deny 2>&1 | tail -n 5)"
	[ -f "$W/out/libjob.a" ] || die "the governed build left no libjob.a"
}

# policy RECORD: the shipped CI policy as written, with spec.record set.
policy() {
	awk -v record="$1" '{ print } /^  mode: enforce$/ { print "  record: " record; n++ }
		END { exit n == 1 ? 0 : 1 }' "$D/ci-runner.yaml" >"$A/policies/ci-runner.yaml" ||
		die "ci-runner.yaml has no '  mode: enforce' line to put record: after"
}

# ci-runner.yaml allows hosts by name, which actgated refuses without its
# resolver: configured as on a CI host, at the default address, forwarding
# to the first nameserver of /etc/resolv.conf (the VM has none, so an
# allowed lookup would be answered SERVFAIL; the build looks up no name).
cat >"$A/actgated.yaml" <<YAML
resolver: {listen: 127.0.0.153:53}
YAML
start() {
	actgated --config "$A/actgated.yaml" --policy-dir "$A/policies" --journal-dir "$A/journal" \
		--socket "$ACTGATE_SOCKET" >"$A/actgated.log" 2>&1 &
	DAEMON=$!
	until actgate status >/dev/null 2>&1; do
		kill -0 $DAEMON 2>/dev/null || { cat "$A/actgated.log"; exit 1; }
		sleep 0.2
	done
}
# A stopped daemon leaves its pins enforcing: detach, so that the next
# baseline runs without programs.
stop() {
	kill -TERM $DAEMON
	wait $DAEMON 2>/dev/null
	actgate detach >/dev/null || exit 1
}

# daemon_ns: actgated's CPU time so far, every thread (ns of guest time,
# so instructions here).
daemon_ns() {
	cat /proc/$DAEMON/task/*/schedstat | awk '{ t += $1 } END { printf "%.0f\n", t }'
}
# after_job: what actgated still did for the build once it had ended
# (records decoded and journaled late): its CPU time over the 2 s after.
# The build's figure adds it, so that a daemon that defers work does not
# look cheap; it is also reported on its own.
after_job() {
	a=$(daemon_ns)
	sleep 2
	echo $(($(daemon_ns) - a))
}

row() { # KEY LABEL INSTRUCTIONS BASELINE
	awk -v l="$2" -v v="$3" -v b="$4" 'BEGIN { printf "  %-52s %12.0f  %5.3f\n", l, v, v / b }'
	echo "BENCH|$1|$3|$4"
}

# The baseline pitfalls (DESIGN.md, "Measuring kernel-side cost"): seed the
# random pool and let 6.12's crypto self-tests end before the first baseline.
head -c 1 /dev/random >/dev/null
n=0
while ps -o comm 2>/dev/null | grep -q '^cryptomgr' && [ $n -lt 600 ]; do
	sleep 0.1
	n=$((n + 1))
done
echo "a C build: make -f build-job.mk, $(make -s -f "$D/build-job.mk" SRC="$D" \
	-E 'n: ; @echo $(words $(JOB_SRCS))' n) sources with gcc -O2 -g, then ar"
printf '  %-52s %12s  %5s\n' configuration instructions ratio
job >/dev/null # warm the page cache and the dentries
BASE=$(job) || exit 1
row base_start_job "no actgated (baseline, start)" "$BASE" "$BASE"

# The VM has no /etc/shadow: one is made before the policy is loaded, so
# that the check below (a governed read of it is refused) reaches the rule.
[ -e /etc/shadow ] || echo 'root:*:1::::::' >/etc/shadow
# The VM's programs are busybox applets, wget among them: the policy's exec
# deny of /usr/bin/wget names busybox's file, and so every program of the
# job (make's sh, mkdir). On a CI host wget and curl are programs of their
# own; here they are not installed (the rules then name nothing).
for f in /usr/bin/wget /usr/bin/curl /bin/wget /bin/curl; do
	[ ! -L "$f" ] || rm -f "$f"
done
policy deny
start
got=$(actgate run --quiet --workload ci:build -- actprobe open /etc/shadow)
[ "$got" = EPERM ] || die "ci:build is not governed: open /etc/shadow answered '$got'"
v=$(governed_job) || exit 1
d=$(after_job)
row job_deny "governed, ci-runner, record: deny" "$((v + d))" "$BASE"
echo "BENCH|job_deny_after|$d|0"
stop
sleep 2 # freeing the programs and maps runs in kernel threads on this CPU
v=$(job) || exit 1
row base_mid_job "no actgated (baseline again, mid-run)" "$v" "$BASE"

policy all
start
before=$(actgate replay --journal-dir "$A/journal" --json 2>/dev/null | wc -l)
v=$(governed_job) || exit 1
d=$(after_job)
row job_all "governed, ci-runner, record: all" "$((v + d))" "$BASE"
echo "BENCH|job_all_after|$d|0"
# What record: all journaled: the build's decisions, none lost.
after=$(actgate replay --journal-dir "$A/journal" --json 2>/dev/null | wc -l)
echo "  record: all journaled $((after - before)) decisions of the build"
[ $((after - before)) -gt 100 ] || die "record: all journaled only $((after - before)) records"
echo "BENCH|job_all_records|$((after - before))|0"
# The ring buffer's drops, as actgated logs them: reported, not hidden.
grep 'records dropped' "$A/actgated.log" | sed 's/^/  actgated: /'
dropped=$(sed -n 's/.*ring buffer full: \([0-9]*\) more records dropped.*/\1/p' "$A/actgated.log" |
	awk '{ n += $1 } END { printf "%.0f\n", n }')
echo "BENCH|job_all_dropped|$dropped|0"
stop
sleep 2
v=$(job) || exit 1
row base_end_job "no actgated (baseline again, at the end)" "$v" "$BASE"

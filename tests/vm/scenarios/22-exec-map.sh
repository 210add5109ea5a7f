# exec-map: mapping a file executable (mmap or mprotect with PROT_EXEC) is its
# own access. A file denied exec-map can still be read, but not mapped
# executable, so the dynamic loader cannot run a program that exec denies.
. /actgate/lib.sh

# A dynamically linked program (the loader cannot run busybox's applets by another name).
mkdir -p "$T/bin"
cp /usr/bin/actprobe "$T/bin/mapped-tool"
cp /usr/bin/actprobe "$T/bin/nomap-tool"
cp /usr/bin/actprobe "$T/lib.so"
cp /usr/bin/actprobe "$T/other.so"
mkdir -p "$T/late"
cp /usr/bin/actprobe "$T/late/mp.so"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: xmap}
spec:
  selector: {workloads: ["xmap"]}
  exec: {default: allow, deny: [$T/bin/mapped-tool]}
  open:
    default: allow
    deny:
      - {path: $T/lib.so, access: exec-map}
      - {path: $T/bin/mapped-tool, access: exec-map}
      - {path: $T/late/, access: exec-map}
      - {path: $T/bin/nomap-tool, access: exec-map}
YAML
start_daemon

expect_probe ok in_workload xmap actprobe open "$T/lib.so" r
expect_probe EPERM in_workload xmap actprobe mmap-exec "$T/lib.so"
expect_probe EPERM in_workload xmap actprobe mprotect-exec "$T/lib.so"
expect_probe ok in_workload xmap actprobe mmap-exec "$T/other.so"
expect_probe ok in_workload xmap actprobe mprotect-exec "$T/other.so"
expect_probe ok actprobe mmap-exec "$T/lib.so"
# Only ever made executable by mprotect: its record's path is built by hand
# (bpf_d_path is refused in file_mprotect).
expect_probe EPERM in_workload xmap actprobe mprotect-exec "$T/late/mp.so"

# exec denies the program; the loader, run directly, maps it executable
# instead, and exec-map stops that too.
ldso=$(ls /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-x86-64.so.2 2>/dev/null | head -n 1)
[ -n "$ldso" ] || fail "no dynamic loader in the VM"
expect_probe EPERM in_workload xmap actprobe exec "$T/bin/mapped-tool" open /etc/passwd
if in_workload xmap "$ldso" "$T/bin/mapped-tool" open /etc/passwd >/dev/null 2>"$T/ldso.err"; then
	fail "$ldso ran $T/bin/mapped-tool although exec-map of it is denied"
fi
note "ld.so: $(cat "$T/ldso.err")"
# glibc's loader says "failed to map segment from shared object"; the
# record below shows that the mapping was refused by this policy.
grep -q "failed to map segment" "$T/ldso.err" || fail "ld.so failed for another reason: $(cat "$T/ldso.err")"
# Outside the workload the loader runs it.
expect_probe ok "$ldso" "$T/bin/mapped-tool" open /etc/passwd

# exec allows this one, but the kernel's ELF loader maps it executable too,
# past the point where execve could still fail: the process dies instead.
out=$(in_workload xmap "$T/bin/nomap-tool" open /etc/passwd 2>&1)
status=$?
note "exec of a program denied exec-map: status $status, output '$out'"
[ "$status" -ne 0 ] && [ "$out" != ok ] || fail "a program denied exec-map ran: status $status, '$out'"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/lib.so\"" \
	'"rule":"xmap:open.deny[0]"' '"access":"exec-map"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/bin/mapped-tool\"" \
	'"rule":"xmap:open.deny[1]"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/late/mp.so\"" \
	'"rule":"xmap:open.deny[2]"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/bin/nomap-tool\"" \
	'"rule":"xmap:open.deny[3]"' '"access":"exec-map"'

# A governed task, even as root and under an audit-mode policy, cannot make
# the kernel run or load code outside its workload: writes to core_pattern,
# modprobe, hotplug, uevent_helper and poweroff_cmd (by any path: a bind
# mount, a second procfs, /proc/self/root, a relative open), module loads and
# module requests, kexec loads, and the memory devices are refused and
# recorded as tamper, unless every policy of the workload allows the door
# (spec.kernel.allow). Outside workloads nothing changes.
. /actgate/lib.sh

cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: sealed}
spec:
  selector: {workloads: ["kern:*"]}
  mode: audit
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: dumper}
spec:
  selector: {workloads: ["dump:*"]}
  kernel: {allow: [core-pattern, mem-devices]}
---
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: strict}
spec:
  selector: {workloads: ["dump:strict"]}
YAML
start_daemon

K=/proc/sys/kernel
pattern=$(cat $K/core_pattern)
for f in $K/core_pattern $K/modprobe $K/poweroff_cmd $K/hotplug /sys/kernel/uevent_helper; do
	if [ ! -e "$f" ]; then
		note "$f: not in this kernel"
		continue
	fi
	expect_probe EPERM in_workload kern:job actprobe open "$f" w
done
expect_probe ok in_workload kern:job actprobe open $K/core_pattern r
in_workload kern:job sh -c "echo '|/bin/sh -c id' > $K/core_pattern" 2>/dev/null &&
	fail "a shell in the workload wrote core_pattern"

# Other names for the same file.
mkdir "$T/k" "$T/proc2" "$T/proc3"
touch "$T/cp"
mount --bind $K "$T/k" || fail "bind mount of $K"
mount --bind $K/modprobe "$T/cp" || fail "bind mount of $K/modprobe"
mount -t proc proc "$T/proc2" || fail "second procfs mount"
expect_probe EPERM in_workload kern:job actprobe open "$T/k/core_pattern" w
expect_probe EPERM in_workload kern:job actprobe open "$T/cp" w
expect_probe EPERM in_workload kern:job actprobe open "$T/proc2/sys/kernel/core_pattern" w
expect_probe EPERM in_workload kern:job actprobe open /proc/self/root$K/core_pattern w
out=$(in_workload kern:job sh -c "cd $K && actprobe open core_pattern w; cd .. && actprobe open kernel/modprobe w; mount -t proc proc '$T/proc3' && actprobe open '$T/proc3/sys/kernel/modprobe' w" |
	tr '\n' ' ')
expect_eq "$out" "EPERM EPERM EPERM " "relative opens, and a procfs the workload mounted"
expect_eq "$(cat $K/core_pattern)" "$pattern" "core_pattern after the attempts"
# Other files of procfs, and files of the same name elsewhere, are as before.
mkdir -p "$T/sys/kernel"
echo x >"$T/sys/kernel/core_pattern"
expect_probe ok in_workload kern:job actprobe open "$T/sys/kernel/core_pattern" w
expect_probe ok in_workload kern:job actprobe open /proc/self/comm w
expect_record '"action":"tamper"' '"target":"kernel core-pattern: /proc/sys/kernel/core_pattern"' \
	'"workload":"kern:job"' '"verdict":"deny"' '"enforced":true' '"reason":"self-protection"'
expect_record '"action":"tamper"' '"target":"kernel modprobe: /proc/sys/kernel/modprobe"'
expect_record '"action":"tamper"' "\"target\":\"kernel core-pattern: $T/proc2/sys/kernel/core_pattern\""

# binfmt_misc, where the kernel can mount it.
if mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null; then
	expect_probe EPERM in_workload kern:job actprobe open /proc/sys/fs/binfmt_misc/register w
	expect_record '"action":"tamper"' '"target":"kernel binfmt-misc: /proc/sys/fs/binfmt_misc/register"'
	umount /proc/sys/fs/binfmt_misc
else
	note "binfmt_misc: not mountable in this kernel"
fi

# The memory devices, whatever node names them; /dev/null (1:3) is not one.
mknod "$T/mem" c 1 1 && mknod "$T/port" c 1 4 && mknod "$T/null" c 1 3 || fail "mknod"
expect_probe EPERM in_workload kern:job actprobe open "$T/mem" r
expect_probe EPERM in_workload kern:job actprobe open "$T/port" r
expect_probe ok in_workload kern:job actprobe open "$T/null" w
expect_record '"action":"tamper"' "\"target\":\"kernel mem-devices: $T/mem\""

# Modules: loaded from a file, from memory, or requested (here a file system type).
copy_binary notamodule
expect_probe EPERM in_workload kern:job actprobe kernel finit-module "$T/bin/notamodule"
expect_probe EPERM in_workload kern:job actprobe kernel init-module
# On a directory of its own: / is on the way to actgate's own directories,
# and a mount over it is refused (self-protection) before any type is looked up.
mkdir -p "$T/mnt"
expect_probe ENODEV in_workload kern:job actprobe kernel mount-fs actgatenofs "$T/mnt"
expect_probe EPERM in_workload kern:job actprobe kernel mount-fs actgatenofs /
expect_record '"action":"tamper"' "\"target\":\"kernel modules: $T/bin/notamodule\""
expect_record '"action":"tamper"' '"target":"kernel modules: init_module"'
expect_record '"action":"tamper"' '"target":"kernel modules: fs-actgatenofs"'
# kexec_load without segments unloads nothing here; refused in the workload.
if [ "$(actprobe kernel kexec-load)" = ENOSYS ]; then
	note "kexec_load: not in this kernel"
else
	expect_probe EPERM in_workload kern:job actprobe kernel kexec-load
	expect_record '"action":"tamper"' '"target":"kernel kexec: kexec_load"'
fi

# The knob: dump:job's one policy allows core-pattern and mem-devices only.
expect_probe ok in_workload dump:job actprobe open $K/core_pattern w
expect_probe ok in_workload dump:job actprobe open "$T/mem" r
expect_probe EPERM in_workload dump:job actprobe open $K/modprobe w
expect_probe EPERM in_workload dump:job actprobe kernel init-module
# Policies compose as intersection: strict, which allows nothing, also selects dump:strict.
expect_probe EPERM in_workload dump:strict actprobe open $K/core_pattern w
expect_record '"action":"tamper"' '"target":"kernel core-pattern: /proc/sys/kernel/core_pattern"' \
	'"workload":"dump:strict"'

# Outside every workload nothing changes.
expect_probe ok actprobe open $K/core_pattern w
expect_probe ok actprobe open "$T/mem" r
expect_probe ENOEXEC actprobe kernel init-module
umount "$T/proc2" "$T/proc3" "$T/cp" "$T/k" 2>/dev/null
true

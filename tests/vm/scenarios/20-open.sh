# open: a denied file and every file under a denied directory are refused,
# whatever path reaches them; other files open; ungoverned tasks are untouched.
. /actgate/lib.sh

mkdir -p "$T/private/a/b/c" "$T/public"
echo secret >"$T/secret"
echo deep >"$T/private/a/b/c/key"
echo fine >"$T/public/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: files}
spec:
  selector: {workloads: ["job-*"]}
  open: {default: allow, deny: [$T/secret, $T/private/]}
YAML
start_daemon

expect_probe EPERM in_workload job-1 actprobe open "$T/secret"
expect_probe EPERM in_workload job-1 actprobe open "$T/private/a/b/c/key"
expect_probe EPERM in_workload job-1 actprobe open "$T/private/a/b/c/key" w
expect_probe ok in_workload job-1 actprobe open "$T/public/file"
expect_probe ok actprobe open "$T/secret"

# Other ways to the same files: a hardlink, a relative path, /proc/self/root, a bind mount.
ln "$T/secret" "$T/public/alias"
expect_probe EPERM in_workload job-1 actprobe open "$T/public/alias"
expect_probe EPERM in_workload job-1 sh -c "cd '$T/private/a' && actprobe open b/c/key"
expect_probe EPERM in_workload job-1 actprobe open "/proc/self/root$T/secret"
mkdir -p "$T/bound"
mount --bind "$T/private" "$T/bound"
expect_probe EPERM in_workload job-1 actprobe open "$T/bound/a/b/c/key"
umount "$T/bound"

# Files without directories (a pipe, through /proc/self/fd) are decided by
# the default: their walk ends at the root of their internal mount.
expect_probe ok sh -c "echo hi | actgate run --quiet --workload job-1 -- actprobe open /proc/self/fd/0"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/secret\"" \
	'"rule":"files:open.deny[0]"' '"workload":"job-1"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/private/a/b/c/key\"" \
	'"rule":"files:open.deny[1]"'
expect_record '"action":"open"' '"verdict":"allow"' "\"target\":\"$T/public/file\""

# Deny rules follow their paths: a denied file replaced by a rename over it
# (as editors, package managers and passwd write files), a denied path that
# appears after the policy was loaded, a denied directory replaced, a
# symlink on the way retargeted and a file bind-mounted over a denied path
# are all denied within moments, for a workload already running too; and
# following never weakens a rule: the file moved out of the way, or onto an
# allowed path, is still denied.
. /actgate/lib.sh

mkdir -p "$T/etc" "$T/data" "$T/a" "$T/b"
echo old >"$T/etc/secret"
echo pub >"$T/data/pub"
echo y >"$T/data/y"
echo a >"$T/a/f"
echo b >"$T/b/f"
echo x >"$T/other"
ln -s a "$T/link"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: follow}
spec:
  selector: {workloads: ["ci:*"]}
  open: {default: allow, deny: [$T/etc/secret, $T/data/, $T/link/f, $T/later/file, $T/bound],
         allow: [$T/data/pub]}
YAML
echo free >"$T/bound"
start_daemon
generation() { actgate status | sed -n 's/^generation: //p'; }
# probe PATH: what a new workload gets opening PATH
probe() { in_workload ci:probe actprobe open "$1" 2>/dev/null; }
# moved_past GEN: the daemon compiled a generation after GEN
moved_past() { [ "$(generation)" -gt "$1" ]; }

grep -q "later/file: no such file or directory: the rule matches nothing until the path exists (actgated follows" "$T/actgated.log" ||
	fail "no warning for the missing path: $(cat "$T/actgated.log")"

# A workload that keeps opening the secret, started before any change.
cat >"$T/worker.sh" <<SH
while [ ! -e "$T/stop" ]; do
	actprobe open "$T/etc/secret" >"$T/worker.tmp"
	mv "$T/worker.tmp" "$T/worker.result"
	sleep 0.05
done
SH
in_workload ci:worker sh "$T/worker.sh" &
WORKER=$!
wait_for 100 "the worker did not start" test -e "$T/worker.result"
expect_eq "$(cat "$T/worker.result")" EPERM "the running worker, before any change"
expect_probe EPERM probe "$T/etc/secret"

# 1. Replaced by a rename over it: the new file is denied, and so is the old
# one under its new name.
g=$(generation)
echo new >"$T/etc/secret.new"
mv "$T/etc/secret" "$T/etc/secret.was"
mv "$T/etc/secret.new" "$T/etc/secret"
wait_for 100 "no new generation after $T/etc/secret was replaced" moved_past "$g"
grep -q "$T/etc/secret resolves to another file now" "$T/actgated.log" ||
	fail "the log does not say why: $(tail -n 5 "$T/actgated.log")"
expect_probe EPERM probe "$T/etc/secret"
expect_probe EPERM probe "$T/etc/secret.was"
rm -f "$T/worker.result"
wait_for 100 "the worker did not answer" test -e "$T/worker.result"
expect_eq "$(cat "$T/worker.result")" EPERM "the running worker, after the replacement"
touch "$T/stop"
wait $WORKER

# 2. A path that did not exist: denied once it does.
g=$(generation)
mkdir "$T/later"
echo late >"$T/later/file"
wait_for 100 "no new generation after $T/later/file appeared" moved_past "$g"
expect_probe EPERM probe "$T/later/file"

# 3. A denied directory replaced: its new files are denied, the old ones
# too, but for the allowed exception: that file kept its rule.
g=$(generation)
mv "$T/data" "$T/data.was"
mkdir "$T/data"
echo new >"$T/data/x"
wait_for 100 "no new generation after $T/data was replaced" moved_past "$g"
expect_probe EPERM probe "$T/data/x"
expect_probe EPERM probe "$T/data.was/y"
expect_probe ok probe "$T/data.was/pub"

# 4. A symlink on the way retargeted: the file it leads to now is denied.
expect_probe ok probe "$T/b/f"
g=$(generation)
ln -sfn b "$T/link"
wait_for 100 "no new generation after $T/link was retargeted" moved_past "$g"
expect_probe EPERM probe "$T/b/f"
expect_probe EPERM probe "$T/link/f"

# 5. A file bind-mounted over a denied path: what the path shows now is denied.
expect_probe ok probe "$T/other"
g=$(generation)
mount --bind "$T/other" "$T/bound"
wait_for 100 "no new generation after a mount over $T/bound" moved_past "$g"
expect_probe EPERM probe "$T/bound"
umount "$T/bound"

# Never weaker: a denied file renamed onto an allowed path stays denied.
mv "$T/data.was/y" "$T/data.was/pub"
sleep 0.5
expect_probe EPERM probe "$T/data.was/pub"

# A reload resolves every path afresh, as written.
actgate policy reload >/dev/null || fail "reload"
expect_probe ok probe "$T/etc/secret.was"
expect_record '"verdict":"deny"' "\"target\":\"$T/later/file\"" '"rule":"follow:open.deny[3]"'

# The path verdict cache under renames: a governed task whose opens have
# cached what the directories above a file decide sees a rename made by
# anyone (here an ungoverned root shell, and the workload itself) at its very
# next open. A directory moved under a denied directory is denied at once,
# moved back it is allowed at once, and the same the other way; and the
# policy's generation never changes meanwhile, so no reload answers in the
# cache's place.
. /actgate/lib.sh

mkdir -p "$T/pub/a/b/c" "$T/secret/s" "$T/pub/new/x"
echo file >"$T/pub/a/b/c/f"
echo new >"$T/pub/new/x/f"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: cache}
spec:
  selector: {workloads: ["cache:*"]}
  open: {default: allow, deny: [$T/secret/]}
YAML
start_daemon
generation() { actgate status | sed -n 's/^generation: //p'; }
G=$(generation)

start_batch job 3 4 --workload cache:job
ask() { batch_ask 3 4 "open $1 r"; }

# Opened twice: the second open answers from the cache.
expect_eq "$(ask "$T/pub/a/b/c/f")" ok "before any rename"
expect_eq "$(ask "$T/pub/a/b/c/f")" ok "before any rename, again"

# An ungoverned rename moves the cached directories under the denied one.
mv "$T/pub/a" "$T/secret/a" || fail "mv into secret"
expect_eq "$(ask "$T/secret/a/b/c/f")" EPERM "right after an ungoverned rename into $T/secret"
expect_eq "$(ask "$T/secret/a/b/c/f")" EPERM "again"
mv "$T/secret/a" "$T/pub/a" || fail "mv back"
expect_eq "$(ask "$T/pub/a/b/c/f")" ok "right after the rename back"

# A deeper directory alone, renamed into and out of the denied tree.
mv "$T/pub/a/b" "$T/secret/s/b" || fail "mv b"
expect_eq "$(ask "$T/secret/s/b/c/f")" EPERM "b moved under $T/secret/s"
mv "$T/secret/s/b" "$T/pub/a/b" || fail "mv b back"
expect_eq "$(ask "$T/pub/a/b/c/f")" ok "b moved back"

# Out from under the denied directory: a cached denial ends at once too.
echo g >"$T/secret/s/g"
expect_eq "$(ask "$T/secret/s/g")" EPERM "s under $T/secret"
expect_eq "$(ask "$T/secret/s/g")" EPERM "s under $T/secret, again"
mv "$T/secret/s" "$T/pub/s" || fail "mv s out"
expect_eq "$(ask "$T/pub/s/g")" ok "s moved out of $T/secret"
mv "$T/pub/s" "$T/secret/s" || fail "mv s back"
expect_eq "$(ask "$T/secret/s/g")" EPERM "s moved back"

# The workload renames an allowed directory of its own; a second workload's
# cached answers follow.
expect_eq "$(ask "$T/pub/new/x/f")" ok "new before"
in_workload cache:other mv "$T/pub/new/x" "$T/pub/new/y" || fail "a governed rename of an allowed directory"
expect_eq "$(ask "$T/pub/new/y/f")" ok "after a governed rename"
expect_eq "$(ask "$T/pub/new/x/f")" ENOENT "the old name is gone"

expect_eq "$(generation)" "$G" "the policy generation (no reload may answer for the cache)"
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/secret/a/b/c/f\"" '"rule":"cache:open.deny[0]"'

# The path verdict cache under policy reloads, hard links, grants and
# revocation: a running workload whose opens are cached gets the answer of
# the new policy at its first open after `actgate policy reload`; a hard link
# made by anyone to a file an exact rule denies is denied under any name at
# once; a grant lifts a cached denial at once and a revocation denies a
# cached allow at once (neither is ever cached); an exact rule added on a
# file whose own entries are kept with its inode takes effect at once.
. /actgate/lib.sh

mkdir -p "$T/tree/a/b" "$T/locked" "$T/pub"
echo f >"$T/tree/a/b/f"
echo k >"$T/locked/key"
echo p >"$T/pub/p"
policy() {
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: cache}
spec:
  selector: {workloads: ["cache:*"]}
  open: {default: allow, deny: [$1, $T/locked/key]}
YAML
}
policy "$T/nothing/"
start_daemon
start_batch job 3 4 --workload cache:job
ask() { batch_ask 3 4 "open $1 r"; }

# 1. Reload: a directory rule added above a cached directory, then removed.
expect_eq "$(ask "$T/tree/a/b/f")" ok "before the reload"
expect_eq "$(ask "$T/tree/a/b/f")" ok "before the reload, again"
policy "$T/tree/"
actgate policy reload >/dev/null || fail "reload"
expect_eq "$(ask "$T/tree/a/b/f")" EPERM "right after the reload that denies $T/tree/"
policy "$T/nothing/"
actgate policy reload >/dev/null || fail "reload back"
expect_eq "$(ask "$T/tree/a/b/f")" ok "right after the reload back"

# 2. Hard links, made by an ungoverned shell, into a cached allowed directory.
expect_eq "$(ask "$T/pub/p")" ok "pub before the link"
ln "$T/locked/key" "$T/pub/key" || fail "ln"
expect_eq "$(ask "$T/pub/key")" EPERM "a new hard link to the denied file"
expect_eq "$(ask "$T/pub/p")" ok "pub after the link"
rm "$T/pub/key"

# 3. A grant lifts a cached denial at once; its removal by revocation does
#    not linger either.
policy "$T/tree/"
actgate policy reload >/dev/null || fail "reload to deny $T/tree/"
expect_eq "$(ask "$T/tree/a/b/f")" EPERM "before the grant"
expect_eq "$(ask "$T/tree/a/b/f")" EPERM "before the grant, again"
actgate grant cache:job --open "$T/tree/a/b/f" --ttl 1h --reason "cache test" >/dev/null ||
	fail "grant"
expect_eq "$(ask "$T/tree/a/b/f")" ok "right after the grant"
expect_eq "$(ask "$T/pub/p")" ok "an allowed file, cached"
actgate revoke cache:job --reason "cache test" >/dev/null || fail "revoke"
expect_eq "$(ask "$T/pub/p")" EPERM "right after the revocation"
expect_eq "$(ask "$T/tree/a/b/f")" EPERM "the granted file after the revocation"

# 4. The file's own entries, kept with its inode (bpf/maps.h,
#    file_own_entries): an exact rule added on a file opened before denies
#    its next open, and its removal allows the one after. Read, write and
#    exec each, so that the open and the exec entries are both made first.
#    (The revocation above ended the job: a new one.)
start_batch job2 5 6 --workload cache:job2
ask2() { batch_ask 5 6 "$1"; }
cp /bin/true "$T/pub/run" || fail "cp"
policy "$T/nothing/"
actgate policy reload >/dev/null || fail "reload to allow $T/pub/"
for i in 1 2; do
	expect_eq "$(ask2 "open $T/pub/p r")" ok "pub/p before its exact rule ($i)"
	expect_eq "$(ask2 "exec $T/pub/run")" ok "pub/run before its exact rule ($i)"
done
policy "$T/pub/p"
actgate policy reload >/dev/null || fail "reload to deny $T/pub/p"
expect_eq "$(ask2 "open $T/pub/p r")" EPERM "right after the reload that denies $T/pub/p"
expect_eq "$(ask2 "open $T/pub/p w")" EPERM "for writing too"
expect_eq "$(ask2 "exec $T/pub/run")" ok "pub/run: not named"
policy "$T/nothing/"
actgate policy reload >/dev/null || fail "reload back"
expect_eq "$(ask2 "open $T/pub/p r")" ok "right after the reload that allows $T/pub/p again"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/pub/key\"" '"rule":"cache:open.deny[1]"'
expect_record '"action":"open"' '"verdict":"allow"' '"reason":"grant"' "\"target\":\"$T/tree/a/b/f\""

# A workload cannot take a file out from under a rule by giving it another
# name: a hard link or a rename of a file (or a directory) that it may not
# read or write where it is is refused with EPERM and recorded (access
# "link"); the new name is a creation in its directory like any other. Files
# it may read and write are linked and renamed as ever, and a file it may
# not exec where it is may still be moved (a file that can be read can be
# copied anyway).
. /actgate/lib.sh

mkdir -p "$T/private/sub" "$T/ro" "$T/noexec" "$T/public" "$T/sealed"
echo key >"$T/private/key"
echo deep >"$T/private/sub/f"
echo ro >"$T/ro/file"
echo tool >"$T/noexec/tool"
echo pub >"$T/public/a"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: names}
spec:
  selector: {workloads: ["ci:*"]}
  open:
    default: allow
    deny:
      - $T/private/
      - {path: $T/ro/, access: write}
      - {path: $T/sealed/, access: create}
  exec: {default: allow, deny: [$T/noexec/]}
YAML
start_daemon

# expect_name_op EXPECTED CMD...: a governed CMD succeeds (ok) or fails with EPERM
expect_name_op() {
	want=$1
	shift
	if in_workload ci:job "$@" 2>"$T/op.err"; then
		got=ok
	elif grep -q "Operation not permitted" "$T/op.err"; then
		got=EPERM
	else
		got="failed: $(cat "$T/op.err")"
	fi
	[ "$got" = "$want" ] || fail "$*: expected $want, got $got"
	note "$* -> $got"
}

# Out from under a rule that denies reading or writing: refused.
expect_name_op EPERM ln "$T/private/key" "$T/public/key"
expect_name_op EPERM mv "$T/private/key" "$T/public/key"
expect_name_op EPERM mv "$T/private/sub" "$T/public/sub"
expect_name_op EPERM ln "$T/ro/file" "$T/public/rw"
expect_name_op EPERM mv "$T/ro/file" "$T/public/rw"
[ -e "$T/private/key" ] && [ ! -e "$T/public/key" ] && [ -e "$T/private/sub/f" ] ||
	fail "a refused rename moved something"
expect_probe EPERM in_workload ci:job actprobe open "$T/private/key"

# A new name where creating is denied, and a file replaced there: refused.
echo x >"$T/public/x"
expect_name_op EPERM mv "$T/public/x" "$T/sealed/x"
expect_name_op EPERM ln "$T/public/a" "$T/sealed/a"

# What the workload may read and write: as ever.
expect_name_op ok ln "$T/public/a" "$T/public/b"
expect_name_op ok mv "$T/public/b" "$T/public/c"
expect_name_op ok mv "$T/noexec/tool" "$T/public/tool"

# Outside any workload nothing changes.
ln "$T/private/key" "$T/public/admin-link" || fail "an ungoverned ln was refused"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/private/key\"" \
	'"access":"read,write,link"' '"rule":"names:open.deny[0]"' '"comm":"ln"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/sealed/x\"" \
	'"access":"create,link"' '"rule":"names:open.deny[2]"'
expect_record '"action":"open"' '"verdict":"allow"' "\"target\":\"$T/public/c\"" \
	'"access":"create,link"'

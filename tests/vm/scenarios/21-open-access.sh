# open accesses: each access (read, write, create) is decided on its own. A
# file may be read but not written; a denied O_TRUNC leaves the content; a
# denied creation leaves no file, whichever call tried it; the nearest rule
# naming an access decides it.
. /actgate/lib.sh

mkdir -p "$T/conf" "$T/nocreate/ok" "$T/free"
echo keep >"$T/conf/app.conf"
echo keep >"$T/trunc-me"
echo old >"$T/nocreate/existing"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: acc}
spec:
  selector: {workloads: ["acc"]}
  open:
    default: allow
    deny:
      - {path: $T/conf/, access: [write, create]}
      - {path: $T/trunc-me, access: create}
      - {path: $T/nocreate/, access: create}
    allow:
      - {path: $T/nocreate/ok/, access: create}
YAML
start_daemon

# Read allowed, write denied, on the same file.
expect_probe ok in_workload acc actprobe open "$T/conf/app.conf" r
expect_probe EPERM in_workload acc actprobe open "$T/conf/app.conf" w
expect_probe EPERM in_workload acc actprobe open "$T/conf/app.conf" rw
expect_eq "$(cat "$T/conf/app.conf")" keep "content after denied writes"

# O_TRUNC is create: writing is fine, truncating is not, and the content survives.
expect_probe ok in_workload acc actprobe open "$T/trunc-me" w
expect_probe EPERM in_workload acc actprobe open "$T/trunc-me" wt
expect_probe EPERM in_workload acc actprobe open "$T/trunc-me" rwt
expect_eq "$(cat "$T/trunc-me")" keep "content after a denied O_TRUNC"
in_workload acc sh -c "echo new >'$T/trunc-me'" 2>/dev/null && fail "shell > truncated a create-denied file"
expect_eq "$(cat "$T/trunc-me")" keep "content after a denied shell redirection"
in_workload acc sh -c "echo more >>'$T/trunc-me'" || fail "appending (write without create) was refused"

# Creating a file in a directory denied create: open O_CREAT, creat-like
# O_CREAT|O_TRUNC, mknod; nothing is left behind. Existing files there can be
# written, not truncated.
expect_probe EPERM in_workload acc actprobe open "$T/nocreate/new" wc
expect_probe EPERM in_workload acc actprobe open "$T/nocreate/new" wct
expect_probe EPERM in_workload acc actprobe mknod "$T/nocreate/new"
expect_probe EPERM in_workload acc actprobe mknod "$T/nocreate/fifo" fifo
[ -e "$T/nocreate/new" ] && fail "a denied creation left $T/nocreate/new"
[ -e "$T/nocreate/fifo" ] && fail "a denied mknod left $T/nocreate/fifo"
expect_probe ok in_workload acc actprobe open "$T/nocreate/existing" w
expect_probe EPERM in_workload acc actprobe open "$T/nocreate/existing" wt
# An existing file opened with O_CREAT is an open, not a creation.
expect_probe ok in_workload acc actprobe open "$T/nocreate/existing" wc
# The nearer subtree rule allows create below it.
expect_probe ok in_workload acc actprobe open "$T/nocreate/ok/new" wc
[ -f "$T/nocreate/ok/new" ] || fail "the allowed creation left no file"
expect_probe ok in_workload acc actprobe mknod "$T/nocreate/ok/node"
expect_probe ok in_workload acc actprobe open "$T/free/new" wcx
# Outside the workload nothing is refused.
expect_probe ok actprobe open "$T/nocreate/plain" wc

# The record says which accesses the open asked for.
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/conf/app.conf\"" \
	'"rule":"acc:open.deny[0]"' '"workload":"acc"' '"access":"write"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/conf/app.conf\"" \
	'"rule":"acc:open.deny[0]"' '"access":"read,write"'
expect_record '"action":"open"' '"verdict":"allow"' "\"target\":\"$T/conf/app.conf\"" \
	'"access":"read"'
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/trunc-me\"" \
	'"rule":"acc:open.deny[1]"' '"access":"write,create"'
# A creation is recorded with the path it would have had (built by hand:
# bpf_d_path is refused in path_mknod).
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/nocreate/new\"" \
	'"rule":"acc:open.deny[2]"' '"access":"create"'
expect_record '"action":"open"' '"verdict":"allow"' "\"target\":\"$T/nocreate/ok/new\"" \
	'"rule":"acc:open.allow[0]"'

# Depth: a directory rule reaches a file 60 levels below it; a file nested
# beyond the walk's bound (4096 levels) is denied (reason too-deep) instead of
# slipping past the rules above it; shallower files are decided as usual.
. /actgate/lib.sh

mkdir -p "$T/denied" "$T/open"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: depth}
spec:
  selector: {workloads: ["deep"]}
  open: {default: allow, deny: [$T/denied/]}
YAML
start_daemon

# 60 levels under the denied directory.
p="$T/denied"
i=0
while [ $i -lt 60 ]; do p="$p/d$i"; i=$((i + 1)); done
mkdir -p "$p"
echo secret >"$p/file"
expect_probe EPERM in_workload deep actprobe open "$p/file"
expect_record '"action":"open"' '"verdict":"deny"' '"rule":"depth:open.deny[0]"' "\"target\":\"$p/file\""

# 4100 levels under an allowed directory (built and opened level by level
# with openat: a path that long cannot be written out, PATH_MAX is 4096).
expect_probe ok actprobe deep "$T/open" 4100 create
expect_probe ok actprobe deep "$T/open" 100 create
expect_probe EPERM in_workload deep actprobe deep "$T/open" 4100 open
expect_probe ok in_workload deep actprobe deep "$T/open" 100 open
# Outside the workload the deep file opens as usual.
expect_probe ok actprobe deep "$T/open" 4100 open
expect_record '"action":"open"' '"verdict":"deny"' '"reason":"too-deep"' '"workload":"deep"'

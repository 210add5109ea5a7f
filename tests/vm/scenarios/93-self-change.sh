# A workload cannot change its own lot: signal, grant, revoke, and ingest
# requests from inside a governed workload are refused (exit 1, nothing
# changes), also from a process that moved itself out of the workload's
# cgroup (the kernel's mark still says it is governed).
. /actgate/lib.sh

copy_binary tool
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: p}
spec:
  selector: {workloads: ["ci:*"]}
  exec:
    default: allow
    deny: [$T/bin/tool]
    when:
      - signals: {trust: high}
        allow: [$T/bin/tool]
YAML
start_daemon
ROOT=$(sed -n 's/^[^ ]* [^ ]* [^ ]* [^ ]* \([^ ]*\) .* - cgroup2 .*/\1/p' /proc/self/mountinfo | head -n 1)
[ -n "$ROOT" ] || fail "no cgroup2 mount"

cat >"$T/inside.sh" <<SH
actgate signal set --workload ci:self trust=high; echo "signal \$?"
actgate signal set trust=high; echo "host-signal \$?"
actgate grant ci:self --exec "$T/bin/tool" --ttl 1h --reason mine; echo "grant \$?"
actgate revoke ci:other; echo "revoke \$?"
actgate signal list >/dev/null; echo "list \$?"
# Leave the workload's cgroup for the root cgroup, then ask again.
echo \$\$ >"$ROOT/cgroup.procs" && echo moved
actgate signal set --workload ci:self trust=high; echo "moved-signal \$?"
actgate grant ci:self --exec "$T/bin/tool" --ttl 1h --reason mine; echo "moved-grant \$?"
actprobe exec "$T/bin/tool" true
SH
in_workload ci:self sh "$T/inside.sh" >"$T/inside.out" 2>"$T/inside.err"
note "$(tr '\n' ' ' <"$T/inside.out")"
for want in "signal 1" "host-signal 1" "grant 1" "revoke 1" "list 1" "moved" \
	"moved-signal 1" "moved-grant 1" "EPERM"; do
	grep -qx "$want" "$T/inside.out" || fail "expected '$want' in: $(cat "$T/inside.out") / $(cat "$T/inside.err")"
done
grep -q "permission denied" "$T/inside.err" || fail "no refusal message: $(cat "$T/inside.err")"
actgate signal list | grep -q "no signal set" || fail "a signal was set: $(actgate signal list)"
actgate grant --list | grep -q "(none)" || fail "a grant was added: $(actgate grant --list)"
actgate revoke --list | grep -q "(none)" || fail "a revocation was made: $(actgate revoke --list)"
# From outside, as root, the same requests work.
actgate signal set --workload ci:self trust=high || fail "signal set from outside"

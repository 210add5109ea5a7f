# actgated's configuration file and `actgate reload`: the settings come from
# --config FILE (socket, journal, spool, cgroup parent, retention); `actgate
# reload` waits and exits 0 with the new generation in force, or 1 with the
# error's file:line:col when the policy is refused (the running one stays and
# keeps deciding); a configuration with an error is refused whole; a reload
# applies live settings (spool_dir) and names those that take a restart
# (journal_dir), through SIGHUP too; socket_group changes the socket's group
# live, and an unknown group refuses the reload; unknown keys and a missing --config file
# stop the start.
. /actgate/lib.sh

copy_binary tool-a
copy_binary tool-b
write_policy() { # $1: the exec deny list
	cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: live}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow, deny: [$1]}
YAML
}
write_config() { # $1: spool dir, $2: journal dir, $3: socket group (optional)
	{ [ -z "${3:-}" ] || echo "socket_group: \"$3\""; } >"$T/group.yaml"
	cat - "$T/group.yaml" >"$T/actgated.yaml" <<YAML
# actgated's settings for scenario 81
policy_dir: $POLICIES
journal_dir: $2
socket: $ACTGATE_SOCKET
cgroup_parent: /actgate-$ACTGATE_SCENARIO
spool_dir: $1
journal_retain_age: 7d
fsync_every: 10
YAML
}
generation() { actgate status | sed -n 's/^generation: //p'; }
answers() { actgate status >/dev/null 2>&1; }

# A missing --config file and an unknown key stop the start, with file:line:col.
actgated --config "$T/missing.yaml" >"$T/missing.log" 2>&1
expect_eq "$?" 1 "actgated --config with a missing file"
grep -q "missing.yaml: error: cannot read configuration file" "$T/missing.log" ||
	fail "missing file: $(cat "$T/missing.log")"
printf 'policy_dir: %s\npolicy-dir: /x\n' "$POLICIES" >"$T/bad.yaml"
actgated --config "$T/bad.yaml" --check-config >"$T/bad.log" 2>&1
expect_eq "$?" 1 "actgated --check-config with an unknown key"
grep -q 'bad.yaml:2:1: error: unknown key "policy-dir"' "$T/bad.log" ||
	fail "unknown key: $(cat "$T/bad.log")"
note "missing --config file and unknown key refused"

write_policy "$T/bin/tool-a"
write_config "$T/spool1" "$JOURNAL"
actgated --config "$T/actgated.yaml" --check-config >"$T/check.log" 2>&1 ||
	fail "--check-config: $(cat "$T/check.log")"
# No flag but --config: the socket, journal, spool and cgroup parent are the file's.
actgated --config "$T/actgated.yaml" >"$T/actgated.log" 2>&1 &
DAEMON_PID=$!
wait_for 600 "actgated did not answer on the configured socket within 60 s" answers
[ -d "$T/spool1" ] || fail "spool_dir of the file not created"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-a" true
expect_probe ok in_workload ci:a actprobe exec "$T/bin/tool-b" true
expect_record '"verdict":"deny"' "\"target\":\"$T/bin/tool-a\""
note "configured journal at $JOURNAL has the denial"

# A good reload: exit 0, the new generation in force.
write_policy "$T/bin/tool-b"
actgate reload >"$T/reload.out" 2>"$T/reload.err"
expect_eq "$?" 0 "actgate reload of a good policy"
grep -q "generation 2: 1 policies in force" "$T/reload.out" ||
	fail "reload output: $(cat "$T/reload.out" "$T/reload.err")"
expect_probe ok in_workload ci:a actprobe exec "$T/bin/tool-a" true
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-b" true

# A bad policy: exit 1 with file:line:col, generation 2 stays and keeps deciding.
write_policy "relative/tool"
actgate reload >"$T/bad-reload.out" 2>"$T/bad-reload.err"
expect_eq "$?" 1 "actgate reload of a bad policy"
grep -q "p.yaml:6:33: error" "$T/bad-reload.err" ||
	fail "no file:line:col in: $(cat "$T/bad-reload.err")"
grep -q "refused; generation 2 stays in force" "$T/bad-reload.err" ||
	fail "refusal not said: $(cat "$T/bad-reload.err")"
expect_eq "$(generation)" 2 "generation after a refused reload"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-b" true
note "bad policy refused: $(grep -m1 error "$T/bad-reload.err")"

# A configuration with an error: refused whole, even with a good policy.
write_policy "$T/bin/tool-a"
write_config "$T/spool1" "$JOURNAL"
echo "verbose: maybe" >>"$T/actgated.yaml"
actgate reload >"$T/cfg-reload.out" 2>"$T/cfg-reload.err"
expect_eq "$?" 1 "actgate reload with a bad configuration"
grep -q "actgated.yaml:[0-9]*:10: error: verbose" "$T/cfg-reload.err" ||
	fail "configuration error not at file:line:col: $(cat "$T/cfg-reload.err")"
expect_eq "$(generation)" 2 "generation after a refused configuration"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-b" true

# Live and restart settings: spool_dir applies, journal_dir waits for a restart.
write_config "$T/spool2" "$T/journal2"
actgate reload >"$T/live.out" 2>"$T/live.err"
expect_eq "$?" 0 "actgate reload with changed settings"
grep -q "journal_dir changed (running: $JOURNAL; now: $T/journal2): it takes a restart" \
	"$T/live.err" || fail "restart setting not named: $(cat "$T/live.err")"
grep -q "spool_dir: $T/spool2, was $T/spool1" "$T/live.err" ||
	fail "live setting not reported: $(cat "$T/live.err")"
[ -d "$T/spool2" ] || fail "the new spool_dir was not created"
[ ! -e "$T/journal2" ] || fail "journal_dir was changed live"
expect_eq "$(generation)" 3 "generation after the settings reload"
expect_probe EPERM in_workload ci:a actprobe exec "$T/bin/tool-a" true

# socket_group applies live: the socket's group changes; an unknown group
# refuses the whole reload.
expect_eq "$(stat -c %g "$ACTGATE_SOCKET")" 0 "the socket's group before"
write_config "$T/spool2" "$JOURNAL" 4242
actgate reload >"$T/group.out" 2>"$T/group.err" || fail "group reload: $(cat "$T/group.err")"
expect_eq "$(stat -c %g "$ACTGATE_SOCKET")" 4242 "the socket's group after socket_group: 4242"
write_config "$T/spool2" "$JOURNAL" no-such-group
actgate reload >"$T/nogroup.out" 2>"$T/nogroup.err"
expect_eq "$?" 1 "actgate reload with an unknown socket group"
grep -q 'no group named "no-such-group": nothing reloaded' "$T/nogroup.err" ||
	fail "unknown group: $(cat "$T/nogroup.err")"
expect_eq "$(stat -c %g "$ACTGATE_SOCKET")" 4242 "the socket's group after a refused reload"
expect_eq "$(generation)" 4 "generation after a refused reload"
write_config "$T/spool2" "$JOURNAL"
actgate reload >/dev/null 2>&1 || fail "reload back to root alone"
expect_eq "$(stat -c %g "$ACTGATE_SOCKET")" 0 "the socket's group with no socket_group"

# SIGHUP: the same reload; the log names the restart setting.
write_config "$T/spool2" "$T/journal3"
kill -HUP "$DAEMON_PID"
wait_for 100 "SIGHUP did not reload to generation 6 within 10 s" probe_is 6 generation
wait_for 50 "SIGHUP's log does not name journal_dir" \
	grep -q "journal_dir changed (running: $JOURNAL; now: $T/journal3): it takes a restart" \
	"$T/actgated.log"
note "SIGHUP: $(grep -m1 'journal_dir changed' "$T/actgated.log")"

# Unknown options: one line and a pointer to --help.
actgate reload --bogus 2>"$T/opt.err"
expect_eq "$?" 2 "actgate reload --bogus"
expect_eq "$(cat "$T/opt.err")" "actgate: reload: unknown option '--bogus'
Try 'actgate reload --help'." "unknown option message"

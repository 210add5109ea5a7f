# policy suggest: from audit to enforce. A build job (a script that
# "compiles" its sources into objects, packs them through a temporary file,
# runs its test binary and talks to a local registry) runs under an audit
# policy that denies everything by default; a policy is suggested from its
# decisions at each level, and the same job runs under each suggestion,
# enforced, without one denial. Then the job with an injected step (a key
# read under the home directory, a tool copied to /tmp and run, another
# address) runs under the balanced suggestion: each injected action is
# denied and recorded.
. /actgate/lib.sh

WS=/srv/job-63
PORT=7363
rm -rf "$WS" /tmp/tool
mkdir -p "$WS/src" "$WS/build" "$WS/dist" "$WS/bin" /root/.ssh
for f in main util net; do echo "int $f(void) { return 0; }" >"$WS/src/$f.c"; done
echo "not for jobs" >/root/.ssh/id_ed25519
cp "$(command -v actprobe)" "$WS/bin/run-tests"
cat >"$WS/build.sh" <<'SH'
#!/bin/sh
# A build: compile (sources in, objects out), pack through a temporary file,
# test, publish to the registry.
set -e
cd "$WS"
for f in src/*.c; do
	o=build/$(basename "$f" .c).o
	cat "$f" >"$o"
done
tmp=$(mktemp)
cat build/*.o >"$tmp"
cp "$tmp" dist/app.bin
rm -f "$tmp"
./bin/run-tests open dist/app.bin
./bin/run-tests connect 127.0.0.1 "$PORT"
if [ -n "${EVIL:-}" ]; then
	# The injected step: each must fail.
	if cat /root/.ssh/id_ed25519 | grep -q .; then echo "evil: key read"; else echo "evil: key refused"; fi
	if /tmp/tool true; then echo "evil: tool ran"; else echo "evil: tool refused"; fi
	./bin/run-tests connect 127.0.0.2 "$PORT" || true
fi
echo "build: done"
SH
chmod 0755 "$WS/build.sh"
export WS PORT

cat >"$POLICIES/audit.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: watch}
spec:
  selector: {workloads: ["ci:*"]}
  mode: audit
  exec: {default: deny}
  open: {default: deny}
  connect: {default: deny}
YAML
start_daemon
listen_on 127.0.0.1 "$PORT"

# run_job NAME: the job as workload NAME; its output in $T/NAME.out.
run_job() {
	actgate run --quiet --workload "$1" -- "$WS/build.sh" >"$T/$1.out" 2>&1
}

run_job ci:audit || fail "the job failed under audit: $(cat "$T/ci:audit.out")"
grep -q "build: done" "$T/ci:audit.out" || fail "the job did not finish: $(cat "$T/ci:audit.out")"
# Every decision journaled: the registry connect is the job's last action.
expect_record '"workload":"ci:audit"' '"action":"connect"' '"target":"127.0.0.1:7363/tcp"'
sleep 0.5
n=$(replay_json --workload ci:audit --verdict deny | wc -l)
[ "$n" -gt 5 ] || fail "the audit run recorded only $n would-be denials"
note "audit run: $n would-be denials recorded"

# suggest LEVEL: the suggestion for the audit run at LEVEL into $T/s-LEVEL/.
suggest() {
	mkdir -p "$T/s-$1"
	actgate policy suggest --journal-dir "$JOURNAL" --workload ci:audit --selector 'ci:*' \
		--current "$POLICIES" --name "job-$1" --level "$1" \
		--output "$T/s-$1/job.yaml" >"$T/s-$1.log" 2>&1 ||
		fail "suggest --level $1 failed: $(cat "$T/s-$1.log")"
	grep -q "self-check: .* 0 denied" "$T/s-$1.log" ||
		fail "suggest --level $1: no clean self-check: $(cat "$T/s-$1.log")"
	grep -q "tightening against watch" "$T/s-$1.log" ||
		fail "suggest --level $1: no tightening: $(cat "$T/s-$1.log")"
	out=$(actgate policy check "$T/s-$1/job.yaml" 2>&1) || fail "check --level $1: $out"
	expect_eq "$out" "1 policy valid (0 warnings)" "policy check of the $1 suggestion"
	actgate policy test "$T/s-$1/job.test.yaml" >"$T/s-$1.test.log" 2>&1 ||
		fail "the $1 suggestion's tests: $(cat "$T/s-$1.test.log")"
	note "level $1: $(tail -n 1 "$T/s-$1.log"); tests: $(tail -n 1 "$T/s-$1.test.log")"
}

for level in exact balanced coarse; do
	suggest $level
done
# The levels differ: exact names the sources one by one, balanced takes the workspace.
grep -q "\"$WS/src/main.c\"" "$T/s-exact/job.yaml" || fail "exact does not list the sources"
grep -q "\"$WS/\"" "$T/s-balanced/job.yaml" || fail "balanced does not take the workspace"
grep -q '"/srv/"' "$T/s-coarse/job.yaml" || fail "coarse does not take /srv/"
grep -q "\"$WS/build.sh\"" "$T/s-exact/job.yaml" || fail "the script is not on the exec list"
grep -q '"/bin/busybox"' "$T/s-exact/job.yaml" || fail "the script's interpreter is not on the exec list"
actgate policy diff "$T/s-exact/job.yaml" "$T/s-coarse/job.yaml" >"$T/diff.out" 2>&1
grep -q "^widens" "$T/diff.out" || fail "exact -> coarse widens nothing: $(cat "$T/diff.out")"

# install LEVEL: the suggestion replaces the audit policy.
install() {
	rm -f "$POLICIES"/*.yaml
	cp "$T/s-$1/job.yaml" "$POLICIES/job.yaml"
	actgate policy reload >/dev/null || fail "reload of the $1 suggestion"
}

for level in exact balanced coarse; do
	install $level
	run_job "ci:enforce-$level" || fail "the job failed under the $level suggestion: $(cat "$T/ci:enforce-$level.out")"
	expect_record "\"workload\":\"ci:enforce-$level\"" '"action":"connect"' '"verdict":"allow"' \
		'"enforced":true'
	sleep 0.5
	denials=$(replay_json --workload "ci:enforce-$level" --verdict deny)
	[ -z "$denials" ] || fail "denials under the $level suggestion: $denials"
	note "level $level: the job ran enforced with no denial"
done

# The injected step under the balanced suggestion: every injected action denied and recorded.
install balanced
cp /bin/busybox /tmp/tool # a copied tool, left in /tmp
EVIL=1 run_job ci:evil || true
out=$(cat "$T/ci:evil.out")
case $out in *"evil: key refused"*) ;; *) fail "the key was read: $out" ;; esac
case $out in *"evil: tool refused"*) ;; *) fail "the copied tool ran: $out" ;; esac
case $out in *EPERM*) ;; *) fail "the other address was reached: $out" ;; esac
expect_record '"workload":"ci:evil"' '"action":"open"' '"verdict":"deny"' '"enforced":true' \
	'"target":"/root/.ssh/id_ed25519"'
expect_record '"workload":"ci:evil"' '"action":"exec"' '"verdict":"deny"' '"enforced":true' \
	'"target":"/tmp/tool"'
expect_record '"workload":"ci:evil"' '"action":"connect"' '"verdict":"deny"' '"enforced":true' \
	'"target":"127.0.0.2:7363/tcp"'
rm -rf "$WS" /tmp/tool /root/.ssh/id_ed25519
exit 0

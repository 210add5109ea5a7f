#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
# run.sh HARNESS — the SSF receiver (src/daemon/ssf*.c) driven over loopback
# with tokens signed here by keys openssl makes here: push (RFC 8935) with
# curl, every refusal class and its answer, key rotation without a restart,
# the stream-management events, a flood of 10,000 bad requests with the
# receiver's memory measured; poll (RFC 8936) against a transmitter stub
# (transmitter.py): acknowledgements only after application, nothing lost
# or applied twice across a restart, setErrs, backoff.
#
# HARNESS (ssf-harness, tests/ssf/harness.c) runs the daemon's receiver and
# signal state without the kernel, which refuses BPF LSM outside the VM
# suite. Prints "ssf: N passed, N failed"; exits 1 on any failure.
set -uo pipefail

harness=$(realpath "${1:?usage: run.sh HARNESS}")
here=$(cd "$(dirname "$0")" && pwd)
set_py="$here/set.py"
tmp=$(mktemp -d)
pids=()
passed=0
failed=0

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -z "${SSF_KEEP:-}" ] || { echo "ssf: kept $tmp"; return; }
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL  ssf: $*"; }
check() { # check WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then ok; else fail "$1: expected [$2], got [$3]"; fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_for CMD...: up to 10 s for CMD to succeed.
wait_for() {
	for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
	return 1
}

start_harness() { # start_harness CONFIG STATE LOG: sets hpid
	: > "$3.out"
	# Under AddressSanitizer (make SAN=1) freed memory is held in a quarantine
	# of up to 256 MiB to catch uses after free: the flood's RSS bound would
	# measure the quarantine, not the receiver. Without one, memory freed is
	# memory reused, as in the daemon; leaks are still reported at exit.
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
		"$harness" --config "$1" --state-dir "$2" --status "$tmp/status.json" >"$3.out" 2>>"$3" &
	hpid=$!
	pids+=("$hpid")
	wait_for grep -q ready "$3.out" || { fail "the harness did not start: $(cat "$3")"; exit 1; }
}

# status KEY: one member of the harness's status.
status() {
	rm -f "$tmp/status.json"
	kill -USR1 "$hpid"
	wait_for test -s "$tmp/status.json" || { echo "(no status)"; return; }
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], "(absent)"))' \
		"$tmp/status.json" "$1"
}

state_sum() { cat "$1/signals" 2>/dev/null | sha256sum | cut -c1-16; }

ISS=https://idp.example.com
AUD=https://host1.example.com/ssf

# ---- keys ----
cd "$tmp" || exit 1
openssl genrsa -out k1.pem 2048 2>/dev/null
openssl genrsa -out k2.pem 2048 2>/dev/null
openssl genrsa -out x1.pem 2048 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out e1.pem 2>/dev/null
openssl pkey -in k1.pem -pubout -out k1.pub 2>/dev/null
python3 "$set_py" jwks k1:k1.pem e1:e1.pem > push-jwks.json
echo "push-bearer-$$" > push-bearer
echo "poll-bearer-$$" > poll-bearer

token() { # token KEY KID ALG JTI SUBJECT [EVENT [IAT_OFFSET [ISS [AUD]]]]
	python3 "$set_py" sign "$1" "$2" "$3" \
		"$(python3 "$set_py" payload "${8:-$ISS}" "${9:-$AUD}" "$4" "$5" "${6:-session-revoked}" "${7:-0}")"
}

# The subjects the tests revoke are principals the trust file maps (a
# subject that names nothing actgate knows is refused; no workload runs here).
{
	echo "principals:"
	for who in alice bob carol dave erin frank grace heidi; do
		printf '  %s@example.com: [{format: email, email: %s@example.com}]\n' "$who" "$who"
	done
} > trust.yaml

# ---- push ----
port=$(free_port)
slow_port=$(free_port)
mkdir -p push-state
cat > push.yaml <<YAML
signals_trust: $tmp/trust.yaml
ssf:
  - name: idp
    issuer: $ISS
    audience: $AUD
    jwks_file: $tmp/push-jwks.json
    delivery: push
    listen: 127.0.0.1:$port
    bearer_token_file: $tmp/push-bearer
    rate: 100000
    events:
      - https://schemas.openid.net/secevent/caep/event-type/session-revoked
      - https://schemas.openid.net/secevent/caep/event-type/credential-change
      - https://schemas.openid.net/secevent/ssf/event-type/verification
      - https://schemas.openid.net/secevent/ssf/event-type/stream-updated
  - name: slow
    issuer: $ISS
    audience: $AUD
    jwks_file: $tmp/push-jwks.json
    delivery: push
    listen: 127.0.0.1:$slow_port
    rate: 2
YAML
start_harness push.yaml push-state push.log

# push TOKEN [CONTENT_TYPE [BEARER]]: "STATUS BODY"
push() {
	local ct=${2:-application/secevent+jwt} bearer=${3:-$(cat push-bearer)} auth=()
	[ "$bearer" = none ] || auth=(-H "Authorization: Bearer $bearer")
	printf '%s' "$1" > body
	curl -s -o resp -w '%{http_code}' -X POST "http://127.0.0.1:$port/ssf" \
		-H "Content-Type: $ct" "${auth[@]}" --data-binary @body
	echo " $(cat resp)"
}
err_of() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("err",""))' "${1#* }" 2>/dev/null; }

t=$(token k1.pem k1 RS256 rs-1 alice@example.com)
r=$(push "$t")
check "RS256 session-revoked is accepted" "202" "${r%% *}"
check "RS256 session-revoked revokes alice" "alice@example.com" "$(status revoked.0)"
check "PS256 is accepted" "202" "$(r=$(push "$(token k1.pem k1 PS256 ps-1 bob@example.com)"); echo "${r%% *}")"
check "ES256 is accepted" "202" "$(r=$(push "$(token e1.pem e1 ES256 es-1 carol@example.com)"); echo "${r%% *}")"
check "three revocations" "3" "$(status revocations)"

# Rotation: a new key in the file is found for its kid, without a restart.
# Before the refusals below: an unknown kid makes the receiver read the keys
# again at most every 10 s (SSF_KID_REFRESH_MIN_MS), so the refusal of x1
# would make this rotation's outcome depend on how fast the checks between ran.
python3 "$set_py" jwks k1:k1.pem e1:e1.pem k2:k2.pem > push-jwks.json.new && mv push-jwks.json.new push-jwks.json
r=$(push "$(token k2.pem k2 RS256 rot-1 dave@example.com)")
check "a rotated-in key verifies without a restart" "202" "${r%% *}"

# Every refusal: 400 with its RFC 8935 code, and the signal state unchanged.
before=$(state_sum push-state)
refused() { # refused WHAT CODE RESPONSE
	check "$1: status" "400" "${3%% *}"
	check "$1: err" "$2" "$(err_of "$3")"
}
refused "alg none" invalid_request "$(push "$(token k1.pem k1 none n-1 mallory@example.com)")"
refused "HS256 keyed with the public key" invalid_request "$(push "$(token k1.pub k1 HS256 h-1 mallory@example.com)")"
refused "a key not in the set" invalid_key "$(push "$(token x1.pem x1 RS256 x-1 mallory@example.com)")"
refused "a known kid, another key's signature" invalid_key "$(push "$(token x1.pem k1 RS256 x-2 mallory@example.com)")"
refused "wrong iss" invalid_issuer "$(push "$(token k1.pem k1 RS256 i-1 mallory@example.com session-revoked 0 https://evil.example.com)")"
refused "wrong aud" invalid_audience "$(push "$(token k1.pem k1 RS256 a-1 mallory@example.com session-revoked 0 "$ISS" https://other.example.com)")"
refused "iat two days old" invalid_request "$(push "$(token k1.pem k1 RS256 o-1 mallory@example.com session-revoked -172800)")"
refused "iat an hour ahead" invalid_request "$(push "$(token k1.pem k1 RS256 f-1 mallory@example.com session-revoked 3600)")"
refused "a replayed jti" invalid_request "$(push "$t")"
refused "a missing bearer token" authentication_failed "$(push "$(token k1.pem k1 RS256 b-1 mallory@example.com)" application/secevent+jwt none)"
refused "a wrong bearer token" authentication_failed "$(push "$(token k1.pem k1 RS256 b-2 mallory@example.com)" application/secevent+jwt wrong)"
refused "an event type the transmitter may not send" access_denied "$(push "$(token k1.pem k1 RS256 d-1 mallory@example.com assurance-level-change)")"
refused "not a compact JWS" invalid_request "$(push '{"iss": "x"}')"
refused "Content-Type application/json" invalid_request "$(push "$(token k1.pem k1 RS256 c-1 mallory@example.com)" application/json)"
head -c 70000 /dev/zero | tr '\0' a > big
r=$(curl -s -o resp -w '%{http_code}' -X POST "http://127.0.0.1:$port/" -H 'Content-Type: application/secevent+jwt' \
	-H "Authorization: Bearer $(cat push-bearer)" --data-binary @big)
check "a body over max_request_bytes: 413" "413" "$r"
check "a body over max_request_bytes: err" "invalid_request" "$(err_of "x $(cat resp)")"
check "GET: 405" "405" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/")"
check "the refusals changed nothing" "$before 4" "$(state_sum push-state) $(status revocations)"
check "refusals counted by code (invalid_key)" "2" "$(status ssf.idp.refused.invalid_key)"
check "refusals counted by code (authentication_failed)" "2" "$(status ssf.idp.refused.authentication_failed)"


# Stream management.
r=$(push "$(token k1.pem k1 RS256 sm-1 x@example.com https://schemas.openid.net/secevent/ssf/event-type/stream-updated)")
check "stream-updated is taken" "202" "${r%% *}"
check "stream-updated sets the stream status" "paused: maintenance" "$(status ssf.idp.stream_status)"
r=$(push "$(token k1.pem k1 RS256 sm-2 x@example.com https://schemas.openid.net/secevent/ssf/event-type/verification)")
check "the verification event is taken" "202" "${r%% *}"
v=$(status ssf.idp.last_verification_at)
check "the verification event is noted" "yes" "$([ "$v" != never ] && echo yes || echo "$v")"

# Rate: the slow stream takes 2 a second; a burst beyond is answered 429.
codes=$(for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' -X POST "http://127.0.0.1:$slow_port/" \
	-H 'Content-Type: text/plain' --data-binary x; done)
check "a burst beyond the rate gets 429" "yes" "$(case "$codes" in *429*) echo yes ;; *) echo "$codes" ;; esac)"

# A flood of bad requests: answered, and the receiver's memory stays bounded.
flood() {
	python3 - "$port" "$1" <<'PY'
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
bodies = [b"x.y.z", b"not a token", b"{}", b"a" * 3000, b"e30.e30.e30"]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
codes = {}
for i in range(n):
    h = {"Content-Type": "application/secevent+jwt" if i % 3 else "text/plain",
         "Authorization": "Bearer wrong" if i % 7 == 0 else "Bearer " + open("push-bearer").read().strip()}
    try:
        c.request("POST", "/ssf", body=bodies[i % len(bodies)], headers=h)
        r = c.getresponse(); r.read()
        codes[r.status] = codes.get(r.status, 0) + 1
        if r.getheader("Connection", "").lower() == "close":
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    except (http.client.HTTPException, OSError):
        c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        codes["error"] = codes.get("error", 0) + 1
print(" ".join("%s=%s" % kv for kv in sorted(codes.items(), key=str)))
PY
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$hpid/status"; }
flood 1000 > /dev/null
rss_before=$(rss)
codes=$(flood 10000)
rss_after=$(rss)
check "10,000 bad requests all answered 400" "400=10000" "$codes"
growth=$((rss_after - rss_before))
check "memory after 10,000 bad requests (RSS ${rss_before} -> ${rss_after} KiB)" "bounded" \
	"$([ "$growth" -lt 1024 ] && echo bounded || echo "grew ${growth} KiB")"
check "the flood changed nothing" "$(state_sum push-state)" "$(state_sum push-state)"
check "still answering after the flood" "202" \
	"$(r=$(push "$(token k1.pem k1 RS256 after-1 erin@example.com)"); echo "${r%% *}")"
kill "$hpid"; wait "$hpid" 2>/dev/null

# ---- poll ----
mkdir -p stub poll-state
python3 "$set_py" jwks k1:k1.pem > stub/jwks.json
python3 "$here/transmitter.py" "$tmp/stub" "$ISS" "$(cat poll-bearer)" "$tmp/poll-state/signals" 2>stub.err &
pids+=("$!")
wait_for test -s stub/port || { fail "the transmitter stub did not start: $(cat stub.err)"; exit 1; }
sport=$(cat stub/port)
cat > poll.yaml <<YAML
signals_trust: $tmp/trust.yaml
ssf:
  - name: idp
    issuer: $ISS
    audience: $AUD
    configuration_url: http://127.0.0.1:$sport/.well-known/ssf-configuration
    delivery: poll
    bearer_token_file: $tmp/poll-bearer
    poll_interval: 200ms
YAML
queue() { # queue JTI SUBJECT [KEY KID [AUD]]
	token "${3:-k1.pem}" "${4:-k1}" RS256 "$1" "$2" session-revoked 0 "$ISS" "${5:-$AUD}" > "stub/queue/.$1"
	echo "$2" > "stub/queue/$1.subject"
	mv "stub/queue/.$1" "stub/queue/$1"
}
acked_ok() { [ -e "$tmp/stub/log" ] && python3 - "$tmp/stub/log" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if sys.argv[2] in e["ack"] and e["answered"] == 200:
        sys.exit(0)
sys.exit(1)
PY
}
start_harness poll.yaml poll-state poll.log
queue p-1 frank@example.com
wait_for acked_ok p-1
check "a polled SET is acknowledged" "0" "$?"
check "and applied" "frank@example.com" "$(status revoked.0)"
check "the endpoint came from the transmitter's configuration" \
	"http://127.0.0.1:$sport/poll" "$(status ssf.idp.endpoint)"

# A refused SET goes back in setErrs, never in ack.
queue p-bad mallory@example.com k1.pem k1 https://other.example.com
wait_for grep -q '"p-bad": {"err": "invalid_audience"' stub/log
check "a refused polled SET is told in setErrs" "0" "$?"

# Restart: the ack of p-2 fails, the daemon is killed, the new one acks it, once applied.
touch stub/fail-acks
queue p-2 grace@example.com
wait_for test ! -e stub/fail-acks
check "the stub failed the request that carried p-2's ack" "0" "$?"
kill -9 "$hpid"; wait "$hpid" 2>/dev/null
check "p-2's ack is saved for the next daemon" "yes" \
	"$(grep -q '"p-2"' poll-state/ssf-idp.acks && echo yes || echo no)"
start_harness poll.yaml poll-state poll.log
wait_for acked_ok p-2
check "the restarted receiver acknowledges p-2" "0" "$?"
check "p-2 applied once across the restart" "1" "$(grep -c 'SET p-2 (.*) applied' poll.log)"
check "p-1 applied once across the restart" "1" "$(grep -c 'SET p-1 (.*) applied' poll.log)"
check "no acknowledgement came before its SET was applied" "0" \
	"$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["ack_before_apply"]) for l in open(sys.argv[1])))' stub/log)"
check "grace's revocation survived the restart" "2" "$(status revocations)"

# Backoff: a failing transmitter is polled less and less often, and status says so.
touch stub/fail-all
wait_for test "$(grep -c "\"answered\": 500" stub/log)" -ge 3
b=$(status ssf.idp.poll_backoff_ms)
check "a failing transmitter is backed off from" "yes" "$([ "$b" -ge 2000 ] 2>/dev/null && echo yes || echo "$b")"
rm -f stub/fail-all
kill "$hpid"; wait "$hpid" 2>/dev/null

# poll_url and jwks_file given outright (no discovery): polled from the start.
cat > poll-direct.yaml <<YAML
signals_trust: $tmp/trust.yaml
ssf:
  - name: direct
    issuer: $ISS
    audience: $AUD
    jwks_file: $tmp/stub/jwks.json
    delivery: poll
    poll_url: http://127.0.0.1:$sport/poll
    bearer_token_file: $tmp/poll-bearer
    poll_interval: 200ms
YAML
start_harness poll-direct.yaml poll-state poll-direct.log
check "a stream with poll_url and jwks_file is ready at once" "ok" "$(status ssf.direct.health)"
queue p-3 heidi@example.com
wait_for acked_ok p-3
check "a SET polled from poll_url is acknowledged" "0" "$?"
check "and applied" "yes" "$(grep -q 'SET p-3 (.*) applied' poll-direct.log && echo yes || echo no)"

echo "ssf: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

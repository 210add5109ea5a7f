# Signed signals: a session-revoked signed by an issuer of the trust file,
# taken through `actgate signal ingest`, denies the principal's running
# workload's very next action (reason revoked) and is journaled (action
# signal with its jti, issuer, event type and subject); --dry-run changes
# nothing; an unsigned compact token (alg none), one signed by another key,
# one for another audience and a replay of the valid one are refused and
# change nothing. Needs openssl in the VM: VMTEST_EXTRA_BINS=openssl.
. /actgate/lib.sh

command -v openssl >/dev/null 2>&1 || fail "openssl is needed in the VM (VMTEST_EXTRA_BINS=openssl)"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: open}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow}
  open: {default: allow}
YAML
echo data >"$T/file"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/idp.pem" 2>/dev/null ||
	fail "openssl genpkey"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$T/evil.pem" 2>/dev/null ||
	fail "openssl genpkey (evil)"
n=$(openssl rsa -in "$T/idp.pem" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64url)
cat >"$T/idp.jwks.json" <<JSON
{"keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB", "n": "$n"}]}
JSON
cat >"$T/trust.yaml" <<YAML
principals:
  jane:
    - {format: email, email: jane.smith@example.com}
    - {format: iss_sub, iss: "https://idp.example.com/", sub: "jane-42"}
issuers:
  - issuer: https://idp.example.com/
    audience: https://actgate.example.com/
    jwks_file: $T/idp.jwks.json
YAML

# token KEY JTI AUD ALG: a session-revoked for jane's iss_sub, signed with KEY.
token() {
	h=$(printf '{"alg":"%s","kid":"k1","typ":"secevent+jwt"}' "$4" | b64url)
	p=$(printf '{"iss":"https://idp.example.com/","jti":"%s","iat":%s,"aud":"%s","sub_id":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"jane-42"},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{}}}' \
		"$2" "$(date +%s)" "$3" | b64url)
	if [ "$4" = none ]; then
		printf '%s.%s.' "$h" "$p"
	else
		s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" | b64url)
		printf '%s.%s.%s' "$h" "$p" "$s"
	fi
}

start_daemon --signals-trust "$T/trust.yaml"
start_batch a 3 4 --workload ci:jane-job --delegated-by jane
start_batch b 5 6 --workload ci:bystander
ask() {
	e=$(batch_ask "$1" "$2" "exec /bin/true")
	o=$(batch_ask "$1" "$2" "open $T/file r")
	echo "$e $o"
}
expect_eq "$(ask 3 4)" "ok ok" "jane's job before any token"

# Refused: each changes nothing.
refused() {
	what=$1
	shift
	printf '%s\n' "$1" >"$T/bad.jwt"
	if actgate signal ingest "$T/bad.jwt" >"$T/bad.out" 2>&1; then
		fail "$what was taken: $(cat "$T/bad.out")"
	fi
	grep -q "$2" "$T/bad.out" || fail "$what: expected '$2' in: $(cat "$T/bad.out")"
	note "$what: $(cat "$T/bad.out")"
	expect_eq "$(ask 3 4)" "ok ok" "jane's job after $what"
}
refused "an unsigned token (alg none)" "$(token "$T/idp.pem" j-none https://actgate.example.com/ none)" "refused"
refused "a forged token (another key)" "$(token "$T/evil.pem" j-forged https://actgate.example.com/ RS256)" "refused"
refused "a token for another audience" "$(token "$T/idp.pem" j-aud https://other.example.com/ RS256)" "invalid_audience"

# The valid token: first a dry run (nothing changes), then for real.
token "$T/idp.pem" j-good https://actgate.example.com/ RS256 >"$T/good.jwt"
actgate signal ingest --dry-run "$T/good.jwt" >"$T/dry.out" 2>&1 || fail "dry run: $(cat "$T/dry.out")"
note "$(cat "$T/dry.out")"
grep -q "would change principal jane revoked: 1 running workload" "$T/dry.out" ||
	fail "dry run output: $(cat "$T/dry.out")"
expect_eq "$(ask 3 4)" "ok ok" "jane's job after the dry run"
actgate signal ingest - <"$T/good.jwt" >"$T/good.out" 2>&1 || fail "ingest: $(cat "$T/good.out")"
note "$(cat "$T/good.out")"
expect_eq "$(ask 3 4)" "EPERM EPERM" "jane's job after the signed session-revoked"
expect_eq "$(ask 5 6)" "ok ok" "bystander after it"
expect_record '"action":"signal"' '"reason":"signal"' '"event_id":"j-good"' \
	'"issuer":"https://idp.example.com/"' '"event_type":"caep/session-revoked"'
expect_record '"workload":"ci:jane-job"' '"verdict":"deny"' '"reason":"revoked"'

# The same token again: a replay.
if actgate signal ingest "$T/good.jwt" >"$T/replay.out" 2>&1; then
	fail "a replayed token was taken: $(cat "$T/replay.out")"
fi
grep -q "replayed" "$T/replay.out" || fail "replay: $(cat "$T/replay.out")"
exec 3>&- 4>&- 5>&- 6>&-

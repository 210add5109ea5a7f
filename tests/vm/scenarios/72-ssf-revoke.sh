# SSF push (RFC 8935): an identity provider's signed session-revoked, POSTed
# over HTTP to actgated's receiver, denies the principal's running workload's
# very next exec, open and connect in the kernel; a token signed by a key not
# in the transmitter's set, or for another audience, is answered 400 with its
# RFC 8935 code and changes nothing.
# Needs curl and openssl in the VM:
#   VMTEST_EXTRA_BINS="/usr/bin/curl /usr/bin/openssl"
. /actgate/lib.sh

command -v curl >/dev/null || fail "curl is not in the VM (VMTEST_EXTRA_BINS=/usr/bin/curl)"
command -v openssl >/dev/null || fail "openssl is not in the VM (VMTEST_EXTRA_BINS=/usr/bin/openssl)"
copy_binary tool
echo data >"$T/file"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: open}
spec:
  selector: {workloads: ["ci:*"]}
  exec: {default: allow}
  open: {default: allow}
  connect: {default: allow}
YAML

b64u() { base64 | tr -d '\n=' | tr '+/' '-_'; }
openssl genrsa -out "$T/idp.pem" 2048 2>/dev/null || fail "openssl genrsa"
openssl genrsa -out "$T/other.pem" 2048 2>/dev/null || fail "openssl genrsa"
n=$(openssl rsa -in "$T/idp.pem" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64u)
printf '{"keys":[{"kty":"RSA","kid":"idp-1","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}]}\n' \
	"$n" >"$T/jwks.json"
echo "push-secret-$$" >"$T/bearer"
cat >"$T/actgated.yaml" <<YAML
ssf:
  - name: idp
    issuer: https://idp.example.com
    audience: https://host.example.com/ssf
    jwks_file: $T/jwks.json
    delivery: push
    listen: 127.0.0.1:8088
    bearer_token_file: $T/bearer
YAML

# token KEY JTI AUDIENCE: a SET for alice@example.com, RS256, kid idp-1.
token() {
	h=$(printf '{"alg":"RS256","typ":"secevent+jwt","kid":"idp-1"}' | b64u)
	p=$(printf '{"iss":"https://idp.example.com","aud":"%s","jti":"%s","iat":%s,"sub_id":{"format":"email","email":"alice@example.com"},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{}}}' \
		"$3" "$2" "$(date +%s)" | b64u)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" | b64u)
	printf '%s.%s.%s' "$h" "$p" "$s"
}
# push TOKEN: "STATUS BODY"
push() {
	printf '%s' "$1" >"$T/body"
	code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST http://127.0.0.1:8088/ \
		-H 'Content-Type: application/secevent+jwt' -H "Authorization: Bearer $(cat "$T/bearer")" \
		--data-binary @"$T/body") || fail "curl: exit $?"
	echo "$code $(cat "$T/resp")"
}

start_daemon --config "$T/actgated.yaml"
listen_on 127.0.0.1 7001
start_batch a 3 4 --workload ci:alice-job --delegated-by alice@example.com
start_batch b 5 6 --workload ci:bystander --delegated-by bob@example.com
ask() {
	e=$(batch_ask "$1" "$2" "exec $T/bin/tool")
	o=$(batch_ask "$1" "$2" "open $T/file r")
	c=$(batch_ask "$1" "$2" "connect 127.0.0.1 7001")
	echo "$e $o $c"
}
expect_eq "$(ask 3 4)" "ok ok ok" "alice's job before the event"

# Refused tokens change nothing.
r=$(push "$(token "$T/other.pem" bad-1 https://host.example.com/ssf)")
case "$r" in "400 "*'"err":"invalid_key"'*) ;; *) fail "a token signed by another key: $r" ;; esac
r=$(push "$(token "$T/idp.pem" bad-2 https://other.example.com)")
case "$r" in "400 "*'"err":"invalid_audience"'*) ;; *) fail "a token for another audience: $r" ;; esac
expect_eq "$(ask 3 4)" "ok ok ok" "alice's job after refused tokens"

r=$(push "$(token "$T/idp.pem" sr-1 https://host.example.com/ssf)")
expect_eq "${r%% *}" 202 "a valid session-revoked pushed"
expect_eq "$(ask 3 4)" "EPERM EPERM EPERM" "alice's job after session-revoked"
expect_eq "$(ask 5 6)" "ok ok ok" "bob's job after alice's session-revoked"
expect_record '"workload":"ci:alice-job"' '"action":"exec"' '"verdict":"deny"' '"reason":"revoked"'

# The same token again is a replay.
r=$(push "$(cat "$T/body")")
case "$r" in "400 "*'"err":"invalid_request"'*) ;; *) fail "a replayed token: $r" ;; esac
st=$(actgate status) || fail "status"
echo "$st" | grep -q '^ssf.idp.accepted: 1$' || fail "status: $(echo "$st" | grep ssf)"
echo "$st" | grep -q '^ssf.idp.refused.invalid_key: 1$' || fail "status: $(echo "$st" | grep ssf)"
note "$(echo "$st" | grep '^ssf.idp.')"
exec 3>&- 4>&- 5>&- 6>&-

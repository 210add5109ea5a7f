# SSF push refusals change nothing: every class of bad token or request a
# transmitter (or anyone who can reach the endpoint) may send is answered as
# RFC 8935 says (400 and its err code; 413, 405) and leaves the principal's
# running workload allowed, the revocation list, the signal state file and
# the journal (no signal record) as they were; the counters in status say
# what was refused. Then a valid token still works.
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
openssl rsa -in "$T/idp.pem" -pubout -out "$T/idp.pub" 2>/dev/null || fail "openssl rsa -pubout"
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
    listen: 127.0.0.1:8090
    bearer_token_file: $T/bearer
    events:
      - https://schemas.openid.net/secevent/caep/event-type/session-revoked
YAML

SR=https://schemas.openid.net/secevent/caep/event-type/session-revoked
# token ALG KEY KID JTI [IAT_OFFSET [ISS [AUD [EVENT]]]]: a SET for alice@example.com.
token() {
	h=$(printf '{"alg":"%s","typ":"secevent+jwt","kid":"%s"}' "$1" "$3" | b64u)
	p=$(printf '{"iss":"%s","aud":"%s","jti":"%s","iat":%s,"sub_id":{"format":"email","email":"alice@example.com"},"events":{"%s":{}}}' \
		"${6:-https://idp.example.com}" "${7:-https://host.example.com/ssf}" "$4" \
		"$(($(date +%s) + ${5:-0}))" "${8:-$SR}" | b64u)
	case "$1" in
	none) s= ;;
	HS256) # keyed with the bytes of the transmitter's public key file
		s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -binary -mac HMAC \
			-macopt hexkey:"$(xxd -p "$2" | tr -d '\n')" | b64u) ;;
	*) s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$2" | b64u) ;;
	esac
	printf '%s.%s.%s' "$h" "$p" "$s"
}
# push BODY [CONTENT_TYPE [BEARER]]: prints "STATUS ERR"
push() {
	printf '%s' "$1" >"$T/body"
	set -- "${2:-application/secevent+jwt}" "${3-$(cat "$T/bearer")}"
	if [ -n "$2" ]; then
		code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST http://127.0.0.1:8090/ \
			-H "Content-Type: $1" -H "Authorization: Bearer $2" --data-binary @"$T/body")
	else
		code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST http://127.0.0.1:8090/ \
			-H "Content-Type: $1" --data-binary @"$T/body")
	fi
	err=$(sed -n 's/.*"err":"\([a-z_]*\)".*/\1/p' "$T/resp")
	echo "$code $err"
}
refused() { # refused WHAT EXPECTED ACTUAL
	expect_eq "$3" "$2" "$1"
	note "$1: $3"
}

mkdir -p "$T/state"
start_daemon --config "$T/actgated.yaml" --state-dir "$T/state"
listen_on 127.0.0.1 7001
start_batch a 3 4 --workload ci:alice-job --delegated-by alice@example.com
ask() {
	e=$(batch_ask 3 4 "exec $T/bin/tool")
	o=$(batch_ask 3 4 "open $T/file r")
	c=$(batch_ask 3 4 "connect 127.0.0.1 7001")
	echo "$e $o $c"
}
expect_eq "$(ask)" "ok ok ok" "alice's job before"
state_before=$(cat "$T/state/signals" 2>/dev/null | md5sum)
list_before=$(actgate revoke --list 2>&1)

good=$(token RS256 "$T/idp.pem" idp-1 used-1)
refused "alg none" "400 invalid_request" "$(push "$(token none - idp-1 n-1)")"
refused "HS256 keyed with the public key" "400 invalid_request" "$(push "$(token HS256 "$T/idp.pub" idp-1 h-1)")"
refused "another key, its own kid" "400 invalid_key" "$(push "$(token RS256 "$T/other.pem" other-1 k-1)")"
refused "another key, the transmitter's kid" "400 invalid_key" "$(push "$(token RS256 "$T/other.pem" idp-1 k-2)")"
refused "another issuer" "400 invalid_issuer" "$(push "$(token RS256 "$T/idp.pem" idp-1 i-1 0 https://evil.example.com)")"
refused "another audience" "400 invalid_audience" \
	"$(push "$(token RS256 "$T/idp.pem" idp-1 a-1 0 https://idp.example.com https://other.example.com)")"
refused "iat two days old" "400 invalid_request" "$(push "$(token RS256 "$T/idp.pem" idp-1 o-1 -172800)")"
refused "iat an hour ahead" "400 invalid_request" "$(push "$(token RS256 "$T/idp.pem" idp-1 f-1 3600)")"
refused "an event type the transmitter may not send" "400 access_denied" \
	"$(push "$(token RS256 "$T/idp.pem" idp-1 e-1 0 https://idp.example.com https://host.example.com/ssf \
		https://schemas.openid.net/secevent/caep/event-type/credential-change)")"
refused "no bearer token" "400 authentication_failed" "$(push "$good" application/secevent+jwt "")"
refused "a wrong bearer token" "400 authentication_failed" "$(push "$good" application/secevent+jwt wrong)"
refused "Content-Type application/json" "400 invalid_request" "$(push "$good" application/json)"
refused "not a compact JWS" "400 invalid_request" "$(push '{"iss":"https://idp.example.com"}')"
head -c 70000 /dev/zero | tr '\0' a >"$T/big"
refused "a body over max_request_bytes" "413 invalid_request" "$(push "$(cat "$T/big")")"
refused "GET" "405" "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8090/)"

expect_eq "$(ask)" "ok ok ok" "alice's job after every refusal"
expect_eq "$(cat "$T/state/signals" 2>/dev/null | md5sum)" "$state_before" "the signal state file"
expect_eq "$(actgate revoke --list 2>&1)" "$list_before" "the revocation list"
expect_no_record '"action":"signal"'
st=$(actgate status) || fail "status"
note "$(echo "$st" | grep '^ssf.idp.')"
echo "$st" | grep -q '^ssf.idp.accepted: 0$' || fail "status: $(echo "$st" | grep ssf)"
echo "$st" | grep -q '^ssf.idp.refused.invalid_key: 2$' || fail "status: $(echo "$st" | grep ssf)"
echo "$st" | grep -q '^ssf.idp.refused.authentication_failed: 2$' || fail "status: $(echo "$st" | grep ssf)"

# The token refused only for its bearer is itself good: it works.
refused "the good token with its bearer" "202 " "$(push "$good")"
expect_eq "$(ask)" "EPERM EPERM EPERM" "alice's job after the valid token"
refused "the same token again" "400 invalid_request" "$(push "$good")"
exec 3>&- 4>&-

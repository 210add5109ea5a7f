# A principal carried from outside (docs/delegation.md, "The principal from
# outside"): `actgate run --delegation-token FILE` with an RFC 8693 style
# JWT. Without a delegation_trust the token is refused, not trusted. With
# one, a valid token makes its sub the workload's principal and its records
# carry the act chain and jti; a forged token (signed by another key), an
# expired one, one for another audience, an unsigned one (alg none), one of
# another issuer and a --delegated-by that is not its sub are refused
# before anything runs, and no workload is made. Revoking the token's
# principal denies the workload it commissioned. Needs openssl in the VM.
. /actgate/lib.sh

command -v openssl >/dev/null 2>&1 || fail "openssl is needed in the VM (VMTEST_EXTRA_BINS=openssl)"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: agent}
spec:
  selector: {workloads: ["agent:*"]}
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
cat >"$T/trust.json" <<JSON
{"issuer": "https://idp.example.com", "audience": "actgate:vm",
 "keys": [{"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig", "e": "AQAB", "n": "$n"}]}
JSON

# token KEY ALG ISS AUD EXP: alice's token, the agent runner acting for her
# on behalf of ci-bot, signed with KEY (ALG none: unsigned).
token() {
	h=$(printf '{"alg":"%s","kid":"k1","typ":"JWT"}' "$2" | b64url)
	p=$(printf '{"iss":"%s","aud":"%s","sub":"alice@example.com","exp":%s,"jti":"tok-%s","act":{"sub":"agent-runner","act":{"sub":"ci-bot"}}}' \
		"$3" "$4" "$5" "$$" | b64url)
	if [ "$2" = none ]; then
		printf '%s.%s.' "$h" "$p"
	else
		s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$1" | b64url)
		printf '%s.%s.%s' "$h" "$p" "$s"
	fi
}
now=$(date +%s)
ISS=https://idp.example.com
token "$T/idp.pem" RS256 "$ISS" actgate:vm $((now + 3600)) >"$T/good.jwt"
token "$T/evil.pem" RS256 "$ISS" actgate:vm $((now + 3600)) >"$T/forged.jwt"
token "$T/idp.pem" RS256 "$ISS" actgate:vm $((now - 3600)) >"$T/expired.jwt"
token "$T/idp.pem" RS256 "$ISS" actgate:other-host $((now + 3600)) >"$T/audience.jwt"
token "$T/idp.pem" none "$ISS" actgate:vm $((now + 3600)) >"$T/none.jwt"
token "$T/idp.pem" RS256 https://evil.example.com actgate:vm $((now + 3600)) >"$T/issuer.jwt"

CGROUPS=$(grep -m1 cgroup2 /proc/self/mounts | cut -d' ' -f2)/actgate-$ACTGATE_SCENARIO
# refused WHAT EXPECTED [RUN-ARGS...]: the run is refused with EXPECTED in
# its error, its command never runs and no workload is made.
refused() {
	what=$1 expected=$2
	shift 2
	rm -f "$T/ran"
	actgate run --quiet --workload agent:tok "$@" -- touch "$T/ran" >"$T/run.out" 2>&1
	rc=$?
	note "$what: rc $rc: $(cat "$T/run.out")"
	[ "$rc" -ne 0 ] || fail "$what: the run was not refused"
	[ ! -e "$T/ran" ] || fail "$what: the command ran"
	grep -q "$expected" "$T/run.out" || fail "$what: expected '$expected' in: $(cat "$T/run.out")"
	ls "$CGROUPS" 2>/dev/null | grep -q '^agent_tok' && fail "$what: a workload was made: $(ls "$CGROUPS")"
	return 0
}

# 1. No delegation_trust configured: every token is refused, not trusted.
start_daemon
refused "a valid token without a trust file" "refused, not trusted" --delegation-token "$T/good.jwt"
stop_daemon

# 2. With the trust file.
start_daemon --delegation-trust "$T/trust.json"
refused "a forged token" "signature does not verify" --delegation-token "$T/forged.jwt"
refused "an expired token" "the token expired" --delegation-token "$T/expired.jwt"
refused "a token for another audience" "invalid_audience" --delegation-token "$T/audience.jwt"
refused "an unsigned token (alg none)" "unsigned token is not taken" \
	--delegation-token "$T/none.jwt"
# alg none with a signature beside it: refused by its alg, not taken as signed.
printf '%s%s\n' "$(cut -d. -f1,2 "$T/none.jwt")." "$(cut -d. -f3 "$T/good.jwt")" >"$T/none-sig.jwt"
refused "alg none with a signature" 'alg "none": an unsigned token is never taken' \
	--delegation-token "$T/none-sig.jwt"
refused "a token of another issuer" "invalid_issuer" --delegation-token "$T/issuer.jwt"
refused "--delegated-by that is not the token's sub" "is not the token's sub" \
	--delegated-by bob@example.com --delegation-token "$T/good.jwt"
grep -q "delegation token refused" "$T/actgated.log" || fail "the refusals are not logged"

# The valid token: alice is the principal, her actors and the jti are recorded.
start_batch a 3 4 --workload agent:tok --delegation-token "$T/good.jwt"
expect_eq "$(batch_ask 3 4 "open $T/file r")" ok "the workload of a valid token"
expect_record '"workload":"agent:tok"' '"action":"open"' "\"target\":\"$T/file\"" \
	'"principal":"alice@example.com"' \
	"\"chain\":\"alice@example.com[iss=$ISS;act=ci-bot,agent-runner;jti=tok-$$] > agent:tok#"
# Revoking the token's principal denies the workload it commissioned.
actgate revoke --principal alice@example.com --reason "token holder compromised" >/dev/null ||
	fail "revoke --principal alice@example.com"
expect_eq "$(batch_ask 3 4 "open $T/file r")" EPERM "after alice is revoked"
expect_record '"workload":"agent:tok"' '"verdict":"deny"' '"reason":"revoked"'
exec 3>&- 4>&-
exit 0

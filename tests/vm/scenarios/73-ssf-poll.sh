# SSF poll (RFC 8936): actgated polls a transmitter (a stub: busybox httpd
# and a CGI script written here) for signed Security Event Tokens. A polled
# session-revoked denies the principal's running workload's next exec, open
# and connect, and is acknowledged only once applied (the stub checks the
# revocation is in force when the ack arrives); a SET for another audience
# goes back in setErrs and changes nothing; when the request carrying an ack
# fails and the daemon is killed, the next daemon acknowledges it and the
# revocation holds: nothing is lost across the restart.
# Needs openssl in the VM: VMTEST_EXTRA_BINS="/usr/bin/openssl"
. /actgate/lib.sh

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
n=$(openssl rsa -in "$T/idp.pem" -noout -modulus | sed 's/^Modulus=//' | xxd -r -p | b64u)
printf '{"keys":[{"kty":"RSA","kid":"idp-1","use":"sig","alg":"RS256","n":"%s","e":"AQAB"}]}\n' \
	"$n" >"$T/jwks.json"
echo "poll-secret-$$" >"$T/bearer"

# The transmitter stub: POST /cgi-bin/poll takes ack and setErrs, answers
# with every queued SET not yet acknowledged; touching fail-acks makes the
# next request that carries an ack fail (500) without taking it.
S="$T/stub"
mkdir -p "$S/queue" "$S/acked" "$S/errs" "$T/www/cgi-bin"
: >"$S/log"
cat >"$T/www/cgi-bin/poll" <<SH
#!/bin/sh
S=$S
export ACTGATE_SOCKET=$ACTGATE_SOCKET
body=\$(head -c "\${CONTENT_LENGTH:-0}")
echo "request \$body" >>"\$S/log"
acks=\$(printf '%s' "\$body" | sed -n 's/.*"ack":\[\([^]]*\)\].*/\1/p' | tr -d '"' | tr ',' ' ')
if [ -n "\$acks" ] && [ -e "\$S/fail-acks" ]; then
	rm -f "\$S/fail-acks"
	echo "failed \$acks" >>"\$S/log"
	printf 'HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nfailing\n'
	exit 0
fi
for j in \$acks; do
	[ -e "\$S/queue/\$j" ] || { echo "ack \$j again" >>"\$S/log"; continue; }
	subject=\$(cat "\$S/queue/\$j.subject")
	if actgate revoke --list 2>/dev/null | grep -qF "\$subject"; then in_force=yes; else in_force=no; fi
	echo "ack \$j in-force=\$in_force" >>"\$S/log"
	mv "\$S/queue/\$j" "\$S/acked/\$j"
done
for f in "\$S"/queue/*; do
	j=\${f##*/}
	case "\$j" in *.subject|'*') continue ;; esac
	case "\$body" in *"\"\$j\":{\"err\""*)
		echo "setErr \$j" >>"\$S/log"; mv "\$f" "\$S/errs/\$j" ;;
	esac
done
printf 'Content-Type: application/json\r\n\r\n{"sets":{'
sep=
for f in "\$S"/queue/*; do
	j=\${f##*/}
	case "\$j" in *.subject|'*') continue ;; esac
	printf '%s"%s":"%s"' "\$sep" "\$j" "\$(cat "\$f")"
	sep=,
done
printf '},"moreAvailable":false}'
SH
chmod 0755 "$T/www/cgi-bin/poll"
httpd -f -p 127.0.0.1:8089 -h "$T/www" &
LISTENERS="${LISTENERS:-} $!"
wait_for 100 "the stub did not come up" probe_is ok actprobe connect 127.0.0.1 8089

cat >"$T/actgated.yaml" <<YAML
ssf:
  - name: idp
    issuer: https://idp.example.com
    audience: https://host.example.com/ssf
    jwks_file: $T/jwks.json
    delivery: poll
    poll_url: http://127.0.0.1:8089/cgi-bin/poll
    bearer_token_file: $T/bearer
    poll_interval: 200ms
YAML

# queue JTI EMAIL [AUDIENCE]: a signed session-revoked for EMAIL, offered by the stub.
queue() {
	h=$(printf '{"alg":"RS256","typ":"secevent+jwt","kid":"idp-1"}' | b64u)
	p=$(printf '{"iss":"https://idp.example.com","aud":"%s","jti":"%s","iat":%s,"sub_id":{"format":"email","email":"%s"},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{}}}' \
		"${3:-https://host.example.com/ssf}" "$1" "$(date +%s)" "$2" | b64u)
	s=$(printf '%s.%s' "$h" "$p" | openssl dgst -sha256 -sign "$T/idp.pem" | b64u)
	echo "$2" >"$S/queue/$1.subject"
	printf '%s.%s.%s' "$h" "$p" "$s" >"$S/queue/.$1"
	mv "$S/queue/.$1" "$S/queue/$1"
}
logged() { grep -q "$1" "$S/log"; }

mkdir -p "$T/state"
start_daemon --config "$T/actgated.yaml" --state-dir "$T/state"
listen_on 127.0.0.1 7001
start_batch a 3 4 --workload ci:alice-job --delegated-by alice@example.com
start_batch b 5 6 --workload ci:bob-job --delegated-by bob@example.com
start_batch c 7 8 --workload ci:carol-job --delegated-by carol@example.com
ask() {
	e=$(batch_ask "$1" "$2" "exec $T/bin/tool")
	o=$(batch_ask "$1" "$2" "open $T/file r")
	c=$(batch_ask "$1" "$2" "connect 127.0.0.1 7001")
	echo "$e $o $c"
}
expect_eq "$(ask 3 4)" "ok ok ok" "alice's job before"
wait_for 100 "the daemon never polled" logged "^request "

# A SET for another audience: setErrs, never ack, and nothing changes.
queue bad-1 carol@example.com https://other.example.com
wait_for 100 "bad-1 was not returned in setErrs ($(tail -n 3 "$S/log"))" logged "^setErr bad-1$"
logged "^ack bad-1" && fail "bad-1 was acknowledged"
expect_eq "$(ask 7 8)" "ok ok ok" "carol's job after a refused SET"

# A valid session-revoked: applied, then acknowledged.
queue p-1 alice@example.com
wait_for 100 "p-1 was not acknowledged ($(tail -n 3 "$S/log"))" logged "^ack p-1 "
expect_eq "$(grep "^ack p-1 " "$S/log")" "ack p-1 in-force=yes" "p-1 acknowledged only once applied"
expect_eq "$(ask 3 4)" "EPERM EPERM EPERM" "alice's job after the polled session-revoked"
expect_eq "$(ask 5 6)" "ok ok ok" "bob's job after alice's event"
expect_record '"workload":"ci:alice-job"' '"action":"exec"' '"verdict":"deny"' '"reason":"revoked"'

# The request carrying p-2's ack fails; the daemon is killed before it tries again.
touch "$S/fail-acks"
queue p-2 bob@example.com
wait_for 100 "the request with p-2's ack was not failed" logged "^failed .*p-2"
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
grep -q '"p-2"' "$T/state/ssf-idp.acks" || fail "p-2's ack was not saved: $(cat "$T/state/ssf-idp.acks" 2>&1)"
logged "^ack p-2" && fail "p-2 acknowledged by a failed request"

start_daemon --config "$T/actgated.yaml" --state-dir "$T/state"
wait_for 100 "the new daemon did not acknowledge p-2 ($(tail -n 3 "$S/log"))" logged "^ack p-2 "
expect_eq "$(grep "^ack p-2 " "$S/log")" "ack p-2 in-force=yes" "p-2 acknowledged only once applied"
expect_eq "$(ask 5 6)" "EPERM EPERM EPERM" "bob's job after the restart"
expect_eq "$(ask 3 4)" "EPERM EPERM EPERM" "alice's job after the restart"
expect_eq "$(ask 7 8)" "ok ok ok" "carol's job after the restart"
st=$(actgate status) || fail "status"
note "$(echo "$st" | grep '^ssf.idp.')"
echo "$st" | grep -q '^ssf.idp.delivery: poll$' || fail "status: $(echo "$st" | grep ssf)"
exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&-

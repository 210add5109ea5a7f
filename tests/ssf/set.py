#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""Security Event Tokens for tests/ssf/run.sh, signed with keys openssl made.

  set.py jwks KID:KEY.pem ...            a JWK set of the keys' public halves
  set.py sign KEY.pem KID ALG PAYLOAD    a compact JWS (ALG: RS256, PS256, ES256,
                                         none, HS256 keyed with the public key PEM)
  set.py payload ISS AUD JTI SUBJECT [EVENT [IAT_OFFSET]]   a SET payload (JSON)

Signatures come from `openssl dgst`; nothing here verifies (that is the code
under test).
"""
import base64
import hashlib
import hmac
import json
import re
import subprocess
import sys
import time


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          capture_output=True).stdout


def jwk(kid, pem):
    text = openssl("pkey", "-in", pem, "-pubout", "-text", "-noout").decode()
    if "ASN1 OID: prime256v1" in text:
        hexdump = re.search(r"pub:\s*((?:[0-9a-f]{2}:?\s*)+)", text).group(1)
        point = bytes.fromhex(re.sub(r"[^0-9a-f]", "", hexdump))
        return {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                "x": b64u(point[1:33]), "y": b64u(point[33:65])}
    mod = openssl("rsa", "-in", pem, "-pubin" if "PUBLIC" in open(pem).read() else "-in",
                  pem, "-noout", "-modulus").decode().strip().split("=", 1)[1]
    return {"kty": "RSA", "kid": kid, "use": "sig", "n": b64u(bytes.fromhex(mod)),
            "e": "AQAB"}


def der_to_raw(sig):
    # ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } -> r || s, 32 bytes each
    assert sig[0] == 0x30
    i = 2 if sig[1] < 0x80 else 3
    out = b""
    for _ in range(2):
        assert sig[i] == 0x02
        n = sig[i + 1]
        v = sig[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(32, b"\0")
        i += 2 + n
    return out


def sign(pem, kid, alg, payload):
    header = {"alg": alg, "typ": "secevent+jwt"}
    if kid != "-":
        header["kid"] = kid
    signing_input = (b64u(json.dumps(header).encode()) + "." +
                     b64u(payload.encode())).encode()
    if alg == "none":
        return signing_input.decode() + "."
    if alg == "HS256":
        key = open(pem, "rb").read()
        return signing_input.decode() + "." + b64u(
            hmac.new(key, signing_input, hashlib.sha256).digest())
    args = ["dgst", "-sha256", "-sign", pem]
    if alg == "PS256":
        args += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]
    sig = openssl(*args, data=signing_input)
    if alg == "ES256":
        sig = der_to_raw(sig)
    return signing_input.decode() + "." + b64u(sig)


def payload(iss, aud, jti, subject, event="session-revoked", iat_offset="0"):
    if "/" not in event:
        event = "https://schemas.openid.net/secevent/caep/event-type/" + event
    body = {}
    if event.endswith("/stream-updated"):
        body = {"status": "paused", "reason": "maintenance"}
    return json.dumps({
        "iss": iss, "aud": aud, "jti": jti, "iat": int(time.time()) + int(iat_offset),
        "sub_id": {"format": "email", "email": subject},
        "events": {event: body}})


def main(argv):
    if argv[1] == "jwks":
        keys = [jwk(*spec.split(":", 1)) for spec in argv[2:]]
        print(json.dumps({"keys": keys}))
    elif argv[1] == "sign":
        print(sign(argv[2], argv[3], argv[4], argv[5]))
    elif argv[1] == "payload":
        print(payload(*argv[2:]))
    else:
        sys.exit("set.py: unknown verb " + argv[1])


if __name__ == "__main__":
    main(sys.argv)

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A Shared Signals transmitter stub for tests/ssf/run.sh (poll delivery, RFC 8936).

  transmitter.py DIR ISSUER BEARER STATE_FILE

Listens on 127.0.0.1 (an ephemeral port, written to DIR/port) and serves:
  GET  /.well-known/ssf-configuration   issuer, jwks_uri, configuration_endpoint
  GET  /jwks                             DIR/jwks.json, read at each request
  GET  /stream                           the stream: poll delivery at /poll (bearer)
  POST /poll                             the SETs in DIR/queue/JTI not acknowledged yet
Every poll request goes to DIR/log as one JSON line: its ack and setErrs, and
for each acknowledged jti whether STATE_FILE (the receiver's saved signal
state) already named the SET's subject (DIR/queue/JTI.subject) when the ack
came: "ack_before_apply" lists those it did not. DIR/fail-acks, while it
exists, makes a request that carries acks fail with 500 (the knob is removed
after one failure); DIR/fail-all makes every poll fail.
"""
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DIR, ISSUER, BEARER, STATE = sys.argv[1:5]
QUEUE = os.path.join(DIR, "queue")
ACKED = os.path.join(DIR, "acked")


def state_text():
    try:
        with open(STATE, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def authorized(self):
        if self.headers.get("Authorization") != "Bearer " + BEARER:
            self.reply(401, {"error": "unauthorized"})
            return False
        return True

    def do_GET(self):
        base = "http://127.0.0.1:%d" % self.server.server_port
        if self.path == "/.well-known/ssf-configuration":
            self.reply(200, {"issuer": ISSUER, "jwks_uri": base + "/jwks",
                             "configuration_endpoint": base + "/stream",
                             "delivery_methods_supported": ["urn:ietf:rfc:8936"]})
        elif self.path == "/jwks":
            with open(os.path.join(DIR, "jwks.json")) as f:
                self.reply(200, json.load(f))
        elif self.path == "/stream" and self.authorized():
            self.reply(200, {"stream_id": "s1", "iss": ISSUER,
                             "delivery": {"method": "urn:ietf:rfc:8936",
                                          "endpoint_url": base + "/poll"}})
        elif self.path not in ("/stream",):
            self.reply(404, {})

    def do_POST(self):
        if self.path != "/poll" or not self.authorized():
            if self.path != "/poll":
                self.reply(404, {})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        acks = body.get("ack", [])
        errs = body.get("setErrs", {})
        state = state_text()
        entry = {"ack": acks, "setErrs": errs, "maxEvents": body.get("maxEvents"),
                 "ack_before_apply": []}
        for jti in acks:
            try:
                with open(os.path.join(QUEUE, jti + ".subject")) as f:
                    subject = f.read().strip()
            except FileNotFoundError:
                subject = None
            if subject and subject not in state:
                entry["ack_before_apply"].append(jti)
        fail = os.path.exists(os.path.join(DIR, "fail-all")) or (
            acks and os.path.exists(os.path.join(DIR, "fail-acks")))
        entry["answered"] = 500 if fail else 200
        with open(os.path.join(DIR, "log"), "a") as f:
            f.write(json.dumps(entry) + "\n")
        if fail:
            if os.path.exists(os.path.join(DIR, "fail-acks")):
                os.unlink(os.path.join(DIR, "fail-acks"))
            self.reply(500, {"error": "the stub fails this one"})
            return
        for jti in list(acks) + list(errs):
            for suffix in ("", ".subject"):
                src = os.path.join(QUEUE, jti + suffix)
                if os.path.exists(src):
                    os.rename(src, os.path.join(ACKED, jti + suffix))
        sets = {}
        for name in sorted(os.listdir(QUEUE)):
            if not name.endswith(".subject") and not name.startswith("."):
                with open(os.path.join(QUEUE, name)) as f:
                    sets[name] = f.read().strip()
        self.reply(200, {"sets": sets, "moreAvailable": False})


def main():
    os.makedirs(QUEUE, exist_ok=True)
    os.makedirs(ACKED, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write(str(server.server_port))
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()

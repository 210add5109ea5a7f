#!/usr/bin/env python3
# A small OTLP/HTTP logs receiver for the export tests, held to the OTLP
# specification's JSON encoding of ExportLogsServiceRequest
# (opentelemetry-proto logs/v1, protobuf's JSON mapping): POST /v1/logs,
# Content-Type application/json; resourceLogs[] of resource.attributes and
# scopeLogs[].logRecords[]; timeUnixNano a uint64 as a decimal string;
# severityNumber 1..24; attributes as {key, value: {stringValue|intValue|...}}.
# A request that breaks these gets 400 and a line in OUT.errors; a good one
# 200 and "{}" (ExportLogsServiceResponse), and one line in OUT per log record:
#   service.name=S host.name=H host.id=I seq=N sev=N BODY
# While the file REFUSE exists, every request gets 503 (the sink retries).
#
#   otlp-receiver.py PORTFILE OUT REFUSE
import http.server
import json
import os
import sys

portfile, out, refuse = sys.argv[1:4]
VALUE_KINDS = {"stringValue", "intValue", "boolValue", "doubleValue", "arrayValue",
               "kvlistValue", "bytesValue"}


def attributes(lst, where):
    if not isinstance(lst, list):
        raise ValueError(f"{where}: attributes must be an array")
    d = {}
    for a in lst:
        if not isinstance(a, dict) or set(a) != {"key", "value"} or not isinstance(a["key"], str):
            raise ValueError(f"{where}: an attribute must be {{key, value}}: {a!r}")
        v = a["value"]
        if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in VALUE_KINDS:
            raise ValueError(f"{where}: {a['key']}: an AnyValue has one known member: {v!r}")
        kind, val = next(iter(v.items()))
        if kind == "intValue":
            if not (isinstance(val, int) or (isinstance(val, str) and val.lstrip("-").isdigit())):
                raise ValueError(f"{where}: {a['key']}: intValue {val!r}")
            val = int(val)
        elif kind == "stringValue" and not isinstance(val, str):
            raise ValueError(f"{where}: {a['key']}: stringValue {val!r}")
        d[a["key"]] = val
    return d


def records(req):
    lines = []
    for rl in req["resourceLogs"]:
        res = attributes(rl["resource"]["attributes"], "resource")
        for key in ("service.name", "host.name"):
            if not res.get(key):
                raise ValueError(f"resource: {key} missing")
        for sl in rl["scopeLogs"]:
            if not isinstance(sl["scope"].get("name"), str):
                raise ValueError("scope.name missing")
            for lr in sl["logRecords"]:
                t = lr["timeUnixNano"]
                if not (isinstance(t, int) or (isinstance(t, str) and t.isdigit())):
                    raise ValueError(f"timeUnixNano {t!r}")
                sev = lr["severityNumber"]
                if not isinstance(sev, int) or not 1 <= sev <= 24:
                    raise ValueError(f"severityNumber {sev!r}")
                body = lr["body"]["stringValue"]
                json.loads(body)  # actgate's event: a JSON object
                attrs = attributes(lr.get("attributes", []), "logRecord")
                lines.append(f"service.name={res['service.name']} host.name={res['host.name']} "
                             f"host.id={res.get('host.id', '')} seq={attrs['actgate.seq']} "
                             f"sev={sev} {body}\n")
    return lines


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        if os.path.exists(refuse):
            self.reply(503, '{"message":"refusing (test)"}')
            return
        try:
            if self.path != "/v1/logs":
                raise ValueError(f"path {self.path}")
            if self.headers.get("Content-Type") != "application/json":
                raise ValueError(f"Content-Type {self.headers.get('Content-Type')}")
            lines = records(json.loads(data))
        except (ValueError, KeyError, TypeError) as e:
            with open(out + ".errors", "a") as f:
                f.write(f"{e!r}\n")
            self.reply(400, json.dumps({"message": str(e)}))
            return
        with open(out, "a") as f:
            f.writelines(lines)
        self.reply(200, "{}")


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(f"{server.server_address[1]}\n")
os.rename(portfile + ".tmp", portfile)
server.serve_forever()

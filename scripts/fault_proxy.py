#!/usr/bin/env python3
"""An HTTP proxy in front of moto that makes it behave more like a busy AWS.

For Lambda and Step Functions calls it can, at configurable rates drawn from
a seeded generator:

- throttle: answer without forwarding, as AWS does when over a quota
  (Lambda: 429 ``TooManyRequestsException``; Step Functions: 400
  ``ThrottlingException``, each with the service's own error body);
- error: answer 500 without forwarding (the service's internal error shape);
- lose: forward, let moto act, then answer 500, so the client retries a call
  that already took effect (the case that breaks naive idempotency);
- delay every request by a fixed latency.

It also pages ListFunctions as AWS does (moto returns every function in one
page), so call counts match AWS's.

    python scripts/fault_proxy.py --port P --target http://127.0.0.1:MOTO
        [--seed N] [--throttle-rate R] [--error-rate R] [--lose-rate R]
        [--latency-ms MS] [--page-size 50]

Change settings at run time with ``POST /__fault_proxy/config`` (JSON with
any of seed, throttle_rate, error_rate, lose_rate, latency_ms, page_size,
services, lose_next); ``lose_next`` lists operations (``PublishVersion``,
``UpdateStateMachine``, ...) whose next call each is lost, for tests that
need one given response dropped; read counters with ``GET /__fault_proxy/stats`` and zero them
with ``POST /__fault_proxy/stats/reset``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

HOP_HEADERS = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
LIST_FUNCTIONS = re.compile(r"^/2015-03-31/functions/?$")
# The Lambda REST routes a targeted loss can name (Step Functions names its operation in X-Amz-Target).
LAMBDA_OPERATIONS = [
    ("POST", re.compile(r"^/2015-03-31/functions/?$"), "CreateFunction"),
    ("POST", re.compile(r"^/2015-03-31/functions/[^/]+/versions$"), "PublishVersion"),
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/code$"), "UpdateFunctionCode"),
    ("PUT", re.compile(r"^/2015-03-31/functions/[^/]+/configuration$"), "UpdateFunctionConfiguration"),
]


class Settings:
    """Mutable settings and counters, shared by the handler threads under one lock."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.lock = threading.Lock()
        self.target = urlsplit(args.target)
        self.throttle_rate = args.throttle_rate
        self.error_rate = args.error_rate
        self.lose_rate = args.lose_rate
        self.latency_ms = args.latency_ms
        self.page_size = args.page_size
        self.services = {"lambda", "states"}
        self.random = random.Random(args.seed)
        self.stats: dict[str, int] = {}
        self.lose_next: list[str] = []

    def update(self, changes: dict[str, Any]) -> None:
        with self.lock:
            for key in ("throttle_rate", "error_rate", "lose_rate", "latency_ms", "page_size"):
                if key in changes:
                    setattr(self, key, type(getattr(self, key))(changes[key]))
            if "services" in changes:
                self.services = set(changes["services"])
            if "seed" in changes:
                self.random = random.Random(changes["seed"])
            if "lose_next" in changes:
                self.lose_next = list(changes["lose_next"])

    def lose_targeted(self, operation: str) -> bool:
        """True once for each listed operation: its next call is lost."""
        with self.lock:
            if operation not in self.lose_next:
                return False
            self.lose_next.remove(operation)
            self.count(f"lost.{operation}")
            return True

    def decide(self, service: str) -> str:
        """forward | throttle | error | lose, drawn in request order from the seeded generator."""
        with self.lock:
            self.count(f"{service}.requests")
            if service not in self.services:
                return "forward"
            draw = self.random.random()
            for outcome, rate in (("throttle", self.throttle_rate), ("error", self.error_rate), ("lose", self.lose_rate)):
                if draw < rate:
                    self.count(f"{service}.{outcome}")
                    return outcome
                draw -= rate
            return "forward"

    def count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1


def service_of(headers: Any) -> str:
    match = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    return match.group(1) if match else "other"


def operation_of(command: str, path: str, headers: Any) -> str:
    target = headers.get("X-Amz-Target", "")
    if target:
        return target.split(".")[-1]
    for method, route, name in LAMBDA_OPERATIONS:
        if command == method and route.match(urlsplit(path).path):
            return name
    return ""


def error_reply(service: str, outcome: str) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    if service == "lambda":
        if outcome == "throttle":
            body = {"Reason": "CallerRateLimitExceeded", "Type": "User", "message": "Rate exceeded"}
            return 429, {"x-amzn-ErrorType": "TooManyRequestsException", "x-amzn-RequestId": request_id, "Content-Type": "application/json"}, json.dumps(body).encode()
        body = {"Type": "Service", "message": "An internal error occurred (injected by fault_proxy)"}
        return 500, {"x-amzn-ErrorType": "ServiceException", "x-amzn-RequestId": request_id, "Content-Type": "application/json"}, json.dumps(body).encode()
    headers = {"x-amzn-RequestId": request_id, "Content-Type": "application/x-amz-json-1.0"}
    if outcome == "throttle":
        return 400, headers, json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
    return 500, headers, json.dumps({"__type": "InternalFailure", "message": "An internal error occurred (injected by fault_proxy)"}).encode()


class Proxy(BaseHTTPRequestHandler):
    settings: Settings
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's signature
        pass

    def do_GET(self) -> None:
        self.handle_any()

    def do_POST(self) -> None:
        self.handle_any()

    def do_PUT(self) -> None:
        self.handle_any()

    def do_DELETE(self) -> None:
        self.handle_any()

    def do_PATCH(self) -> None:
        self.handle_any()

    def do_HEAD(self) -> None:
        self.handle_any()

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__fault_proxy/"):
            self.control(body)
            return
        settings = self.settings
        if settings.latency_ms > 0:
            time.sleep(settings.latency_ms / 1000)
        service = service_of(self.headers)
        outcome = settings.decide(service)
        if settings.lose_targeted(operation_of(self.command, self.path, self.headers)):
            outcome = "lose"
        if outcome in ("throttle", "error"):
            self.reply(*error_reply(service, outcome))
            return
        status, headers, payload = self.forward(body)
        if outcome == "lose":
            self.reply(*error_reply(service, "error"))
            return
        self.reply(status, headers, payload)

    def forward(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        target = self.settings.target
        path = self.path
        split = urlsplit(path)
        paged = self.command == "GET" and LIST_FUNCTIONS.match(split.path) and self.settings.page_size > 0
        query = dict(parse_qsl(split.query))
        if paged:
            path = split.path + ("?" + urlencode({k: v for k, v in query.items() if k not in ("Marker", "MaxItems")}) if query else "")
        headers = {key: value for key, value in self.headers.items() if key.lower() not in HOP_HEADERS}
        connection = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port or 80, timeout=300)
        try:
            connection.request(self.command, path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            reply_headers = {key: value for key, value in response.getheaders() if key.lower() not in HOP_HEADERS}
            status = response.status
        finally:
            connection.close()
        if paged and status == 200:
            payload = self.page(payload, query)
        return status, reply_headers, payload

    def page(self, payload: bytes, query: dict[str, str]) -> bytes:
        listing = json.loads(payload)
        functions = listing.get("Functions", [])
        start = int(base64.b64decode(query["Marker"]).decode()) if "Marker" in query else 0
        size = min(int(query.get("MaxItems", 50)), self.settings.page_size)
        listing["Functions"] = functions[start : start + size]
        if start + size < len(functions):
            listing["NextMarker"] = base64.b64encode(str(start + size).encode()).decode()
        else:
            listing.pop("NextMarker", None)
        return json.dumps(listing).encode()

    def control(self, body: bytes) -> None:
        settings = self.settings
        if self.path == "/__fault_proxy/config" and self.command == "POST":
            settings.update(json.loads(body or b"{}"))
        elif self.path == "/__fault_proxy/stats/reset" and self.command == "POST":
            with settings.lock:
                settings.stats.clear()
        elif not (self.path == "/__fault_proxy/stats" and self.command == "GET"):
            self.reply(404, {"Content-Type": "application/json"}, b'{"error": "unknown control path"}')
            return
        with settings.lock:
            state = {
                "throttle_rate": settings.throttle_rate,
                "error_rate": settings.error_rate,
                "lose_rate": settings.lose_rate,
                "latency_ms": settings.latency_ms,
                "page_size": settings.page_size,
                "services": sorted(settings.services),
                "lose_next": list(settings.lose_next),
                "stats": dict(settings.stats),
            }
        self.reply(200, {"Content-Type": "application/json"}, json.dumps(state).encode())

    def reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--target", required=True, help="moto's URL, e.g. http://127.0.0.1:5000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--throttle-rate", type=float, default=0.0)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--lose-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--page-size", type=int, default=50, help="ListFunctions page size (AWS: 50); 0 leaves moto's single page")
    args = parser.parse_args(argv)
    Proxy.settings = Settings(args)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    server.daemon_threads = True
    print(f"fault proxy on 127.0.0.1:{args.port} -> {args.target}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

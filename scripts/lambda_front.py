"""A local Lambda runtime in front of moto server.

moto's Step Functions engine invokes Lambda on MOTO_PORT. This front listens
there: it answers `Invoke` by running the Kedro handler in its own process
(like a cold Lambda) with the function's environment, and forwards every other
request to moto unchanged. The action never knows: it only sees
AWS_ENDPOINT_URL.

usage: lambda_front.py --port P --moto-port M --python PY --project DIR [--helper-root DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations(?:\?.*)?$")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class Settings:
    moto: str
    python: str
    project: str
    helper_root: str
    timeout: float
    log = None


def function_name(raw: str) -> tuple[str, str | None]:
    """`name`, `name:qualifier` or an ARN (possibly with version) -> (name, qualifier)."""
    raw = unquote(raw)
    if raw.startswith("arn:"):
        parts = raw.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    name, _, qualifier = raw.partition(":")
    return name, qualifier or None


def function_environment(name: str, qualifier: str | None) -> dict[str, str]:
    """The function's configured environment variables, read back from moto."""
    url = f"{Settings.moto}/2015-03-31/functions/{name}/configuration"
    if qualifier:
        url += f"?Qualifier={qualifier}"
    # moto routes by the service named in the SigV4 credential scope; it checks no signature.
    request = urllib.request.Request(url, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/lambda/aws4_request, "
                         "SignedHeaders=host, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            config = json.load(response)
    except urllib.error.HTTPError:
        return {}
    return dict((config.get("Environment") or {}).get("Variables") or {})


def run_handler(name: str, qualifier: str | None, payload: bytes) -> tuple[bytes, bool, float]:
    """Runs `python -m kedro_sfn.handler` in a fresh process; returns (body, failed, seconds)."""
    env = dict(os.environ)
    env.update(function_environment(name, qualifier))
    # Lambda hands every function its role's credentials and region; moto accepts any.
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_REGION", "us-east-1"), ("AWS_DEFAULT_REGION", "us-east-1")):
        env.setdefault(key, value)
    env["KEDRO_SFN_PROJECT_PATH"] = Settings.project
    env["AWS_ENDPOINT_URL"] = Settings.moto
    env["AWS_LAMBDA_FUNCTION_NAME"] = name
    env["PYTHONPATH"] = os.pathsep.join(p for p in (Settings.helper_root, env.get("PYTHONPATH")) if p)
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [Settings.python, "-m", "kedro_sfn.handler", "--event", payload.decode() or "{}"],
            capture_output=True, env=env, cwd=Settings.project, timeout=Settings.timeout,
        )
    except subprocess.TimeoutExpired:
        body = {"errorType": "Sandbox.Timedout", "errorMessage": f"Task timed out after {Settings.timeout:.0f} seconds"}
        return json.dumps(body).encode(), True, time.monotonic() - started
    seconds = time.monotonic() - started
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    last = out[-1] if out else ""
    if Settings.log:
        Settings.log.write(proc.stderr.decode(errors="replace"))
        Settings.log.flush()
    try:
        json.loads(last)
        body = last.encode()
    except ValueError:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-20:]
        body = json.dumps({"errorType": "Runtime.ExitError",
                           "errorMessage": f"handler exited {proc.returncode} without a result",
                           "stackTrace": tail}).encode()
        return body, True, seconds
    return body, proc.returncode != 0, seconds


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:  # keep stderr for handler logs
        pass

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _forward(self) -> None:
        body = self._body()
        request = urllib.request.Request(Settings.moto + self.path, data=body or None, method=self.command)
        for key, value in self.headers.items():
            if key.lower() not in HOP_HEADERS:
                request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                status, data, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, data, headers = error.code, error.read(), error.headers
        self._reply(status, data, {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS})

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        match = INVOKE.match(self.path)
        if not match:
            self._forward()
            return
        name, qualifier = function_name(match.group("name"))
        body, failed, seconds = run_handler(name, qualifier, self._body())
        if Settings.log:
            Settings.log.write(f"[lambda-front] {name} {'FAILED' if failed else 'ok'} in {seconds:.1f}s\n")
            Settings.log.flush()
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": qualifier or "$LATEST"}
        if failed:
            headers["X-Amz-Function-Error"] = "Unhandled"
        self._reply(200, body, headers)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto-port", type=int, required=True)
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--project", required=True)
    parser.add_argument("--helper-root", default=os.path.join(os.path.dirname(__file__), "..", "python"))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    Settings.moto = f"http://127.0.0.1:{args.moto_port}"
    Settings.python = args.python
    Settings.project = os.path.abspath(args.project)
    Settings.helper_root = os.path.abspath(args.helper_root)
    Settings.timeout = args.timeout
    Settings.log = sys.stderr
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Front)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"lambda front on 127.0.0.1:{args.port} -> moto 127.0.0.1:{args.moto_port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()

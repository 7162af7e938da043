"""A local Lambda in front of moto server.

moto's Step Functions engine invokes Lambda on MOTO_PORT. This front listens
there, answers `Invoke` itself and forwards every other request to moto
unchanged. The action never knows: it only sees AWS_ENDPOINT_URL.

Two ways to answer an invoke:

- ``--mode image`` (what the demo and the end-to-end tests use): the
  function's own image, the digest moto holds for it, pulled from the local
  registry and run in the Docker engine through Lambda's runtime contract:
  the runtime interface emulator (aws-lambda-rie) wraps the image's own
  ENTRYPOINT and CMD, exactly as AWS documents for testing images locally.
  One warm container per function version, kept ``--keep-warm`` seconds
  after its last invoke, more when parallel branches invoke it at once. The
  container gets the function's environment and memory, a read-only root
  with a writable /tmp, a non-root user, and the function's timeout (a
  timed-out invoke returns Lambda's ``Sandbox.Timedout``).
- ``--mode host`` (a fast mode for unit-level tests only): runs
  ``python -m kedro_sfn.handler`` from a host interpreter and project folder.
  It proves nothing about the image.

Every invoke is logged: function, image digest, cold or warm, seconds.

The same port answers the ECS calls of moto's ``ecs:runTask.sync`` Tasks (RunTask,
DescribeTasks, StopTask) by running the task definition's container: see ecs_front.py.

usage: lambda_front.py --port P --moto-port M [--mode image|host]
       [--docker-host unix://...] [--rie PATH] [--keep-warm S]
       [--python PY --project DIR [--helper-root DIR]]   (host mode)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ecs_front import EcsFront  # noqa: E402

INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations(?:\?.*)?$")
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}
# Lambda runs function code as this user (sbx_user1051), never as root.
LAMBDA_USER = "993:990"
RIE_IN_CONTAINER = "/opt/kedro-sfn-local/aws-lambda-rie"
# moto routes by the service named in the SigV4 credential scope; it checks no signature.
LAMBDA_AUTH = ("AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/lambda/aws4_request, "
               "SignedHeaders=host, Signature=0")


class Settings:
    moto: str
    mode: str = "image"
    docker_env: dict[str, str] = {}
    rie: str = ""
    keep_warm: float = 300.0
    python: str = sys.executable
    project: str = ""
    helper_root: str = ""
    log = sys.stderr
    log_lock = threading.Lock()
    ecs: "EcsFront | None" = None


def log(line: str) -> None:
    with Settings.log_lock:
        Settings.log.write(line.rstrip("\n") + "\n")
        Settings.log.flush()


def function_name(raw: str) -> tuple[str, str | None]:
    """`name`, `name:qualifier` or an ARN (possibly with version) -> (name, qualifier)."""
    raw = unquote(raw)
    if raw.startswith("arn:"):
        parts = raw.split(":")
        return parts[6], (parts[7] if len(parts) > 7 else None)
    name, _, qualifier = raw.partition(":")
    return name, qualifier or None


def get_function(name: str, qualifier: str | None) -> dict:
    """GetFunction from moto: configuration and code (ImageUri) of the version invoked."""
    url = f"{Settings.moto}/2015-03-31/functions/{name}"
    if qualifier:
        url += f"?Qualifier={qualifier}"
    request = urllib.request.Request(url, headers={"Authorization": LAMBDA_AUTH})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def lambda_environment(name: str, config: dict) -> dict[str, str]:
    """What Lambda sets for every function, then the function's own variables."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        # The emulated AWS: the function's SDK calls (S3 for its datasets) go to moto.
        "AWS_ENDPOINT_URL": Settings.moto,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": str(config.get("Version") or "$LATEST"),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.get("MemorySize") or 128),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(config.get("Timeout") or 3),
    }
    env.update((config.get("Environment") or {}).get("Variables") or {})
    return env


def error_body(error_type: str, message: str, trace: list[str] | None = None) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": trace or []}).encode()


# --- image mode --------------------------------------------------------------------------------


def docker(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["docker", *args], env=Settings.docker_env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:2])} failed: {(result.stderr or result.stdout).strip()[-1500:]}")
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_pull_lock = threading.Lock()


def image_config(image: str) -> dict:
    """The image's config (Entrypoint, Cmd), pulling it from the registry on first use."""
    with _pull_lock:
        found = docker("image", "inspect", "--format", "{{json .Config}}", image, check=False)
        if found.returncode != 0:
            started = time.monotonic()
            docker("pull", "--quiet", image)
            log(f"[lambda] pulled {image} in {time.monotonic() - started:.1f}s")
            found = docker("image", "inspect", "--format", "{{json .Config}}", image)
    return json.loads(found.stdout)


@dataclass
class Container:
    id: str
    port: int
    image: str
    last_used: float = field(default_factory=time.monotonic)

    def stop(self) -> None:
        docker("rm", "--force", self.id, check=False, timeout=60)


class Pool:
    """Warm containers by function version; one invoke at a time each, as Lambda runs them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: dict[tuple[str, ...], list[Container]] = {}
        self.busy: set[str] = set()
        self.all: dict[str, Container] = {}

    def take(self, key: tuple[str, ...]) -> Container | None:
        with self.lock:
            free = self.idle.get(key) or []
            if free:
                container = free.pop()
                self.busy.add(container.id)
                return container
        return None

    def add_busy(self, container: Container) -> None:
        with self.lock:
            self.all[container.id] = container
            self.busy.add(container.id)

    def give_back(self, key: tuple[str, ...], container: Container) -> None:
        with self.lock:
            self.busy.discard(container.id)
            container.last_used = time.monotonic()
            self.idle.setdefault(key, []).append(container)

    def discard(self, container: Container) -> None:
        with self.lock:
            self.busy.discard(container.id)
            self.all.pop(container.id, None)
            for free in self.idle.values():
                if container in free:
                    free.remove(container)
        container.stop()

    def reap(self, older_than: float) -> None:
        """Stops containers idle for longer than `older_than` seconds (Lambda freezes, then recycles)."""
        now = time.monotonic()
        stale = []
        with self.lock:
            for free in self.idle.values():
                for container in list(free):
                    if now - container.last_used > older_than:
                        free.remove(container)
                        stale.append(container)
            for container in stale:
                self.all.pop(container.id, None)
        for container in stale:
            container.stop()

    def stop_all(self) -> None:
        with self.lock:
            containers = list(self.all.values())
            self.all.clear()
            self.idle.clear()
        for container in containers:
            container.stop()


POOL = Pool()


def start_container(name: str, image: str, config: dict, env: dict[str, str]) -> Container:
    """`docker run` of the function's image under the runtime interface emulator."""
    image_cfg = image_config(image)
    command = [*(image_cfg.get("Entrypoint") or []), *(image_cfg.get("Cmd") or [])]
    if not command:
        raise RuntimeError(f"image {image} has neither ENTRYPOINT nor CMD")
    port, api_port = free_port(), free_port()
    memory = int(config.get("MemorySize") or 128)
    argv = ["run", "--detach", "--rm", "--network", "host", "--read-only",
            "--tmpfs", f"/tmp:rw,exec,size={int((config.get('EphemeralStorage') or {}).get('Size') or 512)}m",
            "--user", LAMBDA_USER, "--memory", f"{memory}m",
            "--volume", f"{Settings.rie}:{RIE_IN_CONTAINER}:ro",
            "--label", "kedro-sfn-local-lambda=1", "--label", f"kedro-sfn-function={name}",
            "--entrypoint", RIE_IN_CONTAINER]
    for key, value in sorted(env.items()):
        argv += ["--env", f"{key}={value}"]
    argv += [image, "--runtime-interface-emulator-address", f"127.0.0.1:{port}",
             "--runtime-api-address", f"127.0.0.1:{api_port}", *command]
    container_id = docker(*argv, timeout=120).stdout.strip()
    container = Container(container_id, port, image)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.2)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return container
        if docker("inspect", "--format", "{{.State.Running}}", container_id, check=False).stdout.strip() != "true":
            break
        time.sleep(0.05)
    logs = docker("logs", "--tail", "40", container_id, check=False)
    container.stop()
    raise RuntimeError(f"the runtime emulator in {image} did not start: {(logs.stdout + logs.stderr)[-2000:]}")


def invoke_image(name: str, qualifier: str | None, payload: bytes) -> tuple[bytes, bool, str]:
    """Invoke through a warm or new container; returns (body, failed, description for the log)."""
    function = get_function(name, qualifier)
    config = function.get("Configuration") or {}
    code = function.get("Code") or {}
    image = code.get("ImageUri") or ""
    if not image:
        return error_body("InvalidImage", f"function {name} has no ImageUri (PackageType Image expected)"), True, "no image"
    env = lambda_environment(name, config)
    key = (name, str(config.get("Version") or qualifier or "$LATEST"), image, json.dumps(env, sort_keys=True))
    container = POOL.take(key)
    temperature = "warm"
    if container is None:
        temperature = "cold"
        container = start_container(name, image, config, env)
        POOL.add_busy(container)
    timeout = float(config.get("Timeout") or 3)
    request = urllib.request.Request(f"http://127.0.0.1:{container.port}/2015-03-31/functions/function/invocations",
                                     data=payload or b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    digest = image.rsplit("@", 1)[-1][:19] if "@" in image else image
    description = f"{temperature} {digest}"
    try:
        with urllib.request.urlopen(request, timeout=timeout + 5) as response:
            body = response.read()
    except (TimeoutError, socket.timeout, urllib.error.URLError) as exc:
        if isinstance(exc, urllib.error.URLError) and not isinstance(exc.reason, (TimeoutError, socket.timeout)):
            tail = docker("logs", "--tail", "30", container.id, check=False)
            POOL.discard(container)
            return error_body("Runtime.ExitError", f"the runtime exited: {exc.reason}",
                              (tail.stdout + tail.stderr).splitlines()[-20:]), True, description
        # Lambda stops a function at its timeout and the next invoke starts cold.
        POOL.discard(container)
        return error_body("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"), True, description
    if body.startswith(b"Task timed out after"):
        # The emulator's own timeout answer is plain text; Lambda's is this error object.
        POOL.discard(container)
        return error_body("Sandbox.Timedout", body.decode(errors="replace").strip()), True, description
    failed = is_error(body)
    if failed and (b"Sandbox.Timedout" in body or b"Runtime.ExitError" in body):
        POOL.discard(container)
    else:
        POOL.give_back(key, container)
    return body, failed, description


def is_error(body: bytes) -> bool:
    """The emulator answers 200 for function errors too: Lambda's error object is the sign."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        return False
    return isinstance(data, dict) and "errorMessage" in data and ("errorType" in data or "stackTrace" in data)


def reaper() -> None:
    while True:
        time.sleep(5)
        POOL.reap(Settings.keep_warm)


# --- host mode ---------------------------------------------------------------------------------


def invoke_host(name: str, qualifier: str | None, payload: bytes) -> tuple[bytes, bool, str]:
    """Runs `python -m kedro_sfn.handler` in a fresh host process (unit-level fast mode)."""
    function = get_function(name, qualifier)
    config = function.get("Configuration") or {}
    env = dict(os.environ)
    env.update(lambda_environment(name, config))
    env["KEDRO_SFN_PROJECT_PATH"] = Settings.project
    env["PYTHONPATH"] = os.pathsep.join(p for p in (Settings.helper_root, env.get("PYTHONPATH")) if p)
    timeout = float(config.get("Timeout") or 900)
    try:
        proc = subprocess.run(
            [Settings.python, "-m", "kedro_sfn.handler", "--event", payload.decode() or "{}"],
            capture_output=True, env=env, cwd=Settings.project, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return error_body("Sandbox.Timedout", f"Task timed out after {timeout:.2f} seconds"), True, "host"
    log(proc.stderr.decode(errors="replace"))
    out = proc.stdout.decode(errors="replace").strip().splitlines()
    last = out[-1] if out else ""
    try:
        json.loads(last)
    except ValueError:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-20:]
        return error_body("Runtime.ExitError", f"handler exited {proc.returncode} without a result", tail), True, "host"
    return last.encode(), proc.returncode != 0, "host"


# --- HTTP ----------------------------------------------------------------------------------------


class Front(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:  # the invoke log is ours
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
        target = self.headers.get("X-Amz-Target") or ""
        if Settings.ecs is not None and Settings.ecs.handles(target):
            status, answer = Settings.ecs.answer(target, self._body())
            self._reply(status, json.dumps(answer).encode(), {"Content-Type": "application/x-amz-json-1.1"})
            return
        match = INVOKE.match(self.path)
        if not match:
            self._forward()
            return
        name, qualifier = function_name(match.group("name"))
        payload = self._body()
        started = time.monotonic()
        try:
            invoke = invoke_image if Settings.mode == "image" else invoke_host
            body, failed, description = invoke(name, qualifier, payload)
        except Exception as exc:  # noqa: BLE001 - the front must answer, as Lambda does
            body, failed, description = error_body("ServiceException", f"local Lambda: {exc}"), True, "error"
        seconds = time.monotonic() - started
        outcome = "FAILED" if failed else "ok"
        log(f"[lambda] {name}:{qualifier or '$LATEST'} {description} {seconds:.2f}s {outcome}")
        headers = {"Content-Type": "application/json", "X-Amz-Executed-Version": qualifier or "$LATEST"}
        if failed:
            headers["X-Amz-Function-Error"] = "Unhandled"
        self._reply(200, body, headers)

    do_GET = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto-port", type=int, required=True)
    parser.add_argument("--mode", choices=("image", "host"), default="image")
    parser.add_argument("--docker-host", default=os.environ.get("DOCKER_HOST", ""))
    parser.add_argument("--rie", default="", help="aws-lambda-rie binary, mounted into each container")
    parser.add_argument("--keep-warm", type=float, default=300.0, help="seconds an idle container stays warm")
    parser.add_argument("--python", default=sys.executable, help="host mode: the project's interpreter")
    parser.add_argument("--project", default="", help="host mode: the Kedro project folder")
    parser.add_argument("--helper-root", default=os.path.join(os.path.dirname(__file__), "..", "python"))
    args = parser.parse_args()
    Settings.moto = f"http://127.0.0.1:{args.moto_port}"
    Settings.mode = args.mode
    if args.mode == "image":
        if not args.rie or not os.path.isfile(args.rie):
            parser.error("--mode image needs --rie PATH (aws-lambda-rie; `make tools` builds it)")
        Settings.rie = os.path.abspath(args.rie)
        Settings.docker_env = dict(os.environ, **({"DOCKER_HOST": args.docker_host} if args.docker_host else {}))
        Settings.keep_warm = args.keep_warm
        threading.Thread(target=reaper, daemon=True).start()
    else:
        if not args.project:
            parser.error("--mode host needs --project DIR")
        Settings.python = args.python
        Settings.project = os.path.abspath(args.project)
        Settings.helper_root = os.path.abspath(args.helper_root)
    Settings.ecs = EcsFront(Settings.moto, log, Settings.mode, docker if Settings.mode == "image" else None,
                            Settings.python, Settings.project, Settings.helper_root)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Front)
    server.daemon_threads = True

    def shutdown(*_: object) -> None:
        POOL.stop_all()
        os._exit(0)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"lambda front ({args.mode}) on 127.0.0.1:{args.port} -> moto 127.0.0.1:{args.moto_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Start and stop the local AWS stack on loopback: the one place that does.

Today the stack is moto server (ECR, Lambda, Step Functions, IAM, S3) and,
on request, the fault proxy in front of it. Other servers (the Lambda front
on MOTO_PORT, the Docker registry) join as more components in this file.

    python scripts/local_stack.py start --state-dir DIR [--moto-port N]
        [--invoke-port N] [--fault-proxy] [--stub-ecr] [--timeout S]
    python scripts/local_stack.py stop  --state-dir DIR
    python scripts/local_stack.py env   --state-dir DIR      # shell exports
    python scripts/local_stack.py reset --state-dir DIR      # wipe AWS state, keep servers

``start`` configures moto before anything exists (no Docker for Lambda, real
Step Functions executions), creates the IAM roles tests and the demo use,
writes ``DIR/local-stack.json`` and prints it. Run it with the project's
``.venv/bin/python`` (moto[server] lives there). ``stop`` kills every
component and checks its port is free again. Ctrl-C during ``start`` stops
whatever was started.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

STATE_FILE = "local-stack.json"
SCHEMA = "kedro-sfn/local-stack@1"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
HERE = Path(__file__).resolve().parent

MOTO_CONFIG = {"lambda": {"use_docker": False}, "stepfunctions": {"execute_state_machine": True}}

# IAM roles the tests and the demo deploy with (moto's Lambda refuses roles it does not know).
ROLES = {
    "lambda": ("kedro-sfn-lambda", "lambda.amazonaws.com"),
    "stateMachine": ("kedro-sfn-states", "states.amazonaws.com"),
}


class StartError(RuntimeError):
    """A component did not come up; the message carries its log tail."""


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nobody listens there, else any free port on 127.0.0.1."""
    if preferred:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                print(f"port {preferred} is in use; picking another", file=sys.stderr)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 10) -> bytes:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read()


def spawn(name: str, argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a server in its own session, so it outlives this script and dies with its group."""
    handle = open(log, "ab")
    try:
        return subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    finally:
        handle.close()


def wait_until_up(name: str, url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartError(f"{name} exited with code {process.returncode} during startup. Log tail ({log}):\n{log_tail(log)}")
        try:
            http("GET", url, timeout=1)
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            time.sleep(0.1)
    raise StartError(f"{name} did not answer {url} within {timeout:g} s. Log tail ({log}):\n{log_tail(log)}")


def start_moto(state_dir: Path, started: list[dict[str, Any]], port: int | None, invoke_port: int | None, stub_ecr: bool, timeout: float) -> dict[str, Any]:
    """moto server on 127.0.0.1. MOTO_PORT is where its Step Functions engine invokes Lambda:
    moto itself unless a Lambda front listens on `invoke_port`. Every process is added to
    `started` as soon as it exists, so an interrupt can stop it."""
    log = state_dir / "moto.log"
    for attempt in range(3):
        chosen = free_port(port if attempt == 0 else None)
        env = dict(os.environ, MOTO_PORT=str(invoke_port or chosen))
        # Like AWS, resolve ImageUri in (moto's) ECR, so CodeSha256 is the image digest.
        env["MOTO_LAMBDA_STUB_ECR"] = "TRUE" if stub_ecr else "FALSE"
        # moto_server.py is moto plus the one fix we need: starting a state machine version.
        server = [sys.executable, str(HERE / "moto_server.py"), "-H", "127.0.0.1", "-p", str(chosen)]
        process = spawn("moto", server, log, env)
        component = {"name": "moto", "pid": process.pid, "port": chosen, "log": str(log)}
        started.append(component)
        try:
            wait_until_up("moto server", f"http://127.0.0.1:{chosen}/moto-api/data.json", process, log, timeout)
            return component
        except StartError:
            stop_component(component)
            started.remove(component)
            if "Address already in use" in log_tail(log, 10) and attempt < 2:
                continue  # lost a race for the port: try another
            raise
    raise StartError("moto server could not get a port")


RIE = HERE.parent / ".tools" / "bin" / "aws-lambda-rie"


def start_lambda_front(state_dir: Path, started: list[dict[str, Any]], port: int, moto_port: int, args: argparse.Namespace) -> dict[str, Any]:
    """scripts/lambda_front.py on MOTO_PORT: answers each Invoke and forwards everything else to moto.
    Image mode runs the function's own image in the Docker engine (scripts/docker_engine.py);
    host mode runs the handler from `args.python` on `args.project` (unit-level fast mode)."""
    log = state_dir / "lambda-front.log"
    argv = [sys.executable, str(HERE / "lambda_front.py"), "--port", str(port), "--moto-port", str(moto_port),
            "--mode", args.lambda_mode]
    if args.lambda_mode == "image":
        sys.path.insert(0, str(HERE))
        from docker_engine import DEFAULT_ROOT, start as start_docker

        if not RIE.is_file():
            raise StartError(f"{RIE} is missing: run 'make tools' (it builds aws-lambda-rie with go install)")
        engine = start_docker(DEFAULT_ROOT)
        argv += ["--docker-host", engine["host"], "--rie", str(RIE), "--keep-warm", str(args.keep_warm)]
    else:
        argv += ["--python", args.python, "--project", str(Path(args.project).resolve()),
                 "--helper-root", str(HERE.parent / "python")]
    process = spawn("lambda-front", argv, log, dict(os.environ))
    component = {"name": "lambda-front", "pid": process.pid, "port": port, "log": str(log)}
    started.append(component)
    wait_until_up("lambda front", f"http://127.0.0.1:{port}/moto-api/data.json", process, log, args.timeout)
    return component


def start_local_registry(state_dir: Path, started: list[dict[str, Any]], timeout: float) -> dict[str, Any]:
    """Debian's docker-registry on loopback, where images are pushed (moto has no /v2/ registry)."""
    sys.path.insert(0, str(HERE))
    from local_registry import start_registry

    registry = start_registry(state_dir / "registry", timeout=timeout)
    component = {"name": "registry", "pid": registry["pid"], "port": registry["port"], "log": registry.get("log", "")}
    started.append(component)
    return registry


def configure_moto(endpoint: str) -> None:
    http("POST", f"{endpoint}/moto-api/config", json.dumps(MOTO_CONFIG).encode(), {"Content-Type": "application/json"})


def iam_call(endpoint: str, params: dict[str, str]) -> None:
    """One IAM query-API call. moto routes by the credential scope and does not check signatures."""
    body = urllib.parse.urlencode({**params, "Version": "2010-05-08"}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20240101/{REGION}/iam/aws4_request, SignedHeaders=host, Signature=0",
    }
    http("POST", f"{endpoint}/", body, headers)


def create_roles(endpoint: str) -> dict[str, str]:
    arns: dict[str, str] = {}
    for key, (name, service) in ROLES.items():
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
        try:
            iam_call(endpoint, {"Action": "CreateRole", "RoleName": name, "AssumeRolePolicyDocument": json.dumps(trust)})
        except urllib.error.HTTPError as error:
            if error.code != 409 and b"EntityAlreadyExists" not in error.read():
                raise
        arns[key] = f"arn:aws:iam::{ACCOUNT_ID}:role/{name}"
    return arns


def start_fault_proxy(state_dir: Path, started: list[dict[str, Any]], target: str, timeout: float) -> dict[str, Any]:
    log = state_dir / "fault-proxy.log"
    port = free_port()
    process = spawn("fault proxy", [sys.executable, str(HERE / "fault_proxy.py"), "--port", str(port), "--target", target], log, dict(os.environ))
    component = {"name": "fault-proxy", "pid": process.pid, "port": port, "log": str(log)}
    started.append(component)
    wait_until_up("fault proxy", f"http://127.0.0.1:{port}/__fault_proxy/stats", process, log, timeout)
    return component


def stop_component(component: dict[str, Any], grace: float = 5.0) -> None:
    pid = int(component["pid"])
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                finished, _ = os.waitpid(pid, os.WNOHANG)
                if finished:
                    return
            except ChildProcessError:
                # Not our child (started by an earlier `start`): poll for its exit.
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
            time.sleep(0.05)


def state_path(state_dir: Path) -> Path:
    return state_dir / STATE_FILE


def read_state(state_dir: Path) -> dict[str, Any]:
    try:
        return json.loads(state_path(state_dir).read_text())
    except FileNotFoundError:
        raise SystemExit(f"no local stack recorded in {state_dir} ({STATE_FILE} missing)")


def start(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    if state_path(state_dir).exists():
        existing = json.loads(state_path(state_dir).read_text())
        if all(port_in_use(int(c["port"])) for c in existing.get("components", [])):
            print(f"a local stack is already running from {state_dir}; stop it first", file=sys.stderr)
            return 1
        stop_all(existing)  # stale: a previous run died without `stop`
    started: list[dict[str, Any]] = []

    def cleanup(signum: int, _frame: Any) -> None:
        for component in reversed(started):
            stop_component(component)
        state_path(state_dir).unlink(missing_ok=True)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGINT, cleanup)
    signal.signal(signal.SIGTERM, cleanup)
    try:
        moto = start_moto(state_dir, started, args.moto_port, args.invoke_port, args.stub_ecr, args.timeout)
        moto_endpoint = f"http://127.0.0.1:{moto['port']}"
        configure_moto(moto_endpoint)
        roles = create_roles(moto_endpoint)
        front_endpoint = None
        if args.lambda_front:
            front = start_lambda_front(state_dir, started, args.invoke_port, moto["port"], args)
            front_endpoint = f"http://127.0.0.1:{front['port']}"
        registry = start_local_registry(state_dir, started, args.timeout) if args.registry else None
        proxy_endpoint = None
        if args.fault_proxy:
            proxy = start_fault_proxy(state_dir, started, moto_endpoint, args.timeout)
            proxy_endpoint = f"http://127.0.0.1:{proxy['port']}"
    except (StartError, OSError, urllib.error.URLError) as error:
        for component in reversed(started):
            stop_component(component)
        print(f"local stack failed to start: {error}", file=sys.stderr)
        return 1
    state = {
        "schema": SCHEMA,
        "stateDir": str(state_dir),
        "endpoint": moto_endpoint,
        "motoEndpoint": moto_endpoint,
        "faultProxyEndpoint": proxy_endpoint,
        "lambdaFrontEndpoint": front_endpoint,
        "registry": registry["address"] if registry else None,
        "motoPort": args.invoke_port or moto["port"],
        "region": REGION,
        "accountId": ACCOUNT_ID,
        "roles": roles,
        "components": started,
    }
    state_path(state_dir).write_text(json.dumps(state, indent=2) + "\n")
    print(json.dumps(state))
    return 0


def stop_all(state: dict[str, Any]) -> list[int]:
    """Stops every component; returns ports still busy afterwards."""
    components = state.get("components", [])
    for component in reversed(components):
        stop_component(component)
    busy = []
    for component in components:
        port = int(component["port"])
        deadline = time.monotonic() + 5
        while port_in_use(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if port_in_use(port):
            busy.append(port)
    return busy


def stop(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir).resolve()
    if not state_path(state_dir).exists():
        print(f"no local stack running from {state_dir}", file=sys.stderr)
        return 0
    busy = stop_all(read_state(state_dir))
    if busy:
        print(f"ports still in use after stopping: {busy}", file=sys.stderr)
        return 1
    state_path(state_dir).unlink(missing_ok=True)
    return 0


def reset(args: argparse.Namespace) -> int:
    """Wipes every AWS resource (moto keeps its configuration) and recreates the roles."""
    state = read_state(Path(args.state_dir).resolve())
    http("POST", f"{state['motoEndpoint']}/moto-api/reset")
    create_roles(state["motoEndpoint"])
    return 0


def env(args: argparse.Namespace) -> int:
    state = read_state(Path(args.state_dir).resolve())
    exports = {
        "AWS_ENDPOINT_URL": state["endpoint"],
        "AWS_REGION": state["region"],
        "AWS_DEFAULT_REGION": state["region"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "KEDRO_SFN_LAMBDA_ROLE_ARN": state["roles"]["lambda"],
        "KEDRO_SFN_STATE_MACHINE_ROLE_ARN": state["roles"]["stateMachine"],
    }
    for key, value in exports.items():
        print(f"export {key}={value}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start", "stop", "env", "reset"):
        sub = commands.add_parser(name)
        sub.add_argument("--state-dir", required=True)
        if name == "start":
            sub.add_argument("--moto-port", type=int, default=None, help="preferred port (another is picked if busy)")
            sub.add_argument("--invoke-port", type=int, default=None, help="MOTO_PORT: where executions invoke Lambda (default: moto)")
            sub.add_argument("--fault-proxy", action="store_true", help="also start scripts/fault_proxy.py in front of moto")
            sub.add_argument("--stub-ecr", action="store_true", help="let Lambda accept images missing from moto's ECR")
            sub.add_argument("--lambda-front", action="store_true",
                             help="answer Lambda invokes locally (takes --invoke-port)")
            sub.add_argument("--lambda-mode", choices=("image", "host"), default="image",
                             help="image: run each function's own image (default); host: the handler from --python on --project (fast, unit level)")
            sub.add_argument("--keep-warm", type=float, default=300.0, help="image mode: seconds an idle container stays warm")
            sub.add_argument("--project", default=None, help="host mode: the Kedro project the handler runs")
            sub.add_argument("--python", default=sys.executable, help="host mode: interpreter of the project's environment")
            sub.add_argument("--registry", action="store_true", help="also start a Docker registry on loopback")
            sub.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    if args.command == "start" and args.lambda_front:
        if args.lambda_mode == "host" and not args.project:
            parser.error("--lambda-mode host needs --project DIR")
        args.invoke_port = args.invoke_port or free_port()
    return {"start": start, "stop": stop, "env": env, "reset": reset}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())

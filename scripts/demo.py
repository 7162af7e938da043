#!/usr/bin/env python3
"""`make demo`: the action's whole job on examples/spaceflights, against a local AWS stack.

It starts the local stack (moto server, a Docker registry, and a local Lambda
that runs every function's own pushed image in a Docker engine through the
runtime interface emulator), makes a Python base image with debootstrap (once;
cached in buildah's storage and loaded into the engine), puts the raw data in the
emulated S3, then runs the action exactly as a runner does, `node dist/index.js`
with INPUT_* variables, in deploy mode with start-execution. A second run with
no change follows, to show a deploy that writes nothing, and a third after
editing one node's code in a copy of the project: one new image, every function
updated, one new state machine version. Then it stops the stack, also on Ctrl-C.

usage: demo.py [--project DIR] [--python PY] [--out DIR] [--runs 1|2|3] [--builder docker|buildah]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "scripts"
STATE_MACHINE = "spaceflights"
BUCKET = "kedro-sfn-spaceflights"
RAW = ("companies.csv", "reviews.csv", "shuttles.xlsx")


def sh(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=True, text=True, **kwargs)


def start_stack(state_dir: Path) -> dict[str, Any]:
    out = sh([sys.executable, str(HERE / "local_stack.py"), "start", "--state-dir", str(state_dir),
              "--lambda-front", "--lambda-mode", "image", "--registry"],
             capture_output=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def stop_stack(state_dir: Path) -> None:
    subprocess.run([sys.executable, str(HERE / "local_stack.py"), "stop", "--state-dir", str(state_dir)], check=False)


def aws_env(stack: dict[str, Any]) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": stack["endpoint"],
        "AWS_REGION": stack["region"],
        "AWS_DEFAULT_REGION": stack["region"],
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }


def upload_raw_data(stack: dict[str, Any], project: Path, python: str) -> None:
    """The example's raw inputs, made by its own script, into the emulated bucket."""
    sh([python, str(project / "scripts" / "make_data.py")], cwd=project, capture_output=True)
    import boto3  # the stack's interpreter (.venv) has it

    s3 = boto3.client("s3", endpoint_url=stack["endpoint"], region_name=stack["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    s3.create_bucket(Bucket=BUCKET)
    for name in RAW:
        s3.upload_file(str(project / "data" / "01_raw" / name), BUCKET, f"spaceflights/01_raw/{name}")


class ActionFailed(RuntimeError):
    def __init__(self, run: int, outputs: dict[str, str]):
        super().__init__(f"the action failed (run {run})")
        self.run = run
        self.outputs = outputs


# Where a node routed to ECS runs locally: the front runs its container, moto checks neither.
LOCAL_ECS_INPUTS = {"ecs-cluster": "local", "ecs-subnets": "subnet-0123456789abcdef0"}


def route_to_ecs(project: Path, node: str) -> None:
    """conf/aws/sfn.yml routing `node` to ECS Fargate: the one line a long node needs."""
    sfn_yml = project / "conf" / "aws" / "sfn.yml"
    sfn_yml.write_text(f"functions:\n  overrides:\n    - node: {node}\n      runner: ecs\n"
                       "      cpu: 1024\n      memory: 4096\n      timeout: 7200\n")


def run_action(stack: dict[str, Any], project: Path, python: str, out: Path, run: int, base_image: str,
               builder: str, ecs: bool = False, extra: dict[str, str] | None = None) -> dict[str, str]:
    """`node dist/index.js` as a runner calls it; returns the step's outputs."""
    outputs = out / f"outputs-{run}.txt"
    outputs.write_text("")
    inputs = {
        "project-path": str(project),
        "python": python,
        "mode": "deploy",
        "state-machine-name": STATE_MACHINE,
        "ecr-repository": "spaceflights",
        "registry": stack["registry"],
        "builder": builder,
        "base-image": base_image,
        "lambda-role-arn": stack["roles"]["lambda"],
        "state-machine-role-arn": stack["roles"]["stateMachine"],
        "start-execution": "true",
        "execution-timeout-minutes": "20",
        "summary-file": str(out / f"summary-{run}.md"),
    }
    if ecs:
        inputs.update(LOCAL_ECS_INPUTS)
        inputs["ecs-execution-role-arn"] = stack["roles"]["lambda"]
        inputs["ecs-task-role-arn"] = stack["roles"]["lambda"]
    inputs.update(extra or {})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update(aws_env(stack))
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    env.update({"GITHUB_OUTPUT": str(outputs), "GITHUB_SHA": "0" * 40, "STORAGE_DRIVER": "vfs",
                "DOCKER_HOST": docker_host()})
    proc = subprocess.run(["node", str(ROOT / "dist" / "index.js")], env=env, text=True)
    values = parse_outputs(outputs.read_text())
    if proc.returncode != 0:
        raise ActionFailed(run, values)
    return values


class InvokeLog:
    """The local Lambda's per-invoke lines (function, image digest, cold or warm, seconds), run by run."""

    def __init__(self, path: Path):
        self.path = path
        self.seen = 0

    def new_lines(self) -> list[str]:
        lines = [line for line in self.path.read_text(errors="replace").splitlines()
                 if line.startswith(("[lambda] ", "[ecs] "))]
        fresh, self.seen = lines[self.seen:], len(lines)
        return fresh

    def report(self, record: dict[str, Any], run: int) -> None:
        lines = self.new_lines()
        record.setdefault("invokes", {})[str(run)] = lines
        record.setdefault("ecsTasks", {})[str(run)] = [line for line in lines if line.startswith("[ecs] ")]
        record["invokes"][str(run)] = [line for line in lines if line.startswith("[lambda] ")]
        print("\n".join(["Local Lambda invokes (the pushed image, through the runtime interface emulator)"
                          " and ECS tasks (the same image, its ECS entry):", *lines]))


def docker_host() -> str:
    from docker_engine import DEFAULT_ROOT, docker_env

    return docker_env(DEFAULT_ROOT)["DOCKER_HOST"]


def edit_node_code(project: Path) -> None:
    """A harmless change to a node module: a new wheel, so a new image."""
    nodes = project / "src" / "spaceflights" / "pipelines" / "data_processing" / "nodes.py"
    nodes.write_text(nodes.read_text() + f"\n\nDEMO_EDIT = {time.time()!r}  # added by make demo, run 3\n")


def read_metrics(stack: dict[str, Any]) -> dict[str, Any] | None:
    """The evaluate node's output, read back from the emulated S3 (proof the data went through S3)."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=stack["endpoint"], region_name=stack["region"],
                      aws_access_key_id="testing", aws_secret_access_key="testing")
    try:
        body = s3.get_object(Bucket=BUCKET, Key="spaceflights/08_reporting/metrics.json")["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def parse_outputs(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT's `name<<DELIMITER ... DELIMITER` blocks."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body = []
            i += 1
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        i += 1
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default=str(ROOT / "examples" / "spaceflights"))
    parser.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    parser.add_argument("--out", default=str(ROOT / ".demo"))
    parser.add_argument("--builder", choices=("docker", "buildah"), default="docker",
                        help="the action's builder (docker, its default, runs in a local Docker engine)")
    parser.add_argument("--runs", type=int, default=3, choices=(1, 2, 3),
                        help="2: again with no change (a no-op deploy); 3: then after editing one node's code")
    parser.add_argument("--function-sharing", default="", choices=("", "per-node", "by-settings"),
                        help="the function-sharing input (bench/shared_functions.bench.py compares both)")
    parser.add_argument("--ecs-node", default="",
                        help="route this node to ECS Fargate (runner: ecs in conf/aws/sfn.yml); the rest stay on Lambda")
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    # A copy, so run 3 can edit a node's code without touching the repository.
    project = out / "project"
    shutil.rmtree(project, ignore_errors=True)
    shutil.copytree(Path(args.project).resolve(), project,
                    ignore=shutil.ignore_patterns("__pycache__", "dist", "*.egg-info"))
    state_dir = out / "stack"
    if args.ecs_node:
        route_to_ecs(project, args.ecs_node)
    ecs = bool(args.ecs_node)
    extra = {"function-sharing": args.function_sharing} if args.function_sharing else {}

    started = time.monotonic()
    sys.path.insert(0, str(HERE))
    from docker_engine import DEFAULT_ROOT, load_base, start as start_docker
    from make_base_image import DEFAULT_TAG, make_base_image

    print("Base image (debootstrap, once; cached in buildah's storage and the Docker engine)...", flush=True)
    make_base_image(DEFAULT_TAG)
    start_docker(DEFAULT_ROOT)
    load_base(DEFAULT_ROOT, DEFAULT_TAG)
    stack = start_stack(state_dir)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    record: dict[str, Any] = {"stack": {k: stack[k] for k in ("endpoint", "registry", "components")}}
    status = 0
    try:
        print(f"Local stack: moto {stack['endpoint']}, local Lambda (images) {stack['lambdaFrontEndpoint']}, "
              f"registry {stack['registry']}", flush=True)
        upload_raw_data(stack, project, args.python)
        invokes = InvokeLog(state_dir / "lambda-front.log")
        print("\n=== run 1: deploy and run the pipeline ===", flush=True)
        record["first"] = run_action(stack, project, args.python, out, 1, DEFAULT_TAG, args.builder, ecs, extra)
        invokes.report(record, 1)
        record["metrics"] = read_metrics(stack)
        print(f"\nexecution: {record['first'].get('execution-status')}; model metrics in S3: {record['metrics']}")
        print(f"summary written to {out / 'summary-1.md'}")
        if args.runs >= 2:
            print("\n=== run 2: the same commit again: nothing to change, the pipeline runs on warm Lambdas ===", flush=True)
            second = record["second"] = run_action(stack, project, args.python, out, 2, DEFAULT_TAG, args.builder, ecs, extra)
            invokes.report(record, 2)
            print(f"has-changes={second.get('has-changes')} to-create={second.get('to-create')} "
                  f"to-update={second.get('to-update')} to-delete={second.get('to-delete')}")
        if args.runs == 3:
            print("\n=== run 3: one node's code edited: one new image, every function updated ===", flush=True)
            edit_node_code(project)
            third = record["third"] = run_action(stack, project, args.python, out, 3, DEFAULT_TAG, args.builder, ecs, extra)
            invokes.report(record, 3)
            print(f"to-update={third.get('to-update')} image={third.get('image-uri')} "
                  f"version={third.get('state-machine-version-arn')} execution={third.get('execution-status')}")
    except ActionFailed as failed:
        record["failed"] = failed.outputs
        invokes.report(record, failed.run)
        print(f"\n{failed}: see the log above and {out}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        print("\ninterrupted: stopping the local stack", file=sys.stderr)
        status = 130
    finally:
        stop_stack(state_dir)
        (out / "outputs.json").write_text(json.dumps(record, indent=2))
    if status:
        return status
    print(f"\nDemo finished in {time.monotonic() - started:.0f} s. Summaries: {out}/summary-*.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

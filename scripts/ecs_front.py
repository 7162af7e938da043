"""A local ECS for moto's Step Functions engine: RunTask, DescribeTasks, StopTask.

moto's engine runs ``ecs:runTask.sync`` Tasks by calling ECS on MOTO_PORT (RunTask, then
DescribeTasks every half second until ``lastStatus`` is STOPPED). lambda_front.py listens there
and hands those three calls to this module; every other ECS call (RegisterTaskDefinition,
DescribeTaskDefinition) goes on to moto, which keeps the task definitions.

RunTask reads the task definition from moto and runs its container as Fargate would: in image
mode ``docker run`` of the definition's image with its entryPoint and command, the task
definition's environment and the Task's container overrides; in host mode the ECS entry from
the host interpreter on the project folder (unit level). DescribeTasks says RUNNING until the
container exits, then STOPPED with its exit code and ECS's stop reason. The container's output
goes to moto's CloudWatch Logs under the awslogs group and stream the definition names, as the
awslogs driver does.

One difference from AWS, on purpose: Step Functions fails a ``.sync`` Task whose essential
container exited non-zero (``States.TaskFailed``, the task's description as the cause); moto's
engine does not look at the exit code. So the DescribeTasks that would report such a task
STOPPED answers an ECS error whose message is that description, and moto fails the state with it.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

TARGET = "AmazonEC2ContainerServiceV20141113."
ECS_AUTH = ("AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/ecs/aws4_request, "
            "SignedHeaders=host, Signature=0")
LOGS_AUTH = ECS_AUTH.replace("/ecs/", "/logs/")
ACCOUNT = "123456789012"
REGION = "us-east-1"


@dataclass
class LocalTask:
    arn: str
    cluster_arn: str
    definition: dict[str, Any]
    cpu: str
    memory: str
    started_by: str
    created: float = field(default_factory=time.time)
    stopped: float | None = None
    exit_code: int | None = None
    reason: str | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    output: list[str] = field(default_factory=list)
    process: Any = None
    failure_reported: bool = False

    def describe(self) -> dict[str, Any]:
        container = self.definition["containerDefinitions"][0]
        running = self.stopped is None
        described: dict[str, Any] = {
            "taskArn": self.arn,
            "clusterArn": self.cluster_arn,
            "taskDefinitionArn": self.definition["taskDefinitionArn"],
            "launchType": "FARGATE",
            "cpu": self.cpu,
            "memory": self.memory,
            "startedBy": self.started_by,
            "lastStatus": "RUNNING" if running else "STOPPED",
            "desiredStatus": "RUNNING" if running else "STOPPED",
            "createdAt": self.created,
            "startedAt": self.created,
            "containers": [
                {
                    "containerArn": f"{self.arn.replace(':task/', ':container/')}/{container['name']}",
                    "taskArn": self.arn,
                    "name": container["name"],
                    "image": container.get("image", ""),
                    "lastStatus": "RUNNING" if running else "STOPPED",
                    **({"exitCode": self.exit_code} if self.exit_code is not None else {}),
                    **({"reason": self.reason} if self.reason else {}),
                }
            ],
        }
        if not running:
            described.update(stoppedAt=self.stopped, stopCode=self.stop_code, stoppedReason=self.stopped_reason)
        return described


class EcsFront:
    """The three ECS calls a ``.sync`` Task makes, answered by running the task's container."""

    def __init__(self, moto: str, log: Callable[[str], None], mode: str, docker: Callable[..., Any] | None,
                 host_python: str = "", host_project: str = "", helper_root: str = "") -> None:
        self.moto = moto
        self.log = log
        self.mode = mode
        self.docker = docker
        self.host_python = host_python
        self.host_project = host_project
        self.helper_root = helper_root
        self.tasks: dict[str, LocalTask] = {}
        self.lock = threading.Lock()

    def handles(self, target: str) -> bool:
        return target in (TARGET + "RunTask", TARGET + "DescribeTasks", TARGET + "StopTask")

    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        request = json.loads(body or b"{}")
        operation = target[len(TARGET):]
        try:
            if operation == "RunTask":
                return 200, self.run_task(request)
            if operation == "DescribeTasks":
                return self.describe_tasks(request)
            return 200, self.stop_task(request)
        except Exception as exc:  # noqa: BLE001 - the front answers as ECS would: an error object
            self.log(f"[ecs] {operation} failed: {exc}")
            return 400, {"__type": "ClientException", "message": str(exc)}

    # --- the calls --------------------------------------------------------------------------

    def run_task(self, request: dict[str, Any]) -> dict[str, Any]:
        definition = self.task_definition(str(request.get("taskDefinition") or ""))
        cluster = str(request.get("cluster") or "default")
        cluster_name = cluster.rsplit("/", 1)[-1]
        task_id = uuid.uuid4().hex
        overrides = request.get("overrides") or {}
        task = LocalTask(
            arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{cluster_name}/{task_id}",
            cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{cluster_name}",
            definition=definition,
            cpu=str(overrides.get("cpu") or definition.get("cpu") or "256"),
            memory=str(overrides.get("memory") or definition.get("memory") or "512"),
            started_by=str(request.get("startedBy") or ""),
        )
        container = definition["containerDefinitions"][0]
        environment = {e["name"]: e["value"] for e in container.get("environment") or []}
        for override in overrides.get("containerOverrides") or []:
            if override.get("name") == container["name"]:
                environment.update({e["name"]: e["value"] for e in override.get("environment") or []})
        with self.lock:
            self.tasks[task.arn] = task
        threading.Thread(target=self.run_container, args=(task, container, environment), daemon=True).start()
        return {"tasks": [task.describe()], "failures": []}

    def describe_tasks(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        found, failures = [], []
        for arn in request.get("tasks") or []:
            task = self.tasks.get(arn)
            if task is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            if task.stopped is not None and task.exit_code not in (0, None) and task.failure_reported is False:
                # See the module doc: how Step Functions fails the Task on AWS, made visible to moto.
                task.failure_reported = True
                return 400, {"__type": "ClientException", "message": json.dumps(cause_of(task.describe()))}
            found.append(task.describe())
        return 200, {"tasks": found, "failures": failures}

    def stop_task(self, request: dict[str, Any]) -> dict[str, Any]:
        task = self.tasks.get(str(request.get("task") or ""))
        if task is None:
            raise ValueError(f"The referenced task was not found: {request.get('task')}")
        if task.process is not None and task.stopped is None:
            task.stopped_reason = str(request.get("reason") or "Task stopped by user")
            task.stop_code = "UserInitiated"
            if self.mode == "image" and self.docker:
                self.docker("kill", task.process, check=False, timeout=60)
            else:
                task.process.kill()
        return {"task": task.describe()}

    # --- running ----------------------------------------------------------------------------

    def run_container(self, task: LocalTask, container: dict[str, Any], environment: dict[str, str]) -> None:
        started = time.monotonic()
        env = {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto,
            "ECS_CONTAINER_METADATA_URI_V4": "",
            **environment,
        }
        command = [*(container.get("entryPoint") or []), *(container.get("command") or [])]
        try:
            if self.mode == "image" and self.docker:
                code, output = self.run_image(task, container, env, command)
            else:
                code, output = self.run_host(env)
        except Exception as exc:  # noqa: BLE001 - a container that could not start stops the task
            code, output = None, [f"local ECS: {exc}"]
            task.stop_code, task.stopped_reason = "TaskFailedToStart", f"CannotStartContainerError: {exc}"
        task.output = output
        task.exit_code = code
        if task.stop_code is None:
            task.stop_code = "EssentialContainerExited"
            task.stopped_reason = "Essential container in task exited"
        self.put_logs(task, container, output)
        task.stopped = time.time()
        outcome = "ok" if code == 0 else f"exit {code}"
        self.log(f"[ecs] {task.arn.rsplit('/', 1)[-1][:12]} {task.definition['family']}:{task.definition['revision']} "
                 f"cpu {task.cpu} memory {task.memory} {time.monotonic() - started:.2f}s {outcome}")

    def run_image(self, task: LocalTask, container: dict[str, Any], env: dict[str, str],
                  command: list[str]) -> tuple[int | None, list[str]]:
        assert self.docker is not None
        image = container["image"]
        argv = ["run", "--detach", "--network", "host", "--memory", f"{task.memory}m",
                "--label", "kedro-sfn-local-ecs=1"]
        for key, value in sorted(env.items()):
            argv += ["--env", f"{key}={value}"]
        if command:
            argv += ["--entrypoint", command[0], image, *command[1:]]
        else:
            argv += [image]
        found = self.docker("image", "inspect", image, check=False)
        if found.returncode != 0:
            self.docker("pull", "--quiet", image)
        container_id = self.docker(*argv, timeout=120).stdout.strip()
        task.process = container_id
        try:
            waited = self.docker("wait", container_id, timeout=24 * 3600)
            code = int((waited.stdout or "1").strip() or 1)
            logs = self.docker("logs", container_id, check=False)
            return code, (logs.stdout + logs.stderr).splitlines()
        finally:
            self.docker("rm", "--force", container_id, check=False, timeout=60)

    def run_host(self, env: dict[str, str]) -> tuple[int, list[str]]:
        full = dict(os.environ, **env, KEDRO_SFN_PROJECT_PATH=self.host_project)
        full["PYTHONPATH"] = os.pathsep.join(p for p in (self.helper_root, os.environ.get("PYTHONPATH")) if p)
        proc = subprocess.run([self.host_python, "-m", "kedro_sfn.ecs_entry"], capture_output=True, env=full,
                              cwd=self.host_project, timeout=24 * 3600)
        return proc.returncode, (proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")).splitlines()

    # --- moto -------------------------------------------------------------------------------

    def call(self, target: str, auth: str, payload: dict[str, Any], content_type: str) -> dict[str, Any]:
        request = urllib.request.Request(self.moto + "/", data=json.dumps(payload).encode(), method="POST",
                                         headers={"Authorization": auth, "X-Amz-Target": target,
                                                  "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body.strip() else {}

    def task_definition(self, reference: str) -> dict[str, Any]:
        out = self.call(TARGET + "DescribeTaskDefinition", ECS_AUTH, {"taskDefinition": reference},
                        "application/x-amz-json-1.1")
        return out["taskDefinition"]

    def put_logs(self, task: LocalTask, container: dict[str, Any], lines: list[str]) -> None:
        """What the awslogs driver does: the container's lines in its group and stream."""
        options = (container.get("logConfiguration") or {}).get("options") or {}
        group, prefix = options.get("awslogs-group"), options.get("awslogs-stream-prefix")
        if not group or not prefix:
            return
        stream = f"{prefix}/{container['name']}/{task.arn.rsplit('/', 1)[-1]}"
        now = int(time.time() * 1000)
        try:
            for target, payload in (("CreateLogGroup", {"logGroupName": group}),
                                    ("CreateLogStream", {"logGroupName": group, "logStreamName": stream})):
                try:
                    self.call("Logs_20140328." + target, LOGS_AUTH, payload, "application/x-amz-json-1.1")
                except urllib.error.HTTPError as error:
                    if error.code != 400:
                        raise
            events = [{"timestamp": now, "message": line} for line in lines[-5000:]] or [{"timestamp": now, "message": "(no output)"}]
            self.call("Logs_20140328.PutLogEvents", LOGS_AUTH,
                      {"logGroupName": group, "logStreamName": stream, "logEvents": events},
                      "application/x-amz-json-1.1")
        except Exception as exc:  # noqa: BLE001 - logs are a convenience; the task's outcome stands
            self.log(f"[ecs] could not write the task's logs to moto: {exc}")


def cause_of(task: dict[str, Any]) -> dict[str, Any]:
    """The task as Step Functions' ``.sync`` puts it in a failure's cause: PascalCase keys."""

    def pascal(value: Any) -> Any:
        if isinstance(value, dict):
            return {key[:1].upper() + key[1:]: pascal(item) for key, item in value.items()}
        if isinstance(value, list):
            return [pascal(item) for item in value]
        return value

    return pascal(task)


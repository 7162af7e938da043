"""moto server with the fixes the local stack needs around state machine *versions*.

The action starts the version it just published (so an execution never sees a
half-switched definition). moto 5.2.5 with real execution fails on a version
ARN (500, then the execution is filed under the version where DescribeExecution
cannot find it). Here a version ARN runs the version's definition and files the
execution under its state machine, as AWS does.

moto 5.2.5 also lacks ListStateMachineVersions and DeleteStateMachineVersion,
and ListExecutions on a version ARN lists nothing: here they behave as AWS
documents them (versions newest first; a version an alias routes to cannot be
deleted; a version's executions are those started with its ARN). And its
Lambda numbers a new version by counting the versions left, so after deleting
an old one the next publish reuses a number: here numbers only go up, as on AWS.
DescribeExecution of an execution started on a version ARN names that version
(stateMachineVersionArn), as on AWS: a resume starts the failed execution's version.

An alias ARN (the action starts executions through the `live` alias) runs the
version the alias routes to, as AWS does; moto 5.2.5 fails on it.

And its Step Functions engine runs `states:startExecution(.sync:2)` Tasks (a parent state
machine waiting for a child, what a split pipeline deploys) but hands the Task's
PascalCase parameters (StateMachineArn, Input, Name) to boto3 unchanged, which
expects stateMachineArn/input/name, and reads StartExecution's answer as ExecutionArn
where boto3 says executionArn: here both are translated, as AWS does.

ECS ``.sync`` Tasks get their PascalCase parameters mapped, as on AWS (moto_ecs_patch.py).

usage: moto_server.py [moto.server arguments]
"""
from __future__ import annotations

import copy
import re
import sys

from moto.core.exceptions import AWSError
from moto.stepfunctions.exceptions import StateMachineDoesNotExist, ValidationException
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse
from moto.core.responses import ActionResult, EmptyResult
from moto.awslambda.models import LambdaStorage
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

import moto_ecs_patch  # noqa: F401,E402 - patches moto's ECS integration on import

VERSION_ARN = re.compile(r"^(arn:[^:]+:states:[^:]*:\d+:stateMachine:[^:]+):(\d+)$")
ALIAS_ARN = re.compile(r"^(arn:[^:]+:states:[^:]*:\d+:stateMachine:[^:]+):([A-Za-z_][\w-]*)$")
_start_execution = StepFunctionsParserBackend.start_execution


def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
    alias = ALIAS_ARN.match(state_machine_arn or "")
    if alias:
        found = self.describe_state_machine_alias(state_machine_arn)
        routes = sorted(found.routing_configuration, key=lambda r: r.get("weight", 0), reverse=True)
        execution = start_execution(self, routes[0]["stateMachineVersionArn"], name, execution_input, trace_header)
        execution.kedro_alias_arn = state_machine_arn
        return execution
    match = VERSION_ARN.match(state_machine_arn or "")
    if not match:
        return _start_execution(self, state_machine_arn, name, execution_input, trace_header)
    machine = self.describe_state_machine(match.group(1))
    version = machine.versions.get(int(match.group(2)))
    if version is None:
        return _start_execution(self, state_machine_arn, name, execution_input, trace_header)
    current = machine.definition
    machine.definition = version.definition  # the execution snapshots the definition at start
    try:
        execution = _start_execution(self, match.group(1), name, execution_input, trace_header)
    finally:
        machine.definition = current
    execution.kedro_version_arn = state_machine_arn
    return execution


_list_executions = StepFunctionsParserBackend.list_executions


def list_executions(self, state_machine_arn, status_filter=None, max_results=None, next_token=None):  # type: ignore[no-untyped-def]
    match = VERSION_ARN.match(state_machine_arn or "")
    if not match:
        return _list_executions(self, state_machine_arn, status_filter=status_filter, max_results=max_results, next_token=next_token)
    machine = self.describe_state_machine(match.group(1))
    executions = [e for e in machine.executions if getattr(e, "kedro_version_arn", None) == state_machine_arn]
    if status_filter:
        executions = [e for e in executions if e.status == status_filter]
    return sorted(executions, key=lambda e: e.start_date, reverse=True), None


class ConflictException(AWSError):
    TYPE = "ConflictException"
    STATUS = 400


def _versions_of(backend, arn):  # type: ignore[no-untyped-def]
    machine = next((m for m in backend.state_machines if m.arn == arn), None)
    if machine is None:
        raise StateMachineDoesNotExist(f"State Machine Does Not Exist: '{arn}'")
    return machine


def list_state_machine_versions(self):  # type: ignore[no-untyped-def]
    machine = _versions_of(self.stepfunction_backend, self._get_param("stateMachineArn"))
    versions = sorted(machine.versions.values(), key=lambda v: v.version, reverse=True)
    start = int(self._get_param("nextToken") or 0)
    size = int(self._get_param("maxResults") or 100) or 100
    page = versions[start : start + size]
    response = {
        "stateMachineVersions": [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in page]
    }
    if start + size < len(versions):
        response["nextToken"] = str(start + size)
    return ActionResult(response)


def delete_state_machine_version(self):  # type: ignore[no-untyped-def]
    arn = self._get_param("stateMachineVersionArn")
    match = VERSION_ARN.match(arn or "")
    if not match:
        raise ValidationException(f"Invalid State Machine Version Arn: '{arn}'")
    machine = _versions_of(self.stepfunction_backend, match.group(1))
    for alias in machine.aliases.values():
        if any(route.get("stateMachineVersionArn") == arn for route in alias.routing_configuration):
            raise ConflictException(f"Version to be deleted must not be referenced by an alias. Current list of aliases referencing this version: [{alias.name}]")
    machine.versions.pop(int(match.group(2)), None)  # deleting a missing version succeeds, as on AWS
    return EmptyResult()


def publish_version(self, name_or_arn, description=""):  # type: ignore[no-untyped-def]
    function = self.get_function_by_name_or_arn_forbid_qualifier(name_or_arn)
    group = self._functions.get(function.function_name)
    if not group or not group["latest"]:
        return None
    versions = group["versions"]
    if versions and not function.code_or_config_updated:
        return versions[-1]  # nothing changed since the last version: AWS publishes none
    function.code_or_config_updated = False
    number = max([group.get("kedro_highest", 0)] + [int(v.version) for v in versions]) + 1
    group["kedro_highest"] = number
    published = copy.copy(group["latest"])
    published.set_version(number)
    if description:
        published.description = description
    versions.append(published)
    self._arns[published.function_arn] = published
    return published


_describe_execution = StepFunctionResponse.describe_execution


def describe_execution(self):  # type: ignore[no-untyped-def]
    """As AWS: an execution started on a version ARN reports it as stateMachineVersionArn."""
    result = _describe_execution(self)
    execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
    version = getattr(execution, "kedro_version_arn", None)
    if version and isinstance(result.result, dict):
        result.result["stateMachineVersionArn"] = version
    return result


_SFN_REQUEST_KEYS = {"StateMachineArn": "stateMachineArn", "Input": "input", "Name": "name", "TraceHeader": "traceHeader"}
_sfn_normalise_parameters = StateTaskServiceSfn._normalise_parameters
_sfn_eval_service_task = StateTaskServiceSfn._eval_service_task


def sfn_normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):  # type: ignore[no-untyped-def]
    _sfn_normalise_parameters(self, parameters, boto_service_name, service_action_name)
    if service_action_name is None and self._get_boto_service_action() == "start_execution":
        for key, boto_key in _SFN_REQUEST_KEYS.items():
            if key in parameters:
                parameters[boto_key] = parameters.pop(key)


def sfn_eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
    _sfn_eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials)
    response = env.stack[-1]
    if isinstance(response, dict) and "executionArn" in response:
        # StartExecution's answer as Step Functions shows it (and the .sync resolvers read it).
        start = response.get("startDate")
        env.stack[-1] = {
            "ExecutionArn": response["executionArn"],
            "StartDate": start.isoformat() if hasattr(start, "isoformat") else start,
        }


StateTaskServiceSfn._normalise_parameters = sfn_normalise_parameters
StateTaskServiceSfn._eval_service_task = sfn_eval_service_task
StepFunctionsParserBackend.start_execution = start_execution
StepFunctionResponse.describe_execution = describe_execution
LambdaStorage.publish_version = publish_version
StepFunctionsParserBackend.list_executions = list_executions
StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
StepFunctionResponse.delete_state_machine_version = delete_state_machine_version

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])

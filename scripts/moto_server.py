"""moto server with the one fix the local stack needs: starting a state machine *version*.

The action starts the version it just published (so an execution never sees a
half-switched definition). moto 5.2.5 with real execution fails on a version
ARN (500, then the execution is filed under the version where DescribeExecution
cannot find it). Here a version ARN runs the version's definition and files the
execution under its state machine, as AWS does.

usage: moto_server.py [moto.server arguments]
"""
from __future__ import annotations

import re
import sys

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

VERSION_ARN = re.compile(r"^(arn:[^:]+:states:[^:]*:\d+:stateMachine:[^:]+):(\d+)$")
_start_execution = StepFunctionsParserBackend.start_execution


def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
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
        return _start_execution(self, match.group(1), name, execution_input, trace_header)
    finally:
        machine.definition = current


StepFunctionsParserBackend.start_execution = start_execution

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])

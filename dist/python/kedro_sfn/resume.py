"""The run context a Task receives, and the decision to skip a Task on a resume.

Compiled state machines pass ``"kedro_sfn.$": "$.kedro_sfn"`` in every Task's payload. The
Prepare Pass of the definition (src/compile/asl.ts) fills it with defaults, so a normal
execution sends::

    {"kedro_sfn": {"run_id": "<execution name>", "skip": []}}

A resume (src/run/resume.ts) starts a new execution of the failed execution's state machine
version with the failed execution's input plus its own run context::

    {"kedro_sfn": {"run_id": "<the first run's id>", "skip": ["node", ...],
                   "resumed_from": "<ARN of the execution resumed>"}}

so every Task saves and loads under the first run's id (the dataset version and the run
store's folder), and a Task whose nodes all succeeded there returns at once without loading
the project. ``skip_result`` is the one place that decision is made: every runner (the Lambda
handler, the ECS entry point) calls it before running anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RUN_CONTEXT = "kedro_sfn"


class InvalidRunContextError(ValueError):
    """The event's ``kedro_sfn`` object does not have the shape the state machine sends."""


@dataclass(frozen=True)
class RunContext:
    run_id: str | None
    skip: frozenset[str]
    resumed_from: str | None


def run_context(event: dict[str, Any]) -> RunContext:
    """The event's run context; an event without one (older definitions, the CLI) has none."""
    raw = event.get(RUN_CONTEXT)
    if raw is None:
        return RunContext(None, frozenset(), None)
    if not isinstance(raw, dict):
        raise InvalidRunContextError(f"The event's '{RUN_CONTEXT}' must be a JSON object, got {type(raw).__name__}.")
    run_id = raw.get("run_id")
    if run_id is not None and (not isinstance(run_id, str) or not run_id):
        raise InvalidRunContextError(f"The event's '{RUN_CONTEXT}.run_id' must be a non-empty string.")
    skip = raw.get("skip") or []
    if not isinstance(skip, list) or not all(isinstance(n, str) for n in skip):
        raise InvalidRunContextError(f"The event's '{RUN_CONTEXT}.skip' must be a list of Kedro node names.")
    resumed_from = raw.get("resumed_from")
    if resumed_from is not None and not isinstance(resumed_from, str):
        raise InvalidRunContextError(f"The event's '{RUN_CONTEXT}.resumed_from' must be an execution ARN.")
    return RunContext(run_id, frozenset(skip), resumed_from or None)


def skip_result(event: Any) -> dict[str, Any] | None:
    """The Task's result when every node of it is in the skip list, else None (run it).

    A Task with only some of its nodes in the list runs them all: a Task is the unit that
    succeeds or fails, so a resume never splits one (src/run/resumeSkip.ts skips whole Tasks).
    """
    if not isinstance(event, dict):
        return None
    context = run_context(event)
    nodes = event.get("nodes")
    if not context.skip or not isinstance(nodes, list) or not nodes:
        return None
    if not all(isinstance(n, str) and n in context.skip for n in nodes):
        return None
    run_id = event.get("run_id") or context.run_id
    return {
        "nodes": [{"name": n, "seconds": 0.0} for n in nodes],
        "outputs": [],
        "run_id": run_id,
        # src/run/historyFold.ts reads this as the Task's status: skipped, and why.
        "skipped": {"reason": "succeeded", "execution": context.resumed_from},
    }

"""ECS Fargate entry point: runs Kedro nodes as the Lambda handler does, from a container.

The state machine's ``ecs:runTask.sync`` Task starts the pipeline's image with this module as
its command (the task definition overrides the image's Lambda ENTRYPOINT) and passes the run
through environment overrides::

    KEDRO_SFN_NODES    JSON list of Kedro node names, in order
    KEDRO_SFN_RUN_ID   the run id ($.kedro_sfn.run_id: the execution name, or a resumed run's)
    KEDRO_SFN_PARAMS   JSON object of runtime parameters ("null" or absent: none)
    KEDRO_SFN_CONTEXT  JSON of the whole run context ($.kedro_sfn: run id, a resume's skip list)

Everything else (KEDRO_ENV, KEDRO_SFN_PACKAGE, conf, data location) is the same environment
a Lambda function of the pipeline gets, and the nodes run through the handler's own core
(``kedro_sfn.handler.handler``): one dataset version per run, the run store, and errors named
like the user's exception. Exit 0 prints the handler's result JSON; a failure prints the
traceback, then Lambda's error JSON (``errorType``, ``errorMessage``) as the last line of
stderr, so the node's message ends the task's log, and exits 1: Step Functions fails the state.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from typing import Any

EXIT_FAILED = 1


def event_from_environment(environ: dict[str, str] | os._Environ[str] = os.environ) -> dict[str, Any]:
    """The Lambda event the same Task would send, from the container's environment."""
    try:
        nodes = json.loads(environ.get("KEDRO_SFN_NODES") or "null")
        params = json.loads(environ.get("KEDRO_SFN_PARAMS") or "null")
        context = json.loads(environ.get("KEDRO_SFN_CONTEXT") or "null")
    except ValueError as exc:
        raise ValueError(f"KEDRO_SFN_NODES, KEDRO_SFN_PARAMS and KEDRO_SFN_CONTEXT must be JSON: {exc}") from None
    event: dict[str, Any] = {"nodes": nodes, "run_id": environ.get("KEDRO_SFN_RUN_ID") or "", "params": params}
    if context is not None:
        # The handler's skip decision (kedro_sfn.resume.skip_result) reads it, as from a Lambda payload.
        event["kedro_sfn"] = context
    if environ.get("KEDRO_SFN_VERSION"):
        event["version"] = environ["KEDRO_SFN_VERSION"]
    return event


def main() -> int:
    """Run the nodes; the exit code is what ECS reports and Step Functions judges."""
    from kedro_sfn.handler import handler, lambda_error
    from kedro_sfn.stdio import stdout_reserved

    # Lambda's runtime sets up logging for the handler; a plain container does not.
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    with stdout_reserved() as out:
        try:
            event = event_from_environment()
            result = handler(event, None)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the exit code and the error JSON
            traceback.print_exc(file=sys.stderr)
            error = lambda_error(exc)
            sys.stderr.write(json.dumps({"errorType": error["errorType"], "errorMessage": error["errorMessage"]}) + "\n")
            sys.stderr.flush()
            return EXIT_FAILED
        out.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

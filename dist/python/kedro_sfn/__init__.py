"""kedro-sfn's Python side: inspect a Kedro project, run its nodes in AWS Lambda.

- ``python -m kedro_sfn.inspect``: the project's pipeline graph as JSON
  (``kedro-sfn/graph@1``).
- ``kedro_sfn.handler.handler``: the AWS Lambda entry point that runs Kedro nodes.

Nothing here imports Kedro at module level, so a missing Kedro is reported as a
user error rather than an import crash.
"""

GRAPH_SCHEMA = "kedro-sfn/graph@1"
__version__ = "0.1.0"

"""spaceflights: the Kedro tutorial project, shipped to AWS Step Functions by kedro-sfn."""

__version__ = "0.1"

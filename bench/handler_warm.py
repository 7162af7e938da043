"""Warm Lambda invocations against `kedro run --nodes`, for the same spaceflights node.

A warm Lambda container keeps imports and the project's configuration between
invocations; `kedro run` pays for all of it every time. Goal: a warm invocation
costs under a fifth of the CLI run.

usage: .venv/bin/python bench/handler_warm.py [--node NAME] [--runs N]
Uses conf/base (local files) of a copy of examples/spaceflights.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="data_processing.preprocess_companies_node")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kedro-sfn-bench-")) / "spaceflights"
    shutil.copytree(ROOT / "examples" / "spaceflights", work, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "scripts/make_data.py"], cwd=work, check=True, capture_output=True)
    env = dict(os.environ, KEDRO_DISABLE_TELEMETRY="1")

    cli = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "kedro", "run", "--env", "base", "--nodes", args.node],
                       cwd=work, env=env, check=True, capture_output=True)
        cli.append(time.perf_counter() - started)

    os.environ.update(KEDRO_ENV="base", KEDRO_SFN_PROJECT_PATH=str(work), KEDRO_DISABLE_TELEMETRY="1")
    sys.path.insert(0, str(ROOT / "python"))
    started = time.perf_counter()
    from kedro_sfn.handler import handler  # noqa: E402 (timed: part of the cold start)

    handler({"nodes": [args.node], "run_id": "bench-cold"})
    cold = time.perf_counter() - started
    warm = []
    for i in range(args.runs):
        started = time.perf_counter()
        handler({"nodes": [args.node], "run_id": f"bench-warm-{i}"})
        warm.append(time.perf_counter() - started)

    cli_median, warm_median = statistics.median(cli), statistics.median(warm)
    print(f"node: {args.node}")
    print(f"kedro run --nodes (median of {args.runs}): {cli_median:.2f} s")
    print(f"handler cold (import + first run):       {cold:.2f} s")
    print(f"handler warm (median of {args.runs}):            {warm_median:.3f} s")
    print(f"warm / CLI: {warm_median / cli_median:.3f} (goal < 0.2)")
    return 0 if warm_median / cli_median < 0.2 else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Shared functions vs one function per node, on the local stack with warm containers.

For each `function-sharing` value (per-node, by-settings) this runs scripts/demo.py with
three runs of the action (`node dist/index.js`, the docker builder) on a copy of
examples/spaceflights against the local stack whose Lambda front runs the pushed image
through the runtime interface emulator, one container per function version kept warm:

  run 1  first deploy and run (every container cold);
  run 2  the same commit again: a no-op deploy, the pipeline on warm containers;
  run 3  one line of a node module edited: a new image, the deploy updates the functions,
         the pipeline runs on the new versions (cold again).

Figures per run: the execution's wall time (the summary's "Pipeline run succeeded in"),
the local Lambda's invokes (cold / warm, seconds inside the containers), and for run 3 the
functions the deploy updated (`to-update`, each one UpdateFunctionCode + PublishVersion).
Writes bench/shared-functions-results.json. Needs dist/ built and the Docker engine
(`make bench` does both). About 10 minutes on 2 cores.

usage: shared_functions.bench.py [--out FILE] [--modes per-node,by-settings]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INVOKE = re.compile(r"^\[lambda\] (\S+):(\d+) (cold|warm) \S+ ([\d.]+)s (\S+)")
TOOK = re.compile(r"Pipeline run succeeded in ([^\n<*]+)")


def seconds_of(text: str) -> float:
    """formatDuration's spellings (src/run/duration.ts) back to seconds."""
    text = text.strip()
    if m := re.fullmatch(r"([\d.]+) ms", text):
        return float(m.group(1)) / 1000
    if m := re.fullmatch(r"([\d.]+) s", text):
        return float(m.group(1))
    if m := re.fullmatch(r"(\d+)m (\d+)s", text):
        return int(m.group(1)) * 60 + int(m.group(2))
    raise ValueError(f"unknown duration {text!r}")


def run_summary(out: Path, run: int, record: dict[str, Any], outputs: dict[str, str]) -> dict[str, Any]:
    invokes = [INVOKE.match(line) for line in record.get("invokes", {}).get(str(run), [])]
    invokes = [m for m in invokes if m]
    summary = (out / f"summary-{run}.md").read_text()
    took = TOOK.search(summary)
    statuses = json.loads(outputs.get("node-statuses") or "[]")
    return {
        "execution": outputs.get("execution-status"),
        "pipelineWallSeconds": seconds_of(took.group(1)) if took else None,
        "invokes": len(invokes),
        "cold": sum(1 for m in invokes if m.group(3) == "cold"),
        "warm": sum(1 for m in invokes if m.group(3) == "warm"),
        "secondsInContainers": round(sum(float(m.group(4)) for m in invokes), 2),
        "functionsInvoked": len({m.group(1) for m in invokes}),
        **function_actions(outputs),
        "nodes": {s["node"]: s["status"] for s in statuses},
    }


def function_actions(outputs: dict[str, str]) -> dict[str, int]:
    """What the deploy did to Lambda functions (the plan-json output; to-create/to-update count the state machine too)."""
    plan = json.loads(outputs.get("plan-json") or "{}")
    actions = [f["action"] for f in plan.get("functions", [])]
    return {
        "functionsCreated": actions.count("create"),
        # Each one UpdateFunctionCode (publishing the version) on a code change.
        "functionsUpdated": actions.count("update-code") + actions.count("update-config"),
    }


def summarize(out: Path, seconds: float | None = None) -> dict[str, Any]:
    record = json.loads((out / "outputs.json").read_text())
    runs = {
        str(run): run_summary(out, run, record, record[key])
        for run, key in ((1, "first"), (2, "second"), (3, "third"))
    }
    functions = json.loads(record["third"].get("function-arns") or "{}")
    return {"functions": len(functions), "runs": runs, **({"demoSeconds": seconds} if seconds else {})}


def bench(mode: str) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix=f"kedro-sfn-shared-{mode}-"))
    python = os.environ.get("KEDRO_SFN_TEST_PYTHON") or str(ROOT / ".venv" / "bin" / "python")
    started = time.monotonic()
    proc = subprocess.run(
        [python, str(ROOT / "scripts" / "demo.py"), "--out", str(out), "--runs", "3", "--function-sharing", mode],
        text=True, capture_output=True, env={**os.environ, "STORAGE_DRIVER": "vfs"}, timeout=3600,
    )
    record = json.loads((out / "outputs.json").read_text())
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"demo.py failed for function-sharing {mode} (see {out})")
    return summarize(out, round(time.monotonic() - started, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "shared-functions-results.json"))
    parser.add_argument("--modes", default="per-node,by-settings")
    parser.add_argument("--reuse", default="", help="MODE=DIR,...: summarize demo.py runs already made there")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "what": "examples/spaceflights (6 nodes, default settings) through scripts/demo.py: image front "
        "(aws-lambda-rie, warm containers per function version), docker builder",
        "machine": {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "python": platform.python_version()},
        "command": "python bench/shared_functions.bench.py",
    }
    reuse = dict(item.split("=", 1) for item in args.reuse.split(",") if item)
    for mode in args.modes.split(","):
        print(f"function-sharing {mode} ...", flush=True)
        results[mode] = summarize(Path(reuse[mode])) if mode in reuse else bench(mode)
        print(json.dumps(results[mode]["runs"], indent=1), flush=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

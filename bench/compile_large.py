"""CPU of `kedro-sfn compile` on big synthetic pipelines (issue 14): 1,000, 2,000 and 5,000 nodes.

usage: bench/compile_large.py [--project DIR] [--runs N]

Two shapes per size: a fan (every node independent: one Parallel, the shape that used to
pass compile and be refused by AWS at 1,150 nodes) and chains of 100 nodes joined at the end.
Beyond Step Functions' limits the compile splits the pipeline into a parent and child state
machines; the line says into how many. Prints medians of the CPU time (user + system, all of
Node's threads, start-up included) and exits 1 if a 5,000-node compile takes 3 CPU seconds or
more (the goal of issue 14).
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from compile_speed import cli, timed

LIMIT_SECONDS = 3.0


def fan(n):
    return [{"name": f"node_{i}", "namespace": None, "tags": [], "inputs": [], "outputs": [f"d{i}"]} for i in range(n)]


def chains(n, length=100):
    nodes = []
    count = max(1, n // length)
    for c in range(count):
        for i in range(length):
            nodes.append({
                "name": f"c{c}.n{i}",
                "namespace": f"c{c}",
                "tags": [],
                "inputs": [] if i == 0 else [f"c{c}_d{i - 1}"],
                "outputs": [f"c{c}_d{i}"],
            })
    nodes.append({"name": "join", "namespace": None, "tags": [],
                  "inputs": [f"c{c}_d{length - 1}" for c in range(count)], "outputs": ["all"]})
    return nodes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default=str(Path(__file__).resolve().parent.parent))
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    cmd = cli(a.project)
    slow = False
    print(f"{'':34s} {'wall':>8s} {'cpu':>8s}  state machines")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (1000, 2000, 5000):
            for shape, make in (("fan", fan), ("chains of 100", chains)):
                nodes = make(size)
                gp = Path(tmp) / "g.json"
                gp.write_text(json.dumps({"schema": "kedro-sfn/graph@1", "nodes": nodes}))
                args = cmd + ["compile", "--graph", str(gp)]
                wall, cpu = timed(args, a.runs)
                report = subprocess.run(args, capture_output=True, text=True)
                parts = report.stdout.count("-part-") + report.stderr.count("-part-")
                if size == 5000:
                    slow |= cpu >= LIMIT_SECONDS
                name = f"{len(nodes)} nodes, {shape}"
                print(f"{name:34s} {wall * 1000:6.0f}ms {cpu * 1000:6.0f}ms  {'split' if parts else 'one'}")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()

"""Cold Lambda handler CPU against `kedro run --nodes`, for the same spaceflights node.

With one Lambda function per node, every task of an execution is a cold start: a new
Python process that imports Kedro, the project and the node's libraries, then runs the
node once. This times, in fresh processes, each one `--runs` times (medians):

- `kedro run --env base --nodes NODE` (what a user runs on a laptop),
- the handler with the node index (`python -m kedro_sfn.node_index`, made as the image
  build makes it): only the node's own modules are imported,
- the handler with `KEDRO_SFN_NODE_INDEX=off` (the full pipeline registry, as before),

as CPU seconds (user + system of the child, from getrusage) and wall seconds, and once
each under `python -X importtime` (import self time summed per top-level package).
Goal: cold handler CPU with the index <= 0.5x `kedro run --nodes`.

usage: .venv/bin/python bench/handler_cold.py [--node NAME] [--runs N] [--out FILE]
Uses conf/base (local files) of a copy of examples/spaceflights; exits 1 when the goal
is missed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL = 0.5
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float, str]:
    """CPU seconds (user + sys of the child), wall seconds and stderr of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall, proc.stderr


def import_profile(stderr: str) -> dict[str, float]:
    """Seconds of import self time per top-level package, from `-X importtime` output."""
    per_package: collections.Counter[str] = collections.Counter()
    for line in stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            per_package[match.group(4).split(".")[0]] += int(match.group(1)) / 1e6
    return dict(per_package)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", default="data_processing.preprocess_companies_node")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "handler-cold-results.json"))
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kedro-sfn-cold-")) / "spaceflights"
    shutil.copytree(
        ROOT / "examples" / "spaceflights", work, ignore=shutil.ignore_patterns("__pycache__", "dist", "build")
    )
    subprocess.run([sys.executable, "scripts/make_data.py"], cwd=work, check=True, capture_output=True)
    # The example is made for Kedro 1.x: let this interpreter's Kedro line (0.19 too) bootstrap it.
    kedro = subprocess.run(
        [sys.executable, "-c", "import kedro; print(kedro.__version__)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    pyproject = work / "pyproject.toml"
    pyproject.write_text(
        re.sub(r'kedro_init_version = "[^"]*"', f'kedro_init_version = "{kedro}"', pyproject.read_text())
    )
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("KEDRO")}
    base_env.update(KEDRO_DISABLE_TELEMETRY="1", PYTHONPATH=str(ROOT / "python"))
    index = work.parent / "node-index.json"
    timed([sys.executable, "-m", "kedro_sfn.node_index", "--project", str(work), "--out", str(index)], work, base_env)
    event = json.dumps({"nodes": [args.node], "run_id": "bench-cold-20261202T000000Z"})
    handler = ["-m", "kedro_sfn.handler", "--project", str(work), "--event", event]
    cases = {
        "kedro run --nodes": (["-m", "kedro", "run", "--env", "base", "--nodes", args.node], {}),
        "handler, node index": (handler, {"KEDRO_ENV": "base", "KEDRO_SFN_NODE_INDEX": str(index)}),
        "handler, full registry": (handler, {"KEDRO_ENV": "base", "KEDRO_SFN_NODE_INDEX": "off"}),
    }
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    # Warm the OS file cache and __pycache__ first; then interleave the cases so load on the
    # machine hits them alike.
    for argv, extra in cases.values():
        timed([sys.executable, *argv], work, {**base_env, **extra})
    for _ in range(args.runs):
        for name, (argv, extra) in cases.items():
            cpu, wall, _ = timed([sys.executable, *argv], work, {**base_env, **extra})
            samples[name].append((cpu, wall))
    imports = {}
    for name, (argv, extra) in cases.items():
        _, _, stderr = timed([sys.executable, "-X", "importtime", *argv], work, {**base_env, **extra})
        imports[name] = import_profile(stderr)

    results = {
        "node": args.node,
        "runs": args.runs,
        "python": platform.python_version(),
        "kedro": kedro,
        "cases": {},
    }
    for name in cases:
        imported = imports[name]
        results["cases"][name] = {
            "cpu_s": round(statistics.median(c for c, _ in samples[name]), 3),
            "wall_s": round(statistics.median(w for _, w in samples[name]), 3),
            "import_s": round(sum(imported.values()), 3),
            "top_imports": {k: round(v, 3) for k, v in sorted(imported.items(), key=lambda kv: -kv[1])[:8]},
            "imports_sklearn_or_scipy": bool({"sklearn", "scipy"} & set(imported)),
        }
    cli = results["cases"]["kedro run --nodes"]["cpu_s"]
    for case in results["cases"].values():
        case["cpu_vs_cli"] = round(case["cpu_s"] / cli, 3)
    ratio = results["cases"]["handler, node index"]["cpu_vs_cli"]
    results["goal"] = {"cpu_vs_cli_max": GOAL, "met": ratio <= GOAL}

    print(f"node: {args.node} (Kedro {results['kedro']}, medians of {args.runs} fresh processes)")
    print(f"{'':24} {'CPU s':>7} {'wall s':>7} {'x CLI':>6} {'imports s':>9}  sklearn/scipy")
    for name, case in results["cases"].items():
        print(
            f"{name:24} {case['cpu_s']:7.2f} {case['wall_s']:7.2f} {case['cpu_vs_cli']:6.2f} "
            f"{case['import_s']:9.2f}  {'yes' if case['imports_sklearn_or_scipy'] else 'no'}"
        )
    print(f"goal: handler with the index <= {GOAL}x kedro run CPU: {'met' if ratio <= GOAL else 'MISSED'} ({ratio})")
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(work.parent, ignore_errors=True)
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())

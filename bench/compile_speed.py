"""Time `kedro-sfn compile` on the 300-node benchmark graphs.

usage: bench/compile_speed.py [--project DIR] [--runs N] [GRAPH ...]
       (default graphs: every *_300*.json in bench/graphs and bench/graphs-extra)

Runs the project's CLI (package.json bin) on each graph, without and with
durations, and prints medians of the wall time and of the CPU time (user +
system, all of Node's threads), the same for `kedro-sfn help` (Node start-up
and loading the bundle), and the difference: the compile itself. CPU time
barely moves when other jobs share the machine, and it bounds the wall time
of an idle machine, so the verdict uses it: exit 1 if a compile, start-up
included, takes a CPU second or more.
"""
import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIMIT_SECONDS = 1.0


def cli(project):
    pkg = json.loads((Path(project) / "package.json").read_text())
    b = pkg.get("bin")
    if isinstance(b, dict):
        b = b.get("kedro-sfn") or next(iter(b.values()))
    return ["node", str(Path(project) / b)]


def cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed(args, runs):
    """Median (wall, cpu) seconds of `runs` runs."""
    walls, cpus = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), cpu()
        r = subprocess.run(args, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu() - start_cpu)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {r.stderr[-300:]}")
    return statistics.median(walls), statistics.median(cpus)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default=str(HERE.parent))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("graphs", nargs="*")
    a = ap.parse_args()
    graphs = [Path(g) for g in a.graphs] or sorted(
        [*HERE.glob("graphs/*_300*.json"), *HERE.glob("graphs-extra/*_300*.json")]
    )
    cmd = cli(a.project)
    base, base_cpu = timed(cmd + ["help"], a.runs)
    print(f"{'':44s} {'wall':>8s} {'cpu':>8s}   compile alone (cpu)")
    print(f"{'kedro-sfn help (start-up)':44s} {base * 1000:6.0f}ms {base_cpu * 1000:6.0f}ms")
    slow = False
    with tempfile.TemporaryDirectory() as tmp:
        for g in graphs:
            doc = json.loads(g.read_text())
            gp, dp = Path(tmp) / "g.json", Path(tmp) / "d.json"
            gp.write_text(json.dumps({k: v for k, v in doc.items() if k not in ("durations", "series_parallel")}))
            dp.write_text(json.dumps(doc.get("durations", {})))
            for label, extra in (("blind", []), ("known", ["--durations", str(dp)])):
                t, c = timed(cmd + ["compile", "--graph", str(gp), *extra], a.runs)
                slow |= c >= LIMIT_SECONDS
                name = f"{g.parent.name}/{g.stem} ({len(doc['nodes'])} nodes, {label})"
                print(f"{name:44s} {t * 1000:6.0f}ms {c * 1000:6.0f}ms   ~{(c - base_cpu) * 1000:4.0f}ms")
    sys.exit(1 if slow else 0)


if __name__ == "__main__":
    main()

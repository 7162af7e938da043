"""Score `kedro-sfn compile` on the benchmark graphs, as ../shared/bench/score does.

usage: bench/score.py [--project DIR] [GRAPH_DIR ...]
       (default: bench/graphs, the shared benchmark's graphs, and bench/graphs-extra,
        graphs made by bench/make_graphs.py that the compiler was never tuned on)

For each directory, prints one row per graph and a summary line with the
figures the issue asks for, then exits 1 if any directory misses a goal:
  - no compile failures, every node once and after its producers (asl_sim);
  - series-parallel graphs (the shared set's four, and graphs marked
    "series_parallel") reach the critical path exactly when compiled without
    durations, under several random duration draws;
  - known: geometric mean of makespan / critical path <= 1.03, max <= 1.15 (--known-max);
  - blind: geometric mean <= 1.25, and no graph slower than the layered chain.
A graph that compiles into a parent and child state machines (too big for one) is
listed as split and left out of the figures: the CLI prints the parent only.
"""
import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from asl_sim import Bad, check_and_makespan, critical_path, layered  # noqa: E402

SHARED_SP = {"spaceflights", "fan_100", "modular_5x6", "sp_60"}
GOAL_KNOWN_GEO, GOAL_KNOWN_MAX, GOAL_BLIND_GEO = 1.03, 1.15, 1.25


def cli(project):
    pkg = json.loads((Path(project) / "package.json").read_text())
    b = pkg.get("bin")
    if isinstance(b, dict):
        b = b.get("kedro-sfn") or next(iter(b.values()))
    return [os.environ.get("NODE", "node"), str(Path(project) / b)]


def compile_(cmd, graph, durations, tmp):
    g = {k: v for k, v in graph.items() if k not in ("durations", "series_parallel")}
    gp = Path(tmp) / "g.json"
    gp.write_text(json.dumps(g))
    args = cmd + ["compile", "--graph", str(gp)]
    if durations is not None:
        dp = Path(tmp) / "d.json"
        dp.write_text(json.dumps(durations))
        args += ["--durations", str(dp)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise Bad(f"compile failed rc={r.returncode}: {(r.stderr or r.stdout)[-300:]}")
    return json.loads(r.stdout)


def names_ok(asl):
    problems = []

    def visit(m):
        for n, s in m["States"].items():
            if len(n) > 80:
                problems.append(f"state name >80: {n[:40]}")
            fn = (s.get("Parameters") or {}).get("FunctionName", "")
            if len(fn) > 64:
                problems.append(f"function name >64: {fn[:40]}")
            for b in s.get("Branches", []):
                visit(b)

    visit(asl)
    return problems


def runs_children(asl):
    """True when the definition is the parent of a split pipeline (its Tasks start child state
    machines): the CLI prints the parent only, so asl_sim cannot follow the nodes' runs."""
    def visit(m):
        for st in m["States"].values():
            if "states:startExecution" in str(st.get("Resource", "")):
                return True
            if any(visit(b) for b in st.get("Branches", [])):
                return True
        return False

    return visit(asl)


def geo(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def score_dir(cmd, d, known_max=GOAL_KNOWN_MAX):
    known, blind, worse, failures, sp_bad, split = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for f in sorted(Path(d).glob("*.json")):
            g = json.loads(f.read_text())
            dur = g["durations"]
            key = f"{Path(d).name}/{f.stem}"
            try:
                a_known = compile_(cmd, g, dur, tmp)
                a_blind = compile_(cmd, g, None, tmp)
                if runs_children(a_known) or runs_children(a_blind):
                    split.append(key)
                    print(f"{key:32s} split into child state machines: not simulated")
                    continue
                probs = names_ok(a_known) + names_ok(a_blind)
                if probs:
                    raise Bad("; ".join(probs[:2]))
                cp, lay = critical_path(g, dur), layered(g, dur)
                mk = check_and_makespan(g, a_known, dur) / cp
                mb = check_and_makespan(g, a_blind, dur) / cp
                known.append(mk)
                blind.append(mb)
                if mb > lay / cp + 1e-9:
                    worse.append(key)
                if f.stem in SHARED_SP or g.get("series_parallel"):
                    rng = random.Random(1)
                    for _ in range(3):
                        rd = {k: rng.uniform(1, 100) for k in dur}
                        r = check_and_makespan(g, a_blind, rd) / critical_path(g, rd)
                        if r > 1.0 + 1e-9:
                            sp_bad.append(f"{key}:{r:.3f}")
                            break
                print(f"{key:32s} known={mk:.3f} blind={mb:.3f} layered={lay / cp:.3f}")
            except (Bad, subprocess.TimeoutExpired, json.JSONDecodeError, KeyError) as e:
                failures.append(f"{key}: {e}")
                print(f"{key:32s} FAIL {e}")
    ok = (not failures and not sp_bad and not worse and known
          and geo(known) <= GOAL_KNOWN_GEO and max(known) <= known_max
          and geo(blind) <= GOAL_BLIND_GEO)
    print(f"{Path(d).name}: failures={len(failures)} sp_not_exact={len(sp_bad)} "
          f"known_geo={geo(known):.3f} known_max={max(known) if known else float('nan'):.3f} "
          f"blind_geo={geo(blind):.3f} blind_worse_than_layered={len(worse)} "
          f"{f'split_not_simulated={len(split)} ' if split else ''}"
          f"(goals: 0, 0, <={GOAL_KNOWN_GEO}, <={known_max}, <={GOAL_BLIND_GEO}, 0)"
          f"{'' if ok else '  MISSED'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--project", default=str(HERE.parent))
    ap.add_argument("--known-max", type=float, default=GOAL_KNOWN_MAX,
                    help="goal for the largest known-durations ratio (issue 14 asks 1.10 at 500-1,000 nodes)")
    ap.add_argument("dirs", nargs="*", default=[str(HERE / "graphs"), str(HERE / "graphs-extra")])
    a = ap.parse_args()
    cmd = cli(a.project)
    results = [score_dir(cmd, d, a.known_max) for d in a.dirs]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()

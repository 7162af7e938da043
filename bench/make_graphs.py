"""Generate extra benchmark graphs (kedro-sfn/graph@1 plus `durations`) with a fixed seed.

usage: make_graphs.py OUT_DIR [--seed N] [--count N]
       (bench/graphs-extra: --seed 2024 --count 24, then `npx prettier --write bench/graphs-extra`)

The shapes follow the shared benchmark's families: random DAGs whose parents
sit in a window of recent nodes, series-parallel compositions, fans and
namespace-per-region chains. Durations are log-normal (median ~35 s, sigma 1),
like the shared graphs; non-random graphs are marked "series_parallel" so the
scorer checks they come out exact. The compiler was not tuned on these seeds,
so they check that its figures hold beyond the shared set.
"""
import argparse
import json
import math
import random
from pathlib import Path


def node(name, inputs, outputs, namespace=None):
    return {"name": name, "namespace": namespace, "tags": [], "inputs": inputs, "outputs": outputs}


def durations(rng, names):
    return {n: round(max(0.5, math.exp(rng.gauss(3.6, 1.0))), 1) for n in names}


def random_dag(rng, n):
    window = rng.randint(8, 36)
    p_source = rng.uniform(0.005, 0.08)
    p_more = rng.uniform(0.1, 0.5)
    nodes = []
    for i in range(n):
        if i == 0 or rng.random() < p_source:
            inputs = [f"raw_{i}"]
        else:
            k = 1
            while k < 6 and rng.random() < p_more:
                k += 1
            lo = max(0, i - window)
            parents = sorted(rng.sample(range(lo, i), min(k, i - lo)))
            inputs = [f"d_{p}" for p in parents]
        nodes.append(node(f"n_{i}", inputs, [f"d_{i}"]))
    return nodes


def sp_dag(rng, n):
    """A random series-parallel composition of about n nodes."""
    nodes = []

    def build(size, inputs):
        # Returns the datasets the block outputs (its sinks).
        if size <= 1:
            i = len(nodes)
            nodes.append(node(f"sp_{i}", list(inputs), [f"sp_d_{i}"]))
            return [f"sp_d_{i}"]
        if rng.random() < 0.5:
            first = rng.randint(1, size - 1)
            mid = build(first, inputs)
            if len(mid) > 1 and rng.random() < 0.7:
                i = len(nodes)
                nodes.append(node(f"sp_join_{i}", mid, [f"sp_d_{i}"]))
                mid = [f"sp_d_{i}"]
                size -= 1
            return build(max(1, size - first), mid)
        ways = rng.randint(2, min(5, size))
        outs = []
        for w in range(ways):
            share = size // ways + (1 if w < size % ways else 0)
            outs += build(max(1, share), inputs)
        return outs

    build(n, ["raw"])
    return nodes


def fan(rng, n):
    nodes = [node("load_node", ["raw"], ["base"])]
    for i in range(n):
        nodes.append(node(f"feature_{i}_node", ["base"], [f"feature_{i}"]))
    nodes.append(node("combine_node", [f"feature_{i}" for i in range(n)], ["combined"]))
    return nodes


def modular(rng, regions, steps):
    nodes = []
    for r in range(regions):
        ns = f"region_{r}"
        prev = f"raw_{r}"
        for s in range(rng.randint(2, steps)):
            out = f"{ns}.step_{s}"
            nodes.append(node(f"{ns}.step_{s}_node", [prev, "params:common"], [out], ns))
            prev = out
        nodes.append(node(f"{ns}.summary_node", [prev], [f"{ns}.summary"], ns))
    ins = [f"region_{r}.summary" for r in range(regions)]
    nodes.append(node("reporting.combine_node", ins, ["report"], "reporting"))
    return nodes


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--count", type=int, default=24)
    ap.add_argument("--sizes", default="20,30,50,80,120,200,300",
                    help="node counts to draw from (random and series-parallel graphs)")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(x) for x in a.sizes.split(",")]
    for i in range(a.count):
        kind = ["random", "random", "random", "sp", "fan", "modular"][i % 6]
        if kind == "random":
            n = rng.choice(sizes)
            nodes, name = random_dag(rng, n), f"random_{n}_s{i}"
        elif kind == "sp":
            n = rng.choice(sizes)
            nodes, name = sp_dag(rng, n), f"sp_{n}_s{i}"
        elif kind == "fan":
            n = rng.randint(5, 120 if max(sizes) <= 300 else max(sizes))
            nodes, name = fan(rng, n), f"fan_{n}_s{i}"
        else:
            r, s = rng.randint(2, 8), rng.randint(3, 9)
            nodes, name = modular(rng, r, s), f"modular_{r}x{s}_s{i}"
        g = {"schema": "kedro-sfn/graph@1", "project": {"name": "bench", "package": "bench"},
             "pipeline": "__default__", "nodes": nodes,
             "durations": durations(rng, [x["name"] for x in nodes])}
        if kind != "random":
            g["series_parallel"] = True
        (out / f"{name}.json").write_text(json.dumps(g, indent=1) + "\n")


if __name__ == "__main__":
    main()

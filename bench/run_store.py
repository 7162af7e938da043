"""What the run store adds per crossing dataset: bytes and seconds to save and load a
10 MB pandas DataFrame (and a 10 MB numpy array) through emulated S3 (moto server).

usage: .venv/bin/python bench/run_store.py [--mb 10] [--runs 5] [--out bench/run-store-results.json]

A crossing dataset costs one save in its producer's Lambda and one load in each
consumer's; this times both through kedro_sfn.runstore.RunScopedDataset, with s3fs as
the handler uses it, against a moto server on 127.0.0.1. moto answers from memory on
the same machine: on AWS add S3's latency and bandwidth (tens of ms per request, one PUT
and one GET per object, two objects per dataset).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2)
            return proc, endpoint
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("moto server did not start")
            time.sleep(0.2)


def measure(name: str, data, runs: int, location: str) -> dict:
    import fsspec

    from kedro_sfn.runstore import MANIFEST, RunScopedDataset

    saves, loads, stored = [], [], 0
    for i in range(runs):
        run_id = f"bench-{name}-{i}"
        started = time.perf_counter()
        RunScopedDataset(name, location, run_id, producer="p").save(data)
        saves.append(time.perf_counter() - started)
        started = time.perf_counter()
        loaded = RunScopedDataset(name, location, run_id, producer="p").load()  # a consumer: no cache
        loads.append(time.perf_counter() - started)
        assert len(loaded) == len(data)
        fs, folder = fsspec.core.url_to_fs(f"{location}/{run_id}/{name}")
        fs.invalidate_cache()
        stored = sum(fs.size(f"{folder}/{f}") for f in (MANIFEST, json.loads(fs.cat(f"{folder}/{MANIFEST}"))["file"]))
        manifest = json.loads(fs.cat(f"{folder}/{MANIFEST}"))
    return {
        "dataset": name,
        "format": manifest["format"],
        "in_memory_bytes": int(data.memory_usage(deep=True).sum()) if hasattr(data, "memory_usage") else int(data.nbytes),
        "stored_bytes": int(stored),
        "save_seconds_median": round(statistics.median(saves), 3),
        "load_seconds_median": round(statistics.median(loads), 3),
        "runs": runs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "run-store-results.json")
    args = parser.parse_args()

    import boto3
    import numpy as np
    import pandas as pd

    proc, endpoint = start_moto()
    try:
        os.environ.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION="us-east-1",
        )
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench-runs")
        location = "s3://bench-runs/kedro-sfn/bench-sm"
        rows = int(args.mb * 1024 * 1024 / 8 / 4)
        rng = np.random.default_rng(2026)
        # Random floats: the worst case for parquet's compression, so the bytes are an upper bound.
        frame = pd.DataFrame({f"f{i}": rng.random(rows) for i in range(4)})
        array = rng.random(rows * 4)
        results = [measure("frame", frame, args.runs, location), measure("array", array, args.runs, location)]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    import kedro
    import pyarrow

    report = {
        "command": f"{Path(sys.executable).parent.parent.name}/bin/python bench/run_store.py --mb {args.mb:g} --runs {args.runs}",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "versions": {"kedro": kedro.__version__, "pandas": pd.__version__, "pyarrow": pyarrow.__version__},
        "results": results,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{'dataset':8} {'format':8} {'in memory':>12} {'stored':>12} {'save s':>8} {'load s':>8}")
    for r in results:
        print(
            f"{r['dataset']:8} {r['format']:8} {r['in_memory_bytes']:>12,} {r['stored_bytes']:>12,} "
            f"{r['save_seconds_median']:>8} {r['load_seconds_median']:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

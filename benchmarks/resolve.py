"""Sweep throughput on the reference scenario: cases/s against the warm re-solve limit, and memory.

    .venv/bin/python benchmarks/resolve.py                    # ~2 min on 2 cores
    .venv/bin/python benchmarks/resolve.py --cases 2000 --memory-cases 10000

A cost-only Monte Carlo sweep (the US and China carbon prices, the Texas power
price, PJM's firm headroom: costs and row bounds) of ``--cases`` cases, run

1. as the limit: a plain loop of warm re-solves in one process (push the case's
   arrays into the kept HiGHS model, reset to the base basis, ``run()``; no row);
2. serially (``run_sweep(scheduler="serial")``);
3. on a LocalCluster of 2 single-threaded workers;
4. on an external ``dask scheduler`` with 2 ``dask worker`` processes (started here
   on 127.0.0.1).

Each prints wall seconds with and without the set-up (the probe builds of the
affine plan, the cluster start) and cases/s. Then ``--memory-cases`` cases on
the LocalCluster, with the RSS of the client and of each worker sampled every
0.5 s: the first and the last tenth of the sweep, and the peak.
Prints Markdown tables (paste them into docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from planner.sweep import make_plan, monte_carlo_cases, run_sweep  # noqa: E402
from planner.sweep.engine import Engine  # noqa: E402
from planner.sweep.execute import _load_base  # noqa: E402

REF = ROOT / "scenarios" / "us_china_2030.yaml"
DISTRIBUTIONS = {
    "carbon_price_usd_per_tco2.US": {"dist": "uniform", "low": 0, "high": 150},
    "carbon_price_usd_per_tco2.CN": {"dist": "uniform", "low": 0, "high": 150},
    "overrides.regions.US-TX.price_usd_per_mwh": {"dist": "triangular", "low": 50, "mode": 62, "high": 90},
    "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "uniform", "low": 0, "high": 6000},
}


def _limit(cases: list[dict[str, Any]]) -> tuple[float, float]:
    """(set-up s, loop s) of plain warm re-solves: push arrays, reset the basis, run."""
    t0 = time.perf_counter()
    plan = make_plan(_load_base(REF), cases)
    e = Engine(plan)
    setup = time.perf_counter() - t0
    assert plan.affine is not None and len(plan.affine.keys) == len(DISTRIBUTIONS), plan.affine
    t0 = time.perf_counter()
    for case in cases:
        e._push(plan.affine.theta(case))
        e.h.clearSolver()
        e.h.setBasis(e.basis)
        e.h.run()
    return setup, time.perf_counter() - t0


def _timed_sweep(cases: list[dict[str, Any]], **kw: Any) -> tuple[float, float]:
    """(wall s, sweep-only s): the sweep-only time is the sum of the per-case seconds / workers."""
    t0 = time.perf_counter()
    df = run_sweep(REF, cases, progress=False, validate=False, **kw)
    wall = time.perf_counter() - t0
    assert (df["status"] == "optimal").all() and (df["solve_mode"] == "fast").all()
    workers = df["worker"].nunique()
    return wall, float(df["seconds"].sum()) / workers


def _external(folder: Path, n: int = 2) -> tuple[list[subprocess.Popen], str]:
    dask = str(Path(sys.executable).parent / "dask")
    sf = folder / "scheduler.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    while True:
        try:
            address = json.loads(sf.read_text())["address"]
            break
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    for _ in range(n):
        procs.append(subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--memory-limit", "0"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    from distributed import Client

    with Client(address) as c:
        c.wait_for_workers(n, timeout=60)
    return procs, address


def _memory(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """RSS of the client and of the LocalCluster's worker processes, sampled every 0.5 s."""
    import psutil

    me = psutil.Process()
    samples: list[tuple[float, float, float]] = []  # (t, client MB, max worker MB)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            kids = [p for p in me.children(recursive=True)]
            workers = []
            for p in kids:
                try:
                    workers.append(p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            samples.append((time.perf_counter(), me.memory_info().rss / 2**20, max(workers, default=0.0)))
            stop.wait(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out = Path(tempfile.mkdtemp(prefix="planner-mem-"))
    t0 = time.perf_counter()
    try:
        run_sweep(REF, cases, n_workers=2, progress=False, validate=False, outdir=out / "s")
    finally:
        stop.set()
        th.join()
        shutil.rmtree(out, ignore_errors=True)
    wall = time.perf_counter() - t0
    arr = np.array(samples)
    k = max(1, len(arr) // 10)
    return {
        "cases": len(cases), "wall_s": wall, "samples": len(arr),
        "client_first_mb": float(np.median(arr[k : 2 * k, 1])) if len(arr) > 2 * k else float(arr[0, 1]),
        "client_last_mb": float(np.median(arr[-k:, 1])), "client_peak_mb": float(arr[:, 1].max()),
        "worker_first_mb": float(np.median(arr[k : 2 * k, 2])) if len(arr) > 2 * k else float(arr[0, 2]),
        "worker_last_mb": float(np.median(arr[-k:, 2])), "worker_peak_mb": float(arr[:, 2].max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--memory-cases", type=int, default=10000, help="0: skip the memory run")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    cases = monte_carlo_cases(DISTRIBUTIONS, args.cases, args.seed)
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    rows = []
    setup, loop = _limit(cases)
    rows.append(("plain loop of warm re-solves, one process (the limit)", setup + loop, loop))
    rows.append(("serial (`scheduler=\"serial\"`)", *_timed_sweep(cases, scheduler="serial")))
    rows.append(("LocalCluster, 2 workers x 1 thread", *_timed_sweep(cases, n_workers=2)))
    folder = Path(tempfile.mkdtemp(prefix="planner-dask-"))
    procs, address = _external(folder)
    try:
        rows.append(("external `dask scheduler` + 2 `dask worker`", *_timed_sweep(cases, scheduler=address)))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end\n")
    print(f"| how ({args.cases} cost-only cases) | wall s, all | cases/s, all | s, solving only | cases/s, solving only |")
    print("|---|---:|---:|---:|---:|")
    for name, wall, only in rows:
        print(f"| {name} | {wall:.2f} | {args.cases / wall:,.0f} | {only:.2f} | {args.cases / only:,.0f} |")
    if args.memory_cases:
        mem = _memory(monte_carlo_cases(DISTRIBUTIONS, args.memory_cases, args.seed + 1))
        print(f"\nmemory over {mem['cases']:,} cases on a 2-worker LocalCluster ({mem['wall_s']:.0f} s, "
              f"{mem['cases'] / mem['wall_s']:,.0f} cases/s, {mem['samples']} samples):\n")
        print("| process | RSS, 2nd tenth of the sweep, MB | RSS, last tenth, MB | peak, MB |")
        print("|---|---:|---:|---:|")
        print(f"| client | {mem['client_first_mb']:.0f} | {mem['client_last_mb']:.0f} | {mem['client_peak_mb']:.0f} |")
        print(f"| largest worker | {mem['worker_first_mb']:.0f} | {mem['worker_last_mb']:.0f} | {mem['worker_peak_mb']:.0f} |")


if __name__ == "__main__":
    main()

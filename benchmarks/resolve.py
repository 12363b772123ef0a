"""Sweep throughput on the reference scenario: cases/s against the warm re-solve limit, and memory.

    .venv/bin/python benchmarks/resolve.py                          # ~3 min on 2 quiet cores
    .venv/bin/python benchmarks/resolve.py --cases 2000 --memory-cases 10000
    .venv/bin/python benchmarks/resolve.py --scenario scenarios/grid_only.yaml   # the LP the target was set on

A cost-only Monte Carlo sweep (the US and China carbon prices, the Texas power
price, PJM's firm headroom: costs and row bounds) of ``--cases`` cases, run

1. as the limit: a plain loop of warm re-solves in one process (push the case's
   costs and bounds into the kept HiGHS model, start from the case's anchor basis (or the base's), ``run()``;
   no row, nothing written);
2. serially (``run_sweep(scheduler="serial")``);
3. on a LocalCluster of 2 single-threaded workers;
4. on an external ``dask scheduler`` with 2 ``dask worker`` processes (started here
   on 127.0.0.1);
5. end to end as a user runs it: ``planner sweep FILE --samples N`` in a fresh
   process (imports, validation, the plan, the cluster, checkpoints, the output
   files and the plot), serially and on the default LocalCluster.

Rows 1-4 give wall seconds with the set-up (the plan's probe builds, the cluster
start) and without it ("solving only": the sum of the per-case seconds divided by
the workers). Then ``--memory-cases`` cases serially and on a 2-worker
LocalCluster (with an output folder, as the command runs), with the RSS of this
process and of each worker process sampled every 0.25 s: at the start of solving,
the peak and at the end, and the series by tenths of the run.
Prints Markdown tables (paste them into docs/performance.md). Every timing row
carries the 1-minute load average when it was taken: the machine has 2 cores.
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

REF = ROOT / "scenarios" / "us_china_2030.yaml"  # --scenario sets it
DISTRIBUTIONS = {
    "carbon_price_usd_per_tco2.US": {"dist": "uniform", "low": 0, "high": 150},
    "carbon_price_usd_per_tco2.CN": {"dist": "uniform", "low": 0, "high": 150},
    "overrides.regions.US-TX.price_usd_per_mwh": {"dist": "triangular", "low": 50, "mode": 62, "high": 90},
    "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "uniform", "low": 0, "high": 6000},
}


def _load() -> float:
    return os.getloadavg()[0]


def _limit(cases: list[dict[str, Any]]) -> tuple[float, float]:
    """(set-up s, loop s) of plain warm re-solves: push the touched entries, start from the case's
    anchor (solved on first use, as the sweep does) or the base's basis, run."""
    t0 = time.perf_counter()
    plan = make_plan(_load_base(REF), cases)
    e = Engine(plan)
    setup = time.perf_counter() - t0
    assert plan.affine is not None and len(plan.affine.keys) == len(DISTRIBUTIONS), plan.affine
    fast = e.fast
    assert fast is not None
    t0 = time.perf_counter()
    for case in cases:
        t = fast.touched(case)
        fast.push(e.h, t, e.scale)
        e._start(case, t)
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


def _sweep_file(folder: Path, seed: int) -> Path:
    lines = [f"base: {REF}", f"seed: {seed}", "distributions:"]
    lines += [f"  {k}: {json.dumps(v)}" for k, v in DISTRIBUTIONS.items()]
    f = folder / "bench_sweep.yaml"
    f.write_text("\n".join(lines) + "\n")
    return f


def _cli(folder: Path, n: int, seed: int, *extra: str) -> float:
    """Wall seconds of ``planner sweep FILE --samples N`` in a fresh process (everything included)."""
    out = folder / f"cli-{time.time_ns()}"
    cmd = [sys.executable, "-m", "planner.cli", "sweep", str(_sweep_file(folder, seed)), "--samples", str(n),
           "--no-progress", "-o", str(out), *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, text=True, env=env, timeout=1800)
    wall = time.perf_counter() - t0
    shutil.rmtree(out, ignore_errors=True)
    return wall


def _external(folder: Path, n: int = 2) -> tuple[list[subprocess.Popen], str]:
    dask = str(Path(sys.executable).parent / "dask")
    sf = folder / "scheduler.json"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    procs += [subprocess.Popen([dask, "worker", "--scheduler-file", str(sf), "--nthreads", "1", "--no-dashboard",
                                "--memory-limit", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
              for _ in range(n)]
    while True:
        try:
            address = json.loads(sf.read_text())["address"]
            break
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    from distributed import Client

    with Client(address) as c:
        c.wait_for_workers(n, timeout=120)
    return procs, address


def _memory(cases: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """RSS of this process and of its child processes (the LocalCluster's workers), every 0.25 s."""
    import psutil

    me = psutil.Process()
    samples: list[tuple[float, float, float, int]] = []  # (t, client MB, largest child MB, children)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = []
            for p in me.children(recursive=True):
                try:
                    rss.append(p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            big = [r for r in rss if r > 50]  # worker processes (not the resource tracker)
            samples.append((time.perf_counter(), me.memory_info().rss / 2**20, max(big, default=float("nan")), len(big)))
            stop.wait(0.25)

    out = Path(tempfile.mkdtemp(prefix="planner-mem-"))
    th = threading.Thread(target=sample, daemon=True)
    t0 = time.perf_counter()
    th.start()
    try:
        df = run_sweep(REF, cases, progress=False, validate=False, outdir=out / "s", **kw)
        first = df["seconds"].sum()  # noqa: F841 - the frame is read back from disk, as the command does
    finally:
        stop.set()
        th.join()
        shutil.rmtree(out, ignore_errors=True)
    wall = time.perf_counter() - t0
    arr = np.array(samples)
    arr[:, 0] -= t0
    # "start": the first second of solving (after the plan and the cluster); the series by tenths of the run
    solving = arr[arr[:, 0] >= min(arr[-1, 0], 0.1 * wall + 1.0)]
    tenths = [arr[min(len(arr) - 1, int(round(q * (len(arr) - 1))))] for q in np.linspace(0, 1, 11)]
    # the workers' end: the last sample before the cluster closed (all workers still there)
    full = arr[arr[:, 3] == arr[:, 3].max()]
    worker_end = float(full[-1, 2]) if len(full) and arr[:, 3].max() > 0 else float("nan")
    return {
        "cases": len(cases), "wall_s": wall, "samples": len(arr),
        "client_start_mb": float(solving[0, 1]), "client_peak_mb": float(arr[:, 1].max()), "client_end_mb": float(arr[-1, 1]),
        "worker_start_mb": float(solving[0, 2]) if len(solving) else float("nan"), "worker_peak_mb": float(np.nanmax(arr[:, 2])) if np.isfinite(arr[:, 2]).any() else float("nan"),
        "worker_end_mb": worker_end,
        "client_series_mb": [round(float(t[1])) for t in tenths],
        "worker_series_mb": [round(float(t[2])) if np.isfinite(t[2]) else None for t in tenths],
    }


def main() -> None:
    global REF
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=1000)
    ap.add_argument("--memory-cases", type=int, default=10000, help="0: skip the memory runs")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scenario", type=Path, default=REF, help="the base scenario (default: the on-site reference)")
    ap.add_argument("--skip", default="", help="comma-separated: limit,serial,local,external,cli,memory")
    args = ap.parse_args()
    REF = args.scenario.resolve()
    skip = set(filter(None, args.skip.split(",")))
    cases = monte_carlo_cases(DISTRIBUTIONS, args.cases, args.seed)
    print(f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
          f"load average {_load():.1f} at start; base {REF.relative_to(ROOT) if REF.is_relative_to(ROOT) else REF}",
          flush=True)
    rows: list[tuple[str, float, float | None, float]] = []  # (how, wall all, wall solving only, load)
    if "limit" not in skip:
        setup, loop = _limit(cases)
        rows.append(("plain loop of warm re-solves, one process (the limit)", setup + loop, loop, _load()))
    if "serial" not in skip:
        rows.append(("`run_sweep(scheduler=\"serial\")`", *_timed_sweep(cases, scheduler="serial"), _load()))
    if "local" not in skip:
        rows.append(("`run_sweep`, LocalCluster, 2 workers x 1 thread", *_timed_sweep(cases, n_workers=2), _load()))
    if "external" not in skip:
        folder = Path(tempfile.mkdtemp(prefix="planner-dask-"))
        procs, address = _external(folder)
        try:
            rows.append(("`run_sweep`, external `dask scheduler` + 2 `dask worker`",
                         *_timed_sweep(cases, scheduler=address), _load()))
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
            shutil.rmtree(folder, ignore_errors=True)
    if "cli" not in skip:
        folder = Path(tempfile.mkdtemp(prefix="planner-cli-"))
        try:
            rows.append((f"`planner sweep FILE --samples {args.cases} --scheduler serial` (fresh process, all files)",
                         _cli(folder, args.cases, args.seed, "--scheduler", "serial"), None, _load()))
            rows.append((f"`planner sweep FILE --samples {args.cases}` (LocalCluster, fresh process, all files)",
                         _cli(folder, args.cases, args.seed), None, _load()))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\nload average {_load():.1f} at the end\n")
    if rows:
        print(f"| how ({args.cases:,} cost-only cases) | wall s, all | cases/s, all | s, solving only | cases/s, solving only | load |")
        print("|---|---:|---:|---:|---:|---:|")
    for name, wall, only, load in rows:
        solving = f"{only:.2f} | {args.cases / only:,.0f}" if only else "- | -"
        print(f"| {name} | {wall:.2f} | {args.cases / wall:,.0f} | {solving} | {load:.1f} |", flush=True)
    if args.memory_cases and "memory" not in skip:
        mc = monte_carlo_cases(DISTRIBUTIONS, args.memory_cases, args.seed + 1)
        print(f"\nmemory over {args.memory_cases:,} cases, with an output folder (RSS, MB; start = the first second "
              "of solving; end = after writing the outputs):\n")
        print("| run | process | start | peak | end | by tenths of the run | wall s | cases/s | load |")
        print("|---|---|---:|---:|---:|---|---:|---:|---:|")
        for label, kw in (("serial", {"scheduler": "serial"}), ("LocalCluster, 2 workers", {"n_workers": 2})):
            m = _memory(mc, **kw)
            load = _load()
            rate = f"{m['cases'] / m['wall_s']:,.0f}"
            print(f"| {label} | client | {m['client_start_mb']:.0f} | {m['client_peak_mb']:.0f} | {m['client_end_mb']:.0f} | "
                  f"{' '.join(map(str, m['client_series_mb']))} | {m['wall_s']:.0f} | {rate} | {load:.1f} |")
            if label != "serial":
                print(f"| {label} | largest worker | {m['worker_start_mb']:.0f} | {m['worker_peak_mb']:.0f} | "
                      f"{m['worker_end_mb']:.0f} | {' '.join(str(v) for v in m['worker_series_mb'])} | | | |", flush=True)


if __name__ == "__main__":
    main()

"""Fresh build+solve vs WhatIf re-solve on the reference scenario, and sweep throughput.

    .venv/bin/python benchmarks/resolve.py            # ~1 min on 2 cores
    .venv/bin/python benchmarks/resolve.py --runs 21 --cases 80

Prints two Markdown tables (paste them into docs/sweeps.md):

1. per kind of change, the median over ``--runs`` runs of a fresh
   ``planner.solve`` (read the data, build, solve, make the result) and of a
   ``WhatIf.solve`` re-solve (rebuild the cheap arrays, push the changed costs
   and bounds to the kept HiGHS model, solve warm from the last basis, make
   the result);
2. sweep throughput in cases/second for a ``--cases`` Monte Carlo sweep:
   serial, then on a Dask ``LocalCluster`` with 1 and with 2 single-threaded
   workers, with the cluster start counted and not counted.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import planner  # noqa: E402
from planner.sweep import monte_carlo_cases, run_sweep  # noqa: E402
from planner.whatif import WhatIf  # noqa: E402

REF = ROOT / "scenarios" / "us_china_2030.yaml"
TX = "{moratorium_id: tx, region_id: US-TX, from_year: 2026, until_year: 2030}"
CHANGES: dict[str, list[str]] = {
    "carbon price (costs)": ["carbon_price_usd_per_tco2.US=100", "carbon_price_usd_per_tco2.CN=50"],
    "regional power price (costs)": ["overrides.regions.US-TX.price_usd_per_mwh=99"],
    "moratoria lifted (bounds)": ["moratoria=[]"],
    "Texas moratorium (bounds)": [f"extra_moratoria=[{TX}]"],
    "PJM firm headroom (row bounds)": ["overrides.grid_regions.PJM.firm_headroom_mw=3000"],
    "expansion cap (bounds)": ["parameters.expansion_max_mw_per_year_us=500"],
    "latency limit (structure: rebuild)": ["clusters.us-va-inference-2026.user_hub.max_rtt_ms=10"],
}
DISTRIBUTIONS = {
    "carbon_price_usd_per_tco2.US": {"dist": "uniform", "low": 0, "high": 150},
    "carbon_price_usd_per_tco2.CN": {"dist": "uniform", "low": 0, "high": 150},
    "overrides.regions.US-TX.price_usd_per_mwh": {"dist": "triangular", "low": 50, "mode": 62, "high": 90},
    "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "uniform", "low": 0, "high": 6000},
    "discount_rate": {"dist": "normal", "mean": 0.07, "sd": 0.015, "low": 0.04, "high": 0.10},
}


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def resolve_table(runs: int) -> str:
    """Median ms of a fresh solve and of a WhatIf re-solve, per kind of change."""
    base = planner.load_scenario(REF)
    lines = [
        "| change | fresh build+solve, ms | WhatIf re-solve, ms | speed-up | mode |",
        "|---|---:|---:|---:|---|",
    ]
    fresh_base = _median_ms(lambda: planner.solve(planner.load_scenario(REF)), runs)
    lines.append(f"| none (the reference) | {fresh_base:.1f} | | | |")
    for name, change in CHANGES.items():
        fresh = _median_ms(lambda: planner.solve(planner.load_scenario(REF, change)), runs)
        w = WhatIf(base)
        times, modes = [], set()
        for _ in range(runs):
            t0 = time.perf_counter()
            w.solve(change)
            times.append(time.perf_counter() - t0)
            modes.add(w.last_mode)
            w.solve(base)  # back to the base, so the next timed solve is a real change again
        warm = statistics.median(times) * 1000.0
        lines.append(f"| {name} | {fresh:.1f} | {warm:.1f} | {fresh / warm:.1f}x | {'/'.join(sorted(modes))} |")
    return "\n".join(lines)


def sweep_table(n_cases: int) -> str:
    """Cases per second of an *n_cases* Monte Carlo sweep: serial, and on 1 and 2 Dask workers."""
    from distributed import Client, LocalCluster
    import logging

    cases = monte_carlo_cases(DISTRIBUTIONS, n_cases, seed=1)
    lines = [
        f"| how ({n_cases} cases) | wall s incl. cluster start | cases/s | wall s, sweep only | cases/s |",
        "|---|---:|---:|---:|---:|",
    ]
    t0 = time.perf_counter()
    run_sweep(REF, cases, scheduler="serial", progress=False)
    s = time.perf_counter() - t0
    lines.append(f"| serial (one process, one WhatIf) | {s:.2f} | {n_cases / s:.1f} | {s:.2f} | {n_cases / s:.1f} |")
    for n in (1, 2):
        t0 = time.perf_counter()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        t1 = time.perf_counter()
        try:
            df = run_sweep(REF, cases, scheduler=client, progress=False)
            t2 = time.perf_counter()
        finally:
            client.close()
            cluster.close()
        assert (df["status"] == "optimal").all()
        total, only = t2 - t0, t2 - t1
        lines.append(
            f"| LocalCluster, {n} worker{'s' if n > 1 else ''} x 1 thread | {total:.2f} | {n_cases / total:.1f} "
            f"| {only:.2f} | {n_cases / only:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run both benchmarks and print the tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=11, help="runs per measurement (median)")
    ap.add_argument("--cases", type=int, default=40, help="cases of the sweep")
    args = ap.parse_args()
    import os

    print(f"machine: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
          f"Python {platform.python_version()}, planner {planner.__version__}\n")
    print(f"Re-solve vs fresh solve, median of {args.runs} runs, reference scenario:\n")
    print(resolve_table(args.runs))
    print()
    print(sweep_table(args.cases))


if __name__ == "__main__":
    main()

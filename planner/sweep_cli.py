"""The ``planner sweep`` command. Light at import: Dask and pandas load only when a sweep runs."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

SWEEP_EPILOG = """examples:
  planner sweep scenarios/us_china_2030.yaml --vary carbon_price_usd_per_tco2.US=0,50,100 \\
      --vary 'moratoria=[],[status:as_reported]'
  planner sweep my_sweep.yaml --samples 200 --seed 1            # Monte Carlo from its distributions
  planner sweep my_sweep.yaml --tornado                         # one key at a time, low and high
  planner sweep scenarios/us_china_2030.yaml --vary discount_rate=0.04,0.1 --scheduler tcp://10.0.0.5:8786

Sweep file (YAML): base: <scenario path>, set: {key: value}, vary: {key: [v1, v2]},
distributions: {key: {dist: uniform|normal|triangular|choice, low/high/mean/sd/mode/values}},
samples: N, seed: S. Outputs in OUTDIR: sweep.parquet, sweep.csv, sweep.json,
sweep_response.png, tornado.png (--tornado). See docs/sweeps.md."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``planner sweep`` to the ``planner`` command's subparsers.

    Parameters
    ----------
    subparsers
        What ``ArgumentParser.add_subparsers`` returned.
    """
    s = subparsers.add_parser(
        "sweep",
        help="solve many variations of a scenario (grid, Monte Carlo or tornado), on Dask",
        description="Solve many variations of a scenario and write one row per case.",
        epilog=SWEEP_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    s.add_argument("scenario", metavar="SCENARIO_OR_SWEEPFILE", help="scenario YAML, or a sweep file (base: + vary:/distributions:)")
    s.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="values of a dotted key (as --set; values are YAML); several --vary give the full grid")
    s.add_argument("--samples", type=int, metavar="N", help="Monte Carlo: N draws from the sweep file's distributions")
    s.add_argument("--seed", type=int, metavar="S", help="random seed for --samples (default: the file's, else 0)")
    s.add_argument("--tornado", action="store_true", help="vary each key alone between its low and high value")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="an existing Dask scheduler (default: a LocalCluster on this machine; 'serial': no Dask)")
    s.add_argument("--workers", type=int, metavar="N", help="LocalCluster workers (default: one per core)")
    s.add_argument("-o", "--outdir", help="output directory (default: results/<scenario name>-sweep)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``planner sweep``: validate everything, run the cases, write OUTDIR, print a summary line.

    Returns
    -------
    int
        0 when the sweep completed (failed cases are reported, not fatal), 130 on Ctrl-C.
    """
    from planner.sweep import SweepError, SweepInterrupted, make_spec, run_sweep, summary_line

    if args.samples is not None and args.samples < 1:
        raise SweepError(f"--samples: got {args.samples}; expected an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise SweepError(f"--workers: got {args.workers}; expected an integer >= 1")
    path = Path(args.scenario)
    t0 = time.perf_counter()
    spec = make_spec(path, args.vary, samples=args.samples, seed=args.seed, tornado=args.tornado)
    outdir = Path(args.outdir or Path("results") / f"{spec.base.name}-sweep")
    print(f"sweep: {len(spec.cases)} {spec.kind.replace('_', ' ')} case(s) of {spec.base.name}", file=sys.stderr)
    try:
        frame = run_sweep(
            spec.base,
            spec.cases,
            scheduler=args.scheduler,
            n_workers=args.workers,
            outdir=outdir,
            progress=not args.no_progress,
            validate=False,  # make_spec already validated every key and value
            tornado=spec.kind == "tornado",
        )
    except SweepInterrupted as exc:
        print(summary_line(exc.frame, exc.outdir, time.perf_counter() - t0), file=sys.stderr)
        print(f"planner: interrupted after {len(exc.frame)} of {len(spec.cases)} cases; those are written", file=sys.stderr)
        return 130
    print(summary_line(frame, outdir, time.perf_counter() - t0))
    return 0

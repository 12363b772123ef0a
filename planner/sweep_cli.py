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
  planner sweep my_sweep.yaml --samples 256 --sampling sobol    # or latin_hypercube
  planner sweep my_sweep.yaml --tornado                         # one key at a time, low and high
  planner sweep scenarios/us_china_2030.yaml --vary discount_rate=0.04,0.1 --scheduler tls://10.0.0.5:8786 \\
      --tls-ca-file ca.pem --tls-cert client.pem --tls-key client-key.pem
  planner sweep --resume results/us_china_2030-sweep                 # run only the cases not finished

Sweep file (YAML): base: <scenario path>, set: {key: value}, vary: {key: [v1, v2]},
distributions: {key: {dist: uniform|normal|triangular|choice, low/high/mean/sd/mode/values}},
samples: N, seed: S, sampling: random|latin_hypercube|sobol. Outputs in OUTDIR: sweep.parquet, sweep_placements.parquet (case, zone,
year, IT MW), sweep.csv, sweep.json, sweep_response.png, tornado.png (--tornado); finished
cases are checkpointed in OUTDIR/checkpoint/ as they arrive. See docs/sweeps.md.

exit codes: 0 done (failed cases are rows, not errors); 2 bad input or --resume mismatch;
5 the Dask scheduler was lost for longer than --scheduler-timeout (finished cases written;
restart it and --resume); 130 Ctrl-C (finished cases written; --resume)."""


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
    s.add_argument("scenario", metavar="SCENARIO_OR_SWEEPFILE", nargs="?",
                   help="scenario YAML, or a sweep file (base: + vary:/distributions:); optional with --resume")
    s.add_argument("--vary", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="values of a dotted key (as --set; values are YAML); several --vary give the full grid")
    s.add_argument("--samples", type=int, metavar="N", help="Monte Carlo: N draws from the sweep file's distributions")
    s.add_argument("--seed", type=int, metavar="S", help="random seed for --samples (default: the file's, else 0)")
    s.add_argument("--sampling", choices=("random", "latin_hypercube", "sobol"),
                   help="how --samples draws: random (default), latin_hypercube (one draw per stratum of each key), "
                        "sobol (scrambled Sobol points; N a power of 2)")
    s.add_argument("--tornado", action="store_true", help="vary each key alone between its low and high value")
    s.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="an existing Dask scheduler (default: a LocalCluster on this machine; 'serial': no Dask)")
    s.add_argument("--workers", type=int, metavar="N", help="LocalCluster workers (default: one per core)")
    s.add_argument("-o", "--outdir", help="output directory (default: results/<scenario name>-sweep)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--resume", metavar="OUTDIR",
                   help="finish the sweep in OUTDIR: run only its missing cases (its stored spec, or the same scenario and cases)")
    s.add_argument("--scheduler-timeout", type=float, default=30.0, metavar="S",
                   help="seconds without the scheduler mid-sweep before writing what is done and exiting 5 (default 30)")
    s.add_argument("--tls-ca-file", metavar="PEM", help="CA certificate of the Dask cluster (TLS)")
    s.add_argument("--tls-cert", metavar="PEM", help="this client's certificate (TLS)")
    s.add_argument("--tls-key", metavar="PEM", help="this client's private key (TLS)")
    s.add_argument("--marginals", choices=("none", "binding", "all"), default="none",
                   help="per grid region, the last year's one-sided marginal values in each row (slow: ~0.5 s a case)")
    s.add_argument("--batch-size", type=int, default=0, metavar="N", help="cases per Dask task (default: automatic)")
    s.add_argument("--checkpoint-every", type=float, default=1.0, metavar="S",
                   help="seconds between checkpoint writes at most (default 1; 0: every finished batch); "
                        "finished cases are written at once on Ctrl-C or a lost scheduler")
    s.add_argument("--max-retries", type=int, default=2, metavar="N",
                   help="LocalCluster: re-runs of a task whose worker died (an external scheduler's allowed-failures rules)")
    s.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run ``planner sweep``: validate everything, run the cases, write OUTDIR, print a summary line.

    Returns
    -------
    int
        0 when the sweep completed (failed cases are reported, not fatal), 5 when the scheduler
        was lost, 130 on Ctrl-C (finished cases are written in both).
    """
    from planner.sweep import (
        SchedulerLost,
        SweepError,
        SweepInterrupted,
        make_spec,
        run_sweep,
        security_from,
        stored_sweep,
        summary_line,
    )

    if args.samples is not None and args.samples < 1:
        raise SweepError(f"--samples: got {args.samples}; expected an integer >= 1")
    if args.workers is not None and args.workers < 1:
        raise SweepError(f"--workers: got {args.workers}; expected an integer >= 1")
    if not args.scheduler_timeout > 0:
        raise SweepError(f"--scheduler-timeout: got {args.scheduler_timeout}; expected a number of seconds > 0")
    if args.batch_size < 0 or args.max_retries < 0:
        raise SweepError("--batch-size and --max-retries: expected integers >= 0")
    if not args.checkpoint_every >= 0:
        raise SweepError(f"--checkpoint-every: got {args.checkpoint_every}; expected a number of seconds >= 0")
    security = security_from(args.tls_ca_file, args.tls_cert, args.tls_key)
    t0 = time.perf_counter()
    tornado: bool | None
    if args.scenario is None:
        if not args.resume:
            raise SweepError("planner sweep: give SCENARIO_OR_SWEEPFILE, or --resume OUTDIR")
        if args.vary or args.samples is not None or args.tornado or args.sampling:
            raise SweepError("--resume OUTDIR alone takes the stored cases; give the scenario too to add --vary/--samples/--tornado")
        base, cases, options = stored_sweep(args.resume)
        name, kind, tornado = base.name, "stored", options.get("tornado")
    else:
        spec = make_spec(Path(args.scenario), args.vary, samples=args.samples, seed=args.seed, tornado=args.tornado,
                         sampling=args.sampling)
        base, cases, name, kind, tornado = spec.base, spec.cases, spec.base.name, spec.kind, spec.kind == "tornado"
    if args.resume and args.outdir and Path(args.outdir) != Path(args.resume):
        raise SweepError(f"-o {args.outdir} and --resume {args.resume}: a resumed sweep writes into its own folder")
    outdir = Path(args.resume or args.outdir or Path("results") / f"{name}-sweep")
    if args.resume and args.scenario is not None:
        from planner.sweep.execute import check_resume

        check_resume(outdir, base, cases)  # before anything is printed or run
    verb = "resuming" if args.resume else "sweep:"
    print(f"{verb} {len(cases)} {kind.replace('_', ' ')} case(s) of {name}", file=sys.stderr)
    try:
        frame = run_sweep(
            base,
            cases,
            scheduler=args.scheduler,
            n_workers=args.workers,
            outdir=outdir,
            progress=not args.no_progress,
            validate=False,  # make_spec already validated every key and value (a stored spec was, too)
            tornado=tornado,
            scheduler_timeout=args.scheduler_timeout,
            resume=bool(args.resume),
            security=security,
            marginals=args.marginals,
            batch_size=args.batch_size,
            max_retries=args.max_retries,
            checkpoint_every=args.checkpoint_every,
        )
    except SweepInterrupted as exc:
        print(summary_line(exc.frame, exc.outdir, time.perf_counter() - t0), file=sys.stderr)
        print(f"planner: interrupted after {len(exc.frame)} of {len(cases)} cases; those are written; "
              f"finish with: planner sweep --resume {outdir}", file=sys.stderr)
        return 130
    except SchedulerLost as exc:
        print(summary_line(exc.frame, exc.outdir, time.perf_counter() - t0), file=sys.stderr)
        print(f"planner: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(summary_line(frame, outdir, time.perf_counter() - t0))
    return 0

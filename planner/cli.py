"""The ``planner`` command. Thin: it parses arguments and calls the package."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from planner.errors import PlannerError

log = logging.getLogger("planner.cli")

_T_MAIN = time.perf_counter()

EXIT_CODES = """exit codes:
  0  solved to optimality (or the command succeeded)
  2  bad input: scenario, override, data table or results directory
  3  the solver failed (infeasible, unbounded or an error)
  4  the time limit was reached
  5  planner sweep: the Dask scheduler was lost (finished cases written; --resume)
  1  an internal error (a bug: please report it)"""


def main(argv: list[str] | None = None) -> int:
    global _T_MAIN
    _T_MAIN = time.perf_counter()
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    _setup_logging(getattr(args, "verbose", 0) - getattr(args, "quiet", 0))
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at exit
        return code
    except BrokenPipeError:  # `planner ... | head`: the reader left; exit quietly like other tools
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports a command killed by a closed pipe
    except PlannerError as exc:
        print(f"planner: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("planner: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback for users
        if os.environ.get("PLANNER_DEBUG"):
            raise
        print(f"planner: internal error: {type(exc).__name__}: {exc} (set PLANNER_DEBUG=1 for the traceback)", file=sys.stderr)
        return 1


def _setup_logging(verbosity: int) -> None:
    """Messages of the ``planner`` loggers on stderr: warnings by default, -v info, -vv debug, -q errors only."""
    level = {-1: logging.ERROR, 0: logging.WARNING, 1: logging.INFO}.get(max(-1, min(verbosity, 2)), logging.DEBUG)
    log = logging.getLogger("planner")
    log.setLevel(level)
    ours = [h for h in log.handlers if getattr(h, "_planner_cli", False)]
    if ours:  # main() called again in one process (tests, notebooks): write to today's stderr, not the first one's
        for h in ours:
            if isinstance(h, logging.StreamHandler):
                h.stream = sys.stderr  # not setStream(): that flushes the old stream, which may be closed
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_LowerFormatter())
    handler._planner_cli = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.propagate = False


class _LowerFormatter(logging.Formatter):
    """``planner: warning: ...``, like the error lines."""

    def format(self, record: logging.LogRecord) -> str:
        return f"planner: {record.levelname.lower()}: {record.getMessage()}"


def _add_verbosity(parser: argparse.ArgumentParser) -> None:
    """-v/--verbose and -q/--quiet, on the main parser and on each subcommand (either place works)."""
    for flags, dest, text in ((("-v", "--verbose"), "verbose", "more messages on stderr (-vv: debug)"),
                              (("-q", "--quiet"), "quiet", "errors only on stderr; solve prints only the output directory")):
        try:
            parser.add_argument(*flags, dest=dest, action="count", default=argparse.SUPPRESS, help=text)
        except argparse.ArgumentError:  # a subcommand with its own -q or -v keeps it
            pass


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="planner",
        description="Data-center siting and grid-capacity planning on US and Chinese regional data.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from planner import __version__

    p.add_argument("--version", action="version", version=f"planner {__version__}")
    p.set_defaults(verbose=0, quiet=0)
    _add_verbosity(p)
    sub = p.add_subparsers(dest="command")

    s = sub.add_parser("solve", help="solve a scenario and write its results")
    s.add_argument("scenario", help="scenario YAML file")
    s.add_argument("-o", "--outdir", help="output directory (default: results/<scenario name>)")
    s.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario value (dotted path; VALUE is YAML); repeatable")
    s.add_argument("--solver", choices=["highs", "cbc"], help="solver (default: the scenario's, else highs)")
    s.add_argument("--write-lp", metavar="FILE", help="also write the LP to FILE")
    s.add_argument("--solver-log", action="store_true", help="show the solver's own log on stderr (solver.log=true)")
    s.add_argument("--marginals", choices=["auto", "binding", "all", "none"],
                   help="one-sided marginal values of the limits (solver.marginals; default auto: binding limits "
                        "up to 20,000 pairs, none above)")
    s.add_argument("--profile", action="store_true", help="print where the time went (stderr)")
    s.add_argument("--no-maps", action="store_true", help="skip map.png, map.html and results.gpkg")
    s.set_defaults(func=_cmd_solve)

    v = sub.add_parser("validate", help="check a scenario without solving it")
    v.add_argument("scenario")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    v.set_defaults(func=_cmd_validate)

    d = sub.add_parser("datasets", help="list the bundled tables with their vintage and sources")
    d.set_defaults(func=_cmd_datasets)

    mp = sub.add_parser("map", help="draw a map of a finished run (PNG)")
    mp.add_argument("outdir")
    mp.add_argument("--metric", help="it_load (default), grid_load (or load), utilisation, shadow_price, "
                    "new_capacity, cost, onsite or time_to_power")
    mp.add_argument("--year", help="year to draw, or 'all' for one row per year (default: a year with moratoria "
                    "in force if any, else the last)")
    mp.add_argument("-o", "--output", help="PNG path (default: OUTDIR/map.png, or map_<metric>_<year>.png)")
    mp.set_defaults(func=_cmd_map)

    e = sub.add_parser("explain", help="explain the unserved clusters of a finished run")
    e.add_argument("outdir")
    e.add_argument("cluster", nargs="?")
    e.set_defaults(func=_cmd_explain)

    dr = sub.add_parser("drivers", help="tornado over the named assumptions: cost change and GW moving between states")
    dr.add_argument("scenario", help="scenario YAML file")
    dr.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                    help="override a scenario value first (dotted path; VALUE is YAML); repeatable")
    dr.add_argument("-o", "--output", metavar="CSV", help="also write the table to CSV")
    dr.set_defaults(func=_cmd_drivers)

    cp = sub.add_parser("compare", help="differences across finished runs: cost parts, load by state and zone, "
                        "new capacity")
    cp.add_argument("outdirs", nargs="+", metavar="OUTDIR", help="results directories; the first is the base")
    cp.add_argument("-o", "--output", metavar="DIR", help="also write costs.csv, load_by_state.csv, "
                    "load_by_zone.csv and new_capacity.csv to DIR")
    cp.add_argument("--top", type=int, default=15, help="rows shown per table (largest changes first; default 15)")
    cp.set_defaults(func=_cmd_compare)

    from planner.sweep_cli import register as register_sweep  # light: no dask import until a sweep runs

    register_sweep(sub)
    for command in sub.choices.values():
        _add_verbosity(command)
    return p


def _cmd_solve(args) -> int:
    from planner.api import solve
    from planner.report import format_report
    from planner.scenario import load_scenario
    from planner.solver import STATUS_EXIT_CODES, write_lp

    t0 = time.perf_counter()
    extra = (["solver.log=true"] if args.solver_log else []) + ([f"solver.marginals={args.marginals}"] if args.marginals else [])
    scenario = load_scenario(args.scenario, args.overrides + extra)
    t_load = time.perf_counter() - t0
    log.info("scenario %s loaded (%d clusters) in %.3f s", scenario.name, len(scenario.clusters), t_load)
    outdir = Path(args.outdir or Path("results") / scenario.name)
    built = None
    if args.write_lp:
        from planner.api import build

        built = build(scenario)
        try:
            write_lp(built[1], args.write_lp)
        except OSError as exc:
            raise PlannerError(f"{args.write_lp}: cannot write the LP file ({exc.strerror})") from None
    result = solve(scenario, solver=args.solver, built=built)
    result.summary["overrides"] = list(args.overrides)
    if not args.quiet:  # the report first: the maps (seconds) are drawn after the user can read the results
        print(format_report(result), flush=True)
    t_write = time.perf_counter()
    from planner.io import write_result

    draw = None
    if not args.no_maps:
        from planner.maps import map_writer

        draw = map_writer(result)  # None (and a warning) when regions have no bundled geometry
    write_result(result, outdir, extra=draw)
    t_write = time.perf_counter() - t_write
    if args.profile:
        _print_profile(t_load, result.summary["timings_s"], t_write, time.perf_counter() - _T_MAIN)
    for w in result.summary.get("warnings", []):
        log.warning("%s", w)
    log.info("solved: %s, objective %.6g USD; written in %.3f s", result.summary["status"],
             result.summary.get("objective_usd") or float("nan"), t_write)
    if args.quiet:
        print(outdir)
    else:
        print(f"\nResults written to {outdir}/")
    return STATUS_EXIT_CODES.get(result.summary["status"], 3)


def _since_process_start() -> float | None:
    """Seconds since this process started (Linux /proc), or None elsewhere."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _print_profile(t_load: float, t: dict, t_write: float, wall: float) -> None:
    total = _since_process_start()
    before_main = (total - (time.perf_counter() - _T_MAIN)) if total is not None else None
    stages = [
        ("start-up and imports", before_main if before_main is not None else float("nan")),
        ("load scenario", t_load),
        ("load + check data tables", t.get("load_data", 0.0)),
        ("inputs (joins, eligibility)", t.get("inputs", 0.0)),
        ("build model", t.get("build", 0.0)),
        ("solve", t.get("solve", 0.0)),
        ("result tables", t.get("result", 0.0)),
        ("  of which marginal values", t.get("marginals", 0.0)),
        ("  of which equal-cost ranges", t.get("equal_cost_ranges", 0.0)),
        ("write outputs", t_write),
    ]
    print("where the time went (s):", file=sys.stderr)
    for name, sec in stages:
        print(f"  {name:30} {sec:8.3f}", file=sys.stderr)
    print(f"  {'total since process start':30} {total if total is not None else wall:8.3f}", file=sys.stderr)


def _cmd_validate(args) -> int:
    from planner.inputs import build_inputs
    from planner.scenario import load_scenario

    scenario = load_scenario(args.scenario, args.overrides)
    inputs = build_inputs(scenario)
    n_pairs = len(inputs.pairs)
    blocked = int((inputs.pairs["blocked_by"] != "").sum())
    print(
        f"{args.scenario}: valid. {len(inputs.clusters)} clusters, {inputs.clusters['it_load_mw'].sum():,.0f} MW IT, "
        f"horizon {inputs.years[0]}-{inputs.years[-1]}, {n_pairs} eligible (cluster, region) pairs, "
        f"{blocked} blocked by {len(inputs.moratoria)} applied moratoria."
    )
    from planner.checks import warnings_for

    for w in warnings_for(inputs):
        print(f"warning: {w}")
    stuck = inputs.exclusions["cluster_id"].unique()
    if len(stuck):
        from planner.result import exclusion_text

        for k in stuck:
            print(f"warning: {k} has no eligible region and will be unserved. {exclusion_text(inputs, k)}")
    return 0


def _cmd_datasets(args) -> int:
    from planner.data.load import describe_tables
    from planner.report import format_datasets

    print(format_datasets(describe_tables()))
    return 0


def _cmd_map(args) -> int:
    from planner.maps import write_png

    path = write_png(args.outdir, args.metric, args.year, args.output)
    print(path)
    return 0


def _cmd_compare(args) -> int:
    from planner.compare import compare, format_comparison

    c = compare(args.outdirs)
    print(format_comparison(c, top=args.top))
    if args.output:
        c.to_dir(args.output)
        print(f"\nwritten: {args.output}/ (costs.csv, load_by_state.csv, load_by_zone.csv, new_capacity.csv)")
    return 0


def _cmd_explain(args) -> int:
    import pandas as pd

    from planner.io import read_summary

    read_summary(Path(args.outdir))
    un = pd.read_csv(Path(args.outdir) / "unserved.csv", dtype=str, keep_default_na=False)
    if args.cluster:
        placed = pd.read_csv(Path(args.outdir) / "placements.csv", dtype=str, keep_default_na=False)["cluster_id"]
        if args.cluster not in set(placed) | set(un["cluster_id"]):
            raise PlannerError(f"{args.outdir}: no cluster {args.cluster!r} in these results")
        un = un[un["cluster_id"] == args.cluster]
    if un.empty:
        print("Every cluster is fully placed." if not args.cluster else f"{args.cluster} is fully placed.")
    for r in un.itertuples():
        print(f"{r.cluster_id}: {float(r.unserved_it_mw):,.0f} MW unserved. {r.reason}")
    return 0


def _cmd_drivers(args) -> int:
    from planner.drivers import format_table, run_drivers
    from planner.scenario import load_scenario

    res = run_drivers(load_scenario(args.scenario, args.overrides))
    print(format_table(res))
    if args.output:
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.tmp")
        res.table.to_csv(tmp, index=False)
        tmp.replace(out)  # never a half-written table
        print(f"\nwritten: {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

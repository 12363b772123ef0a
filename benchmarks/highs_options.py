"""HiGHS options on the planner's LP shape: which solver settings to default to.

    python benchmarks/highs_options.py --sizes 3 4      # default: sizes 2 3

For each instance size (``benchmarks/instances.py``) the compact model is built
once, then solved in a fresh subprocess per option set (so one run's memory and
warm state do not leak into the next). Prints one row per (size, options):
HiGHS's own run time, simplex iterations, and the objective's relative
difference from the default's. Results: ``benchmarks/results/highs_options.json``
and the table in ``docs/performance.md`` (between the ``highs-options`` markers).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from instances import SIZES, write_instance  # noqa: E402

#: Option sets tried on top of the planner's own settings (``highs_instance``: dual simplex, presolve
#: off for an LP, one thread, random_seed 0). ``max_size``: the largest size the set is run at (the
#: sets far slower at size 3 are not repeated at size 4). Names checked against highspy 1.16.
OPTION_SETS: dict[str, dict] = {
    "planner default (dual, presolve off)": {},
    "presolve on": {"presolve": "on"},
    "scaling off (simplex_scale_strategy 0)": {"simplex_scale_strategy": 0, "max_size": 3},
    "scaling forced equilibration (3)": {"simplex_scale_strategy": 3},
    "scaling max value (4)": {"simplex_scale_strategy": 4, "max_size": 3},
    "dual edge weights Dantzig (0)": {"simplex_dual_edge_weight_strategy": 0, "max_size": 3},
    "dual edge weights Devex (1)": {"simplex_dual_edge_weight_strategy": 1},
    "dual edge weights steepest edge (2)": {"simplex_dual_edge_weight_strategy": 2},
    "price row-wise (simplex_price_strategy 1)": {"simplex_price_strategy": 1},
    "price row-wise, switch (2)": {"simplex_price_strategy": 2},
    "price column-wise (0)": {"simplex_price_strategy": 0, "max_size": 3},
    "less_infeasible_DSE_check off": {"less_infeasible_DSE_check": False, "max_size": 3},
    "no cost perturbation": {"dual_simplex_cost_perturbation_multiplier": 0.0, "max_size": 3},
    "crash LTSSF (simplex_crash_strategy 1)": {"simplex_crash_strategy": 1, "max_size": 3},
    "cost scale x4 (user_objective_scale 2)": {"user_objective_scale": 2},
    "cost scale x16 (user_objective_scale 4)": {"user_objective_scale": 4},
    "cost scale /16 (user_objective_scale -4)": {"user_objective_scale": -4},
    "random_seed 1 (path noise)": {"random_seed": 1},
    "random_seed 2 (path noise)": {"random_seed": 2},
    "dual simplex, 2 threads (PAMI)": {"simplex_strategy": 3, "threads": 2, "simplex_max_concurrency": 2, "max_size": 3},
    "primal simplex (simplex_strategy 4)": {"simplex_strategy": 4, "max_size": 3},
    "dualized LP (simplex_dualize_strategy 1)": {"simplex_dualize_strategy": 1, "max_size": 3},
    "interior point (ipx) + crossover": {"solver": "ipm", "max_size": 3},
    "interior point (ipx), no crossover": {"solver": "ipm", "run_crossover": "off", "max_size": 3},
    "PDLP (first order, 1e-7)": {"solver": "pdlp", "max_size": 2},
}
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- highs-options:begin -->", "<!-- highs-options:end -->"


def worker(scenario: str, options: str) -> dict:
    import highspy

    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model
    from planner.solver import highs_instance

    model = build_model(build_inputs(planner.load_scenario(scenario)))
    h = highs_instance(model, time_limit_s=600, threads=1)
    for k, v in json.loads(options).items():
        if h.setOptionValue(k, v) != highspy.HighsStatus.kOk:
            raise SystemExit(f"HiGHS option {k}={v!r} rejected (not an option of this highspy?)")
    clock = start_clock()
    h.run()
    return {**record(h, clock), "nonzeros": model.nnz}


def start_clock() -> tuple[float, float, float]:
    """(load average, CPU s, wall s) at the start of a timed solve."""
    return os.getloadavg()[0], time.process_time(), time.perf_counter()


def record(h, clock: tuple[float, float, float]) -> dict:
    """What a worker reports of the solve timed since *clock*: status, wall and CPU s, load, iterations
    (of the last ``run()``), objective."""
    from planner.solver import COST_SCALE

    load_before, c0, t0 = clock
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    info = h.getInfo()
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "run_s": wall,
        "cpu_s": cpu,  # all threads of the process; less sensitive to other jobs on the machine than run_s
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "pdlp_iterations": int(info.pdlp_iteration_count),
        "objective_usd": info.objective_function_value / COST_SCALE,
    }


def run_study(script: str, sizes: list[int], variants, json_name: str, name_key: str, line) -> list[dict]:
    """Per size, write the instance and run ``script --worker INSTANCE ARGUMENT`` in a fresh process for
    each (name, argument) of ``variants(size)``; the first one's objective is the base of ``rel_diff``.
    A failed worker is reported and skipped; the rows are saved to ``results/<json_name>`` after each
    run and printed with ``line(row)``."""
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label in sizes:
            path = write_instance(SIZES[label], Path(tmp) / f"s{label}")
            base = None
            for name, arg in variants(label):
                run = subprocess.run([sys.executable, script, "--worker", str(path), arg], capture_output=True, text=True)
                if run.returncode != 0:  # a crash or a rejected option: report it, go on with the next one
                    print(f"size {label}  {name}: worker failed ({run.returncode}): {run.stderr.strip()[-300:]}", flush=True)
                    continue
                r = json.loads(run.stdout.strip().splitlines()[-1])
                base = base if base is not None else r["objective_usd"]
                r.update(size=label, rel_diff=abs(r["objective_usd"] - base) / abs(base), **{name_key: name})
                rows.append(r)
                (HERE / "results").mkdir(exist_ok=True)
                (HERE / "results" / json_name).write_text(json.dumps(rows, indent=1))
                print(line(r), flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[2, 3])
    ap.add_argument("--sets", nargs="+", help="only these option sets (names as in OPTION_SETS)")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    first = next(iter(OPTION_SETS))

    def variants(label: int) -> list[tuple[str, str]]:
        out = []
        for name, opts in OPTION_SETS.items():
            opts = dict(opts)
            if label > opts.pop("max_size", 99) or (args.sets and name not in args.sets and name != first):
                continue
            out.append((name, json.dumps(opts)))
        return out

    def line(r: dict) -> str:
        return (f"size {r['size']}  {r['options']:42} {r['status']:8} run {r['run_s']:8.2f} s  cpu {r['cpu_s']:8.2f} s"
                f"  load {r['load_before']:.1f}/{r['load_after']:.1f}  simplex it {r['simplex_iterations']:>7}"
                f"  ipm it {r['ipm_iterations']:>4}  pdlp it {r['pdlp_iterations']:>6}  rel diff {r['rel_diff']:.1e}")

    rows = run_study(__file__, args.sizes, variants, "highs_options.json", "options", line)  # writes the json
    lines = ["| size | options | status | HiGHS run s | CPU s | vs default (CPU) | simplex iterations | IPM iterations | "
             "PDLP iterations | objective rel. diff | load before/after |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    cpu0 = {}
    for r in rows:
        cpu0.setdefault(r["size"], r["cpu_s"])
        lines.append(f"| {r['size']} | {r['options']} | {r['status']} | {r['run_s']:.2f} | {r['cpu_s']:.2f} | "
                     f"{r['cpu_s'] / cpu0[r['size']]:.2f} | {r['simplex_iterations']:,} | "
                     f"{r['ipm_iterations']} | {r['pdlp_iterations']:,} | {r['rel_diff']:.1e} | "
                     f"{r['load_before']:.1f}/{r['load_after']:.1f} |")
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

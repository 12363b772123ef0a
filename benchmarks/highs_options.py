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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from instances import SIZES, write_instance  # noqa: E402

OPTION_SETS: dict[str, dict] = {
    "default (simplex, choose)": {},
    "dual simplex": {"simplex_strategy": 1},
    "primal simplex": {"simplex_strategy": 4},
    "dual simplex, presolve off": {"simplex_strategy": 1, "presolve": "off"},
    "dual simplex, 2 threads (PAMI)": {"simplex_strategy": 2, "threads": 2},
    "interior point + crossover": {"solver": "ipm"},
    "PDLP (first order, 1e-7)": {"solver": "pdlp"},
}
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- highs-options:begin -->", "<!-- highs-options:end -->"


def worker(scenario: str, options: str) -> dict:
    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model
    from planner.solver import COST_SCALE, highs_instance

    model = build_model(build_inputs(planner.load_scenario(scenario)))
    h = highs_instance(model, time_limit_s=600, threads=1)
    for k, v in json.loads(options).items():
        h.setOptionValue(k, v)
    t0 = time.perf_counter()
    h.run()
    wall = time.perf_counter() - t0
    info = h.getInfo()
    return {
        "status": h.modelStatusToString(h.getModelStatus()),
        "run_s": wall,
        "simplex_iterations": int(info.simplex_iteration_count),
        "ipm_iterations": int(info.ipm_iteration_count),
        "pdlp_iterations": int(info.pdlp_iteration_count),
        "objective_usd": info.objective_function_value / COST_SCALE,
        "nonzeros": model.nnz,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[2, 3])
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label in args.sizes:
            path = write_instance(SIZES[label], Path(tmp) / f"s{label}")
            base = None
            for name, opts in OPTION_SETS.items():
                run = subprocess.run([sys.executable, __file__, "--worker", str(path), json.dumps(opts)],
                                     capture_output=True, text=True, check=True)
                r = json.loads(run.stdout.strip().splitlines()[-1])
                base = base if base is not None else r["objective_usd"]
                r.update(size=label, options=name, rel_diff=abs(r["objective_usd"] - base) / abs(base))
                rows.append(r)
                print(f"size {label}  {name:34} {r['status']:8} run {r['run_s']:8.2f} s  simplex it {r['simplex_iterations']:>7}"
                      f"  ipm it {r['ipm_iterations']:>4}  pdlp it {r['pdlp_iterations']:>6}  rel diff {r['rel_diff']:.1e}", flush=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "highs_options.json").write_text(json.dumps(rows, indent=1))
    lines = ["| size | options | status | HiGHS run s | simplex iterations | IPM iterations | PDLP iterations | objective rel. diff |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['options']} | {r['status']} | {r['run_s']:.2f} | {r['simplex_iterations']:,} | "
                     f"{r['ipm_iterations']} | {r['pdlp_iterations']:,} | {r['rel_diff']:.1e} |")
    text = DOC.read_text()
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        DOC.write_text(head + BEGIN + "\n" + "\n".join(lines) + "\n" + END + tail)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""Old against new, side by side in one run: planner 0.1.0 (commit aa69309) and this checkout.

    python benchmarks/versions.py                 # sizes 1-4
    python benchmarks/versions.py --sizes 5       # the 10,000-site case (compact only; see --old-max-size)

Both versions solve the same instance files (``benchmarks/instances.py``; size 1 is each version's
own bundled reference scenario). 0.1.0 runs from a git worktree of commit aa69309 made for the run.
Each measurement is a fresh subprocess (imports excluded from the timings; its own peak RSS).

Methods:

* ``0.1.0``                 ``planner.solve`` end to end, as released;
* ``new, expanded``         ``planner.solve`` with ``solver.formulation=expanded`` (0.1.0's rows), no marginal values;
* ``new, compact, no pruning`` the compact formulation with every pair (``solver.prune_dominated=false``);
* ``new, compact, no column generation`` the defaults but ``solver.column_generation=off`` (HiGHS on the whole LP);
* ``new, compact``          ``planner.solve`` with the defaults (compact, dominated pairs pruned, column generation
  from 300,000 pairs), no marginal values;
* ``new, compact+marginals`` the same with ``solver.marginals=binding`` (what ``auto`` does up to 20,000 pairs).

Reported: nonzeros, total seconds, HiGHS's own solve seconds (with column generation: its runs
alone, the pricing between them counts as the planner's), the planner's overhead (total minus
HiGHS) as a share of the total, peak MB, objective (solver objective, penalty included) and its
relative difference from 0.1.0's. The table goes to ``docs/performance.md`` between the
``versions`` markers and to ``benchmarks/results/versions.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from instances import SIZES, write_instance  # noqa: E402

OLD_COMMIT = "aa69309"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- versions:begin -->", "<!-- versions:end -->"

WORKER = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import highspy, numpy, pandas, scipy  # imports are not timed
import planner
path, overrides = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter()
scenario = planner.load_scenario(path, overrides) if overrides else planner.load_scenario(path)
result = planner.solve(scenario)
total = time.perf_counter() - t0
s = result.summary
t = s.get("timings_s", {})
print(json.dumps({
    "total_s": total, "highs_s": (s.get("column_generation") or {}).get("highs_run_s", t.get("solve", float("nan"))),
    "solve_s": t.get("solve", float("nan")), "marginals_s": t.get("marginals", 0.0),
    "column_generation": s.get("column_generation"),
    "objective_usd": s.get("solver_objective_usd", s["objective_usd"]), "status": s["status"],
    "nonzeros": s["model_size"]["nonzeros"], "variables": s["model_size"]["variables"],
    "pairs": s["model_size"].get("pairs"), "pruned_pairs": s["model_size"].get("pruned_pairs", 0),
    "constraints": s["model_size"]["constraints"],
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
}))
"""

METHODS = {
    "0.1.0": [],
    "new, expanded": ["solver.formulation=expanded", "solver.marginals=none", "solver.prune_dominated=false"],
    "new, compact, no pruning": ["solver.marginals=none", "solver.prune_dominated=false"],
    "new, compact, no column generation": ["solver.marginals=none", "solver.column_generation=off"],
    "new, compact": ["solver.marginals=none"],
    "new, compact+marginals": ["solver.marginals=binding"],
}


def run(method: str, path: Path, code_root: Path, timeout: float) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    cmd = [sys.executable, "-c", WORKER, str(path), json.dumps(METHODS[method])]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=code_root, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    if p.returncode != 0:
        tail = (p.stderr or "").strip().splitlines()[-1:] or [f"exit {p.returncode}"]
        return {"error": tail[0][:200] + (" (killed: out of memory?)" if p.returncode < 0 else "")}
    return json.loads(p.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=[1, 2, 3, 4])
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--old-max-size", type=int, default=4, help="largest size 0.1.0 and the expanded form are run at")
    ap.add_argument("--marginals-max-size", type=int, default=3,
                    help="largest size with marginal values (size 4: minutes; solver.marginals auto skips them there)")
    ap.add_argument("--no-docs", action="store_true")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="planner-versions-") as tmp:
        old = Path(tmp) / "v010"
        subprocess.run(["git", "worktree", "add", "--detach", "-f", str(old), OLD_COMMIT], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            for label in args.sizes:
                path = write_instance(SIZES[label], Path(tmp) / f"size{label}")
                for method in args.methods:
                    if label > args.old_max_size and method != "new, compact":
                        continue  # size 5: the default only (no pruning happens in a site study anyway)
                    if label > args.marginals_max_size and method == "new, compact+marginals":
                        continue
                    if label == 1 and method == "new, expanded":
                        continue  # the bundled reference enables on-site power, which needs the compact rows
                    root = old if method == "0.1.0" else ROOT
                    p = (old / "scenarios" / "us_china_2030.yaml") if (label == 1 and method == "0.1.0") else path
                    before = os.getloadavg()[0]
                    r = run(method, p, root, args.timeout)
                    r.update(size=label, method=method, loadavg=os.getloadavg()[0], loadavg_before=before)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "versions.json").write_text(json.dumps(rows, indent=1))
    table = render(rows)
    print(table)
    if not args.no_docs and DOC.is_file():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            _, tail = rest.split(END, 1)
            DOC.write_text(head + BEGIN + "\n" + table + "\n" + END + tail)


def _load(r: dict) -> str:
    return (f"{r['loadavg_before']:.1f}/" if "loadavg_before" in r else "") + f"{r['loadavg']:.1f}"


def _pairs(r: dict) -> str:
    if r.get("pairs") is None:
        return ""
    pruned = r.get("pruned_pairs") or 0
    return f"{r['pairs']:,}" + (f" ({pruned:,} pruned)" if pruned else "")


def render(rows: list[dict]) -> str:
    base = {r["size"]: r for r in rows if r["method"] == "0.1.0" and "error" not in r}
    same = {r["size"]: r for r in rows if r["method"] == "new, expanded" and "error" not in r}
    out = ["| size | version | pairs in the LP | nonzeros | total s | HiGHS s | overhead % | marginal values s | peak MB | speed-up vs 0.1.0 | objective rel. diff vs 0.1.0 | vs new, expanded | load avg before/after |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            out.append(f"| {r['size']} | {r['method']} | | | {r['error']} | | | | | | | | {_load(r)} |")
            continue
        b = base.get(r["size"])
        pre = r["total_s"] - r["marginals_s"]
        over = 100 * (pre - r["highs_s"]) / pre if pre > 0 else float("nan")
        speed = f"{b['total_s'] / r['total_s']:.2f}x" if b else ""
        rel = f"{abs(r['objective_usd'] - b['objective_usd']) / abs(b['objective_usd']):.1e}" if b and r["size"] > 1 else ""
        e = same.get(r["size"])
        rel_new = f"{abs(r['objective_usd'] - e['objective_usd']) / abs(e['objective_usd']):.1e}" if e and r["method"] != "0.1.0" else ""
        out.append(
            f"| {r['size']} | {r['method']} | {_pairs(r)} | {r['nonzeros']:,} | {r['total_s']:.2f} | {r['highs_s']:.2f} | {over:.0f} | "
            f"{r['marginals_s']:.2f} | {r['peak_mb']:,.0f} | {speed} | {rel} | {rel_new} | {_load(r)} |"
        )
    return "\n".join(out)


if __name__ == "__main__":
    main()

"""Scale benchmarks: the planner against PuLP, linopy and raw HiGHS on the same LP.

    python benchmarks/scale.py                  # sizes 1-4, all methods, plot, docs table
    python benchmarks/scale.py --sizes 1 2 3    # a subset
    python benchmarks/scale.py --profile        # also profile the build at the largest size

Every measurement runs in its own subprocess (``--worker``), so imports are
excluded from the timings (except the cold quick-start) and each peak RSS
(``ru_maxrss``) belongs to one measurement only. Instances are written by
``benchmarks/instances.py`` into a temporary directory and loaded with
``planner.load_scenario``: the path users run.

Methods, all solving the identical LP with HiGHS (1 thread), objectives checked
to agree to rel 1e-6:

* ``planner``   load_scenario, build_inputs, build_model, solve_model (timed separately);
* ``full``      ``planner.solve`` end to end, results included;
* ``highs``     highspy fed the planner's prebuilt arrays: only passModel + run timed;
* ``linopy``    ``benchmarks/formulations.py``, vectorised, ``io_api="direct"``;
* ``pulp``      ``benchmarks/formulations.py``, lpSum/loops, ``pulp.HiGHS`` (highspy).

``linopy`` and ``pulp`` start from the planner's Inputs (built untimed), so
their totals compare with the planner's model + solve; the planner's own
total additionally includes reading the files and building Inputs.

Results: ``benchmarks/results/scale.json``, ``benchmarks/results/scale.md``,
``docs/img/build_time_loglog.png`` and, between the markers, the tables of
``docs/performance.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from instances import GROWTH, SIZES, write_instance  # noqa: E402

RESULTS = HERE / "results"
PLOT = ROOT / "docs" / "img" / "build_time_loglog.png"
DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- scale:begin -->", "<!-- scale:end -->"
METHODS = ("planner", "full", "highs", "linopy", "pulp")
REL_TOL = 1e-6


# --------------------------------------------------------------------------- workers (one measurement per process)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KB on Linux


def worker(method: str, scenario_path: str) -> dict:
    import warnings

    warnings.filterwarnings("ignore")
    import highspy  # noqa: F401  (imports are not part of any timing)
    import numpy as np

    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model
    from planner.solver import COST_SCALE, solve_model

    out: dict = {"method": method}
    if method == "full":
        t0 = time.perf_counter()
        result = planner.solve(planner.load_scenario(scenario_path))
        out["total_s"] = time.perf_counter() - t0
        out["objective_usd"] = float(result.summary["objective_usd"])
        out["timings"] = result.summary.get("timings_s", {})
        out["peak_mb"] = _peak_mb()
        return out

    t0 = time.perf_counter()
    scenario = planner.load_scenario(scenario_path)
    t1 = time.perf_counter()
    inputs = build_inputs(scenario)
    t2 = time.perf_counter()
    if method == "planner":
        model = build_model(inputs)
        t3 = time.perf_counter()
        sol = solve_model(model, "highs", 3600.0, 1)
        t4 = time.perf_counter()
        out.update(
            load_s=t1 - t0, inputs_s=t2 - t1, model_s=t3 - t2, solve_s=t4 - t3, highs_run_s=sol.solve_seconds,
            status=sol.status, objective_usd=sol.objective_usd, pairs=len(inputs.pairs), **model.size(),
            clusters=len(inputs.clusters), locations=len(inputs.sites) or len(inputs.regions), years=len(inputs.years),
        )
    elif method == "highs":
        model = build_model(inputs)
        m, n = model.A.shape
        csc = model.A.tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_ = model.c * COST_SCALE
        lp.col_lower_, lp.col_upper_ = model.lower, model.upper
        inf = highspy.kHighsInf
        lp.row_lower_ = np.where(np.isneginf(model.row_lower), -inf, model.row_lower)
        lp.row_upper_ = np.where(np.isposinf(model.row_upper), inf, model.row_upper)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = csc.indptr, csc.indices, csc.data
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", 0)
        t3 = time.perf_counter()
        h.passModel(lp)
        t4 = time.perf_counter()
        h.run()
        t5 = time.perf_counter()
        out.update(pass_s=t4 - t3, run_s=t5 - t4, total_s=t5 - t3, highs_run_s=h.getRunTime(), status=h.modelStatusToString(h.getModelStatus()),
                   objective_usd=h.getInfo().objective_function_value / COST_SCALE)
    elif method in ("linopy", "pulp"):
        import formulations

        r = getattr(formulations, f"{method}_solve")(inputs, threads=1)
        out.update(r, total_s=r["build_s"] + r["solve_s"])
    else:
        raise SystemExit(f"unknown method {method}")
    out["peak_mb"] = _peak_mb()
    return out


def build_worker(scenario_path: str) -> dict:
    """Build only (for the growth plot)."""
    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model

    scenario = planner.load_scenario(scenario_path)
    t1 = time.perf_counter()
    inputs = build_inputs(scenario)
    t2 = time.perf_counter()
    model = build_model(inputs)
    t3 = time.perf_counter()
    return {"pairs": len(inputs.pairs), "inputs_s": t2 - t1, "model_s": t3 - t2, "build_s": t3 - t1, **model.size(),
            "peak_mb": _peak_mb()}


def profile_worker(scenario_path: str, out_prefix: str) -> dict:
    """pyinstrument over build_inputs + build_model; the tree and self time by function and by module."""
    from pyinstrument import Profiler

    import planner
    from planner.inputs import build_inputs
    from planner.model.assemble import build_model

    scenario = planner.load_scenario(scenario_path)
    prof = Profiler(interval=0.001)
    prof.start()
    model = build_model(build_inputs(scenario))
    prof.stop()
    Path(out_prefix + ".txt").write_text(prof.output_text(unicode=False, color=False, show_all=False))
    root = prof.last_session.root_frame()
    total = root.time
    by_func: dict[str, float] = {}
    by_area: dict[str, float] = {}
    # inclusive time of each planner function (outermost call only) and self time by library
    incl: dict[str, float] = {}

    def area(path: str) -> str:
        path = path or ""
        if "/planner/" in path:
            return "planner/" + path.split("/planner/", 1)[1]
        for lib in ("pandas", "numpy", "scipy", "pydantic", "yaml"):
            if f"/{lib}/" in path:
                return lib
        return "other"

    def synthetic(frame) -> bool:
        return bool(getattr(frame, "is_synthetic", False)) or str(frame.function).startswith("[")

    def walk(frame, planner_stack: tuple[str, ...]):
        a = area(frame.file_path)
        key = f"{a}:{frame.function}"
        own = frame.time - sum(ch.time for ch in frame.children if not synthetic(ch))  # self time, [self] folded in
        by_area[a] = by_area.get(a, 0.0) + own
        by_func[key] = by_func.get(key, 0.0) + own
        stack = planner_stack
        if a.startswith("planner/") and key not in planner_stack:
            incl[key] = incl.get(key, 0.0) + frame.time
            stack = planner_stack + (key,)
        for ch in frame.children:
            if not synthetic(ch):
                walk(ch, stack)

    walk(root, ())
    top = lambda d, n: [(k, round(v, 3), round(100 * v / total, 1)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:n]]
    res = {"total_s": total, "self_by_area": top(by_area, 12), "self_by_function": top(by_func, 25),
           "inclusive_planner_functions": top(incl, 25), "nonzeros": model.nnz}
    Path(out_prefix + ".json").write_text(json.dumps(res, indent=1))
    return res


# --------------------------------------------------------------------------- orchestration


def run_worker(args: list[str], timeout: float) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        print(f"    timed out after {timeout:.0f} s: {' '.join(args)}", flush=True)
        return None
    if p.returncode != 0:
        print(f"    failed: {' '.join(args)}\n{p.stderr[-3000:]}", flush=True)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def cold_quickstart(repeat: int) -> dict:
    """`planner solve scenarios/us_china_2030.yaml` from a fresh process, imports included."""
    exe = Path(sys.executable).parent / "planner"
    times = []
    with tempfile.TemporaryDirectory() as d:
        for i in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([str(exe), "solve", "scenarios/us_china_2030.yaml", "-o", f"{d}/out{i}"], cwd=ROOT,
                           check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
    return {"runs_s": times, "median_s": statistics.median(times), "max_s": max(times)}


def median_of(runs: list[dict], keys: tuple[str, ...]) -> dict:
    out = dict(runs[0])
    for k in keys:
        vals = [r[k] for r in runs if k in r]
        if vals:
            out[k] = statistics.median(vals)
    out["peak_mb"] = max(r["peak_mb"] for r in runs)
    out["repeats"] = len(runs)
    return out


def fit_slope(xs, ys) -> tuple[float, float]:
    lx, ly = [math.log10(v) for v in xs], [math.log10(v) for v in ys]
    mx, my = statistics.fmean(lx), statistics.fmean(ly)
    b = sum((a - mx) * (c - my) for a, c in zip(lx, ly)) / sum((a - mx) ** 2 for a in lx)
    return b, my - b * mx


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement for sizes 1-3 (size 4: 1); median reported")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per measurement; longer ones are extrapolated")
    ap.add_argument("--profile", action="store_true", help="profile the build at the largest size with pyinstrument")
    ap.add_argument("--no-growth", action="store_true", help="skip the extra build-only sizes of the growth plot")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite the tables in docs/performance.md")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        kind, *rest = args.worker
        res = build_worker(*rest) if kind == "build" else profile_worker(*rest) if kind == "profile" else worker(kind, *rest)
        res["loadavg_1min_end"] = os.getloadavg()[0]  # other work on the machine shows here
        print(json.dumps(res, default=float))
        return 0

    RESULTS.mkdir(exist_ok=True)
    previous = json.loads((RESULTS / "scale.json").read_text()) if (RESULTS / "scale.json").is_file() else {}
    out: dict = {"machine": _machine(), "sizes": {}, "growth": {}}
    with tempfile.TemporaryDirectory(prefix="planner-scale-") as tmp:
        for label in sorted(args.sizes):
            size = SIZES[label]
            path = str(write_instance(size, Path(tmp) / f"size{label}"))
            reps = args.repeat if label <= 3 else 1
            row: dict = {"spec": size.__dict__}
            print(f"size {label}: {size.sites or 'regions'} locations, {size.clusters} clusters, {size.years} years", flush=True)
            for method in args.methods:
                runs = []
                for _ in range(reps):
                    r = run_worker([ "--worker", method, path], args.timeout)
                    if r is None:
                        break
                    runs.append(r)
                if not runs:
                    row[method] = {"timed_out": True, "timeout_s": args.timeout}
                    continue
                keys = ("load_s", "inputs_s", "model_s", "solve_s", "highs_run_s", "total_s", "pass_s", "run_s", "build_s")
                row[method] = median_of(runs, keys)
                print(f"  {method:8s} {_brief(row[method])}", flush=True)
            out["sizes"][str(label)] = row
        if not args.no_growth:
            for name, size in GROWTH.items():
                path = str(write_instance(size, Path(tmp) / name))
                runs = [r for r in (run_worker(["--worker", "build", path], args.timeout) for _ in range(args.repeat)) if r]
                if runs:
                    out["growth"][name] = median_of(runs, ("inputs_s", "model_s", "build_s"))
                    print(f"growth {name}: {runs[0]['pairs']:,} pairs, build {out['growth'][name]['build_s']:.3f} s", flush=True)
        if args.profile:
            label = max(args.sizes)
            path = str(write_instance(SIZES[label], Path(tmp) / f"size{label}"))
            prof = run_worker(["--worker", "profile", path, str(RESULTS / f"profile_size{label}")], args.timeout)
            out["profile"] = {"size": label, **(prof or {})}
            print(f"profile written to {RESULTS}/profile_size{label}.txt/.json", flush=True)
    out["quickstart"] = cold_quickstart(max(3, args.repeat))
    print(f"cold quick-start: {out['quickstart']['median_s']:.2f} s (median)", flush=True)

    # keep results of sizes, and of methods within a size, not re-run this time
    for k, v in previous.get("growth", {}).items():
        out["growth"].setdefault(k, v)
    for k, row in previous.get("sizes", {}).items():
        mine = out["sizes"].setdefault(k, row)
        for method, r in row.items():
            mine.setdefault(method, r)
    if "profile" not in out and "profile" in previous:
        out["profile"] = previous["profile"]
    analyse(out)
    (RESULTS / "scale.json").write_text(json.dumps(out, indent=1, default=float))
    md = render(out)
    (RESULTS / "scale.md").write_text(md)
    print(md)
    plot(out)
    if not args.no_docs and DOC.is_file():
        text = DOC.read_text()
        if BEGIN in text and END in text:
            head, rest = text.split(BEGIN, 1)
            DOC.write_text(head + BEGIN + "\n" + md + END + rest.split(END, 1)[1])
            print(f"updated {DOC.relative_to(ROOT)}")
    return 0 if out["checks"]["objectives_agree"] else 1


def _machine() -> dict:
    import platform

    import highspy  # noqa: F401

    vers = {}
    for mod in ("numpy", "pandas", "scipy", "pulp", "linopy", "highspy"):
        try:
            from importlib.metadata import version

            vers[mod] = version(mod)
        except Exception:  # pragma: no cover
            vers[mod] = "?"
    return {"python": platform.python_version(), "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(), "versions": vers, "loadavg_at_start": os.getloadavg()}


def _brief(r: dict) -> str:
    if r.get("timed_out"):
        return "timed out"
    keys = [k for k in ("load_s", "inputs_s", "model_s", "solve_s", "build_s", "pass_s", "run_s", "total_s") if k in r]
    obj = r.get("objective_usd")
    return " ".join(f"{k}={r[k]:.3f}" for k in keys) + f" obj={obj:.9e} peak={r['peak_mb']:.0f}MB"


# --------------------------------------------------------------------------- analysis and output


def analyse(out: dict) -> None:
    agree = True
    for label, row in out["sizes"].items():
        p = row.get("planner")
        if not p:
            continue
        p["build_s"] = p["inputs_s"] + p["model_s"]
        p["model_solve_s"] = p["model_s"] + p["solve_s"]
        p["total_s"] = p["load_s"] + p["inputs_s"] + p["model_s"] + p["solve_s"]
        ref = p["objective_usd"]
        row["rel_diff"] = {}
        for m in ("full", "highs", "linopy", "pulp"):
            if row.get(m, {}).get("objective_usd") is not None:
                d = abs(row[m]["objective_usd"] - ref) / abs(ref)
                row["rel_diff"][m] = d
                agree &= d <= REL_TOL
    # PuLP where it did not finish: extrapolate total vs nonzeros (power law fitted on the sizes that finished)
    done = [(r["planner"]["nonzeros"], r["pulp"]["total_s"]) for r in out["sizes"].values()
            if "planner" in r and r.get("pulp", {}).get("total_s")]
    for row in out["sizes"].values():
        pl = row.get("pulp", {})
        if "planner" in row and pl.get("timed_out") and len(done) >= 2:
            big = sorted(done)[-2:]  # the two largest finished sizes
            b, a = fit_slope([x for x, _ in big], [y for _, y in big])
            pl["extrapolated_total_s"] = 10 ** (a + b * math.log10(row["planner"]["nonzeros"]))
            pl["extrapolation"] = f"power law through the two largest finished sizes (slope {b:.2f})"
    out["checks"] = {"objectives_agree": agree, "rel_tol": REL_TOL}
    pts = [(r["planner"]["pairs"], r["planner"]["build_s"]) for r in out["sizes"].values() if "planner" in r]
    pts += [(g["pairs"], g["build_s"]) for g in out.get("growth", {}).values()]
    pts.sort()
    if len(pts) >= 2:
        b_all, _ = fit_slope(*zip(*pts))
        big = [pt for pt in pts if pt[0] >= 5000]
        b_big = fit_slope(*zip(*big))[0] if len(big) >= 2 else float("nan")
        out["growth_fit"] = {"slope_all": b_all, "slope_pairs_ge_5000": b_big, "points": pts}


def _fmt(v, nd=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}" if v < 100 else f"{v:,.0f}"
    return f"{v:,}"


def _t(row: dict, m: str) -> str:
    r = row.get(m, {})
    if r.get("total_s") is not None:
        return _fmt(r["total_s"])
    if r.get("extrapolated_total_s"):
        return f"~{_fmt(r['extrapolated_total_s'])} (extrap.)"
    if r.get("timed_out"):
        return f"> {r['timeout_s']:.0f}"
    return "-"


def render(out: dict) -> str:
    sizes = [(k, v) for k, v in sorted(out["sizes"].items(), key=lambda kv: int(kv[0])) if "planner" in v]
    L = []
    mc = out["machine"]
    loads = [r.get("loadavg_1min_end", 0.0) for v in out["sizes"].values() for r in v.values() if isinstance(r, dict)]
    L.append(f"Machine: {mc['cores']} cores, Python {mc['python']}; "
             + ", ".join(f"{k} {v}" for k, v in mc["versions"].items()) + ". HiGHS on 1 thread everywhere. "
             f"1-minute load average after the measurements: {min(loads, default=0):.1f}-{max(loads, default=0):.1f} "
             "(above 1.0 means other work shared the 2 cores).\n")
    L.append("**Sizes and the planner** (seconds; build = Inputs + Model; total = load_scenario + build + solve; "
             "peak = max RSS of the process, imports included)\n")
    L.append("| size | locations | clusters | years | eligible pairs | variables | constraints | nonzeros | load s | build s | solve s | total s | `planner.solve` s | peak MB |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for k, r in sizes:
        p = r["planner"]
        full = r.get("full", {})
        L.append(f"| {k} | {p['locations']:,} | {p['clusters']:,} | {p['years']} | {p['pairs']:,} | {p['variables']:,} | "
                 f"{p['constraints']:,} | {p['nonzeros']:,} | {_fmt(p['load_s'], 3)} | {_fmt(p['build_s'], 3)} | "
                 f"{_fmt(p['solve_s'], 3)} | {_fmt(p['total_s'], 3)} | {_fmt(full.get('total_s'), 3)} | "
                 f"{_fmt(max(p['peak_mb'], full.get('peak_mb', 0)), 0)} |")
    L.append("")
    L.append("**The same LP four ways** (seconds from the shared Inputs; planner = build_model + solve_model; "
             "raw HiGHS = passModel + run on the planner's arrays; objective agreement = largest relative difference from the planner's)\n")
    L.append("| size | planner model+solve | planner total | raw HiGHS | linopy (build + solve) | PuLP (build + solve) | planner total / raw HiGHS | PuLP / planner | linopy / planner | objectives agree |")
    L.append("|---|---|---|---|---|---|---|---|---|---|")
    for k, r in sizes:
        p, h, li, pu = r["planner"], r.get("highs", {}), r.get("linopy", {}), r.get("pulp", {})
        pms = p["model_solve_s"]
        def bs(x):
            return f"{_fmt(x['total_s'])} ({_fmt(x['build_s'])} + {_fmt(x['solve_s'])})" if x.get("total_s") is not None else _t(r, "pulp" if x is pu else "linopy")
        pulp_t = pu.get("total_s") or pu.get("extrapolated_total_s")
        diffs = r.get("rel_diff", {})
        L.append(f"| {k} | {_fmt(pms, 3)} | {_fmt(p['total_s'], 3)} | {_fmt(h.get('total_s'), 3)} | {bs(li)} | {bs(pu)} | "
                 f"{_fmt(p['total_s'] / h['total_s']) if h.get('total_s') else '-'} | "
                 f"{_fmt(pulp_t / pms, 1) if pulp_t else '-'}{' (extrap.)' if pu.get('extrapolated_total_s') else ''} | "
                 f"{_fmt(li['total_s'] / pms, 1) if li.get('total_s') else '-'} | "
                 f"{'yes' if diffs and max(diffs.values()) <= REL_TOL else 'NO'} ({max(diffs.values()) if diffs else float('nan'):.1e}) |")
    L.append("")
    L.append("Time outside HiGHS's own `run` (total minus HiGHS's reported run time; robust to solve-time noise):\n")
    L.append("| size | planner (from Inputs: model + solve) | planner (total, files to solution) | raw HiGHS (passModel) | linopy | PuLP |")
    L.append("|---|---|---|---|---|---|")
    for k, r in sizes:
        p = r["planner"]
        def over(m, tot="total_s"):
            x = r.get(m, {})
            return _fmt(x[tot] - x["highs_run_s"], 3) if x.get(tot) is not None and x.get("highs_run_s") is not None else "-"
        L.append(f"| {k} | {over('planner', 'model_solve_s')} | {over('planner')} | {over('highs')} | {over('linopy')} | {over('pulp')} |")
    L.append("")
    L.append("Peak memory by method (MB, max RSS of the measuring process):\n")
    L.append("| size | planner | `planner.solve` | raw HiGHS (incl. the untimed planner build) | linopy | PuLP |")
    L.append("|---|---|---|---|---|---|")
    for k, r in sizes:
        L.append("| " + k + " | " + " | ".join(_fmt(r.get(m, {}).get("peak_mb"), 0) for m in ("planner", "full", "highs", "linopy", "pulp")) + " |")
    L.append("")
    g = out.get("growth_fit")
    if g:
        L.append(f"Build time against eligible pairs: fitted log-log slope {g['slope_all']:.2f} over all points, "
                 f"{g['slope_pairs_ge_5000']:.2f} over the points with >= 5,000 pairs "
                 f"(points: " + ", ".join(f"{int(x):,} pairs {y:.3f} s" for x, y in g["points"]) + ").\n")
    q = out.get("quickstart")
    if q:
        L.append(f"Cold quick-start `planner solve scenarios/us_china_2030.yaml` (fresh process, imports and result files included): "
                 f"median {q['median_s']:.2f} s, max {q['max_s']:.2f} s over {len(q['runs_s'])} runs.\n")
    L.append(targets(out))
    return "\n".join(L) + "\n"


def targets(out: dict) -> str:
    sizes = [v for k, v in sorted(out["sizes"].items(), key=lambda kv: int(kv[0])) if "planner" in v]
    if not sizes:
        return ""
    big = sizes[-1]
    p = big["planner"]
    rows = ["| target (largest size run) | measured | met |", "|---|---|---|"]
    h = big.get("highs", {}).get("total_s")
    if h:
        ratio = p["total_s"] / h
        rows.append(f"| planner total <= 1.3 x raw HiGHS | {ratio:.2f} x (model + solve only: {p['model_solve_s'] / h:.2f} x) | {'yes' if ratio <= 1.3 else 'no'} |")
    pu = big.get("pulp", {})
    pt = pu.get("total_s") or pu.get("extrapolated_total_s")
    if pt:
        ratio = pt / p["model_solve_s"]
        note = " (PuLP extrapolated)" if pu.get("extrapolated_total_s") else ""
        rows.append(f"| >= 5 x faster than PuLP | {ratio:.1f} x vs model + solve; {pt / p['total_s']:.1f} x vs planner total{note} | {'yes' if ratio >= 5 else 'no'} |")
    li = big.get("linopy", {}).get("total_s")
    if li:
        rows.append(f"| no slower than linopy | linopy {li:.2f} s vs planner {p['model_solve_s']:.2f} s (model + solve), {p['total_s']:.2f} s (total) | {'yes' if li >= p['model_solve_s'] else 'no'} |")
    peak = max(p["peak_mb"], big.get("full", {}).get("peak_mb", 0))
    rows.append(f"| peak memory <= 4 GB | {peak:,.0f} MB | {'yes' if peak <= 4096 else 'no'} |")
    q = out.get("quickstart")
    if q:
        rows.append(f"| cold quick-start < 3 s | {q['median_s']:.2f} s (max {q['max_s']:.2f}) | {'yes' if q['max_s'] < 3 else 'no'} |")
    g = out.get("growth_fit")
    if g:
        rows.append(f"| build time linear in pairs (slope ~1) | {g['slope_pairs_ge_5000']:.2f} (all points {g['slope_all']:.2f}) | {'yes' if abs(g['slope_pairs_ge_5000'] - 1) <= 0.2 else 'no'} |")
    return "\n".join(rows) + "\n"


def plot(out: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = out.get("growth_fit")
    if not g:
        return
    xs, ys = zip(*g["points"])
    fig, ax = plt.subplots(figsize=(6, 4.2))
    bench = [(r["planner"]["pairs"], r["planner"]["build_s"], k) for k, r in out["sizes"].items() if "planner" in r]
    grow = [(v["pairs"], v["build_s"]) for v in out.get("growth", {}).values()]
    ax.loglog([b[0] for b in bench], [b[1] for b in bench], "o", color="C0", label="benchmark sizes 1-4")
    for x, y, k in bench:
        ax.annotate(k, (x, y), textcoords="offset points", xytext=(5, -10))
    if grow:
        ax.loglog(*zip(*grow), "s", color="C1", label="build-only growth points")
    big = [pt for pt in g["points"] if pt[0] >= 5000]
    if len(big) >= 2:
        b, a = fit_slope(*zip(*big))
        xx = [min(x for x, _ in big), max(xs)]
        ax.loglog(xx, [10 ** (a + b * math.log10(x)) for x in xx], "--", color="C2", label=f"fit (>= 5,000 pairs): slope {b:.2f}")
    ax.set_xlabel("eligible (cluster, location) pairs")
    ax.set_ylabel("build seconds (Inputs + Model)")
    ax.set_title("planner build time against problem size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())

"""Sweeps: a real Dask scheduler and workers give the same answers as a serial run;
failed cases are recorded; bad input and unreachable schedulers fail fast, in one line."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import SCENARIOS
from planner.cli import main
from planner.errors import PlannerError, ScenarioError
from planner import sweep
from planner.sweep import (
    SweepError,
    SweepInterrupted,
    grid_cases,
    make_spec,
    monte_carlo_cases,
    parse_vary,
    run_sweep,
    tornado_cases,
)

REF = SCENARIOS / "us_china_2030.yaml"
#: a pause over Michigan, where the reference's on-site plants put 16 GW of US load
TX = {"moratorium_id": "mi", "region_id": "US-MI", "from_year": 2026, "until_year": 2030}
#: 6 cases: carbon price x (no extra moratorium | a Michigan moratorium)
CASES = grid_cases({"carbon_price_usd_per_tco2.US": [0, 50, 100], "extra_moratoria": [[], [TX]]})


def _dask_command() -> list[str]:
    exe = Path(sys.executable).parent / "dask"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("dask")
    if not found:
        pytest.skip("the `dask` command (dask[distributed]) is not installed")
    return [found]


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker` processes on 127.0.0.1; always torn down."""
    pytest.importorskip("distributed")
    from distributed import Client

    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    dask = _dask_command()
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        log = open(tmp / "scheduler.log", "w")
        logs.append(log)
        procs.append(
            subprocess.Popen(
                dask + ["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(sched_file)],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env,
            )
        )
        deadline = time.monotonic() + 60
        while not sched_file.exists() or sched_file.stat().st_size == 0:
            if time.monotonic() > deadline or procs[0].poll() is not None:
                pytest.fail("dask scheduler did not start: " + (tmp / "scheduler.log").read_text()[-2000:])
            time.sleep(0.1)
        for i in range(2):
            log = open(tmp / f"worker{i}.log", "w")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    dask + ["worker", "--scheduler-file", str(sched_file), "--nthreads", "1", "--nworkers", "1",
                            "--host", "127.0.0.1", "--no-dashboard", "--memory-limit", "0"],
                    stdout=log, stderr=subprocess.STDOUT, cwd=tmp, env=env,  # another cwd than the tests'
                )
            )
        import json

        address = None
        while address is None:
            try:
                address = json.loads(sched_file.read_text())["address"]
            except (ValueError, KeyError):
                time.sleep(0.1)
        with Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for log in logs:
            log.close()


@pytest.fixture(scope="module")
def serial_frame():
    return run_sweep(REF, CASES, scheduler="serial", progress=False)


# --------------------------------------------------------------------------- (a) Dask == serial


def test_dask_workers_match_a_serial_run(dask_cluster, serial_frame, tmp_path):
    out = tmp_path / "sweep"
    df = run_sweep(REF, CASES, scheduler=dask_cluster, outdir=out, progress=False)
    assert len(df) == len(serial_frame) == 6
    assert list(df["case_id"]) == list(range(6))
    assert (df["status"] == "optimal").all(), df["error"].tolist()
    for a, b in zip(df.itertuples(), serial_frame.itertuples()):
        assert a.case_id == b.case_id
        assert a.objective_usd == pytest.approx(b.objective_usd, rel=1e-9)
    assert df["objective_usd"].nunique() == 6  # the cases really differ
    workers = set(df["worker"])
    assert f"{socket.gethostname()}:{os.getpid()}" not in workers  # solved on the workers, not here
    assert (df["solve_mode"] == "resolve").sum() >= 4  # warm re-solves in each worker's WhatIf
    for name in ("sweep.parquet", "sweep.csv", "sweep.json", "sweep_response.png"):
        assert (out / name).is_file(), name
    back = pd.read_parquet(out / "sweep.parquet")
    assert list(back.columns) == list(df.columns)
    assert back["objective_usd"].tolist() == pytest.approx(df["objective_usd"].tolist(), rel=1e-12)


def test_serial_frame_layout(serial_frame):
    df = serial_frame
    cols = list(df.columns)
    assert cols[:5] == ["case_id", "carbon_price_usd_per_tco2.US", "extra_moratoria", "status", "solve_mode"]
    for c in ("objective_usd", "energy_usd", "carbon_usd", "capital_usd", "expansion_usd", "placed_it_mw_US",
              "placed_it_mw_CN", "grid_load_mw_PJM", "grid_load_mw_ERCOT", "unserved_it_mw", "error"):
        assert c in cols, c
    assert cols[-1] == "error"
    assert not [c for c in cols if c.startswith("value_of_plus_1mw_")]  # marginal values only when asked for
    # the Michigan moratorium moves load out of Michigan (MISO and PJM zones) and costs more: the same figures as a
    # fresh solve
    import planner

    by = df.set_index("case_id")
    tx = "extra_moratoria=[{moratorium_id: mi, region_id: US-MI, from_year: 2026, until_year: 2030}]"
    fresh = planner.solve(planner.load_scenario(REF, [tx]), marginals="none").summary
    assert by.loc[1, "objective_usd"] == pytest.approx(fresh["objective_usd"], rel=1e-9)
    assert by.loc[1, "placed_it_mw_US"] == pytest.approx(fresh["totals_by_country"]["US"]["hosted_it_mw"], rel=1e-9)
    assert by.loc[1, "objective_usd"] > by.loc[0, "objective_usd"]
    assert by.loc[1, "grid_load_mw_PJM"] < by.loc[0, "grid_load_mw_PJM"]


# --------------------------------------------------------------------------- (b) a failing case


def test_a_failing_case_is_recorded_and_the_others_complete(tmp_path, capsys):
    # 10,000 MW of 1%-curtailment headroom in PJM is less than its 0.5% headroom (17,800): the
    # key and the first value validate, but that case's data are inconsistent when it is solved.
    out = tmp_path / "s"
    rc = main([
        "sweep", str(REF), "--scheduler", "serial", "--no-progress", "-o", str(out),
        "--vary", "overrides.grid_regions.PJM.headroom_1pct_mw=23600,10000,30000",
    ])
    assert rc == 0
    text = capsys.readouterr().out
    assert "3 case(s), 2 solved, 1 failed" in text
    df = pd.read_parquet(out / "sweep.parquet")
    bad = df[df["status"] == "error"]
    assert bad["case_id"].tolist() == [1]
    assert "headroom must not shrink" in bad["error"].iloc[0]
    good = df[df["status"] == "optimal"]
    assert good["case_id"].tolist() == [0, 2]
    assert good["objective_usd"].notna().all()
    # the case after the failure is still right (the worker's WhatIf is rebuilt after an error)
    import planner

    fresh = planner.solve(planner.load_scenario(REF, ["overrides.grid_regions.PJM.headroom_1pct_mw=30000"]))
    assert good["objective_usd"].iloc[1] == pytest.approx(fresh.summary["objective_usd"], rel=1e-9)


def test_an_injected_failure_through_the_api():
    cases = [{"carbon_price_usd_per_tco2.US": 10}, {"parameters.no_such_parameter": 1.0}, {}]
    df = run_sweep(REF, cases, scheduler="serial", progress=False, validate=False)
    assert df["status"].tolist() == ["optimal", "error", "optimal"]
    assert "parameters.no_such_parameter" in df.loc[1, "error"]


def test_ctrl_c_keeps_the_finished_cases(tmp_path, monkeypatch):
    from planner.sweep.engine import Engine

    real = Engine.solve
    calls = []

    def interrupt_third(self, case):
        calls.append(case)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, case)

    monkeypatch.setattr(Engine, "solve", interrupt_third)
    out = tmp_path / "s"
    with pytest.raises(SweepInterrupted) as info:
        run_sweep(REF, CASES, scheduler="serial", progress=False, outdir=out)
    assert info.value.frame["case_id"].tolist() == [0, 1]
    assert pd.read_csv(out / "sweep.csv")["case_id"].tolist() == [0, 1]


# --------------------------------------------------------------------------- (c) bad input


@pytest.mark.parametrize(
    "vary, expected",
    [
        ("carbon_pric.US=0,50", "no such key"),
        ("carbon_price_usd_per_tco2.US=0,fifty", "expected a number"),
        ("carbon_price_usd_per_tco2.US=", "the range is empty"),
        ("parameters.no_such_parameter=1,2", "parameters.no_such_parameter"),
        ("discount_rate", "KEY=V1,V2"),
    ],
    ids=["unknown-key", "wrong-type", "empty-range", "unknown-parameter", "no-equals"],
)
def test_bad_input_fails_in_one_line_before_any_case_runs(tmp_path, capsys, monkeypatch, vary, expected):
    def must_not_run(*a, **k):  # pragma: no cover - the point is that it is not called
        raise AssertionError("a case ran")

    monkeypatch.setattr("planner.sweep.execute.make_plan", must_not_run)
    out = tmp_path / "s"
    t0 = time.perf_counter()
    rc = main(["sweep", str(REF), "--vary", vary, "--scheduler", "serial", "-o", str(out)])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("planner: error:") and expected in err
    assert not out.exists()
    assert time.perf_counter() - t0 < 10


def test_bad_input_through_the_api():
    with pytest.raises(ScenarioError, match="no such key"):
        run_sweep(REF, [{"carbon_pric.US": 1}], scheduler="serial", progress=False)
    with pytest.raises(ScenarioError, match="expected a number"):
        run_sweep(REF, grid_cases({"discount_rate": [0.05, "high"]}), scheduler="serial", progress=False)
    with pytest.raises(ScenarioError, match="non-empty"):
        grid_cases({"discount_rate": []})


def test_bad_sweep_files(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(f"base: {REF}\ndistributions:\n  discount_rate: {{dist: weibull, low: 0, high: 1}}\n")
    with pytest.raises(SweepError, match="weibull"):
        make_spec(f, samples=5)
    f.write_text(f"base: {REF}\ndistributions:\n  discount_rate: {{dist: uniform, low: 0.1, high: 0.05}}\n")
    with pytest.raises(SweepError, match="low < high"):
        make_spec(f, samples=5)
    f.write_text(f"base: {REF}\nvary:\n  discount_rate: [0.05]\nrepeat: 3\n")
    with pytest.raises(ScenarioError, match="repeat"):
        make_spec(f)


# --------------------------------------------------------------------------- (d) unreachable scheduler


def test_unreachable_scheduler_fails_fast_naming_the_address():
    pytest.importorskip("distributed")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    address = f"tcp://127.0.0.1:{port}"
    t0 = time.perf_counter()
    with pytest.raises(SweepError) as info:
        run_sweep(REF, [{"discount_rate": 0.05}], scheduler=address, progress=False, connect_timeout=3)
    assert time.perf_counter() - t0 < 10
    assert address in str(info.value)
    assert "\n" not in str(info.value)


# --------------------------------------------------------------------------- case generation


def test_case_generators():
    assert grid_cases({"a": [1, 2], "b": ["x", "y", "z"]})[:2] == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"}]
    assert len(grid_cases({"a": [1, 2], "b": ["x", "y", "z"]})) == 6
    dists = {"a": {"dist": "uniform", "low": 0, "high": 10}, "b": {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
             "c": {"dist": "normal", "mean": 0, "sd": 1, "low": -0.5, "high": 0.5}}
    one, two = monte_carlo_cases(dists, 50, seed=7), monte_carlo_cases(dists, 50, seed=7)
    assert one == two and one != monte_carlo_cases(dists, 50, seed=8)
    assert all(0 <= c["a"] <= 10 and 1 <= c["b"] <= 5 and -0.5 <= c["c"] <= 0.5 for c in one)
    assert tornado_cases({"a": (0, 1), "b": (5, 9)}) == [{}, {"a": 0}, {"a": 1}, {"b": 5}, {"b": 9}]
    assert parse_vary(["moratoria=[],[status:as_reported, status:proposed]", "x.y=1,2.5"]) == {
        "moratoria": [[], ["status:as_reported", "status:proposed"]],
        "x.y": [1, 2.5],
    }


def test_tornado_from_a_sweep_file(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text(
        f"base: {REF}\n"
        "vary:\n  carbon_price_usd_per_tco2.US: [0, 100]\n"
        "distributions:\n  overrides.grid_regions.CN-NORTHWEST.firm_headroom_mw: {dist: uniform, low: 4000, high: 6000}\n"
    )
    spec = make_spec(f, tornado=True)
    assert spec.kind == "tornado" and len(spec.cases) == 5
    out = tmp_path / "out"
    df = run_sweep(spec.base, spec.cases, scheduler="serial", outdir=out, progress=False)
    assert (out / "tornado.png").is_file() and (out / "sweep_response.png").is_file()
    table = sweep.tornado_table(df)
    assert set(table["key"]) == {"carbon_price_usd_per_tco2.US", "overrides.grid_regions.CN-NORTHWEST.firm_headroom_mw"}
    # both keys move the cost by more than a million USD: Northwest China's firm headroom binds (88,484 USD per
    # MW-yr at the base's 4,986 MW). (PJM's firm headroom, the key here before, is worth 0 in the reference: its
    # swing is 0, and `> 0` used to pass on 3e-05 USD of solver noise.)
    assert (table["swing"] > 1e6).all()


def test_cli_module_is_light():
    code = (
        "import sys, planner.cli; planner.cli._parser(); "
        "bad = [m for m in ('dask', 'distributed', 'matplotlib', 'planner.sweep') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- Latin hypercube and Sobol


#: Distributions whose CDFs the tests compute on their own (scipy.stats), not through planner's inverse CDFs.
QMC_DISTS = {
    "a": {"dist": "uniform", "low": 0, "high": 10},
    "b": {"dist": "triangular", "low": 1, "mode": 2, "high": 5},
    "c": {"dist": "normal", "mean": 3, "sd": 2},
}


def _cdf(key: str, x: np.ndarray) -> np.ndarray:
    from scipy import stats

    if key == "a":
        return stats.uniform(0, 10).cdf(x)
    if key == "b":
        return stats.triang(c=(2 - 1) / (5 - 1), loc=1, scale=4).cdf(x)
    return stats.norm(3, 2).cdf(x)


def _strata(values: list[float], key: str, n: int) -> np.ndarray:
    """Which of n equal-probability strata each value falls in (0 .. n-1)."""
    p = _cdf(key, np.asarray(values, dtype=float))
    return np.minimum((p * n + 1e-9).astype(int), n - 1)


def test_latin_hypercube_has_one_draw_in_every_stratum_of_every_key():
    from planner.sweep import latin_hypercube_cases

    n = 50
    cases = latin_hypercube_cases(QMC_DISTS, n, seed=11)
    assert len(cases) == n and cases == latin_hypercube_cases(QMC_DISTS, n, seed=11)
    assert cases != latin_hypercube_cases(QMC_DISTS, n, seed=12)
    for key in QMC_DISTS:
        assert sorted(_strata([c[key] for c in cases], key, n)) == list(range(n)), key
    # independent random draws almost never do that (a check that the test can fail)
    rand = monte_carlo_cases(QMC_DISTS, n, seed=11)
    assert sorted(_strata([c["a"] for c in rand], "a", n)) != list(range(n))
    # a choice key gets each value in proportion to p, to one draw
    choice = {"k": {"dist": "choice", "values": [0, 3000, 6000], "p": [0.5, 0.3, 0.2]}}
    got = [c["k"] for c in latin_hypercube_cases(choice, 40, seed=3)]
    assert [got.count(v) for v in (0, 3000, 6000)] == [20, 12, 8]


def test_sobol_points_are_balanced_and_reproducible():
    from planner.sweep import SweepError, sobol_cases

    n = 64
    cases = sobol_cases(QMC_DISTS, n, seed=5)
    assert cases == sobol_cases(QMC_DISTS, n, seed=5) and cases != sobol_cases(QMC_DISTS, n, seed=6)
    for key in QMC_DISTS:  # every one-dimensional projection: one point per stratum
        assert sorted(_strata([c[key] for c in cases], key, n)) == list(range(n)), key
    # the first two keys form a (0, 6, 2)-net: every 2^i x 2^(6-i) grid of equal-probability cells
    # holds exactly one point per cell
    pa = _cdf("a", np.array([c["a"] for c in cases]))
    pb = _cdf("b", np.array([c["b"] for c in cases]))
    for i in range(7):
        cells = np.minimum((pa * 2**i + 1e-9).astype(int), 2**i - 1) * 2 ** (6 - i) + \
            np.minimum((pb * 2 ** (6 - i) + 1e-9).astype(int), 2 ** (6 - i) - 1)
        assert sorted(cells) == list(range(n)), i
    with pytest.raises(SweepError, match="power of 2"):
        sobol_cases(QMC_DISTS, 100, seed=5)


def test_sampling_from_a_sweep_file_and_the_command_line(tmp_path, capsys):
    from planner.sweep import latin_hypercube_cases, sobol_cases

    dists = {"carbon_price_usd_per_tco2.US": {"dist": "uniform", "low": 0, "high": 150},
             "overrides.grid_regions.PJM.firm_headroom_mw": {"dist": "triangular", "low": 0, "mode": 1000, "high": 6000}}
    f = tmp_path / "s.yaml"
    f.write_text(
        f"base: {REF}\nsampling: latin_hypercube\nsamples: 8\nseed: 4\ndistributions:\n"
        "  carbon_price_usd_per_tco2.US: {dist: uniform, low: 0, high: 150}\n"
        "  overrides.grid_regions.PJM.firm_headroom_mw: {dist: triangular, low: 0, mode: 1000, high: 6000}\n"
    )
    spec = make_spec(f)
    assert spec.kind == "latin_hypercube" and spec.cases == latin_hypercube_cases(dists, 8, 4)
    spec = make_spec(f, sampling="sobol")  # the command line wins over the file
    assert spec.kind == "sobol" and spec.cases == sobol_cases(dists, 8, 4)
    with pytest.raises(SweepError, match="power of 2"):
        make_spec(f, samples=6, sampling="sobol")
    out = tmp_path / "out"
    code = main(["sweep", str(f), "--sampling", "sobol", "--scheduler", "serial", "-o", str(out), "--no-progress"])
    assert code == 0
    df = pd.read_parquet(out / "sweep.parquet")
    assert df["carbon_price_usd_per_tco2.US"].tolist() == [c["carbon_price_usd_per_tco2.US"] for c in sobol_cases(dists, 8, 4)]
    assert (df["status"] == "optimal").all()
    assert "8 sobol case(s)" in capsys.readouterr().err


def test_a_local_cluster_s_workers_start_with_the_engine_already_imported():
    """A new LocalCluster's nannies and workers are forked from a server that imported the engine once
    (not four fresh interpreters importing it while the plan is built): before any task, the engine is
    already in each worker's modules. With dask's default ``spawn`` this is False."""
    from planner.sweep.execute import _close, _connect, _forkserver

    if not _forkserver():
        pytest.skip("no forkserver start method on this platform")
    client, cluster, own = _connect(None, 2, 30.0, None, 1)
    try:
        imported = client.run(lambda: __import__("sys").modules.get("planner.sweep.engine") is not None)
        methods = client.run(lambda: __import__("multiprocessing").get_start_method(allow_none=True))
    finally:
        _close(client, cluster, own)
    assert len(imported) == 2 and all(imported.values()), imported
    assert set(methods.values()) == {"forkserver"}, methods

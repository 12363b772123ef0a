"""The command line as a user meets it: version, messages, verbosity, pipes, reading runs back, compare."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

import planner
from planner.cli import main
from planner.compare import compare
from planner.errors import ResultsError, ScenarioError
from planner.io import read_result, write_result

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "scenarios" / "us_china_2030.yaml"
SORT = {
    "placements": ["cluster_id", "region_id", "site_id"],
    "regions": ["region_id", "year"],
    "grid_regions": ["grid_region_id", "year"],
    "unserved": ["cluster_id"],
    "limits": ["family", "limit_id", "year", "level"],
}


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "planner", *args], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """The reference scenario and a US carbon price of 100 USD/t, written without maps."""
    base = tmp_path_factory.mktemp("runs")
    sc = planner.load_scenario(SCENARIO)
    ref = planner.solve(sc)
    taxed = planner.solve(sc.with_overrides(["carbon_price_usd_per_tco2.US=100"]))
    write_result(ref, base / "ref")
    write_result(taxed, base / "carbon100")
    return {"ref": ref, "taxed": taxed, "dir": base}


def test_version_and_python_m() -> None:
    r = _cli("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"planner {planner.__version__}")


def test_result_load_round_trip(runs: dict) -> None:
    ref, back = runs["ref"], planner.Result.load(runs["dir"] / "ref")
    assert isinstance(back, planner.Result) and back.scenario_name == "us_china_2030"
    assert back.summary["objective_usd"] == ref.summary["objective_usd"]
    assert back.summary["objective_parts_usd"] == ref.summary["objective_parts_usd"]
    for name, keys in SORT.items():
        mine = getattr(ref, name)
        if mine.empty:
            assert getattr(back, name).empty
            continue
        expected = mine.sort_values(keys, kind="mergesort").reset_index(drop=True)
        # floats are written to 10 significant digits
        pd.testing.assert_frame_equal(getattr(back, name), expected, check_exact=False, rtol=1e-9, atol=1e-6)
    assert back.explain() == ref.explain()


def test_result_load_errors(tmp_path: Path, runs: dict) -> None:
    with pytest.raises(ResultsError, match="no such results directory"):
        planner.Result.load(tmp_path / "nope")
    bad = tmp_path / "bad"
    bad.mkdir()
    for f in (runs["dir"] / "ref").iterdir():
        (bad / f.name).write_bytes(f.read_bytes())
    text = (bad / "regions.csv").read_text().splitlines()
    cells = text[1].split(",")
    cells[1] = "twenty"  # year
    (bad / "regions.csv").write_text("\n".join([text[0], ",".join(cells), *text[2:]]) + "\n")
    with pytest.raises(ResultsError, match=r"regions.csv: column year, value 'twenty': expected int"):
        read_result(bad)


def _by(path: Path, key: str, value: str, where: tuple[str, str] | None = None) -> dict[str, float]:
    """Sum of a column by key, straight from the CSV (an independent route from pandas)."""
    out: dict[str, float] = defaultdict(float)
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            if where is None or row[where[0]] == where[1]:
                out[row[key]] += float(row[value])
    return out


def test_compare_two_runs(runs: dict, tmp_path: Path) -> None:
    a, b = runs["dir"] / "ref", runs["dir"] / "carbon100"
    r = _cli("compare", str(a), str(b), "-o", str(tmp_path / "cmp"))
    assert r.returncode == 0, r.stderr
    assert "Cost over the horizon" in r.stdout and "delta_carbon100" in r.stdout

    costs = pd.read_csv(tmp_path / "cmp" / "costs.csv").set_index("part")
    sa = json.loads((a / "summary.json").read_text())
    sb = json.loads((b / "summary.json").read_text())
    assert costs.at["carbon", "ref"] == 0.0  # no carbon price in the reference
    assert costs.at["carbon", "carbon100"] == pytest.approx(sb["objective_parts_usd"]["carbon"], rel=1e-9)
    assert costs.at["carbon", "carbon100"] > 1e9
    assert costs.at["total", "delta_carbon100"] == pytest.approx(sb["objective_usd"] - sa["objective_usd"], rel=1e-9)

    last = str(max(sa["horizon"]))
    state = pd.read_csv(tmp_path / "cmp" / "load_by_state.csv")
    state = state[state["year"] == int(last)].set_index("state_id")
    with open(a / "regions.csv") as fh:
        key = "state_id" if "state_id" in fh.readline().split(",") else "region_id"  # runs before zones: region = state
    la = _by(a / "regions.csv", key, "it_load_mw", ("year", last))
    lb = _by(b / "regions.csv", key, "it_load_mw", ("year", last))
    for s in set(la) | set(lb):
        d = lb.get(s, 0.0) - la.get(s, 0.0)
        assert state.at[s, "delta_carbon100"] == pytest.approx(d if abs(d) > 1e-6 else 0.0, abs=1e-3), s
    assert sum(la.values()) == pytest.approx(state["ref"].sum(), rel=1e-9)
    assert (state["delta_carbon100"] != 0).any()  # a carbon price moves load between states

    cap = pd.read_csv(tmp_path / "cmp" / "new_capacity.csv").set_index("grid_region_id")
    ca, cb = _by(a / "grid_regions.csv", "grid_region_id", "new_capacity_mw"), _by(b / "grid_regions.csv", "grid_region_id", "new_capacity_mw")
    for g in ca:
        assert cap.at[g, "delta_carbon100"] == pytest.approx(cb[g] - ca[g], abs=1e-3), g

    zone = pd.read_csv(tmp_path / "cmp" / "load_by_zone.csv")
    reg = pd.read_csv(a / "regions.csv", keep_default_na=False)
    split = set(reg.loc[reg["region_id"] != reg[key], key])
    assert set(zone["state_id"]) == split
    tot = zone[zone["year"] == int(last)].groupby("state_id")[["ref", "carbon100"]].sum()
    for s in split:  # the zones of a state add up to the state
        assert tot.at[s, "carbon100"] == pytest.approx(state.at[s, "carbon100"], abs=1e-3)


def test_compare_needs_two_runs(runs: dict) -> None:
    with pytest.raises(ResultsError, match="expected two or more"):
        compare([runs["dir"] / "ref"])
    r = _cli("compare", str(runs["dir"] / "ref"), str(runs["dir"] / "missing"))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "missing: no such results directory" in r.stderr


def test_every_problem_at_once_with_suggestions(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: t\nhorizon: {first_year: 2026, last_year: 2030}\ncarbon_price: {US: 50}\n"
        "solver: {nmae: highs, time_limit_s: -1}\n"
        "clusters:\n  - {id: a, home_country: US, it_load_mw: -5, online_year: 2027}\n"
    )
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(bad)
    lines = str(info.value).splitlines()
    assert len(info.value.problems) == len(lines) == 4
    assert all(line.startswith(f"{bad}: ") for line in lines)
    text = str(info.value)
    assert "carbon_price: got {'US': 50}; expected no such key" in text
    assert "did you mean carbon_price_usd_per_tco2.US?" in text
    assert "solver.nmae: got 'highs'" in text and "did you mean solver.name?" in text
    assert "solver.time_limit_s: got -1; expected a number > 0" in text
    assert "clusters[0].it_load_mw: got -5; expected a number > 0" in text
    assert "(and" not in text

    r = _cli("validate", str(SCENARIO), "--set", "carbon_price.US=50")
    assert r.returncode == 2
    assert "did you mean carbon_price_usd_per_tco2.US?" in r.stderr and "Traceback" not in r.stderr


def test_yml_yaml_suggestion(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: t\n")
    with pytest.raises(ScenarioError, match=r"a\.yml: got None; expected an existing scenario file; did you mean .*a\.yaml\?"):
        planner.load_scenario(tmp_path / "a.yml")
    (tmp_path / "b.yml").write_text("name: t\n")
    with pytest.raises(ScenarioError, match=r"did you mean .*b\.yml\?"):
        planner.load_scenario(tmp_path / "b.yaml")
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(tmp_path / "c.yaml")
    assert "did you mean" not in str(info.value)


def test_unwritable_outdir_is_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker / "out", Path("/proc/planner-test-out")):  # under a file; on a read-only file system
        r = _cli("solve", str(SCENARIO), "-o", str(out), "--no-maps")
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and str(out) in r.stderr and "internal error" not in r.stderr


def test_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    p = subprocess.Popen([sys.executable, "-m", "planner", "datasets"], cwd=REPO, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    p.stdout.close()  # the reader left before the first line, as `| head -0` would
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) in (0, 141)
    assert err == ""


def test_verbose_and_quiet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-v", "solve", str(SCENARIO), "-o", str(tmp_path / "v"), "--no-maps"]) == 0
    out, err = capsys.readouterr()
    assert "planner: info: scenario us_china_2030 loaded" in err and "Results written to" in out
    assert main(["solve", str(SCENARIO), "-o", str(tmp_path / "q"), "--no-maps", "-q"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "q") and "info" not in err
    assert main(["validate", str(SCENARIO), "--set", "solver.log=true"]) == 0  # the option --solver-log sets

"""The wheel works on its own: built, installed in a fresh venv, run from a folder outside the repository.

The fresh venv is made with ``python -m venv --without-pip``; the wheel is
installed into it with ``pip --python`` and ``--no-deps``. Its dependencies are
the ones of the environment running the tests (installed from the same
pyproject.toml), made visible through a ``.pth`` file: the planner package
itself comes only from the wheel (asserted), so the bundled data must come from
the wheel too. Measured on the 2-core development machine: about 15 s for the
wheel, 5 s for the venv and install, and 60-90 s for the commands (the solve
with maps dominates).

``PLANNER_PACKAGING_FULL=1`` installs the dependencies from the package index
instead (``pip install WHEEL`` in the fresh venv, the way a user would), which
took 3 min 14 s on the same machine with a warm pip cache.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/us_china_2030.yaml"


def _run(cmd: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PLANNER_DEBUG", "VIRTUAL_ENV"))}
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)], cwd=out)
    assert r.returncode == 0, r.stderr[-3000:]
    (whl,) = out.glob("planner_siting-*.whl")
    return whl


@pytest.fixture(scope="module")
def reference_objective_usd(wheel: Path) -> float:
    """The in-repo solve of the same scenario, right after the wheel is built from the same tree."""
    import planner

    return float(planner.solve(planner.load_scenario(REPO / SCENARIO)).summary["objective_usd"])


@pytest.fixture(scope="module")
def venv(wheel: Path, reference_objective_usd: float, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    env_dir = root / "venv"
    full = os.environ.get("PLANNER_PACKAGING_FULL") == "1"
    r = _run([sys.executable, "-m", "venv", *([] if full else ["--without-pip"]), str(env_dir)], cwd=root)
    assert r.returncode == 0, r.stderr
    py = env_dir / "bin" / "python"
    if full:
        r = _run([str(py), "-m", "pip", "install", "--quiet", str(wheel)], cwd=root, timeout=1800)
    else:
        purelib = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                            cwd=root).stdout.strip())
        deps = [p for p in {*site.getsitepackages(), sysconfig.get_paths()["purelib"]} if Path(p).is_dir()]
        (purelib / "zz_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
        r = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--quiet", "--no-deps", str(wheel)],
                 cwd=root)
    assert r.returncode == 0, r.stderr[-3000:]
    return env_dir


@pytest.fixture(scope="module")
def work(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder outside the repository holding a copy of scenarios/."""
    w = tmp_path_factory.mktemp("user")
    shutil.copytree(REPO / "scenarios", w / "scenarios")
    assert REPO not in w.parents
    return w


def test_wheel_carries_the_data_and_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in ("regions.csv", "grid_regions.csv", "moratoria.csv", "parameters.csv", "regions_geometry.gpkg",
              "SOURCES.md"):
        assert f"planner/_datasets/{f}" in names
    assert "planner/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta
    size = wheel.stat().st_size
    assert 500_000 < size < 10_000_000, size  # the data are in (a 0.1.0 wheel without them was 102 KB)


def test_planner_comes_from_the_wheel(venv: Path, work: Path) -> None:
    r = _run([str(venv / "bin" / "python"), "-c", "import planner, planner.data.load as l; "
              "print(planner.__file__); print(l.bundled_dir())"], cwd=work)
    assert r.returncode == 0, r.stderr
    module, data = r.stdout.split()
    assert Path(module).is_relative_to(venv) and Path(data).is_relative_to(venv)
    assert Path(data).name == "_datasets"
    for cmd in ([str(venv / "bin" / "planner"), "--version"], [str(venv / "bin" / "python"), "-m", "planner", "--version"]):
        r = _run(cmd, cwd=work)
        assert (r.returncode, r.stdout.strip()) == (0, "planner 0.1.0")


def test_datasets_and_validate_outside_the_repo(venv: Path, work: Path) -> None:
    planner = str(venv / "bin" / "planner")
    r = _run([planner, "datasets"], cwd=work)
    assert r.returncode == 0, r.stderr
    assert str(venv) in r.stdout and "regions" in r.stdout
    r = _run([planner, "validate", SCENARIO], cwd=work)
    assert r.returncode == 0, r.stderr
    import planner as in_repo

    sc = in_repo.load_scenario(work / SCENARIO)  # the copy, read by the repository's code
    mw = sum(c.it_load_mw for c in sc.clusters)
    assert r.stdout.startswith(f"{SCENARIO}: valid. {len(sc.clusters)} clusters, {mw:,.0f} MW IT")
    # scenario-relative paths (clusters CSVs, sites) resolve next to the copied scenario, from any folder
    r = _run([planner, "validate", str(work / "scenarios" / "china_edwc_sites.yaml")], cwd=venv)
    assert r.returncode == 0, r.stderr


def test_solve_with_maps_matches_the_in_repo_solve(venv: Path, work: Path, reference_objective_usd: float) -> None:
    r = _run([str(venv / "bin" / "planner"), "solve", SCENARIO, "-o", "out"], cwd=work)
    assert r.returncode == 0, r.stderr[-3000:]
    out = work / "out"
    for f in ("summary.json", "placements.csv", "regions.csv", "grid_regions.csv", "unserved.csv",
              "map.png", "map.html", "results.gpkg"):
        assert (out / f).is_file() and (out / f).stat().st_size > 0, f
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "optimal"

    assert s["objective_usd"] == pytest.approx(reference_objective_usd, rel=1e-9)
    placed = pd.read_csv(out / "placements.csv")
    assert placed["it_load_mw"].sum() == pytest.approx(s["totals_by_country"]["US"]["placed_it_mw"]
                                                       + s["totals_by_country"]["CN"]["placed_it_mw"], rel=1e-9)


def test_serial_sweep_outside_the_repo(venv: Path, work: Path) -> None:
    r = _run([str(venv / "bin" / "planner"), "sweep", SCENARIO, "--vary", "carbon_price_usd_per_tco2.US=0,100",
              "--scheduler", "serial", "--no-progress", "--marginals", "none", "-o", "sweep"], cwd=work)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_csv(work / "sweep" / "sweep.csv")
    assert list(df["status"]) == ["optimal", "optimal"]
    assert list(df["carbon_price_usd_per_tco2.US"]) == [0, 100]
    assert df["carbon_usd"].iloc[0] == 0 < df["carbon_usd"].iloc[1]  # no US carbon cost at a zero price
    assert df["objective_usd"].iloc[0] < df["objective_usd"].iloc[1]

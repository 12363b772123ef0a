"""Bad input gets one clear line: file, key path, bad value, what was expected; exit 2; nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import planner
from conftest import SCENARIOS
from planner.cli import main
from planner.errors import ScenarioError

GOOD = """\
name: t
horizon: {first_year: 2026, last_year: 2030}
clusters:
  - {id: a, home_country: US, it_load_mw: 100, online_year: 2027}
"""


def write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


CASES = [
    # (scenario text, key path, value shown, expected phrase)
    (GOOD.replace("name: t", "name: t\nbogus: 1"), "bogus", "1", "no such key"),
    (GOOD.replace("it_load_mw: 100", "it_load_mw: -5"), "clusters[0].it_load_mw", "-5", "a number > 0"),
    (GOOD.replace("it_load_mw: 100", "it_load_mw: 0"), "clusters[0].it_load_mw", "0", "a number > 0"),
    (GOOD.replace("it_load_mw: 100", "it_load_mw: lots"), "clusters[0].it_load_mw", "'lots'", "a number"),
    (GOOD.replace("online_year: 2027", "online_year: 2035"), "clusters[0].online_year", "2035", "inside the horizon 2026-2030"),
    (GOOD.replace("home_country: US", "home_country: FR"), "clusters[0].home_country", "'FR'", "'US' or 'CN'"),
    (GOOD.replace("online_year: 2027}", "online_year: 2027, curtailment_pct: 2}"), "clusters[0].curtailment_pct", "2", "one of 0.0, 0.25, 0.5, 1.0"),
    (GOOD + "carbon_price_usd_per_tco2: {US: .nan}\n", "carbon_price_usd_per_tco2.US", "nan", "finite number"),
    (GOOD.replace("last_year: 2030", "last_year: 2020"), "horizon", None, "last_year"),
    (GOOD.replace("name: t\n", ""), "name", "None", "this key to be present"),
    (GOOD + "  - {id: a, home_country: US, it_load_mw: 5, online_year: 2027}\n", "clusters[1].id", "'a'", "unique cluster ids"),
]


@pytest.mark.parametrize("text, path, shown, expected", CASES)
def test_validation_errors_name_file_path_value_and_expectation(tmp_path, text, path, shown, expected):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(p)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(p))
    assert f": {path}" in msg
    if shown is not None:
        assert f"got {shown}" in msg
    assert expected in msg


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("name: [unclosed\n", r"got malformed YAML at line 2, column 1 \(expected ',' or '\]'"),
        ("", "got an empty file; expected a mapping"),
        ("- just\n- a list\n", "got a list; expected a mapping with name"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "got binary data; expected a UTF-8 YAML"),
    ],
)
def test_unparseable_files(tmp_path, text, fragment):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError, match=fragment):
        planner.load_scenario(p)


def test_directory_and_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="got a directory; expected a YAML file"):
        planner.load_scenario(tmp_path)
    with pytest.raises(ScenarioError, match="an existing scenario file"):
        planner.load_scenario(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    "override, path, expected",
    [
        ("overrides.regions.US-XX.price_usd_per_mwh=50", "overrides.regions.US-XX", "an id in the regions table"),
        ("overrides.regions.US-VA.colour=5", "overrides.regions.US-VA.colour", "a field of regions"),
        ("overrides.regions.US-VA.price_usd_per_mwh=8.9", "overrides.regions.US-VA.price_usd_per_mwh", "in 15..500"),
        ("overrides.grid_regions.PJM.firm_headroom_mw=-1", "overrides.grid_regions.PJM.firm_headroom_mw", "in 0..1e+06"),
        ("moratoria=[us-xx-1999]", "moratoria[0]", "a moratorium id"),
        ("parameters.magic_usd=1", "parameters.magic_usd", "one of"),
        ("expansion.ATLANTIS={cost_usd_per_kw: 1, lead_time_years: 1, max_mw_per_year: 1}", "expansion.ATLANTIS", "US, CN or a grid region id"),
        ("clusters.0.allowed_regions=[US-ZZ]", "clusters[0].allowed_regions[0]", "a region id"),
        ("clusters.0.user_hub={region_id: XX-1, max_rtt_ms: 10}", "clusters[0].user_hub.region_id", "a region id"),
    ],
)
def test_errors_found_against_the_data(override, path, expected):
    """Unknown ids and fields are caught when the scenario meets the data, before any solve."""
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", [override])
    with pytest.raises(ScenarioError) as info:
        planner.build(s)
    msg = str(info.value)
    assert f": {path}: got" in msg and expected in msg


def test_set_uses_the_same_validation_as_the_file():
    with pytest.raises(ScenarioError) as info:
        planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["clusters.us-va-inference-2026.it_load_mw=-3"])
    assert "clusters[0].it_load_mw: got -3; expected a number > 0" in str(info.value)
    with pytest.raises(ScenarioError, match="KEY=VALUE"):
        planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["carbon_price"])
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", ["carbon_price_usd_per_tco2.US=50", "moratoria=[]"])
    assert s.carbon_price_usd_per_tco2["US"] == 50 and s.moratoria == ()


def test_cli_exit_code_2_one_line_no_traceback_nothing_written(tmp_path, capsys):
    bad = write(tmp_path, GOOD.replace("it_load_mw: 100", "it_load_mw: -5"))
    out = tmp_path / "out"
    code = main(["solve", str(bad), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "clusters[0].it_load_mw: got -5; expected a number > 0" in err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_cli_subprocess_bad_override_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "planner.cli", "solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(tmp_path / "o"),
         "--set", "overrides.regions.US-VA.price_usd_per_mwh=8.9"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "overrides.regions.US-VA.price_usd_per_mwh: got 8.9" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_cluster_csv_errors_name_the_row(tmp_path):
    (tmp_path / "c.csv").write_text("id,home_country,it_load_mw,online_year\na,US,100,2027\nb,US,-1,2027\n")
    p = write(tmp_path, "name: t\nhorizon: {first_year: 2026, last_year: 2030}\nclusters: c.csv\n")
    with pytest.raises(ScenarioError, match=r"clusters\[1\].it_load_mw: got '-1'"):
        planner.load_scenario(p)


@pytest.mark.parametrize(
    "override, path, expected",
    [
        ("overrides.regions.US-VA.grid_region_id=FOO", "overrides.regions.US-VA.grid_region_id", "a grid region of the same country"),
        ("overrides.regions.US-VA.country=CN", "overrides.regions.US-VA.country", "a grid region of the same country"),
        ("overrides.regions.US-VA.grid_region_id=5", "overrides.regions.US-VA.grid_region_id", "a string"),
        ("extra_moratoria=[{moratorium_id: x, region_id: US-TX, from_year: 2026, until_year: 2027},"
         " {moratorium_id: x, region_id: US-OK, from_year: 2026, until_year: 2027}]",
         "extra_moratoria[1].moratorium_id", "an id not already"),
    ],
)
def test_overrides_keep_the_tables_joined(override, path, expected):
    s = planner.load_scenario(SCENARIOS / "us_china_2030.yaml", [override])
    with pytest.raises(ScenarioError) as info:
        planner.build(s)
    assert f": {path}: got" in str(info.value) and expected in str(info.value)


def test_base_scenario_paths_stay_relative_to_the_base(tmp_path):
    child = tmp_path / "child.yaml"
    child.write_text(f"base: {SCENARIOS / 'china_edwc_sites.yaml'}\nname: child\n")
    s = planner.load_scenario(child)
    inputs, _ = planner.build(s)
    assert len(inputs.sites) == 10

"""Bad input never crashes: mutated scenario files either solve or are rejected with one line and exit 2.

CI runs a few hundred cases (profile "ci"); `pytest --hypothesis-profile=long tests/test_fuzz.py`
runs 10,000.
"""

from __future__ import annotations

import copy
import math
import os
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SCENARIOS
from planner.cli import main

BASE = yaml.safe_load((SCENARIOS / "us_china_2030.yaml").read_text())
BASE["clusters"] = [
    {"id": "va", "home_country": "US", "it_load_mw": 500, "online_year": 2027, "user_hub": {"region_id": "US-VA", "max_rtt_ms": 30}},
    {"id": "tr", "home_country": "US", "it_load_mw": 800, "online_year": 2028, "curtailment_pct": 1},
    {"id": "bj", "home_country": "CN", "it_load_mw": 300, "online_year": 2026},
]

JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12) | st.sampled_from(["US-VA", "CN-GS", "status:enacted", "1e400", "-0", "ñ☃", "\x00"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


ALL_PATHS = [p for p in paths(BASE) if p]


@st.composite
def mutated(draw):
    doc = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            parent[key]  # noqa: B018 - still there?
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["drop", "junk", "negative", "huge", "nan", "dup"]))
        if action == "drop":
            del parent[key]
        elif action == "junk":
            parent[key] = draw(JUNK)
        elif action == "negative" and isinstance(parent[key], (int, float)) and not isinstance(parent[key], bool):
            parent[key] = -abs(parent[key]) - 1
        elif action == "huge":
            parent[key] = draw(st.sampled_from([1e308, 10**30, math.inf, -math.inf]))
        elif action == "nan":
            parent[key] = math.nan
        elif action == "dup" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
    return doc


def run_cli(text: bytes | str, capsys) -> tuple[int, str, Path]:
    tmp = Path(tempfile.mkdtemp())
    f = tmp / "s.yaml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    out = tmp / "out"
    code = main(["solve", str(f), "-o", str(out), "--quiet", "--no-maps"])
    captured = capsys.readouterr()
    return code, captured.err, out


def check(code: int, err: str, out: Path) -> None:
    assert "Traceback" not in err
    assert "internal error" not in err, err
    if code == 0:
        assert (out / "summary.json").is_file()
    else:
        assert code == 2, (code, err)
        lines = [ln for ln in err.splitlines() if not ln.startswith("planner: warning:")]
        # one line per problem (every validation problem at once), each naming where it is
        assert lines and lines[0].startswith("planner: error: "), err
        for line in lines:
            assert "s.yaml" in line or "--set" in line or "column" in line, line
        assert not out.exists()


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(doc=mutated())
def test_mutated_scenarios_solve_or_fail_cleanly(doc, capsys):
    try:
        text = yaml.safe_dump(doc, allow_unicode=True)
    except yaml.YAMLError:
        return
    check(*run_cli(text, capsys))


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_bytes_fail_cleanly(blob, capsys):
    check(*run_cli(blob, capsys))


def test_unreadable_file_and_directory(tmp_path, capsys):
    f = tmp_path / "s.yaml"
    f.write_text("name: x\n")
    f.chmod(0)
    if os.access(f, os.R_OK):  # root reads anything: make it a FIFO-less dangling symlink instead
        f.unlink()
        f.symlink_to(tmp_path / "missing.yaml")
    code = main(["solve", str(f), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    code = main(["solve", str(tmp_path), "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and "a directory" in err


@pytest.mark.parametrize("blob", [b"", b"\xff\xfe\x00", "name: \u2603\n".encode(), b"a: [1, 2\n", b"!!python/object:os.system ls\n"])
def test_known_nasty_files(blob, capsys):
    check(*run_cli(blob, capsys))

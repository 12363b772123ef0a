"""The notebooks run top to bottom (nbclient, cwd = notebooks/), are stored without outputs,
and every cell that draws shows its picture (an ``image/png`` output), as in Jupyter."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALLOWED_IMPORTS = {"planner", "pandas", "matplotlib", "time"}
TIME_LIMIT_S = 240  # a guard against hangs, not a speed test (speed: benchmarks/)
#: A cell "draws" when it shows a pyplot figure, calls a ``.plot(...)`` (Result.plot, pandas) or
#: ``plot_*`` helper, or ends with a figure variable on its own line.
DRAWS = re.compile(r"plt\.show\(\)|\.plot\(|\bplot_\w+\(|^fig\s*$", re.MULTILINE)


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory) -> str:
    """A kernelspec that runs *this* interpreter, found before any user-level ``python3`` spec."""
    import os

    name = "planner-tests-python"
    spec_dir = tmp_path_factory.mktemp("jupyter") / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "planner tests",
        "language": "python",
        # no MPLBACKEND: ipykernel chooses matplotlib's inline backend, as Jupyter does for a user
        "env": {"PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join([str(spec_dir.parents[1])] + ([old] if old else []))
    yield name
    if old is None:
        os.environ.pop("JUPYTER_PATH", None)
    else:
        os.environ["JUPYTER_PATH"] = old


def test_the_notebooks_are_there():
    names = [p.name for p in NOTEBOOKS]
    assert {"01_quickstart.ipynb", "02_moratoria.ipynb", "03_us_vs_china.ipynb", "04_sweeps.ipynb"} <= set(names)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: strip the outputs"
        for line in cell["source"] if isinstance(cell["source"], list) else cell["source"].splitlines():
            m = re.match(r"\s*(?:from|import)\s+([A-Za-z_][\w]*)", line)
            if m:
                assert m.group(1) in ALLOWED_IMPORTS, f"{path.name}: imports {m.group(1)}"
        text = "".join(cell["source"])
        assert "/work/" not in text and "http" not in text, f"{path.name}: reads only bundled data, by relative path"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, kernel_name: str):
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=TIME_LIMIT_S * 2,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},  # cwd = notebooks/, as in Jupyter
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError, with the cell and traceback, if a cell fails
    seconds = time.perf_counter() - t0
    assert seconds < TIME_LIMIT_S, f"{path.name} took {seconds:.0f} s"
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    drawing = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and DRAWS.search(c.source)]
    blank = [i for i, c in drawing if not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert blank == [], f"{path.name}: cells {blank} draw but show no image/png output"

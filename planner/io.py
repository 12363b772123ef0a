"""Writing results atomically, and reading them back.

Files are written into a temporary directory beside OUTDIR and renamed into
place only when all of them are complete, so OUTDIR is never half-written:
it holds either the previous complete results or the new ones.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import ResultsError
from planner.reader import FILES, RESULTS_FORMAT, read_summary  # noqa: F401  (read_summary: re-exported)
from planner.result import Result

FLOAT_FORMAT = "%.10g"  # 10 significant digits: exact enough for MW shares and bn-USD costs alike


def write_result(result: Result, outdir: Path, maps: bool = False,
                 extra: Callable[[Path], object] | None = None) -> Path:
    """Write the Result's tables and summary to *outdir* (atomically).

    Writing results never draws maps: the caller passes the map writer as *extra*
    (the CLI passes :func:`planner.maps.map_writer`), and it is called on the
    temporary directory after the tables, before the directory is renamed into
    place, so the maps land with the tables or not at all. *maps* is accepted for
    callers of 0.1.0 (``Result.to_dir(path, maps=...)``) and does nothing here.
    """
    outdir = Path(outdir)
    parent = outdir.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{outdir}: cannot create the output directory ({exc.strerror})") from None
    if outdir.exists() and not outdir.is_dir():
        raise ResultsError(f"{outdir}: exists and is not a directory")
    _remove_stale_scratch(parent, outdir.name)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.tmp-{os.getpid()}-", dir=parent))
    except OSError as exc:
        raise ResultsError(f"{outdir}: cannot write the output directory ({exc.strerror or exc})") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; results are an ordinary directory
    try:
        _csv(result.placements, tmp / "placements.csv", ["cluster_id", "region_id", "site_id"])
        fault_point("write")
        _csv(result.regions, tmp / "regions.csv", ["region_id", "year"])
        _csv(result.grid_regions, tmp / "grid_regions.csv", ["grid_region_id", "year"])
        _csv(result.unserved, tmp / "unserved.csv", ["cluster_id"])
        if len(result.sites):
            _csv(result.sites, tmp / "sites.csv", ["site_id"])
        if len(result.limits):
            _csv(result.limits, tmp / "limits.csv", ["family", "limit_id", "year", "level"])
        if len(result.supply):
            _csv(result.supply, tmp / "supply.csv", ["cluster_id", "region_id", "site_id", "online_year", "year"])
        with open(tmp / "summary.json", "w", encoding="utf-8") as fh:
            json.dump(_jsonable(result.summary), fh, indent=2, sort_keys=False)
            fh.write("\n")
        with open(tmp / COLUMNS_FILE, "w", encoding="utf-8") as fh:  # column types, for read_result
            json.dump({f: _column_types(getattr(result, a)) for a, f in TABLES.items() if (tmp / f).is_file()}, fh, indent=1)
            fh.write("\n")
        if extra is not None:
            extra(tmp)
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        _swap_into_place(tmp, outdir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir


def _remove_stale_scratch(parent: Path, name: str) -> None:
    """Remove scratch dirs left by killed runs (their process is gone)."""
    for p in parent.glob(f".{name}.tmp-*-*"):
        try:
            pid = int(p.name[len(name) + 6 :].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, PermissionError):
            continue


def _swap_into_place(tmp: Path, outdir: Path) -> None:
    """Put *tmp* where *outdir* is, atomically: an exchange of the two names where the
    kernel offers it (Linux renameat2), else two renames with recovery of the old one."""
    if not outdir.exists():
        os.rename(tmp, outdir)
        return
    if _exchange(tmp, outdir):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the previous results
        return
    old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
    os.rename(outdir, old)
    os.rename(tmp, outdir)
    shutil.rmtree(old, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directory names (Linux >= 3.15, glibc >= 2.28); False if unavailable."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    AT_FDCWD, RENAME_EXCHANGE = -100, 2
    rc = renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    return rc == 0


def fault_point(stage: str) -> None:
    """Test hook: with PLANNER_FAULT_PAUSE=<stage>, say so on stderr and wait to be killed."""
    if os.environ.get("PLANNER_FAULT_PAUSE") == stage:
        import sys
        import time

        print(f"planner: fault point {stage}", file=sys.stderr, flush=True)
        time.sleep(60)


def _csv(df: pd.DataFrame, path: Path, sort: list[str]) -> None:
    df = df.sort_values(sort, kind="mergesort") if len(df) else df
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if np.isfinite(f) else None
    return obj


#: The tables of a results directory, by :class:`~planner.result.Result` attribute
#: (sites.csv, limits.csv and supply.csv are written only when they have rows).
TABLES = {
    "placements": "placements.csv",
    "regions": "regions.csv",
    "grid_regions": "grid_regions.csv",
    "unserved": "unserved.csv",
    "sites": "sites.csv",
    "limits": "limits.csv",
    "supply": "supply.csv",
}
#: Column types of the written tables (``int``, ``float``, ``bool``, ``text``, or
#: ``text?`` for text with missing values), so a run reads back as it was.
COLUMNS_FILE = "columns.json"


def _column_types(df: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    for c in df.columns:
        kind = df[c].dtype.kind
        if kind == "b":
            out[str(c)] = "bool"
        elif kind in "iu":
            out[str(c)] = "int"
        elif kind == "f":
            out[str(c)] = "float"
        else:
            out[str(c)] = "text?" if df[c].isna().any() else "text"
    return out


def read_result(outdir: str | Path) -> Result:
    """Read a finished run (``planner solve -o OUTDIR`` or ``Result.to_dir``) back into a Result.

    Parameters
    ----------
    outdir
        A results directory.

    Returns
    -------
    Result
        The tables and summary as written (rows in the files' order; floats to
        the 10 significant digits written). ``inputs`` is None: the model's
        inputs are not stored in a run.

    Raises
    ------
    ResultsError
        Not a (complete, readable) results directory.
    """
    from planner.result import Result

    outdir = Path(outdir)
    summary = read_summary(outdir)
    types: dict[str, dict[str, str]] = {}
    if (outdir / COLUMNS_FILE).is_file():
        try:
            types = json.loads((outdir / COLUMNS_FILE).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ResultsError(f"{outdir / COLUMNS_FILE}: not valid JSON") from None
    tables = {}
    for attr, name in TABLES.items():
        path = outdir / name
        tables[attr] = _read_table(path, types.get(name)) if path.is_file() else pd.DataFrame()
    return Result(scenario_name=str(summary.get("scenario", outdir.name)), summary=summary, inputs=None, **tables)


def _read_table(path: Path, types: dict[str, str] | None) -> pd.DataFrame:
    """One written table, typed by *types* (from columns.json), else numbers where every cell is one."""
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ResultsError(f"{path}: not a readable CSV ({type(exc).__name__})") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    for c in df.columns:
        col = df[c]
        want = (types or {}).get(c) or _guess_type(col)
        try:
            if want == "float":
                df[c] = col.where(col != "", "nan").astype(float)
            elif want == "int":
                df[c] = col.astype("int64")
            elif want == "bool":
                bad = ~col.isin(["True", "False"])
                if bad.any():
                    raise ValueError(col[bad].iloc[0])
                df[c] = col == "True"
            elif want == "text?":
                df[c] = col.where(col != "", None)
        except ValueError:
            bad_value = next((v for v in col if not _parses(v, want)), "?")
            raise ResultsError(f"{path}: column {c}, value {bad_value!r}: expected {want}") from None
    return df


def _guess_type(col: pd.Series) -> str:
    """Type of a column written without columns.json (older runs): numbers where every cell is one."""
    if len(col) and col.isin(["True", "False"]).all():
        return "bool"
    num = pd.to_numeric(col.replace("", np.nan), errors="coerce")
    if num.notna().sum() == (col != "").sum() and (col != "").any():
        return "float"
    return "text"


def _parses(value: str, want: str) -> bool:
    try:
        if want == "int":
            int(value)
        elif want == "float":
            float(value or "nan")
        return True
    except ValueError:
        return False

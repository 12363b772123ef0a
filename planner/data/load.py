"""Reading and checking the data tables (bundled or user-supplied)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.data.schemas import HEADROOM_COLUMNS, SCHEMAS, Column, TableSchema
from planner.errors import DataError, is_file

#: The repository's datasets/ folder (a checkout or an editable install).
_REPO_DATASETS = Path(__file__).resolve().parents[2] / "datasets"


def bundled_dir() -> Path:
    """The folder holding the bundled tables.

    In a wheel they are the package ``planner._datasets`` (``datasets/`` mapped
    at build time, see setup.py), found with :mod:`importlib.resources`; in a
    checkout or an editable install, the repository's ``datasets/`` folder.
    """
    from importlib import resources

    packaged = Path(str(resources.files("planner") / "_datasets"))  # a plain folder inside an installed wheel
    for path in (packaged, _REPO_DATASETS):
        if (path / "regions.csv").is_file():
            return path
    raise DataError("planner._datasets", "-", "-", "bundled tables not found; reinstall the package")


@dataclass(frozen=True)
class Tables:
    """The four input tables, checked, plus where each came from."""

    regions: pd.DataFrame
    grid_regions: pd.DataFrame
    moratoria: pd.DataFrame
    parameters: pd.DataFrame
    files: dict[str, str] = field(default_factory=dict)
    sha256: dict[str, str] = field(default_factory=dict)


def read_table(path: Path, schema: TableSchema) -> pd.DataFrame:
    """Read *path* and check it against *schema*; raise :class:`DataError` on any problem."""
    return check_table(read_csv_text(path), schema, str(path))


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV as text cells (no NA guessing); a missing or unreadable file is a :class:`DataError`."""
    label = str(path)
    if not is_file(path):
        raise DataError(label, "-", "-", "file not found")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(label, "-", "-", f"not a readable UTF-8 CSV ({type(exc).__name__})") from None


#: Cells read as blank (a missing value).
_BLANK = ("", "nan", "NaN", "NA", "None")


def check_table(df: pd.DataFrame, schema: TableSchema, label: str) -> pd.DataFrame:
    """Check and type the columns of *df* (text cells) against *schema*.

    Each column is worked on as a NumPy array and the typed table is made once at the end: the tables
    are small (up to a few thousand rows), so per-Series pandas calls were most of the cost (0.12 s for
    the five tables of a size-4 site study, about 1.5 ms a column).
    """
    missing = [c.name for c in schema.columns if c.name not in df.columns and not c.optional]
    if missing:
        raise DataError(label, ", ".join(missing), "header", "missing column(s)")
    if df.empty:
        raise DataError(label, schema.key, "-", "the table has no rows")
    n = len(df)

    def cells(name: str) -> np.ndarray:
        """The column's cells as an object array ("" where an optional column is absent: 0.1.0 tables)."""
        return df[name].to_numpy(dtype=object) if name in df.columns else np.full(n, "", dtype=object)

    def stripped(raw: np.ndarray) -> np.ndarray:
        return np.array([str(v).strip() for v in raw], dtype=object)

    key = stripped(cells(schema.key))

    def rows(mask) -> list[str]:
        """The ids (else "line N") of the rows in *mask*, for an error message."""
        at = np.flatnonzero(np.asarray(mask, dtype=bool))
        return [k if k != "" else f"line {i + 2}" for i, k in zip(at, key[at])]

    dup = pd.Index(key).duplicated(keep=False)
    if dup.any():
        raise DataError(label, schema.key, sorted(set(key[dup])), "duplicate ids")
    typed: dict[str, np.ndarray] = {}
    for col in schema.columns:
        raw = cells(col.name)
        if col.kind != "str":  # a number in every cell: no blank to find (text around a number cannot change it)
            values = np.asarray(pd.to_numeric(raw, errors="coerce"))
            if not pd.isna(values).any():
                typed[col.name] = _check_numbers(col, values, np.zeros(n, dtype=bool), label, rows)
                continue
        text = stripped(raw)
        blank = np.isin(text, _BLANK)
        if blank.any() and not col.optional:
            raise DataError(label, col.name, rows(blank), "blank or NaN where a value is required")
        if col.kind == "str":
            text[blank] = ""
            if col.choices:
                bad = ~blank & ~np.isin(text, col.choices)
                if bad.any():
                    raise DataError(label, col.name, rows(bad), f"expected one of {', '.join(col.choices)}")
            typed[col.name] = text
            continue
        given = text.copy()
        given[blank] = None  # a blank is no number (NaN), not a bad one
        values = np.asarray(pd.to_numeric(given, errors="coerce"), dtype=float)
        bad = np.isnan(values) & ~blank
        if bad.any():
            raise DataError(label, col.name, rows(bad), "not a number")
        typed[col.name] = _check_numbers(col, values, blank, label, rows)
    df = pd.DataFrame(typed, index=pd.Index(typed[schema.key]))
    if schema.name == "regions":  # 0.1.0 tables: each region is its own single zone
        df["state_id"] = df["state_id"].where(df["state_id"] != "", df["region_id"])
        df["zone_share_of_state"] = df["zone_share_of_state"].fillna(1.0)
        df["state_lon"] = df["state_lon"].fillna(df["lon"])
        df["state_lat"] = df["state_lat"].fillna(df["lat"])
    if schema.name == "grid_regions":
        df["firm_rule"] = df["firm_rule"].where(df["firm_rule"] != "", "published")
    check_rules(df, schema, label)
    return df


def _check_numbers(col: Column, values: np.ndarray, blank: np.ndarray, label: str, rows) -> np.ndarray:
    """Check the numbers of column *col* (*values*, NaN where *blank*); return them typed: an integer
    column without blanks as integers, any other as floats (NaN where blank)."""
    if not np.isfinite(values[~blank].astype(float)).all():
        raise DataError(label, col.name, rows(~blank & np.isinf(values.astype(float))), "infinite value")
    if col.kind == "int":
        frac = ~blank & (np.nan_to_num(values.astype(float) % 1, nan=0.0) != 0)
        if frac.any():
            raise DataError(label, col.name, rows(frac), "expected an integer")
    with np.errstate(invalid="ignore"):
        out_of_range = np.zeros(len(values), dtype=bool)
        if col.low is not None:
            out_of_range |= values < col.low
        if col.high is not None:
            out_of_range |= values > col.high
    if out_of_range.any():
        raise DataError(
            label,
            col.name,
            rows(out_of_range),
            f"got {', '.join(f'{x:g}' for x in values[out_of_range].astype(float)[:5])}; outside the "
            f"plausible range {col.low:g}..{col.high:g} ({col.description})",
        )
    if col.kind == "int" and not blank.any():
        return values.astype(int)
    return values.astype(float)


def check_rules(df: pd.DataFrame, schema: TableSchema, label: str) -> None:
    """Rules across columns of a typed table (also re-run after scenario overrides)."""
    if schema.name == "grid_regions":
        h = df[list(HEADROOM_COLUMNS)].to_numpy()
        bad = (np.diff(h, axis=1) < 0).any(axis=1)
        if bad.any():
            raise DataError(label, "headroom_*", list(df.index[bad]), "headroom must not shrink as curtailment grows")
    if schema.name == "regions" and "state_id" in df.columns:
        total = df.groupby("state_id")["zone_share_of_state"].sum()
        bad = (total - 1.0).abs() > 1e-3
        if bad.any():
            raise DataError(label, "zone_share_of_state", list(total.index[bad]), "zone shares of a state must sum to 1")
    if schema.name == "moratoria":
        bad = df["until_year"] < df["from_year"]
        if bad.any():
            raise DataError(label, "until_year", list(df.index[bad]), "until_year before from_year")
        from planner.data.jurisdictions import county_fips_codes  # a county, city or utility measure needs its county

        bad = (df["scope"] != "state") & ~df["county_fips"].astype(str).isin(county_fips_codes())
        if bad.any():
            raise DataError(label, "county_fips", list(df.index[bad]),
                            "a 5-digit county FIPS code with a polygon in datasets/jurisdictions.geojson "
                            "(a county, city or utility measure needs its county)")


def load_tables(paths: dict[str, Path] | None = None) -> Tables:
    """Read the four tables; *paths* maps a table name to a user file (default: bundled)."""
    frames, files, digests = read_tables(SCHEMAS, paths)
    check_joins(frames, files)
    return Tables(**frames, files=files, sha256=digests)


def read_tables(schemas: dict[str, TableSchema], paths: dict[str, Path] | None = None):
    """Read and check each table of *schemas* (a user file from *paths*, else the bundled one):
    the frames, their files and their SHA-256 digests, by table name."""
    paths = dict(paths or {})
    base = bundled_dir() if any(not paths.get(name) for name in schemas) else Path()  # user tables need no bundle
    frames: dict[str, pd.DataFrame] = {}
    files: dict[str, str] = {}
    digests: dict[str, str] = {}
    for name, schema in schemas.items():
        path = paths.get(name) or base / f"{name}.csv"
        frames[name] = read_table(path, schema)
        files[name] = str(path)
        digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return frames, files, digests


def check_joins(frames: dict[str, pd.DataFrame], files: dict[str, str]) -> None:
    """Foreign keys: regions -> grid_regions, moratoria -> regions, countries agree."""
    regions, grids, mor = frames["regions"], frames["grid_regions"], frames["moratoria"]
    bad = ~regions["grid_region_id"].isin(grids.index)
    if bad.any():
        raise DataError(files["regions"], "grid_region_id", list(regions.index[bad]), "grid region not in grid_regions table")
    joined = regions["grid_region_id"].map(grids["country"])
    bad = joined != regions["country"]
    if bad.any():
        raise DataError(files["regions"], "country", list(regions.index[bad]), "country differs from its grid region's")
    bad = ~mor["region_id"].isin(regions.index) & ~mor["region_id"].isin(regions["state_id"])
    if bad.any():
        raise DataError(files["moratoria"], "region_id", list(mor.index[bad]), "region (or state) not in regions table")


def describe_tables() -> pd.DataFrame:
    """One row per bundled table: rows, vintage and sources (for ``planner datasets``); the supply
    tables (on-site power, connection lead times) follow the four core ones."""
    from planner.data.supply import load_supply_tables  # supply reads through this module

    tables = load_tables()
    supply = load_supply_tables()
    frames = {**{n: getattr(tables, n) for n in SCHEMAS}, **{n: getattr(supply, n) for n in supply.files}}
    files, digests = {**tables.files, **supply.files}, {**tables.sha256, **supply.sha256}
    out = []
    for name in frames:
        df: pd.DataFrame = frames[name]
        year_cols = [c for c in df.columns if c.endswith("_year") and c not in ("from_year", "until_year")]
        years = sorted({int(y) for c in year_cols for y in df[c].dropna()}) if year_cols else []
        src_cols = [c for c in df.columns if "source" in c]
        sources = pd.unique(pd.concat([df[c] for c in src_cols]).str.split(r" \(|;|,", regex=True).str[0].str.strip())
        sources = [s for s in sources if s and s != "not reported"]
        out.append(
            {
                "table": name,
                "rows": len(df),
                "vintage": f"{years[0]}-{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "-"),
                "sources": len(sources),
                "file": files[name],
                "sha256": digests[name][:12],
            }
        )
    return pd.DataFrame(out)

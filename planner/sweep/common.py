"""What every part of the sweep package shares: its errors, exit codes and small helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from planner.errors import PlannerError

#: Countries that get their own columns in a sweep row.
COUNTRIES = ("US", "CN")
#: Exit code of ``planner sweep`` when the Dask scheduler is lost (finished cases are written).
EXIT_SCHEDULER_LOST = 5
#: Exit code of ``planner sweep`` on Ctrl-C (finished cases are written).
EXIT_INTERRUPTED = 130


class SweepError(PlannerError):
    """A sweep could not be set up or run (bad sweep file, unreachable scheduler, ...)."""


class ResumeError(SweepError):
    """``--resume OUTDIR`` does not match the sweep stored there (other base scenario or cases)."""


class SchedulerLost(SweepError):
    """The Dask scheduler was lost or unreachable for longer than the scheduler timeout.

    The finished cases are written before this is raised; ``frame`` holds them.
    """

    exit_code = EXIT_SCHEDULER_LOST

    def __init__(self, message: str, frame: Any = None, outdir: Path | None = None) -> None:
        super().__init__(message)
        self.frame = frame
        self.outdir = outdir


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep. ``frame`` holds the cases finished so far (already written)."""

    def __init__(self, frame: Any, outdir: Path | None) -> None:
        super().__init__("sweep interrupted")
        self.frame = frame
        self.outdir = outdir


def is_number(v: Any) -> bool:
    """True for ints and floats (numpy's too), False for bools and everything else."""
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def one_line(exc: BaseException) -> str:
    """An exception as one line: planner's own messages as they are, others with their type."""
    text = str(exc) if isinstance(exc, PlannerError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


_TABLES: dict[tuple, Any] = {}
_MAX_TABLES = 8  # core and supply entries of up to four dataset sets


def tables_for(scenario: Any) -> Any:
    """The data tables of *scenario*, read once per process (keyed by the files and their mtimes).

    Validation, the probe builds of the affine plan and a worker's full-path cases all read the same
    few tables; reading and checking them takes longer than building the reference model.
    """
    from planner.data.load import load_tables
    from planner.inputs import dataset_paths

    paths = dataset_paths(scenario)
    return _cached(("core", *_files_key(paths)), lambda: load_tables(paths))


def supply_for(scenario: Any) -> Any:
    """The supply tables *scenario* needs (on-site power, connection lead times) or None, read once per
    process like :func:`tables_for` (each probe build read them again: ~0.2 s a build)."""
    from planner.data.supply import load_supply_tables
    from planner.inputs import dataset_paths, supply_table_names

    names = supply_table_names(scenario)
    if not names:
        return None
    paths = dataset_paths(scenario)
    return _cached(("supply", names, *_files_key(paths)), lambda: load_supply_tables(paths, names))


def _files_key(paths: dict) -> tuple:
    return tuple(sorted((name, str(path), _mtime_ns(path)) for name, path in paths.items()))


def _cached(key: tuple, load: Any) -> Any:
    value = _TABLES.pop(key, None)
    if value is None:
        value = load()
    _TABLES[key] = value  # most recently used last
    while len(_TABLES) > _MAX_TABLES:
        _TABLES.pop(next(iter(_TABLES)))
    return value


def _mtime_ns(path: Path) -> int:
    try:
        return Path(path).stat().st_mtime_ns
    except OSError:
        return -1  # load_tables reports the missing file

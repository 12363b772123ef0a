"""The output layer behind :class:`planner.Result`'s ``load``, ``to_dir``, ``plot`` and ``explore``.

:mod:`planner.result` keeps only the tables; these functions write and read them (:mod:`planner.io`)
and draw them (:mod:`planner.maps`), and are registered in ``planner.result.OUTPUT_HOOKS`` when the
package is imported, so the Result's methods work without the Result importing its writers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner.result import OUTPUT_HOOKS, Result


def load(path: str | Path) -> Result:
    from planner.io import read_result

    return read_result(path)


def to_dir(result: Result, path: str | Path, maps: bool = True) -> Path:
    from planner.io import write_result

    extra = None
    if maps:
        from planner.maps import map_writer

        extra = map_writer(result)  # None (and a warning in the summary) when regions have no geometry
    return write_result(result, Path(path), extra=extra)


def plot(result: Result, metric: str | None = None, year: int | str | None = None) -> Any:
    from planner import maps

    return maps.plot(result, metric, year)


def explore(result: Result, metric: str | None = None, year: int | None = None, tiles: str | None = None) -> Any:
    from planner import maps

    return maps.explore(result, metric, year, tiles)


OUTPUT_HOOKS.update(load=load, to_dir=to_dir, plot=plot, explore=explore)

"""Reading a finished run's summary: the one piece of the results files that maps and commands share.

Below :mod:`planner.result`, :mod:`planner.io` and :mod:`planner.maps` in the layers: it imports
none of them, so the maps can read a results directory without importing the Result or the writers
(data flows one way: result -> io -> files; the CLI calls the maps, which read files through here).
"""

from __future__ import annotations

import json
from pathlib import Path

from planner.errors import ResultsError

#: Version of the output files' layout; `planner map`/`explain` check it.
RESULTS_FORMAT = 1
#: The files every results directory has.
FILES = ("summary.json", "placements.csv", "regions.csv", "grid_regions.csv", "unserved.csv")


def read_summary(outdir: Path) -> dict:
    """Read and check ``summary.json`` of a finished run."""
    outdir = Path(outdir)
    path = outdir / "summary.json"
    if not outdir.is_dir():
        raise ResultsError(f"{outdir}: no such results directory; run `planner solve SCENARIO -o {outdir}` first")
    missing = [f for f in FILES if not (outdir / f).is_file()]
    if missing:
        raise ResultsError(f"{outdir}: not a complete results directory; missing {', '.join(missing)}")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ResultsError(f"{path}: not valid JSON") from None
    if summary.get("results_format") != RESULTS_FORMAT:
        raise ResultsError(
            f"{path}: results format {summary.get('results_format')!r}, expected {RESULTS_FORMAT}; solve the scenario again"
        )
    return summary


def ranges_by_figure(summary: dict) -> dict[tuple[str, str, int], tuple[float, float]]:
    """``{(figure, id, year): (low, high)}`` of a summary's figures that least cost leaves open
    (``summary["equal_cost_ranges"]``, from :mod:`planner.ranges`; empty when none or not computed).
    The terminal report and the maps read them here."""
    rng = summary.get("equal_cost_ranges") or {}
    return {(u["figure"], str(u["id"]), int(u["year"])): (float(u["low"]), float(u["high"]))
            for u in rng.get("undecided", [])}

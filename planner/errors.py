"""The project's exception types.

Every error a user can cause is one of these. The CLI turns them into a single
line on stderr and exit code 2; nothing else escapes as a traceback.
"""

from __future__ import annotations


class PlannerError(Exception):
    """Base class of every error planner raises on purpose."""

    exit_code = 2


class ScenarioError(PlannerError):
    """A scenario file or override is wrong.

    Parameters
    ----------
    source
        The file (or ``--set``) the value came from.
    key_path
        Dotted path to the bad key, e.g. ``clusters[3].it_load_mw``.
    value
        The offending value (``None`` when the key is missing).
    expected
        What would have been accepted.
    """

    def __init__(self, source: str, key_path: str, value: object, expected: str) -> None:
        self.source = source
        self.key_path = key_path
        self.value = value
        self.expected = expected
        self.problems: list[ScenarioError] = [self]  # every problem found at once (validation)
        shown = _short(value)
        where = f"{source}: {key_path}" if key_path else source
        super().__init__(_one_line(f"{where}: got {shown}; expected {expected}"))


class DataError(PlannerError):
    """A data table is wrong: names the file, the column and the rows."""

    def __init__(self, table: str, column: str, rows: list[str] | str, problem: str) -> None:
        self.table = table
        self.column = column
        self.rows = [rows] if isinstance(rows, str) else list(rows)
        shown = ", ".join(self.rows[:5]) + (f" (+{len(self.rows) - 5} more)" if len(self.rows) > 5 else "")
        super().__init__(_one_line(f"{table}: column {column!r}, rows {shown}: {problem}"))


class SolverError(PlannerError):
    """The solver failed in a way that leaves no usable solution (exit 3, or 4 for a time limit)."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class ResultsError(PlannerError):
    """An output directory is missing files or has an unknown format."""


def _one_line(text: str) -> str:
    """Messages are one line: control characters from user input are shown escaped."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class Described(str):
    """A description standing in for a value (``<binary data>``): shown without quotes."""


def _short(value: object, limit: int = 100) -> str:
    text = str(value) if isinstance(value, Described) else repr(value)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_file(path) -> bool:
    """``Path.is_file`` that answers False, not ValueError, for names no file can have (NUL bytes)."""
    from pathlib import Path

    try:
        return Path(path).is_file()
    except (ValueError, OSError):
        return False

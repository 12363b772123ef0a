"""How the planner's arrays take memory from the operating system.

numpy asks Linux for transparent huge pages (``madvise(MADV_HUGEPAGE)``) on every array of 4 MiB
or more. Where the kernel's ``transparent_hugepage/defrag`` setting is ``madvise`` (the default of
most distributions, and this project's benchmark machine), the first touch of such an array may
first have to compact memory to find a free 2 MiB page. Building a national site study allocates
hundreds of short-lived arrays of 6-60 MB (one entry per pair or per candidate combination), and
those page faults were most of its system time. At size 4 of ``benchmarks/instances.py``, three runs
each way (docs/performance.md, "Memory: no huge pages for short-lived arrays"): the planner's time
outside HiGHS 3.08-3.45 s with the requests, 2.11-2.27 s without; system time 1.19-1.35 s against
0.54-0.63 s; the same objective.

:func:`planner_arrays` turns numpy's request off while the planner builds and solves, and puts the
previous setting back after, so a user's own numpy work in the same process is left as it was.
Nested and concurrent uses (threads) share one switch: the first to enter turns it off, the last
to leave restores it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_saved: bool | None = None


def _switch():
    """numpy's setter of its huge-page requests (returns the previous setting), or None where absent."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextmanager
def planner_arrays() -> Iterator[None]:
    """While inside: numpy does not ask the kernel for huge pages (see the module's doc)."""
    global _depth, _saved
    setter = _switch()
    with _lock:
        if setter is not None and _depth == 0:
            _saved = bool(setter(False))
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if setter is not None and _depth == 0 and _saved is not None:
                setter(_saved)
                _saved = None

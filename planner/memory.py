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

The tables' string columns are Arrow arrays, and pyarrow's wheels allocate them from mimalloc by
default. In a fresh process its first allocations of this size cost more than the C library's: when the
pairs' ids were Arrow strings, the six gathers of 0.8 M ids at size 4 took 0.13-0.31 s from mimalloc
and 0.07-0.08 s from the system allocator, and the planner's time outside HiGHS was 2.47-2.88 s against
2.14-2.26 s (three alternating runs each, docs/performance.md). The pairs now hold their ids as integer
codes (``planner.eligibility.id_codes``), so far less Arrow memory is taken during a solve; the switch
was not measured again since.

Python's cyclic garbage collector walks every object the process holds each time it looks at its
oldest generation: after importing pandas, scipy and highspy, about 100,000 of them, none of which
the solve creates or frees. A national study's thousands of short-lived frames trigger such passes
(0.05 s at size 4, measured with ``gc.callbacks``). ``gc.freeze()`` moves the objects that exist when
the solve starts out of the collector's sight, so its passes walk only what the solve creates;
``gc.unfreeze()`` returns them at the end. Nothing is left uncollected: cycles the solve makes are
found as before. A process that froze its objects itself keeps them frozen, and is not unfrozen.

The C library (glibc) serves each allocation above a threshold with fresh pages from the kernel
(``mmap``), and gives a freed one back at once; the threshold follows the largest block freed, up to
32 MiB. Many of the build's arrays are larger than that (the pairs' float block is 56 MB at size 4, the
size-5 arrays 40-400 MB), so while the inputs and the model are built each one is paid for again in page
faults when it is first written. :func:`reuse_freed_blocks` (around the build only) has blocks up to 64 MiB
come from the C library's heap, where freed ones stay to be reused (``mallopt`` ``M_MMAP_THRESHOLD`` and
``M_TRIM_THRESHOLD``). Measured in fresh processes (docs/performance.md, "Third pass on the time outside
HiGHS"): at size 4 the build before HiGHS took 0.78-0.84 s against 0.93-0.98 s (three alternating runs
each), 92,000 page faults against 124,000; at size 5 the time outside HiGHS was 9.6 s against 11.4 s. At
the end the heap's free memory is given back (``malloc_trim``) before HiGHS takes its own, so that freed
blocks are not resident beside it. The size-5 peak: 2,387 MB against 2,320 MB; with blocks up to 1 GiB
kept, 2,472 MB; kept through the solve as well, 2,733 MB.

Unlike the settings below, the thresholds are not as they were after the call: glibc has no way back to
its adaptive rule once a threshold is set, so they stay at the largest values that rule reaches on 64-bit
systems (32 MiB and 64 MiB). Where the user tuned the allocator (``MALLOC_MMAP_THRESHOLD_``,
``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_``, ``MALLOC_MMAP_MAX_``, or ``glibc.malloc`` in
``GLIBC_TUNABLES``), where glibc refuses the threshold, and elsewhere than glibc, nothing changes.

:func:`planner_arrays` turns numpy's request off, makes the system allocator pyarrow's default and
freezes the objects that exist while the planner builds and solves, and puts all three back after.
These are settings of the process:
during the call they hold for its other threads too (a notebook's own work meanwhile), and a change
another thread makes to them meanwhile is undone at the end; outside the call they are as they
were. An Arrow buffer keeps the allocator it came from. Nested and concurrent uses share one
switch: the first to enter sets it, the last to leave restores it (:func:`reuse_freed_blocks` likewise).
Sweeps and what-if sessions build through ``planner.inputs`` and ``planner.model`` directly and run as
before.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_saved: bool | None = None
_saved_pool = None
_froze = False


#: mallopt parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
#: Inside :func:`reuse_freed_blocks`: blocks up to this size come from the heap, and freed ones stay there.
_KEEP_BYTES = 64 << 20
#: After: glibc's adaptive maxima on 64-bit systems (DEFAULT_MMAP_THRESHOLD_MAX, and twice it to trim).
_AFTER_MMAP_BYTES, _AFTER_TRIM_BYTES = 32 << 20, 64 << 20
#: Environment variables by which a user tunes glibc's allocator (then it is left as the user set it).
_USER_TUNING = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")


@functools.cache
def _glibc():
    """The C library when it is glibc (its ``mallopt`` and ``malloc_trim``), else None."""
    import ctypes
    import os

    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        libc = ctypes.CDLL("libc.so.6")
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), no such name (musl, macOS), no library
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def _user_tuned() -> bool:
    import os

    return any(name in os.environ for name in _USER_TUNING) or "glibc.malloc." in os.environ.get("GLIBC_TUNABLES", "")


_kept = False  # whether the thresholds were set on entry (and are to be set back and the heap trimmed)


def _keep_freed_blocks(on: bool) -> None:
    """Freed blocks up to :data:`_KEEP_BYTES` stay in the heap for reuse (*on*), or the heap is given back and
    the thresholds set to glibc's adaptive maxima (only if they were set on entry)."""
    global _kept
    libc = _glibc()
    if on:
        # mallopt returns 1 when it takes a value; a refused threshold changes nothing, and then neither is set
        _kept = (libc is not None and not _user_tuned() and libc.mallopt(_M_MMAP_THRESHOLD, _KEEP_BYTES) == 1)
        if _kept:
            libc.mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES)
    elif _kept:
        libc.mallopt(_M_MMAP_THRESHOLD, _AFTER_MMAP_BYTES)
        libc.mallopt(_M_TRIM_THRESHOLD, _AFTER_TRIM_BYTES)
        libc.malloc_trim(0)
        _kept = False


_reusing = 0


@contextmanager
def reuse_freed_blocks() -> Iterator[None]:
    """While inside (building the inputs and the model), blocks up to :data:`_KEEP_BYTES` come from the C
    library's heap and freed ones stay there for reuse; at the end the heap's free memory goes back to the
    kernel (see the module's doc). Nested and concurrent uses share one setting: the last to leave ends it."""
    global _reusing
    with _lock:
        if _reusing == 0:
            _keep_freed_blocks(True)
        _reusing += 1
    try:
        yield
    finally:
        with _lock:
            _reusing -= 1
            if _reusing == 0:
                _keep_freed_blocks(False)


def _switch():
    """numpy's setter of its huge-page requests (returns the previous setting), or None where absent."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]
    return getattr(multiarray, "_set_madvise_hugepage", None)


@contextmanager
def planner_arrays() -> Iterator[None]:
    """While inside: numpy does not ask the kernel for huge pages, pyarrow allocates from the system
    allocator, and the garbage collector passes over the objects that existed on entry (see the
    module's doc)."""
    import pyarrow as pa

    global _depth, _saved, _saved_pool, _froze
    setter = _switch()
    with _lock:
        if _depth == 0:
            if setter is not None:
                _saved = bool(setter(False))
            _saved_pool = pa.default_memory_pool()
            pa.set_memory_pool(pa.system_memory_pool())
            _froze = gc.get_freeze_count() == 0  # a caller's own freeze (a pre-fork server) is left as it is
            if _froze:
                gc.freeze()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if setter is not None and _saved is not None:
                    setter(_saved)
                    _saved = None
                if _saved_pool is not None:
                    pa.set_memory_pool(_saved_pool)
                    _saved_pool = None
                if _froze:
                    gc.unfreeze()
                    _froze = False

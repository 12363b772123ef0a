"""planner.memory: while the planner builds and solves, numpy's huge-page requests are off and pyarrow
allocates from the system allocator; both are put back after."""

from __future__ import annotations

import gc
import threading

import pyarrow as pa
import pytest

import planner
import planner.api as api
from conftest import SCENARIOS
from planner.memory import _switch, planner_arrays, reuse_freed_blocks


def _state(setter) -> bool:
    """numpy's current setting (the setter returns the previous one, so set it back)."""
    value = bool(setter(False))
    setter(value)
    return value


def test_off_inside_nested_and_back_after():
    setter = _switch()
    assert setter is not None  # numpy 2 has it; without it the planner would only lose the speed
    previous = setter(True)
    pool = pa.default_memory_pool().backend_name
    try:
        with planner_arrays():
            assert _state(setter) is False
            assert pa.default_memory_pool().backend_name == "system"
            assert gc.get_freeze_count() > 1000  # the objects of the imports, out of the collector's passes
            with planner_arrays():
                assert _state(setter) is False
            assert _state(setter) is False  # the inner exit does not restore: the outer one does
            assert pa.default_memory_pool().backend_name == "system"
            ids = pa.array(["US-VA", "CN-GS"])
        assert _state(setter) is True
        assert pa.default_memory_pool().backend_name == pool
        assert ids.to_pylist() == ["US-VA", "CN-GS"]  # a buffer keeps the allocator it came from
        assert gc.get_freeze_count() == 0  # the objects frozen on entry are back in the collector's sight
        setter(False)
        with planner_arrays():
            pass
        assert _state(setter) is False  # a user's own choice is put back as it was
    finally:
        setter(previous)


def test_threads_share_one_switch_restored_by_the_last_to_leave():
    setter = _switch()
    previous = setter(True)
    inside, release = threading.Barrier(3), threading.Event()
    seen: list[bool] = []

    def work() -> None:
        with planner_arrays():
            inside.wait()
            release.wait()
            seen.append(_state(setter))

    try:
        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        inside.wait()  # both are inside
        assert _state(setter) is False
        release.set()
        for t in threads:
            t.join()
        assert seen == [False, False]  # the first to leave did not turn it back on under the other
        assert _state(setter) is True
    finally:
        setter(previous)


def test_a_solve_builds_without_huge_page_requests(monkeypatch):
    setter = _switch()
    previous = setter(True)
    seen: list[bool] = []
    real = api.build_inputs

    def spy(*args, **kwargs):
        seen.append(_state(setter))
        seen.append(pa.default_memory_pool().backend_name == "system")
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "build_inputs", spy)
    try:
        result = planner.solve(planner.load_scenario(SCENARIOS / "grid_only.yaml"))
        assert result.summary["status"] == "optimal"
        assert seen == [False, True]
        assert _state(setter) is True
    finally:
        setter(previous)


def test_a_callers_own_freeze_is_kept():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with planner_arrays():
            assert gc.get_freeze_count() == frozen  # not frozen again ...
        assert gc.get_freeze_count() == frozen  # ... nor unfrozen at the end
    finally:
        gc.unfreeze()


def _faults_of_a_fresh_block(mb: int = 48) -> int:
    """Page faults taken writing a new block of *mb* MB (a freshly mapped block faults once per 4 KiB page)."""
    import resource

    import numpy as np

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = np.ones(mb * (1 << 20) // 8)  # written in full
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del block
    return faults


def _resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / (1 << 20)


def test_freed_blocks_are_reused_inside_and_given_back_after():
    """Inside ``reuse_freed_blocks`` (the build) a freed 48 MB block stays in the C library's heap, so writing
    the next one takes (almost) no page faults; outside, glibc maps each such block anew (above its 32 MiB
    limit: 12,288 pages of 4 KiB), and after it the heap's free memory is back with the kernel."""
    import pytest

    from planner.memory import _glibc

    if _glibc() is None:
        pytest.skip("the C library is not glibc: its allocator is left as it is")
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as fh:
            thp = fh.read()
    except OSError:
        thp = "[never]"
    if "[always]" in thp:
        pytest.skip("the kernel backs every large block with huge pages: too few faults to count")
    pages = 48 * (1 << 20) // 4096
    setter = _switch()
    previous = setter(False)  # 4 KiB pages outside too, as inside (huge pages would fault 512 times less)
    try:
        assert _faults_of_a_fresh_block() > pages // 2  # before: every page faults
        with reuse_freed_blocks():
            _faults_of_a_fresh_block()  # the heap grows once ...
            with reuse_freed_blocks():  # (nested: the inner exit does not end it)
                assert _faults_of_a_fresh_block() < pages // 20  # ... and the next block reuses its pages
            assert _faults_of_a_fresh_block() < pages // 20
            held = _resident_mb()  # the freed block, still resident in the heap
        assert held - _resident_mb() > 30  # after: given back to the kernel (malloc_trim) ...
        assert _faults_of_a_fresh_block() > pages // 2  # ... and a new block mapped anew
    finally:
        setter(previous)


class _FakeGlibc:
    """Records the allocator calls ``reuse_freed_blocks`` makes (no real allocator is touched)."""

    def __init__(self, accepts: bool = True):
        self.calls: list[tuple] = []
        self.accepts = accepts

    def mallopt(self, param, value):
        self.calls.append(("mallopt", param, value))
        return 1 if self.accepts else 0

    def malloc_trim(self, pad):
        self.calls.append(("malloc_trim", pad))
        return 1


def test_thresholds_set_once_and_set_back_even_after_an_error(monkeypatch):
    import pytest

    import planner.memory as memory

    fake = _FakeGlibc()
    monkeypatch.setattr(memory, "_glibc", lambda: fake)
    for name in (*memory._USER_TUNING, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError):
        with reuse_freed_blocks():
            with reuse_freed_blocks():  # nested: one setting
                raise RuntimeError("a failed build")
    mmap, trim = memory._M_MMAP_THRESHOLD, memory._M_TRIM_THRESHOLD
    assert fake.calls == [("mallopt", mmap, 64 << 20), ("mallopt", trim, 64 << 20),
                          ("mallopt", mmap, 32 << 20), ("mallopt", trim, 64 << 20), ("malloc_trim", 0)]


@pytest.mark.parametrize("case", ["not glibc", "user tuned", "tunables", "threshold refused"])
def test_allocator_left_alone(case, monkeypatch):
    """Elsewhere than glibc, where the user tuned glibc's allocator, or where glibc refuses the threshold:
    no threshold set, nothing trimmed."""
    import planner.memory as memory

    fake = _FakeGlibc(accepts=case != "threshold refused")
    monkeypatch.setattr(memory, "_glibc", lambda: None if case == "not glibc" else fake)
    for name in (*memory._USER_TUNING, "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    if case == "user tuned":
        monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "131072")
    if case == "tunables":
        monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=1000000")
    with reuse_freed_blocks():
        pass
    expected = [("mallopt", memory._M_MMAP_THRESHOLD, 64 << 20)] if case == "threshold refused" else []
    assert fake.calls == expected  # a refused threshold: asked once, nothing else set, nothing to undo

"""Positions of string ids in an index, without turning 0.8 M Arrow strings into Python objects.

pandas' ``Index.get_indexer`` on an Arrow-backed string column converts the whole column to a
NumPy object array first (0.3 s for the 0.8 M pairs of the size-4 benchmark, and the model and the
results ask it about ten times). :func:`positions` asks pyarrow's ``index_in`` (hashing in C++)
instead and falls back to ``get_indexer`` for anything else. Same answer: the position of each
value in *index*, -1 where it is absent (*index* must be unique, as ``get_indexer`` requires).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _arrow(values):
    import pyarrow as pa

    arr = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if isinstance(arr, pd.arrays.ArrowStringArray):
        out = pa.array(arr)
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out
    return None


def positions(index: pd.Index, values) -> np.ndarray:
    """``index.get_indexer(values)``, fast for Arrow-backed strings."""
    cat = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if isinstance(cat, pd.Categorical) and index.is_unique:
        lookup = np.append(index.get_indexer(cat.categories), -1)  # code -1 (missing) -> -1
        return lookup[cat.codes]
    target = _arrow(values)
    if target is not None and index.is_unique:
        import pyarrow as pa
        import pyarrow.compute as pc

        keys = _arrow(index)
        if keys is None and index.dtype == object and all(isinstance(v, str) for v in index):
            keys = pa.array(index.to_numpy(), type=target.type)
        if keys is not None:
            if keys.type != target.type:
                keys = keys.cast(target.type)
            found = pc.fill_null(pc.index_in(target, value_set=keys), -1)
            return found.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return index.get_indexer(values)


def present(values) -> pd.Index:
    """The distinct values of *values* (a set: in no particular order), from a Categorical's codes without
    hashing its 0.8 M entries (the pairs' ids: ``planner.eligibility.id_codes``)."""
    cat = values.array if isinstance(values, (pd.Series, pd.Index)) else values
    if isinstance(cat, pd.Categorical):
        codes = np.asarray(cat.codes)
        seen = np.bincount(codes[codes >= 0], minlength=len(cat.categories)) > 0
        return cat.categories[seen]
    return pd.Index(pd.unique(values))


def sorted_by(frame: pd.DataFrame, columns: list[str], strict: bool = False) -> bool | None:
    """Whether the rows of *frame* are in ascending order of *columns* (the first the primary key; ties
    allowed, or with *strict* not: no two rows equal on all *columns*), comparing neighbouring rows column by column (Arrow strings in C++; numbers, and the codes of
    Categoricals with sorted categories, in NumPy). None when a column is none of these (object strings,
    missing values, unsorted categories): ask a full sort instead."""
    import pyarrow.compute as pc

    undecided = np.ones(max(len(frame) - 1, 0), dtype=bool)  # row i and i + 1 equal on the keys so far
    for col in columns:
        cat = frame[col].array
        arr = None if isinstance(cat, pd.Categorical) else _arrow(frame[col])
        if isinstance(cat, pd.Categorical) and cat.categories.is_monotonic_increasing and not (cat.codes < 0).any():
            values = cat.codes  # sorted categories: the codes are in the ids' order
        elif arr is not None and not arr.null_count:
            prev, nxt = arr.slice(0, len(arr) - 1), arr.slice(1)
            before = pc.less(prev, nxt).to_numpy(zero_copy_only=False)
            after = pc.greater(prev, nxt).to_numpy(zero_copy_only=False)
            values = None
        elif frame[col].dtype.kind in "iub" or (frame[col].dtype.kind == "f" and not frame[col].isna().any()):
            values = frame[col].to_numpy()
        else:
            return None
        if values is not None:
            before, after = values[:-1] < values[1:], values[:-1] > values[1:]
        if (after & undecided).any():
            return False
        undecided &= ~before
    return not (strict and undecided.any())

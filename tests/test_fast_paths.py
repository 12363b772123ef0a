"""The shortcuts taken for the overhead at national site scale give what the plain routes give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.eligibility import _canonical_order, id_codes
from planner.fastindex import positions, present, sorted_by
from planner.inputs import _pairs_frame
from planner.model.assemble import canonical_pair_order
from planner.result import _online_by_year
from planner.scenario import apply_overrides


def _pairs(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "cluster_id": pd.array(rng.choice(["k1", "k2", "k10", "é"], n), dtype="str"),
        "region_id": pd.array(rng.choice(["US-VA", "US-TX", "CN-GD"], n), dtype="str"),
        "site_id": pd.array(rng.choice(["", "s1", "s2"], n), dtype="str"),
        "online_year": rng.integers(2026, 2029, n),
    })


def _lexsorted(pairs: pd.DataFrame) -> np.ndarray:
    keys = [pd.factorize(pairs[c], sort=True)[0] for c in ("online_year", "site_id", "region_id", "cluster_id")]
    return np.lexsort(keys)


@pytest.mark.parametrize("seed", range(20))
def test_sorted_check_and_canonical_order(seed):
    rng = np.random.default_rng(seed)
    pairs = _pairs(rng, int(rng.integers(0, 40)))
    names = ["cluster_id", "region_id", "site_id", "online_year"]
    truth = _lexsorted(pairs) if len(pairs) else np.zeros(0, dtype=np.int64)
    assert sorted_by(pairs, names) == bool((truth == np.arange(len(pairs))).all())
    assert np.array_equal(canonical_pair_order(pairs), truth)
    ordered = pairs.iloc[truth].reset_index(drop=True)
    assert sorted_by(ordered, names)
    assert sorted_by(ordered, names, strict=True) == (not ordered.duplicated(names).any())  # no two rows alike
    assert np.array_equal(canonical_pair_order(ordered), np.arange(len(pairs)))
    assert sorted_by(pairs.astype({"cluster_id": object}), names) is None  # object strings: the full sort decides


@pytest.mark.parametrize("seed", range(20))
def test_coded_ids_answer_as_the_strings_do(seed):
    """The pairs' ids as codes (``id_codes``): the same values, positions, sorted check and canonical
    order as the same ids as strings (ids with "" and non-ASCII letters, in random order)."""
    rng = np.random.default_rng(seed)
    text = _pairs(rng, int(rng.integers(0, 40)))
    coded = text.copy()
    for c in ("cluster_id", "region_id", "site_id"):
        values = pd.unique(pd.concat([text[c], pd.Series(["zz", ""], dtype="str")]).to_numpy(dtype=object))
        ids = pd.Series(rng.permutation(values), dtype="str")  # the small table the ids come from, in any order
        coded[c] = id_codes(ids, pd.Index(ids).get_indexer(text[c]))
        assert coded[c].astype(str).tolist() == text[c].tolist()
        index = pd.Index(rng.permutation(values)[: len(values) - 1], dtype="str")  # one id missing: -1
        assert np.array_equal(positions(index, coded[c]), index.get_indexer(text[c].to_numpy(dtype=object)))
    names = ["cluster_id", "region_id", "site_id", "online_year"]
    assert sorted_by(coded, names) == sorted_by(text, names)
    assert np.array_equal(canonical_pair_order(coded), canonical_pair_order(text))
    ordered = coded.iloc[canonical_pair_order(coded)].reset_index(drop=True)
    assert sorted_by(ordered, names)


def test_canonical_order_of_combinations_with_repeated_ids():
    """Repeated cluster ids (time to power) and repeated location ids: ties by cluster, then location position."""
    rng = np.random.default_rng(1)
    clusters = pd.DataFrame({"cluster_id": ["b", "a", "b", "c", "a"]})
    regions = pd.DataFrame({"region_id": ["r2", "r1", "r2", "r1"], "site_id": ["", "", "", "x"]})
    ki = rng.integers(0, len(clusters), 200)
    ri = rng.integers(0, len(regions), 200)
    rank_k = pd.factorize(clusters["cluster_id"], sort=True)[0]
    rank_r = pd.factorize(regions["region_id"], sort=True)[0]
    rank_s = pd.factorize(regions["site_id"], sort=True)[0]
    code = np.sort(ki * len(regions) + ri, kind="stable")  # the old route: codes in order, then a stable lexsort
    k0, r0 = np.divmod(code, len(regions))
    old = np.lexsort((rank_s[r0], rank_r[r0], rank_k[k0]))
    order = _canonical_order(clusters, regions, ki, ri)
    assert np.array_equal(ki[order], k0[old]) and np.array_equal(ri[order], r0[old])


@pytest.mark.parametrize("seed", range(10))
def test_present_ids_are_the_distinct_values(seed):
    """``present``: the distinct ids of a Categorical (unused categories and missing entries left out) and of
    plain strings, as ``pd.unique`` gives them (as a set)."""
    rng = np.random.default_rng(seed)
    ids = pd.Series(rng.choice(["US-VA", "US-TX", "CN-GD", "é", ""], int(rng.integers(0, 30))), dtype="str")
    categories = pd.Index(["", "CN-GD", "US-TX", "US-VA", "US-ZZ", "é"], dtype="str")  # US-ZZ never used
    codes = categories.get_indexer(ids)
    if len(codes):
        codes[rng.random(len(codes)) < 0.2] = -1  # missing
    coded = pd.Series(pd.Categorical.from_codes(codes, categories=categories))
    assert set(present(coded)) == set(pd.unique(coded.dropna()))
    assert set(present(ids)) == set(pd.unique(ids))


def test_pairs_frame_equals_dataframe():
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 5, 50)
    per = rng.random(5)
    columns = {
        "id": pd.array([f"k{i}" for i in idx], dtype="str"),
        "a": (per, idx),
        "b": rng.random(50),
        "year": rng.integers(2026, 2030, 50),
        "c": (per.astype(object), idx),
        "flag": rng.random(50) < 0.5,
        "zero": np.zeros(50),
    }
    plain = pd.DataFrame({k: (np.asarray(v[0], dtype=float)[v[1]] if isinstance(v, tuple) else v) for k, v in columns.items()})
    pd.testing.assert_frame_equal(_pairs_frame(columns, 50), plain, check_exact=True)


def test_online_by_year_equals_add_at():
    rng = np.random.default_rng(3)
    group, year = rng.integers(0, 7, 500), rng.integers(0, 5, 500)
    values = rng.random(500) * 1e3
    acc = np.zeros((7, 5))
    np.add.at(acc, (group, year), values)
    assert np.array_equal(_online_by_year(group, year, values, 7, 5), np.cumsum(acc, axis=1).ravel())


def test_overrides_leave_the_raw_mapping_alone():
    raw = {"a": {"b": 1, "c": [1, {"id": "x", "v": 2}]}, "d": None}
    out = apply_overrides(raw, ["a.b=5", "a.c.x.v=7", "a.c.0=9", "d.e=3", "f.g=1"])
    assert raw == {"a": {"b": 1, "c": [1, {"id": "x", "v": 2}]}, "d": None}
    assert out == {"a": {"b": 5, "c": [9, {"id": "x", "v": 7}]}, "d": {"e": 3}, "f": {"g": 1}}

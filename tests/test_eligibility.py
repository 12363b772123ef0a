"""The candidate search of ``planner/eligibility.py`` gives exactly the pairs of the cross-product rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import planner
import planner.inputs as inputs_mod
from planner.inputs import build_inputs

SCENARIOS = sorted((Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml"))


def _cross_product_rules(clusters, regions, moratoria, params, first_year, *rule_functions):
    return inputs_mod._rule_masks(clusters, regions, moratoria, params, first_year, np.arange(len(clusters)))


def _canonical(pairs: pd.DataFrame) -> pd.DataFrame:
    """The cross-product route's pairs in the model's canonical order (the candidate route's order)."""
    return pairs.sort_values(["cluster_id", "region_id", "site_id"], kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_pairs_equal_cross_product(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = planner.load_scenario(path)
    fast = build_inputs(scenario)
    monkeypatch.setattr(inputs_mod, "candidate_rules", _cross_product_rules)
    slow = build_inputs(scenario)
    assert len(fast.pairs) > 0
    pd.testing.assert_frame_equal(fast.pairs, _canonical(slow.pairs), check_exact=True)
    pd.testing.assert_frame_equal(fast.exclusions, slow.exclusions, check_exact=True)


def test_synthetic_sites_equal_cross_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from instances import SIZES, write_instance

    scenario = planner.load_scenario(write_instance(SIZES[2], tmp_path))
    fast = build_inputs(scenario)
    monkeypatch.setattr(inputs_mod, "candidate_rules", _cross_product_rules)
    slow = build_inputs(scenario)
    assert fast.pairs["distance_km"].notna().any()
    pd.testing.assert_frame_equal(fast.pairs, _canonical(slow.pairs), check_exact=True)


def test_rules_on_many_batches_in_two_threads_equal_cross_product(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reach search's candidates in many small batches, their rules evaluated by two threads (as at
    national scale, where each batch holds 2^18 candidates): the same pairs, in the same order."""
    import sys

    import planner.eligibility as elig

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from instances import SIZES, write_instance

    scenario = planner.load_scenario(write_instance(SIZES[2], tmp_path))
    monkeypatch.setattr(elig, "SMALL_PRODUCT", 0)  # the reach search, not every combination
    monkeypatch.setattr(elig, "_BAND_BATCH", 997)
    threads = []
    real_pool = elig.ThreadPoolExecutor

    def counting_pool(*args, **kwargs):
        threads.append(args[0] if args else kwargs.get("max_workers"))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(elig, "ThreadPoolExecutor", counting_pool)
    fast = build_inputs(scenario)
    assert threads == [2]
    monkeypatch.setattr(inputs_mod, "candidate_rules", _cross_product_rules)
    slow = build_inputs(scenario)
    assert len(fast.pairs) > 1000
    pd.testing.assert_frame_equal(fast.pairs, _canonical(slow.pairs), check_exact=True)


def test_tree_route_equals_product_route(monkeypatch: pytest.MonkeyPatch) -> None:
    import planner.eligibility as elig

    scenario = planner.load_scenario(SCENARIOS[0].with_name("open_borders.yaml"))
    small = build_inputs(scenario)
    monkeypatch.setattr(elig, "SMALL_PRODUCT", 0)  # force the reach search on the bundled regions
    tree = build_inputs(scenario)
    pd.testing.assert_frame_equal(small.pairs, tree.pairs, check_exact=True)


def test_zone_shapes_equal_the_geometry_table() -> None:
    import shapely

    from planner.data.geometry import load_geometries
    from planner.data.sites import _zone_shapes

    shapes = _zone_shapes()
    table = load_geometries().set_index("region_id")
    assert sorted(shapes) == sorted(table.index)
    assert all(shapely.equals_exact(table.loc[r, "geometry"], g, 0.0) for r, g in shapes.items())


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), nk=st.integers(1, 25), nr=st.integers(1, 150),
       edge=st.sampled_from(["none", "antimeridian", "poles"]))
def test_reach_search_holds_every_location_in_reach_once(seed: int, nk: int, nr: int, edge: str) -> None:
    """The latitude-bin search against all hub x location combinations, worldwide: every location within a
    hub's round trip is a candidate of that hub, and no combination comes twice (hubs and locations on the
    antimeridian, at +-180 degrees, and near the poles included)."""
    import planner.eligibility as elig
    from planner.inputs import _haversine_km, round_trip_ms

    rng = np.random.default_rng(seed)
    params = {"fibre_km_per_ms": 200.0, "route_factor": 1.5}
    lon_k, lat_k = rng.uniform(-180, 180, nk), rng.uniform(-89.9, 89.9, nk)
    lon_r, lat_r = rng.uniform(-180, 180, nr), rng.uniform(-90, 90, nr)
    if edge == "antimeridian":
        lon_k[::2] = rng.choice([-180.0, -179.99, 179.99, 180.0], len(lon_k[::2]))
        lon_r[::2] = rng.choice([-180.0, -179.999, 179.999, 180.0], len(lon_r[::2]))
    elif edge == "poles":
        lat_k[::2] = rng.choice([-89.9, 89.9], len(lat_k[::2]))
        lat_r[::2] = rng.choice([-90.0, -89.5, 89.5, 90.0], len(lat_r[::2]))
    max_rtt = rng.choice([0.5, 5.0, 20.0, 60.0, 400.0], nk) * rng.uniform(0.5, 2.0, nk)
    lon_k, lat_k, lon_r, lat_r = (np.radians(a) for a in (lon_k, lat_k, lon_r, lat_r))

    found = list(elig._within_reach(np.arange(nk), lon_k, lat_k, max_rtt, lon_r, lat_r, params, nr))
    codes = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    assert len(np.unique(codes)) == len(codes)
    k, r = np.divmod(np.arange(nk * nr), nr)
    dist = _haversine_km(lon_k[k], lat_k[k], np.cos(lat_k[k]), lon_r[r], lat_r[r], np.cos(lat_r[r]))
    in_reach = np.flatnonzero(round_trip_ms(dist, params) <= max_rtt[k])
    assert np.isin(in_reach, codes).all()

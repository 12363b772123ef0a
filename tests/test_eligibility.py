"""The candidate search of ``planner/eligibility.py`` gives exactly the pairs of the cross-product rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
    monkeypatch.setattr(inputs_mod, "arrow_strings", lambda df, arrays: arrays)
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
    monkeypatch.setattr(inputs_mod, "arrow_strings", lambda df, arrays: arrays)
    slow = build_inputs(scenario)
    assert fast.pairs["distance_km"].notna().any()
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

"""Eligible (cluster, location) pairs without the full cluster x location cross product.

``planner.inputs._rule_masks`` evaluates every rule on all K x L combinations
(7 M at the size-4 benchmark: 3,500 sites x 2,000 clusters), although only a
few percent of them survive the latency rule. :func:`candidate_rules` returns
the same information for the *eligible* combinations only, in the same order
(cluster position, then location position), with bit-identical distances and
round-trip times:

1. **Candidates.** A cluster with a user hub can only reach locations within
   ``d_max = max_rtt x fibre_km_per_ms / (2 x route_factor)`` km. Every location
   inside the latitude-longitude box of that spherical cap (widened by a margin:
   it only adds candidates, never loses one) is a candidate; the locations are
   sorted by latitude once, so each hub's band is a slice. (No k-d tree: importing
   ``scipy.spatial`` alone took longer than the search.)
   Clusters without a hub take every location (they are restricted by
   ``allowed_regions`` or not at all).
2. **Exact rules** on the candidates, with the same functions and the same
   arithmetic as ``_rule_masks``: country, allowed regions, site lead time,
   haversine distance and round trip (``rtt <= max_rtt``), then moratoria
   (``_moratorium_blocks``, evaluated per combination).

The result has ``eligible`` all true; ``eligible_pairs`` uses only the
eligible combinations, so it gives the same pairs, with the same values
(``tests/test_eligibility.py`` compares the pairs table with the cross-product
route, exactly), in the model's canonical order (cluster_id, region_id, site_id)
rather than in the order of the input tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

#: Extra reach of the candidate search: relative and absolute (km). Only widens the candidate set.
_REACH_MARGIN_REL = 1e-6
_REACH_MARGIN_KM = 1.0
#: Extra angle (radians) of the longitude test: only widens the candidate set.
_ANGLE_MARGIN_RAD = 1e-9
#: Earth radius of the candidate search: below any mean radius used for distances, so the search angle is wider.
_SEARCH_RADIUS_KM = 6350.0
#: Up to this many hub-cluster x location combinations, all of them are candidates (no search).
SMALL_PRODUCT = 200_000
#: Threads for the build's NumPy work on large arrays (the rules on the candidates' batches here, the row
#: families in ``planner.model.assemble``): two, or one on a single core. NumPy releases the GIL.
BUILD_THREADS = max(1, min(2, os.cpu_count() or 1))
#: Latitude-band entries searched at a time: bounded temporaries (3.6 M entries at size 4 as one batch
#: were ten 29 MB arrays, most of their cost the fresh memory), the same codes in the same order.
_BAND_BATCH = 1 << 18


def _within_reach(hub_k: np.ndarray, lon_k: np.ndarray, lat_k: np.ndarray, max_rtt: np.ndarray, lon_r: np.ndarray,
                  lat_r: np.ndarray, params: dict[str, float], nr: int) -> Iterator[np.ndarray]:
    """Codes ``k * nr + r`` of every location r inside the bounding box of hub k's reach (radians in, a superset
    out, each code once), in batches.

    The box of a spherical cap of angle a around (lon_k, lat_k): |lat - lat_k| <= a, and
    |lon - lon_k| <= asin(sin a / cos lat_k) (the whole circle of longitude when the cap holds a pole).
    The locations are grouped in latitude bins of a quarter of the median reach angle and sorted by
    longitude inside each bin (one sort of the key ``bin * 8 + lon + pi``). A hub's box is then one slice
    per bin it overlaps, two where its longitudes cross the antimeridian: the slices hold the box and at most
    a bin's height more, where a latitude band over all longitudes held about four times the box at size 4.
    The hubs' slices are taken in batches of about ``_BAND_BATCH`` entries.
    """
    reach_km = max_rtt * params["fibre_km_per_ms"] / (2.0 * params["route_factor"])
    reach_km = reach_km * (1.0 + _REACH_MARGIN_REL) + _REACH_MARGIN_KM
    angle = np.minimum(reach_km / _SEARCH_RADIUS_KM, np.pi)
    sin_a, cos_lat = np.sin(np.minimum(angle, np.pi / 2)), np.cos(lat_k)
    pole = (angle >= np.pi / 2) | (sin_a >= cos_lat)
    half_width = np.where(pole, np.pi, np.arcsin(np.clip(sin_a / np.where(pole, 1.0, cos_lat), 0.0, 1.0)))
    half_width = half_width + _ANGLE_MARGIN_RAD
    whole = half_width >= np.pi  # every longitude

    # locations by (latitude bin, longitude): key = bin * 8 + (lon + pi), lon + pi in [0, 2 pi] < 8
    height = max(float(np.median(angle)) / 4.0, 1e-4)
    lat0 = float(lat_r.min())
    bin_r = np.floor((lat_r - lat0) / height)
    key = bin_r * 8.0 + (lon_r + np.pi)
    by_key = np.argsort(key, kind="stable")
    key = key[by_key]
    top = float(bin_r.max())

    # each hub's bins, and its longitude interval(s) in [0, 2 pi]: one, or two across the antimeridian
    b_lo = np.clip(np.floor((lat_k - angle - lat0) / height), 0.0, top)
    b_hi = np.clip(np.floor((lat_k + angle - lat0) / height), -1.0, top)
    n_bins = np.maximum(b_hi - b_lo + 1, 0).astype(np.int64)
    lo, hi = lon_k + np.pi - half_width, lon_k + np.pi + half_width
    lo1, hi1 = np.where(whole, 0.0, np.maximum(lo, 0.0)), np.where(whole, 2 * np.pi, np.minimum(hi, 2 * np.pi))
    wrap_lo, wrap_hi = ~whole & (lo < 0), ~whole & (hi > 2 * np.pi)
    lo2 = np.where(wrap_lo, lo + 2 * np.pi, 0.0)
    hi2 = np.where(wrap_lo, 2 * np.pi, np.where(wrap_hi, hi - 2 * np.pi, -1.0))  # -1: no second interval

    # one slice per (hub, bin, interval)
    n_sl = n_bins * 2
    h = np.repeat(np.arange(len(hub_k)), n_sl)
    j = np.arange(len(h)) - np.repeat(np.cumsum(n_sl) - n_sl, n_sl)
    b = b_lo[h] + (j >> 1)
    second = (j & 1).astype(bool)
    l = np.where(second, lo2[h], lo1[h])
    u = np.where(second, hi2[h], hi1[h])
    start = np.searchsorted(key, b * 8.0 + l, side="left")
    stop = np.searchsorted(key, b * 8.0 + u, side="right")
    counts = np.where(u >= l, np.maximum(stop - start, 0), 0)
    keep = counts > 0
    h, start, counts = h[keep], start[keep], counts[keep]
    hub_codes = hub_k.astype(np.int64) * nr
    ends = np.cumsum(counts)
    if not len(ends):
        return
    cuts = np.unique(np.searchsorted(ends, np.arange(_BAND_BATCH, max(int(ends[-1]), 1), _BAND_BATCH), side="right"))
    for a, z in zip(np.concatenate([[0], cuts]), np.concatenate([cuts, [len(h)]])):
        c = counts[a:z]
        pos = np.arange(int(c.sum())) - np.repeat(ends[a:z] - c - (ends[a - 1] if a else 0), c) + np.repeat(start[a:z], c)
        yield np.repeat(hub_codes[h[a:z]], c) + by_key[pos]


def _batches(codes: np.ndarray) -> Iterator[np.ndarray]:
    """*codes* in slices of ``_BAND_BATCH``."""
    for start in range(0, len(codes), _BAND_BATCH):
        yield codes[start:start + _BAND_BATCH]


def candidate_rules(clusters: pd.DataFrame, regions: pd.DataFrame, moratoria: pd.DataFrame, params: dict[str, float],
                    first_year: int, haversine_km: Callable, round_trip_ms: Callable, moratorium_blocks: Callable
                    ) -> dict[str, np.ndarray]:
    """The eligible combinations of all clusters x all *regions* (locations), as ``_rule_masks`` would give them.

    *haversine_km*, *round_trip_ms* and *moratorium_blocks* are ``planner.inputs``' own rule functions
    (passed in, so that this module does not import ``planner.inputs``, which imports it).
    Returns the keys ``ki``, ``ri``, ``eligible`` (all true), ``blocked``, ``dist`` and ``rtt``,
    one entry per eligible combination, sorted by (cluster position, location position).
    """
    _haversine_km, _moratorium_blocks = haversine_km, moratorium_blocks
    nk, nr = len(clusters), len(regions)
    max_rtt_k = clusters["max_rtt_ms"].to_numpy(dtype=float)
    has_hub_k = ~np.isnan(max_rtt_k)
    lon_k, lat_k = (np.radians(clusters[c].to_numpy(dtype=float)) for c in ("hub_lon", "hub_lat"))
    lon_r, lat_r = (np.radians(regions[c].to_numpy(dtype=float)) for c in ("lon", "lat"))

    # allowed_regions: which locations each restricted cluster may use (one bool row per such cluster)
    listed_all = clusters["allowed_regions"].to_numpy()
    listed_k = np.flatnonzero(np.array([bool(v) for v in listed_all], dtype=bool))
    allowed_kr = np.zeros((len(listed_k), nr), dtype=bool)  # row j: cluster listed_k[j]
    if len(listed_k):
        loc_region, region_ids = pd.factorize(regions["region_id"])  # integer region of each location
        region_pos = {rid: i for i, rid in enumerate(region_ids)}
        for j, k in enumerate(listed_k):
            listed = np.zeros(len(region_ids) + 1, dtype=bool)  # the last: a location without a region (code -1)
            listed[[region_pos[rid] for rid in listed_all[k].split(";") if rid in region_pos]] = True
            allowed_kr[j] = listed[loc_region]
    row_of_k = np.full(nk, -1)
    row_of_k[listed_k] = np.arange(len(listed_k))

    # 1. candidates: (cluster, location) codes k * nr + r, in batches; each part is of clusters with a hub
    # (True) or without one (False)
    parts: list[tuple[bool, Iterator[np.ndarray]]] = []
    hub_k = np.flatnonzero(has_hub_k)
    if len(hub_k) and nr and len(hub_k) * nr <= SMALL_PRODUCT:  # small study: every combination is a candidate
        parts.append((True, iter([(hub_k.astype(np.int64)[:, None] * nr + np.arange(nr, dtype=np.int64)[None, :]).ravel()])))
    elif len(hub_k) and nr:
        parts.append((True, _within_reach(hub_k, lon_k[hub_k], lat_k[hub_k], max_rtt_k[hub_k], lon_r, lat_r, params, nr)))
    free_k = np.flatnonzero(~has_hub_k & (row_of_k < 0))
    if len(free_k) and nr:
        parts.append((False, _batches((free_k.astype(np.int64)[:, None] * nr + np.arange(nr, dtype=np.int64)[None, :]).ravel())))
    listed_free = np.flatnonzero(~has_hub_k[listed_k])  # no hub, a list of regions: the listed regions' locations
    if len(listed_free) and nr:
        row, loc = np.nonzero(allowed_kr[listed_free])
        parts.append((False, iter([listed_k[listed_free[row]].astype(np.int64) * nr + loc])))

    # 2. the rules of _rule_masks, on each batch of candidates (bounded temporaries; only the survivors are kept)
    codes = ("US", "CN")
    loc_code = pd.Index(codes).get_indexer(regions["country"])
    # per distinct list of countries (a few), then one row per cluster
    listed_codes, lists = pd.factorize(clusters["allowed_countries"], use_na_sentinel=False)
    allows = np.array([[c in str(a).split(";") for c in codes] for a in lists], dtype=bool).reshape(-1, 2)[listed_codes]
    online_k = clusters["online_year"].to_numpy(dtype=int)
    lead_r = first_year + regions["site_lead_time_years"].to_numpy(dtype=float)
    cos_lat_k, cos_lat_r = np.cos(lat_k), np.cos(lat_r)
    # rules that hold for every combination are not evaluated per combination (the same survivors)
    every_country = bool(allows[:, np.unique(loc_code)].all()) if nr else True
    every_lead = not nr or not nk or float(online_k.min()) >= float(lead_r.max())

    def survivors(with_hub: bool, code: np.ndarray) -> tuple[np.ndarray, ...]:
        """The candidates *code* that pass the rules, with their online years, distances and round trips."""
        ki, ri = np.divmod(code, nr)
        ok = np.ones(len(ki), dtype=bool) if every_country else allows[ki, loc_code[ri]]
        if len(listed_k):
            row = row_of_k[ki]
            ok &= (row < 0) | allowed_kr[np.maximum(row, 0), ri]
        online = online_k[ki]
        if not every_lead:
            ok &= online >= lead_r[ri]
        if with_hub:  # the distance and round trip of every candidate; the latency rule with the others
            dist = _haversine_km(lon_k[ki], lat_k[ki], cos_lat_k[ki], lon_r[ri], lat_r[ri], cos_lat_r[ri])
            rtt = round_trip_ms(dist, params)
            ok &= rtt <= max_rtt_k[ki]
        else:
            dist = rtt = np.full(len(ki), np.nan)
        return tuple(values[ok] for values in (ki, ri, online, dist, rtt))

    # NumPy releases the GIL on these arrays: with more than one batch, two threads take them in turn (size 4,
    # one process: 164-173 ms against 219-241 ms, docs/performance.md). Each batch's survivors are the same.
    batches = [(with_hub, code) for with_hub, part in parts for code in part]
    if len(batches) > 1:
        with ThreadPoolExecutor(BUILD_THREADS, thread_name_prefix="planner-eligibility") as pool:
            found = list(pool.map(lambda batch: survivors(*batch), batches))
    else:
        found = [survivors(*batch) for batch in batches]
    ki, ri, online, dist, rtt = (np.concatenate([f[i] for f in found]) if found else np.zeros(0, dtype=t)
                                 for i, t in enumerate((np.int64, np.int64, np.int64, float, float)))
    # the model's canonical order (cluster_id, region_id, site_id), ranked on the small tables, ties by
    # (cluster position, location position): the model then finds its pairs already in order and need not
    # reorder 0.8 M rows of strings (0.4-0.9 s)
    order = _canonical_order(clusters, regions, ki, ri)
    ki, ri, online, dist, rtt = ki[order], ri[order], online[order], dist[order], rtt[order]
    eligible = np.ones(len(ki), dtype=bool)
    blocked = _moratorium_blocks(clusters, regions, moratoria, params, ki, ri, online, eligible)
    return {"ki": ki, "ri": ri, "eligible": eligible, "blocked": blocked, "dist": dist, "rtt": rtt}


def _canonical_order(clusters: pd.DataFrame, regions: pd.DataFrame, ki: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Positions sorting the combinations (ki, ri) by cluster_id, region_id, site_id, then ki, ri: one sort of
    one integer key (a cluster id repeats with time to power; location ranks are dense ranks of the two ids)."""
    nk, nr = len(clusters), len(regions)
    rank_k = pd.factorize(clusters["cluster_id"], sort=True)[0]
    rank_r = pd.factorize(regions["region_id"], sort=True)[0]
    rank_s = pd.factorize(regions["site_id"], sort=True)[0] if "site_id" in regions.columns else np.zeros(nr, dtype=np.int64)
    n_loc, rank_loc = 0, np.zeros(nr, dtype=np.int64)
    if nr:
        pair = (rank_r.astype(np.int64) + 1) * (int(rank_s.max()) + 2) + (rank_s + 1)  # -1: a missing id, first
        uniq, rank_loc = np.unique(pair, return_inverse=True)
        n_loc = len(uniq)
    if max(nk, 1) * max(n_loc, 1) * max(nk, 1) * max(nr, 1) >= 2**62:  # the key would overflow: four sort keys
        return np.lexsort((ri, ki, rank_loc[ri], rank_k[ki]))
    key = (rank_k[ki].astype(np.int64) * n_loc + rank_loc[ri]) * (nk * nr) + (ki.astype(np.int64) * nr + ri)
    return np.argsort(key)


def id_codes(ids: pd.Series, at: np.ndarray) -> pd.Categorical:
    """``ids[at]`` as a Categorical whose categories are the distinct *ids*, sorted.

    The pairs table holds its ids (cluster, zone, site, country, grid region, blocking measure) this
    way: each pair's id is an integer code into the few thousand ids of the small table it came from,
    known here without hashing a string. The table reads and prints as before (``==``, ``isin``,
    ``to_numpy`` and ``astype(str)`` give the strings), while gathering 0.8 M ids is an integer
    ``take``, :func:`planner.fastindex.positions` maps the categories once and gathers by code, and
    the categories' sorted order is the ids' order, so sorting and the canonical-order check compare
    codes. At size 4 this took 0.45 s off the time outside HiGHS (docs/performance.md).
    """
    codes, uniques = pd.factorize(ids, sort=True)
    n = len(uniques)  # the codes' type pandas would choose, taken before the gather (no copy after it)
    small = np.int8 if n < 127 else np.int16 if n < 32767 else np.int32 if n < 2**31 - 1 else np.int64
    # the codes are factorize's, at positions of *ids*: valid, so not checked again over 0.8 M entries
    return pd.Categorical.from_codes(codes.astype(small)[at], categories=pd.Index(uniques, dtype=ids.dtype), validate=False)

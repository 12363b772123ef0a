"""Colour classes of a metric, shared by the two countries or one scale per country."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from planner.maps.tables import COUNTRIES, UNITS

#: Matplotlib colour map per metric (sequential; sampled once per class).
CMAPS: dict[str, str] = {
    "it_load": "YlOrRd",
    "grid_load": "YlOrRd",
    "utilisation": "RdPu",
    "shadow_price": "Reds",
    "new_capacity": "Blues",
    "cost": "Greens",
    "onsite": "Oranges",
    "time_to_power": "Purples",
}
ZERO_COLOUR = "#d9d9d9"  # class "0" (no load, no price ...): light grey, distinct from the white background
NODATA_COLOUR = "#bdbdbd"
MAX_CLASSES = 5
#: One colour scale per country when the countries' largest values differ by this factor or more
#: (about an order of magnitude: shadow prices of 198,225 against 19,929 USD/MW-yr differ 9.9-fold).
SPLIT_RATIO = 5.0


@dataclass(frozen=True)
class Legend:
    """One colour scale: the countries it covers, and its class labels and colours."""

    countries: tuple[str, ...]
    labels: list[str]
    colours: list[str]

    @property
    def title(self) -> str:
        """Country name(s) the scale belongs to; empty when it covers every country drawn."""
        return " and ".join(COUNTRIES.get(c, c) for c in self.countries)


def classify(values: Any, metric: str = "it_load") -> tuple[list[int], list[str], list[str]]:
    """Class of each value, with class labels and colours.

    Exact zeros (no load, no price, no new capacity) form their own grey class;
    the positive values are split by Fisher-Jenks natural breaks
    (:func:`fisher_jenks_bins`, deterministic) into at most ``MAX_CLASSES - 1`` classes (fewer when there are
    fewer distinct values: one class for constant data). NaN is "no data".

    Parameters
    ----------
    values
        The metric's values, one per region (and year).
    metric
        Picks the colour map and the units of the labels.

    Returns
    -------
    classes : list of int
        Index into *labels*/*colours* per value.
    labels : list of str
        Legend text per class.
    colours : list of str
        Hex colour per class.
    """
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    v = np.asarray(values, dtype=float)
    unit = UNITS.get(metric, "")
    classes = np.full(len(v), -1)
    labels: list[str] = []
    colours: list[str] = []
    finite = np.isfinite(v)
    zero = finite & (v == 0)
    if zero.any():
        classes[zero] = len(labels)
        labels.append(f"0 {unit}".strip())
        colours.append(ZERO_COLOUR)
    rest = finite & ~zero
    if rest.any():
        x = v[rest]
        distinct = np.unique(x)
        k = min(MAX_CLASSES - (1 if zero.any() else 0), len(distinct))
        bins = np.array([distinct.max()]) if k <= 1 else fisher_jenks_bins(x, k)
        yb = np.searchsorted(bins, x, side="left")
        yb = np.minimum(yb, len(bins) - 1)
        used = sorted(set(yb.tolist()))  # drop empty classes
        cmap = colormaps[CMAPS.get(metric, "viridis")]
        pos = np.linspace(0.3, 0.95, len(used)) if len(used) > 1 else np.array([0.7])
        lo = x.min()
        remap = {}
        for j, b in enumerate(used):
            hi = bins[b]
            remap[b] = len(labels)
            if fmt(lo) == fmt(hi) or len(used) == 1 and distinct.size == 1:
                labels.append(f"{fmt(hi)} {unit}".strip())
            else:
                labels.append(f"{fmt(lo)} - {fmt(hi)} {unit}".strip())
            colours.append(to_hex(cmap(pos[j])))
            above = x[x > hi]
            lo = above.min() if above.size else hi
        classes[rest] = [remap[b] for b in yb]
    if (~finite).any():
        classes[~finite] = len(labels)
        labels.append("no data")
        colours.append(NODATA_COLOUR)
    return classes.tolist(), labels, colours


def fisher_jenks_bins(values: Any, k: int) -> Any:
    """Fisher-Jenks natural breaks: the upper bound of each of *k* classes.

    The exact optimum (dynamic programming over the sorted distinct values, weighted
    by their counts, O(k n^2) with vectorised inner steps): the split into *k* classes of consecutive values with the
    least total within-class sum of squared deviations, as ``mapclassify.FisherJenks``
    (the tests compare the two). Here to keep maps fast to start: importing mapclassify
    pulls in scipy.stats and pyplot (about 1.5 s).

    Parameters
    ----------
    values
        The values to classify (at least *k* distinct).
    k
        Number of classes.

    Returns
    -------
    numpy.ndarray
        *k* increasing upper bounds; the last is the maximum.
    """
    import numpy as np

    # equal values always share a class: work on the distinct values, weighted by their counts
    x, counts = np.unique(np.asarray(values, dtype=float), return_counts=True)
    n = len(x)
    c0 = np.concatenate([[0.0], np.cumsum(counts)])
    c1 = np.concatenate([[0.0], np.cumsum(counts * x)])
    c2 = np.concatenate([[0.0], np.cumsum(counts * x * x)])
    cost = np.full((k + 1, n + 1), np.inf)
    back = np.zeros((k + 1, n + 1), dtype=int)
    cost[0, 0] = 0.0
    for c in range(1, k + 1):
        for j in range(c, n + 1):
            i = np.arange(c - 1, j)  # first index of the last class, x[i:j]
            s = c1[j] - c1[i]
            v = cost[c - 1, i] + (c2[j] - c2[i]) - s * s / (c0[j] - c0[i])
            b = int(np.argmin(v))
            cost[c, j] = v[b]
            back[c, j] = i[b]
    bins = []
    j = n
    for c in range(k, 0, -1):
        bins.append(x[j - 1])
        j = back[c, j]
    return np.array(bins[::-1])


def needs_split(values: Any, countries: Any) -> bool:
    """Whether the countries need their own colour scales.

    True when each of at least two countries has a positive value and their
    largest values differ by :data:`SPLIT_RATIO` (an order of magnitude) or more:
    one shared scale would then paint one country in a single pale class.
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    c = np.asarray(countries, dtype=object)
    tops = []
    for country in dict.fromkeys(c.tolist()):
        x = v[(c == country) & np.isfinite(v)]
        if x.size and x.max() > 0:
            tops.append(float(x.max()))
    return len(tops) >= 2 and max(tops) / min(tops) >= SPLIT_RATIO


def colour_regions(values: Any, countries: Any, metric: str,
                   split: bool | None = None) -> tuple[list[str], list[Legend]]:
    """A colour per value and the legend(s): one scale, or one per country.

    Parameters
    ----------
    values
        The metric's values (any number of regions and years).
    countries
        The country of each value (``US``/``CN``).
    metric
        Picks the colour map and units.
    split
        One scale per country; default :func:`needs_split`.

    Returns
    -------
    colours : list of str
        Hex colour per value.
    legends : list of Legend
        One legend (``countries`` = every country present) or one per country, in
        the order of :data:`planner.maps.tables.COUNTRIES`.
    """
    import numpy as np

    v = np.asarray(values, dtype=float)
    c = np.asarray(countries, dtype=object)
    present = tuple(k for k in COUNTRIES if (c == k).any()) + tuple(
        k for k in dict.fromkeys(c.tolist()) if k not in COUNTRIES
    )
    if split is None:
        split = needs_split(v, c)
    groups = [(k,) for k in present] if split else [present]
    out = [""] * len(v)
    legends = []
    for group in groups:
        sel = np.flatnonzero(np.isin(c, group))
        classes, labels, colours = classify(v[sel], metric)
        for i, k in zip(sel, classes):
            out[i] = colours[k]
        legends.append(Legend(group, labels, colours))
    return out, legends


def fmt(x: float) -> str:
    """Compact number for legends and labels: 1,234 / 12.3 / 0.12 / 0.0123."""
    ax = abs(x)
    if ax >= 100:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    if ax >= 0.1:
        return f"{x:.2f}"
    return f"{x:.3g}"

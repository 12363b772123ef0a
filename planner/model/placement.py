"""Placement: every cluster is placed in full, or the rest is reported unserved.

For each cluster k, over its eligible regions r::

    sum_r x[k, r] + u[k] = 1          (row ``placement[k]``)
    0 <= x[k, r] <= 1,  0 <= u[k] <= 1

``u[k]`` carries a high stated penalty in the objective, so the solve always
returns and a shortfall is never hidden.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from planner.inputs import Inputs
from planner.model.core import Columns, RowBlock
from planner.fastindex import positions


def placement_rows(inputs: Inputs, cols: Columns) -> RowBlock:
    k_of_pair = positions(cols.clusters, cols.pairs["cluster_id"])
    nk = cols.n_u
    rows = np.concatenate([k_of_pair, np.arange(nk)])
    colidx = np.concatenate([np.arange(cols.n_x), cols.u.start + np.arange(nk)])
    A = sp.coo_matrix((np.ones(len(rows)), (rows, colidx)), shape=(nk, cols.n))
    ones = np.ones(nk)
    return RowBlock("placement", A, ones, ones.copy(), pd.DataFrame({"cluster": cols.clusters.to_numpy()}))

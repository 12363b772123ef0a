"""The formulation: one module per constraint family, assembled in ``assemble.py``.

========================  =========================================
module                    what it adds
========================  =========================================
``placement.py``          sum_r x[k,r] + u[k] = 1
``headroom.py``           grid draw <= headroom + new capacity, nested by curtailment, every year
``region_limit.py``       region-level limits
``moratoria.py``          x[k,r] = 0 inside a moratorium window (bounds)
``expansion.py``          which new[g,t] exist (lead time) and their bounds
``objective.py``          energy + carbon + capital + expansion + unserved, discounted
========================  =========================================

See ``docs/formulation.md`` for the full statement.
"""

from planner.model.assemble import build_model
from planner.model.core import Columns, Model, RowBlock

__all__ = ["build_model", "Columns", "Model", "RowBlock"]

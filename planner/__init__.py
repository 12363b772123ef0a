"""planner: data-center siting and power-grid capacity planning as a linear program.

>>> import planner
>>> scenario = planner.load_scenario("scenarios/us_china_2030.yaml")
>>> result = planner.solve(scenario)
>>> result.placements.head()        # where each cluster goes
>>> result.summary["objective_usd"]
"""

from planner.api import build, solve
from planner.errors import DataError, PlannerError, ResultsError, ScenarioError, SolverError
from planner.result import Result
from planner import outputs as _outputs  # noqa: F401  (registers Result.load/to_dir/plot/explore)
from planner.scenario import Scenario, load_scenario

__all__ = [
    "build",
    "solve",
    "load_scenario",
    "Scenario",
    "Result",
    "PlannerError",
    "ScenarioError",
    "DataError",
    "SolverError",
    "ResultsError",
]
__version__ = "0.1.0"

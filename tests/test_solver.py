"""The solve step: HiGHS's own log on request, on stderr only; work beside HiGHS while it runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SCENARIOS


def test_solver_log_goes_to_stderr_not_into_the_report(tmp_path):
    exe = str(Path(sys.executable).with_name("planner"))
    args = [exe, "solve", str(SCENARIOS / "us_china_2030.yaml"), "-o", str(tmp_path / "o"), "--no-maps"]
    quiet = subprocess.run(args, capture_output=True, text=True)
    loud = subprocess.run(args + ["--solver-log"], capture_output=True, text=True)
    assert quiet.returncode == loud.returncode == 0
    assert "Coefficient ranges" not in quiet.stderr and "Coefficient ranges" not in quiet.stdout
    assert "Coefficient ranges" in loud.stderr and "Coefficient ranges" not in loud.stdout  # HiGHS's banner
    assert loud.stdout.splitlines()[0] == quiet.stdout.splitlines()[0]  # the report is unchanged


def _reference_instance():
    import planner
    from planner.solver import highs_instance

    inputs, model = planner.build(planner.load_scenario(SCENARIOS / "grid_only.yaml"))
    return inputs, model, highs_instance(model)


def test_meanwhile_tasks_run_while_highs_runs_and_change_nothing():
    """Tasks run on this thread while HiGHS runs on its own, and the solve is the plain run's."""
    from planner.result import report_tasks
    from planner.solver import Meanwhile, run_highs

    inputs, model, h = _reference_instance()
    plain = run_highs(h, model, 60.0)
    inputs, model, h = _reference_instance()
    seen = []
    tasks = {"running": lambda: seen.append(h.is_solver_running()), **report_tasks(inputs, model)}
    meanwhile = Meanwhile(tasks)
    beside = run_highs(h, model, 60.0, meanwhile)
    assert seen == [True]  # the first task ran while HiGHS was solving
    assert beside.status == plain.status == "optimal"
    assert beside.objective_usd == plain.objective_usd
    assert (beside.values == plain.values).all() and (beside.row_duals_usd == plain.row_duals_usd).all()
    fresh = Meanwhile(report_tasks(inputs, model))  # each value as if computed after the solve
    for name in report_tasks(inputs, model):
        assert repr(meanwhile.get(name)) == repr(fresh.get(name)), name


def test_a_failed_task_raises_where_its_value_is_asked_for():
    from planner.solver import Meanwhile

    def fail():
        raise ValueError("no such table")

    meanwhile = Meanwhile({"bad": fail, "good": lambda: 1})
    meanwhile.step()  # as during a solve: the error is kept, the solve goes on
    assert meanwhile.get("good") == 1
    with pytest.raises(ValueError, match="no such table"):
        meanwhile.get("bad")


def test_ctrl_c_during_a_task_stops_highs_and_goes_on():
    from planner.solver import Meanwhile, run_highs

    inputs, model, h = _reference_instance()

    def interrupt():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_highs(h, model, 60.0, Meanwhile({"ctrl-c": interrupt}))
    assert not h.is_solver_running()  # cancelled and waited for, not left running
    again = run_highs(h, model, 60.0)  # the instance is usable after it
    assert again.status == "optimal"

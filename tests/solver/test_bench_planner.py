"""scripts/bench_planner.py: a smoke run, and its independent check catches a broken plan."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from dexrl.solver import CubePlanner, CubeState, PlannerSettings

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "bench_planner.py"


def test_smoke_run_prints_verified_counts_as_json() -> None:
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), str(REPO)) if p)
    args = ["--scrambles", "3", "--budget-s", "0.1", "--fair-budgets", "0.1", "--json"]
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    random_part = report["random"]
    assert random_part["scrambles"] == random_part["verified"] == 3
    assert random_part["after_cost"]["mean"] <= random_part["before_cost"]["mean"]
    (fair,) = report["fair"]
    assert fair["flips"] + fair["rotations"] == fair["subgoals"] <= 55


def test_independent_check_rejects_a_plan_that_does_not_solve() -> None:
    spec = importlib.util.spec_from_file_location("bench_planner", SCRIPT)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    state = CubeState.solved().apply("R U F' L2 D")
    plan = CubePlanner(PlannerSettings(budget_s=0)).plan(state)
    assert bench.check_plan(state, plan) == {"flips": plan.flips, "rotations": plan.rotations}
    with pytest.raises(AssertionError, match="does not solve"):
        bench.check_plan(state, replace(plan, subgoals=plan.subgoals[:-1]))
    with pytest.raises(AssertionError, match="is on top"):
        bench.check_plan(state, replace(plan, subgoals=plan.subgoals[1:]))

"""scripts/solve.py run as a real subprocess, the way a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dexrl.solver import CubeState, parse_moves

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "solve.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # Keep the caller's PYTHONPATH first and add the repo, so the script finds dexrl whether
    # or not it is pip-installed.
    path = os.pathsep.join(p for p in (os.environ.get("PYTHONPATH", ""), str(REPO)) if p)
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": path},
    )


def test_facelets_input_prints_a_json_plan_that_solves_the_cube() -> None:
    state = CubeState.solved().apply("L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2")
    result = _run(state.facelets)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) > 2  # human-readable lines first
    plan = json.loads(lines[-1])
    moves = parse_moves(" ".join(plan["moves"]))
    assert state.apply(moves).is_solved
    assert plan["facelets"] == state.facelets and plan["num_moves"] == len(moves)
    flips = sum(goal["type"] == "flip" for goal in plan["subgoals"])
    assert (plan["flips"], plan["rotations"]) == (flips, len(plan["subgoals"]) - flips)
    assert plan["num_subgoals"] == len(plan["subgoals"])


def test_scramble_input() -> None:
    result = _run("--scramble", "R U R' U'")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout.strip().splitlines()[-1])
    state = CubeState.solved().apply("R U R' U'")
    assert state.apply(" ".join(plan["moves"])).is_solved
    assert plan["rotations"] == 4 and plan["flips"] == 3  # U, (R up) R, (U up) U', (R up) R'


def test_a_clockwise_only_hand_gets_clockwise_turns_that_solve() -> None:
    fair = "L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2"
    either = json.loads(_run("--scramble", fair, "--budget-s", "0").stdout.splitlines()[-1])
    result = _run("--scramble", fair, "--budget-s", "0", "--turn-direction", "cw")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout.splitlines()[-1])
    assert plan["turn_direction"] == "cw" and plan["moves"] == either["moves"]
    turns = [g for g in plan["subgoals"] if g["type"] == "rotate"]
    assert {g["direction"] for g in turns} == {1} and " ccw" not in result.stdout
    counter = sum(m.endswith("'") for m in plan["moves"])  # each one two quarter turns more
    assert plan["rotations"] == len(turns) == either["rotations"] + 2 * counter
    assert CubeState.solved().apply(fair).apply(" ".join(plan["moves"])).is_solved
    bad = _run("--scramble", "R", "--turn-direction", "up")
    assert bad.returncode == 2 and "--turn-direction" in bad.stderr


def test_budget_zero_prints_kociembas_plan_and_a_budget_finds_a_cheaper_one() -> None:
    fair = "L2 U2 R2 B D2 B2 D2 L2 F' D' R B F L U' F D' L2"
    plain = json.loads(_run("--scramble", fair, "--budget-s", "0").stdout.splitlines()[-1])
    # kociemba 1.2.1's first answer, U on top (README Benchmarks): 34 rotations + 21 flips.
    assert (plain["rotations"], plain["flips"], plain["cost"]) == (34, 21, 76.0)
    assert plain["kociemba"]["num_subgoals"] == 55 and plain["source"] == "kociemba"
    assert plain["start"] == {"up": "U", "toward_y": "B"}
    result = _run("--scramble", fair, "--budget-s", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("search: ") for line in lines)
    plan = json.loads(lines[-1])
    assert CubeState.solved().apply(fair).apply(" ".join(plan["moves"])).is_solved
    assert plan["cost"] <= plain["cost"] and plan["budget_s"] == 2.0
    assert plan["cost"] == 2 * plan["flips"] + plan["rotations"]  # default costs 2 and 1
    assert plan["start"]["up"] == plan["moves"][0][0]  # the planner chose the first face


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["UUUUUUUUF" + "URRRRRRRR" + "FFRFFFFFF" + "D" * 9 + "L" * 9 + "B" * 9],
            "error: invalid cube: twisted corner (corner orientation sum is 1 mod 3)",
        ),
        (["U" * 54], "error: invalid cube: wrong colour counts"),
        (["--scramble", "R U X"], "error: move 3: bad move token 'X'"),
        (["--scramble", "R", "--budget-s", "-1"], "error: budget_s must be a finite number"),
        (["--scramble", "R", "--toward-y", "F"], "error: --toward-y needs --up"),
        ([], "error: one of the arguments facelets --scramble is required"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(args: list[str], expected: str) -> None:
    result = _run(*args)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(expected)
    assert result.stdout == ""

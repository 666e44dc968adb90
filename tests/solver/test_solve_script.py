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


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["UUUUUUUUF" + "URRRRRRRR" + "FFRFFFFFF" + "D" * 9 + "L" * 9 + "B" * 9],
            "error: invalid cube: twisted corner (corner orientation sum is 1 mod 3)",
        ),
        (["U" * 54], "error: invalid cube: wrong colour counts"),
        (["--scramble", "R U X"], "error: move 3: bad move token 'X'"),
        ([], "error: one of the arguments facelets --scramble is required"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(args: list[str], expected: str) -> None:
    result = _run(*args)
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(expected)
    assert result.stdout == ""

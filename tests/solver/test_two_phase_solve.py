"""Kociemba solving through dexrl.solver.solve: correct, checked, and with our errors."""

from __future__ import annotations

import random
import statistics
from concurrent.futures import ThreadPoolExecutor

import kociemba
import pytest

from dexrl.solver import (
    CubeState,
    InvalidCubeError,
    SolverError,
    cube_from_facelets,
    parse_moves,
    solve,
)
from dexrl.solver.cube import random_scramble

SOLVED = CubeState.solved()


@pytest.mark.timeout(120)
def test_one_thousand_random_scrambles_are_solved() -> None:
    # docs/references.md "Solver timings": 1000 random 25-move scrambles, median 8 ms (about
    # 12 s here, nearly all of it inside kociemba), lengths 15/21/22, 1000/1000 correct.
    rng = random.Random(2024)
    states = [SOLVED.apply(random_scramble(rng, 25)) for _ in range(1000)]
    # Two threads: kociemba's C search releases the GIL (cffi), so a 2-core machine solves two at
    # once. Its tables are built on the first call, so that one runs alone first; every answer is
    # checked below, whichever thread found it.
    solve(states[0])
    with ThreadPoolExecutor(2) as pool:
        solutions = list(pool.map(solve, states))
    lengths = []
    for state, moves in zip(states, solutions, strict=True):
        assert state.apply(moves) == SOLVED  # standard orientation, so fully solved
        assert not any(m.is_rotation for m in moves)
        lengths.append(len(moves))
    assert max(lengths) <= 24  # kociemba's default max_depth
    assert 15 <= statistics.median(lengths) <= 23


def test_readme_example_from_the_kociemba_package() -> None:
    # The example in kociemba's own docstring, so our facelet convention is kociemba's.
    state = cube_from_facelets("BBURUDBFUFFFRRFUUFLULUFUDLRRDBBDBDBLUDDFLLRRBRLLLBRDDF")
    assert state.apply("B U' L' D' R' D' L2 D' L F' L' D F2 R2 U R2 B2 U2 L2 F2 D'").is_solved
    assert state.apply(solve(state)).is_solved


def test_solved_cube_needs_no_moves() -> None:
    # kociemba 1.2.1 itself answers a solved cube with a 13-move sequence; we must not.
    assert solve(SOLVED) == ()
    assert solve(SOLVED.facelets) == ()
    assert solve(SOLVED.apply("x y")) == ()


def test_cube_held_in_another_orientation_is_solved_positionally() -> None:
    state = SOLVED.apply("R U F' D2 L B' x2 y")
    moves = solve(state)
    assert state.apply(moves).is_solved
    assert state.apply(moves).facelets[4::9] == state.facelets[4::9]  # centres stay put


def test_invalid_cube_gets_our_reason_not_kociembas() -> None:
    twisted = "UUUUUUUUF" + "URRRRRRRR" + "FFRFFFFFF" + SOLVED.facelets[27:]
    with pytest.raises(InvalidCubeError) as info:
        solve(twisted)
    assert info.value.kind == "twisted_corner"


def test_kociemba_failure_becomes_solver_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> str:
        raise ValueError("Error. Probably cubestring is invalid")

    monkeypatch.setattr(kociemba, "solve", broken)
    with pytest.raises(SolverError, match="kociemba failed.*Probably cubestring is invalid"):
        solve(SOLVED.apply("R"))


def test_wrong_kociemba_answer_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kociemba, "solve", lambda *a, **k: "U")
    with pytest.raises(SolverError, match="does not solve"):
        solve(SOLVED.apply("R"))
    monkeypatch.setattr(kociemba, "solve", lambda *a, **k: "R Q")
    with pytest.raises(SolverError, match="unparsable"):
        solve(SOLVED.apply("R"))


def test_solution_of_single_moves_is_their_inverse() -> None:
    for text in ["R", "U'", "F2", "D", "L'", "B2"]:
        moves = solve(SOLVED.apply(text))
        assert moves == tuple(m.inverse() for m in parse_moves(text))

"""Kociemba two-phase solving through the `kociemba` package (docs/architecture.md §7).

dexrl owns validation and checking; `kociemba` only searches. Why the wrapper:

- kociemba reports every bad input as the same "Error. Probably cubestring is invalid", so
  the cube is validated first and the user gets our specific InvalidCubeError reason;
- kociemba 1.2.1 returns a non-empty sequence for an already solved cube (it does not check
  for it), so a solved cube is answered with no moves here;
- every solution is replayed on the symbolic cube, so a wrong answer can never reach the hand.

Timing on a 2-core machine: median 8 ms, p99 74 ms per 25-move scramble (docs/references.md
"Solver timings").
"""

from __future__ import annotations

from dexrl.solver.cube import CubeState, Move, parse_moves
from dexrl.solver.validate import standardize_colours, validate


class SolverError(RuntimeError):
    """The solver failed on a cube that passed validation (should not happen)."""


def solve(cube: CubeState | str, max_depth: int = 24) -> tuple[Move, ...]:
    """Face turns that take `cube` to solved (empty when it already is).

    Args:
        cube: a CubeState or a 54-character facelet string (URFDLB order). Any whole-cube
            orientation is accepted; the moves are then named after the faces at the U, R,
            F, D, L, B positions of the given string.
        max_depth: longest solution kociemba may return (face turns, half turns count 1).

    Raises:
        InvalidCubeError: the facelets are not a reachable cube (says why).
        SolverError: kociemba failed or returned moves that do not solve the cube.
    """
    facelets = cube.facelets if isinstance(cube, CubeState) else cube
    validate(facelets)
    state = CubeState(facelets)
    if state.is_solved:
        return ()
    import kociemba  # imported here so the rest of dexrl.solver works without it

    try:
        answer = kociemba.solve(standardize_colours(facelets), max_depth=max_depth)
    except Exception as error:  # kociemba raises bare ValueErrors; keep its message
        raise SolverError(f"kociemba failed on {facelets}: {error}") from error
    try:
        moves = parse_moves(answer)
    except ValueError as error:
        raise SolverError(f"kociemba returned unparsable moves {answer!r}: {error}") from error
    if not state.apply(moves).is_solved:
        raise SolverError(f"kociemba's solution {answer!r} does not solve {facelets}")
    return moves

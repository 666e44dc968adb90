"""Symbolic Rubik's cube: facelet state, moves, validation, Kociemba solving, subgoal planning.

Pure Python (no MuJoCo, torch or Ray) so it can be tested and used alone; `kociemba` is
imported only when `solve` runs (and by the child process of `kociemba_process`). Modules, in
dependency order (each imports only modules above it; tests/solver/test_cube_moves.py checks):

- `geometry`: cube frame, face -> outward axis table, facelet positions;
- `cube`: `CubeState` (54 facelets, URFDLB), `Move`, parsing, derived move permutations;
- `validate`: `validate`, `cube_from_facelets`, `InvalidCubeError`, cubie decomposition;
- `two_phase`: `solve` through the `kociemba` package, `SolverError`;
- `symmetry`: the 48 whole-cube symmetries and the inverse cube (other cubes to solve);
- `orientation`: `CubeOrientation`, the 24 face-aligned cube poses and their quaternions;
- `planner`: flip / top-face-rotate subgoals, `apply_subgoal`;
- `kociemba_process`: kociemba in a child process that a deadline can stop;
- `cost`: what a plan costs (flips and turns weighted), `PlannerSettings`, `score`;
- `search`: `CubePlanner`, the cheapest plan within a time budget.
"""

from __future__ import annotations

from dexrl.solver.cost import PlannerSettings
from dexrl.solver.cube import (
    CubeState,
    Move,
    format_moves,
    invert_moves,
    parse_move,
    parse_moves,
    random_scramble,
)
from dexrl.solver.geometry import FACE_AXES, FACES
from dexrl.solver.orientation import CubeOrientation, all_orientations
from dexrl.solver.planner import (
    FlipSubgoal,
    RotateSubgoal,
    Subgoal,
    apply_subgoal,
    count_subgoals,
    flip_to_top,
    plan_subgoals,
    subgoal_from_dict,
)
from dexrl.solver.search import CubePlanner, Plan
from dexrl.solver.symmetry import SYMMETRIES, Symmetry, inverse_state
from dexrl.solver.two_phase import SolverError, solve
from dexrl.solver.validate import (
    Cubies,
    InvalidCubeError,
    cube_from_facelets,
    to_cubies,
    validate,
)

__all__ = [
    "FACES",
    "FACE_AXES",
    "SYMMETRIES",
    "CubeOrientation",
    "CubePlanner",
    "CubeState",
    "Cubies",
    "FlipSubgoal",
    "InvalidCubeError",
    "Move",
    "Plan",
    "PlannerSettings",
    "RotateSubgoal",
    "SolverError",
    "Subgoal",
    "Symmetry",
    "all_orientations",
    "apply_subgoal",
    "count_subgoals",
    "cube_from_facelets",
    "flip_to_top",
    "format_moves",
    "inverse_state",
    "invert_moves",
    "parse_move",
    "parse_moves",
    "plan_subgoals",
    "random_scramble",
    "solve",
    "subgoal_from_dict",
    "to_cubies",
    "validate",
]

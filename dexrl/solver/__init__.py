"""Symbolic Rubik's cube: facelet state, moves, validation, Kociemba solving, subgoal planning.

Pure Python (no MuJoCo, torch or Ray) so it can be tested and used alone; `kociemba` is
imported only when `solve` runs. Modules, in dependency order:

- `geometry`: cube frame, face -> outward axis table, facelet positions;
- `cube`: `CubeState` (54 facelets, URFDLB), `Move`, parsing, derived move permutations;
- `validate`: `validate`, `InvalidCubeError`, cubie decomposition;
- `two_phase`: `solve` through the `kociemba` package, `SolverError`;
- `orientation`: `CubeOrientation`, the 24 face-aligned cube poses and their quaternions;
- `planner`: flip / top-face-rotate subgoals, `apply_subgoal`.
"""

from __future__ import annotations

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
from dexrl.solver.two_phase import SolverError, solve
from dexrl.solver.validate import Cubies, InvalidCubeError, to_cubies, validate

__all__ = [
    "FACES",
    "FACE_AXES",
    "CubeOrientation",
    "CubeState",
    "Cubies",
    "FlipSubgoal",
    "InvalidCubeError",
    "Move",
    "RotateSubgoal",
    "SolverError",
    "Subgoal",
    "all_orientations",
    "apply_subgoal",
    "count_subgoals",
    "flip_to_top",
    "format_moves",
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

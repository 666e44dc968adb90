"""Turn a face-turn solution into subgoals a hand that can only turn the top face can follow.

Physical set-up ([R] §2.2 and App. C.1; docs/references.md "Rubik's subgoals" and
docs/architecture.md §6): the policy either rotates the face on top by 90 degrees, or flips the
cube to bring another face to the top. For each move of the solution the planner emits

- a `FlipSubgoal` when the face to turn is not on top: ONE whole-cube rotation about a
  horizontal world axis that puts that face up. A side face (normal along world +-x or +-y)
  is rolled up by +90 degrees about axis = (its world normal) x (world +z); the bottom face
  is turned up by 180 degrees about world +x (`HALF_FLIP_AXIS`). Nothing else in the pose
  changes, so each flip is the smallest horizontal-axis roll; no flip when the face is
  already on top;
- one `RotateSubgoal` per quarter turn of that (now top) face: X -> +1, X' -> -1, and X2 ->
  two +1 quarter turns ([R]: half turns become two 90-degree subgoals). For a hand that turns
  a face one way only, `direction` = +1 writes every turn clockwise (X' -> three +1, X2 -> two
  +1) and -1 counter-clockwise (X -> three -1, X2 -> two -1): the same cube state, more
  subgoals (`quarter_turns`).

Because kociemba never turns the same face twice in a row, every move needs a flip except
a first move of the face that starts on top: flips = moves - [that case], rotations = quarter
turns (half turns count 2).

Direction convention: +1 is clockwise seen from outside the turning face, i.e. from above
for the top face (standard notation: U is clockwise seen from above). In world terms the top
layer turns by `layer_angle_z` = -direction * pi/2 about world +z (right-hand rule).

JSON (`to_dict`), target cube orientation as a world-frame quaternion (see orientation.py):

    {"type": "flip", "face": "R", "axis": [0, 1, 0], "angle": 1.5707963267948966,
     "quaternion": [w, x, y, z], "up": "R", "toward_y": "B"}
    {"type": "rotate", "face": "R", "direction": -1, "angle": 1.5707963267948966,
     "layer_angle_z": 1.5707963267948966, "quaternion": [w, x, y, z], "up": "R",
     "toward_y": "B"}
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from dexrl.solver.cube import CubeState, Move
from dexrl.solver.geometry import Vec, cross
from dexrl.solver.orientation import WORLD_UP, CubeOrientation

QUARTER_TURN = math.pi / 2
"""A quarter turn in radians."""

HALF_FLIP_AXIS: Vec = (1, 0, 0)
"""World axis of the 180-degree flip that brings the bottom face up."""


@dataclass(frozen=True)
class FlipSubgoal:
    """Rotate the whole cube about a horizontal world axis so that `face` ends up on top.

    Attributes:
        face: cube face (by its centre) brought to the top.
        axis: world axis of the rotation (right-hand rule), horizontal.
        quarter_turns: 1 (90 degrees) or 2 (180 degrees, only for the bottom face).
        orientation: the cube pose to reach.
    """

    face: str
    axis: Vec
    quarter_turns: int
    orientation: CubeOrientation
    type: ClassVar[str] = "flip"

    @property
    def angle(self) -> float:
        """Rotation angle in radians about `axis`."""
        return self.quarter_turns * QUARTER_TURN

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (format in the module docstring)."""
        return {
            "type": self.type,
            "face": self.face,
            "axis": list(self.axis),
            "angle": self.angle,
            **_orientation_fields(self.orientation),
        }


@dataclass(frozen=True)
class RotateSubgoal:
    """Turn the top face by a quarter turn; the rest of the cube keeps `orientation`.

    Attributes:
        face: cube face on top that turns.
        direction: +1 clockwise seen from above (outside the face), -1 counter-clockwise.
        orientation: the cube pose, unchanged by the turn.
    """

    face: str
    direction: int
    orientation: CubeOrientation
    type: ClassVar[str] = "rotate"

    @property
    def angle(self) -> float:
        """Magnitude of the turn in radians (always a quarter turn)."""
        return QUARTER_TURN

    @property
    def layer_angle_z(self) -> float:
        """Signed turn of the top layer about world +z (clockwise from above is negative)."""
        return -self.direction * QUARTER_TURN

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (format in the module docstring)."""
        return {
            "type": self.type,
            "face": self.face,
            "direction": self.direction,
            "angle": self.angle,
            "layer_angle_z": self.layer_angle_z,
            **_orientation_fields(self.orientation),
        }


Subgoal = FlipSubgoal | RotateSubgoal


def _orientation_fields(orientation: CubeOrientation) -> dict[str, Any]:
    """The target pose as a quaternion plus the face names that pin it down exactly."""
    return {
        "quaternion": list(orientation.quaternion()),
        "up": orientation.up_face,
        "toward_y": orientation.face_along((0, 1, 0)),
    }


def subgoal_from_dict(data: Mapping[str, Any]) -> Subgoal:
    """Inverse of `to_dict` (the pose is rebuilt exactly from "up" and "toward_y")."""
    orientation = CubeOrientation.from_faces(data["up"], data["toward_y"])
    if data["type"] == "flip":
        quarter_turns = round(float(data["angle"]) / QUARTER_TURN)
        axis = tuple(int(a) for a in data["axis"])
        return FlipSubgoal(data["face"], (axis[0], axis[1], axis[2]), quarter_turns, orientation)
    if data["type"] == "rotate":
        return RotateSubgoal(data["face"], int(data["direction"]), orientation)
    raise ValueError(f"unknown subgoal type {data['type']!r}; expected 'flip' or 'rotate'")


def flip_to_top(orientation: CubeOrientation, face: str) -> FlipSubgoal | None:
    """The flip that brings `face` to the top, or None when it is already there."""
    normal = orientation.world_axis(face)
    if normal == WORLD_UP:
        return None
    if normal == (0, 0, -1):
        axis, quarter_turns = HALF_FLIP_AXIS, 2
    else:  # a side face: +90 degrees about normal x up takes the normal onto up
        axis, quarter_turns = cross(normal, WORLD_UP), 1
    target = orientation.rotated(axis, quarter_turns)
    return FlipSubgoal(face, axis, quarter_turns, target)


TURN_DIRECTIONS = (-1, 0, 1)
"""The `direction` values of `plan_subgoals`: -1 / +1 every quarter turn that way, 0 either."""


def quarter_turns(move: Move, direction: int = 0) -> tuple[int, int]:
    """(subgoal direction, how many) for face turn `move` on a hand that turns `direction`.

    direction 0 keeps the move's own: X (+1, 1), X' (-1, 1), X2 (+1, 2). +1 / -1 turns one way
    only, so the opposite quarter turn takes three: U' is U U U under +1.
    """
    if direction not in TURN_DIRECTIONS:
        raise ValueError(f"direction must be -1, 0 (either) or 1 (got {direction!r})")
    if direction == 0:
        return (-1, 1) if move.turns == 3 else (1, move.turns)
    clockwise_turns = move.turns % 4  # X: 1, X2: 2, X': 3 clockwise quarter turns
    return direction, clockwise_turns if direction == 1 else 4 - clockwise_turns


def plan_subgoals(
    moves: Iterable[Move], orientation: CubeOrientation | None = None, direction: int = 0
) -> tuple[Subgoal, ...]:
    """Subgoals that carry out face turns `moves` starting from cube pose `orientation`.

    Args:
        moves: face turns (e.g. a kociemba solution); whole-cube rotations are rejected
            because the hand does those as flips chosen here.
        orientation: starting pose; default identity (U on top, F towards world -y).
        direction: 0 turns each face the way the move says; +1 / -1 writes every turn as
            clockwise / counter-clockwise quarter turns (`quarter_turns`), for a hand that
            turns one way only.
    """
    pose = orientation or CubeOrientation.identity()
    subgoals: list[Subgoal] = []
    for move in moves:
        if move.is_rotation:
            raise ValueError(f"plan_subgoals takes face turns only, got the rotation {move}")
        flip = flip_to_top(pose, move.face)
        if flip is not None:
            subgoals.append(flip)
            pose = flip.orientation
        sign, count = quarter_turns(move, direction)
        subgoals.extend(RotateSubgoal(move.face, sign, pose) for _ in range(count))
    return tuple(subgoals)


def apply_subgoal(
    state: CubeState, orientation: CubeOrientation, subgoal: Subgoal
) -> tuple[CubeState, CubeOrientation]:
    """Carry out one subgoal symbolically: (cube state, pose) afterwards.

    The state is kept in the cube's own frame (named by its centres), so a flip changes only
    the pose and a rotation only the state. Raises ValueError for what the hand cannot do:
    turning a face that is not on top, or a flip that does not end where it says.
    """
    if isinstance(subgoal, FlipSubgoal):
        if subgoal.axis[2] != 0:
            raise ValueError(f"flip axis {subgoal.axis} is not horizontal")
        pose = orientation.rotated(subgoal.axis, subgoal.quarter_turns)
        if pose != subgoal.orientation or pose.up_face != subgoal.face:
            raise ValueError(f"flip {subgoal.to_dict()} does not start from this pose")
        return state, pose
    if orientation.up_face != subgoal.face:
        raise ValueError(
            f"cannot turn face {subgoal.face}: only the top face ({orientation.up_face}) turns"
        )
    if subgoal.direction not in (1, -1):
        raise ValueError(f"direction must be +1 or -1, got {subgoal.direction}")
    return state.apply(Move(subgoal.face, 1 if subgoal.direction == 1 else 3)), orientation


def count_subgoals(subgoals: Iterable[Subgoal]) -> dict[str, int]:
    """{"rotations": quarter-turn subgoals, "flips": flip subgoals, "total": both}."""
    items = list(subgoals)
    flips = sum(isinstance(s, FlipSubgoal) for s in items)
    return {"rotations": len(items) - flips, "flips": flips, "total": len(items)}

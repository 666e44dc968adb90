"""Goals from the planner's subgoals: the cube's aligned pose and yaw, a subgoal re-anchored to
where the cube really is, its world goal quaternion, and the plan one scrambled cube follows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dexrl.solver import (
    CubeOrientation,
    CubePlanner,
    CubeState,
    FlipSubgoal,
    RotateSubgoal,
    Subgoal,
    all_orientations,
    apply_subgoal,
    flip_to_top,
    plan_subgoals,
    solve,
)
from dexrl.tasks.rotations import quat_conj, quat_mul
from dexrl.tasks.rubiks_cube import orientation_quat

# ===================================================================== goals from subgoals
ORIENTATIONS = all_orientations()
ORIENTATION_QUATS = np.stack([orientation_quat(o) for o in ORIENTATIONS])


def aligned_pose(quat: np.ndarray) -> tuple[CubeOrientation, np.ndarray]:
    """Split a cube orientation into yaw ⊗ (a face-aligned pose): (pose, yaw quaternion).

    The planner works with the 24 face-aligned poses; the cube in the hand also has a free yaw.
    Choose the aligned pose that needs the least tilt (swing) to reach `quat`, then the one with
    the smallest yaw; goals are then expressed in that yawed frame.
    """
    rel = quat_mul(np.asarray(quat)[None], quat_conj(ORIENTATION_QUATS))  # O -> current, world
    w, z = rel[:, 0], rel[:, 3]
    twist = np.sqrt(w * w + z * z)  # cos(swing / 2)
    best = int(np.argmax(np.round(twist, 6) + 1e-7 * np.abs(w) / np.maximum(twist, 1e-12)))
    yaw = np.array([w[best], 0.0, 0.0, z[best]]) / max(twist[best], 1e-12)
    return ORIENTATIONS[best], (yaw if yaw[0] >= 0 else -yaw)


def anchor_subgoal(subgoal: Subgoal, pose: CubeOrientation) -> Subgoal | None:
    """The planner's subgoal re-derived from the pose the cube is actually in.

    A flip becomes `flip_to_top(pose, face)` (the planner's own rule; None when the face is
    already up), a rotation keeps the current pose. Identical to the planner's subgoal when the
    cube is where the planner expected it, and correct after the hand has yawed the cube.
    """
    if isinstance(subgoal, FlipSubgoal):
        return flip_to_top(pose, subgoal.face)
    return RotateSubgoal(subgoal.face, subgoal.direction, pose)


def subgoal_quat(subgoal: Subgoal, yaw: np.ndarray) -> np.ndarray:
    """[4] world goal orientation of the solver frame: yaw ⊗ the subgoal's aligned pose."""
    return quat_mul(yaw, orientation_quat(subgoal.orientation))


@dataclass
class SolvePlan:
    """The planner's subgoals for one scrambled cube and the symbolic state expected around each."""

    subgoals: tuple[Subgoal, ...]
    states: tuple[CubeState, ...]  # states[k]: before subgoal k; states[-1]: solved
    index: int = 0

    @classmethod
    def for_state(
        cls,
        state: CubeState,
        pose: CubeOrientation,
        planner: CubePlanner | None = None,
        direction: int = 0,
    ) -> SolvePlan:
        """Flip/rotate subgoals from `pose`: the planner's cheapest within its budget (its
        settings hold the turn direction), or without one Kociemba's first solution with every
        quarter turn written in `direction` (0: either way; dexrl.solver.plan_subgoals)."""
        if planner is None:
            subgoals = plan_subgoals(solve(state), pose, direction)
        else:
            subgoals = planner.plan(state, pose).subgoals
        states, s, o = [state], state, pose
        for g in subgoals:
            s, o = apply_subgoal(s, o, g)
            states.append(s)
        return cls(subgoals, tuple(states))

    @property
    def current(self) -> Subgoal | None:
        return self.subgoals[self.index] if self.index < len(self.subgoals) else None

    @property
    def expected_after(self) -> CubeState:
        return self.states[min(self.index + 1, len(self.states) - 1)]

    def on_track(self, state: CubeState) -> bool:
        """The cube is before, or just through, the current subgoal (else: re-plan)."""
        return (
            state == self.states[min(self.index, len(self.states) - 1)]
            or state == self.expected_after
        )

    def advance(self) -> None:
        self.index += 1

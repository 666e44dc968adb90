"""The hand-free Rubik's cube rig (envs/scenes/rubiks_rig.xml) for logic, rendering and oracle tests."""

from __future__ import annotations

import mujoco

from dexrl.solver import (
    CubeOrientation,
    CubeState,
)
from dexrl.tasks.rubiks_cube import QUARTER, CubeIds, RubiksCube, orientation_quat
from dexrl.tasks.rubiks_goals import aligned_pose


# ===================================================================== test rig
class RubiksRig:
    """The hand-free rig (envs/scenes/rubiks_rig.xml): actuated top layer, kinematic flips.

    For logic, rendering and oracle tests: `turn` drives a quarter turn with the position
    actuator, `push_and_release` starts a turn and lets the detent spring it back, and
    `set_pose` flips the cube kinematically (the fixture follows).
    """

    def __init__(
        self, model: str = "scenes/rubiks_rig.xml", substeps: int = 20, face_tolerance: float = 0.1
    ) -> None:
        from dexrl.sim.model import compile_model, load_spec

        self.model = compile_model(load_spec(model))
        self.data = mujoco.MjData(self.model)
        self.substeps = substeps
        self.ids = CubeIds.resolve(self.model)
        if len(self.ids.hinge_actuators) != 1:
            raise ValueError(f"{model} needs exactly one actuator on top_layer_joint")
        self.actuator = int(self.ids.hinge_actuators[0])
        self._gain = self.model.actuator_gainprm[self.actuator, 0].copy()
        self._bias = self.model.actuator_biasprm[self.actuator, :3].copy()
        self.cube = RubiksCube(self.ids, face_tolerance)
        self.reset()

    def reset(self, state: CubeState | None = None, pose: CubeOrientation | None = None) -> None:
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        self.cube.reset(m, d, state or CubeState.solved(), CubeOrientation.identity())
        self.engage()
        self.set_pose(pose or CubeOrientation.identity())

    def engage(self) -> None:
        """The position actuator holds/drives the hinge."""
        self.model.actuator_gainprm[self.actuator, 0] = self._gain
        self.model.actuator_biasprm[self.actuator, :3] = self._bias

    def release(self) -> None:
        """Zero the actuator's gains: only the detent, friction and damping act on the layer."""
        self.model.actuator_gainprm[self.actuator, 0] = 0.0
        self.model.actuator_biasprm[self.actuator, :3] = 0.0

    @property
    def hinge_angle(self) -> float:
        return float(self.data.qpos[self.ids.hinge_qpos])

    @property
    def pose(self) -> CubeOrientation:
        return aligned_pose(self.cube.solver_quat(self.data))[0]

    def step(self, n: int = 1) -> None:
        """n control steps: physics substeps in C, then the cube update (commit/detent/re-bind)."""
        for _ in range(n):
            mujoco.mj_step(self.model, self.data, self.substeps)
            if self.cube.update(self.model, self.data):
                mujoco.mj_forward(self.model, self.data)

    def set_pose(self, pose: CubeOrientation) -> None:
        """Kinematic flip: the solver frame to the world-aligned `pose`, then re-bind."""
        self.cube.set_solver_orientation(self.model, self.data, orientation_quat(pose))
        mujoco.mj_forward(self.model, self.data)
        if self.cube.update(self.model, self.data):
            mujoco.mj_forward(self.model, self.data)

    def turn(self, direction: int, max_steps: int = 60) -> bool:
        """Drive the top face a quarter turn (+1 clockwise seen from above); True once the turn
        has committed and the layer has settled."""
        self.engage()
        start = self.cube.quarter_turns
        q = self.hinge_angle
        self.data.ctrl[self.actuator] = round(q / QUARTER) * QUARTER - direction * QUARTER
        for _ in range(max_steps):
            self.step()
            settled = abs(float(self.data.qvel[self.ids.hinge_dof])) < 0.05
            if (
                self.cube.quarter_turns > start
                and settled
                and self.cube.alignment_error(self.data) < 0.02
            ):
                return True
        return False

    def set_hinge_angle(self, angle: float) -> None:
        """Kinematically set the top layer to `angle` (rad) with the detent aimed at the nearest
        slot and the actuator released, so the next steps show what the detent does from there."""
        self.release()
        self.data.ctrl[self.actuator] = angle
        self.cube.set_hinge_angle(self.model, self.data, angle)
        mujoco.mj_forward(self.model, self.data)

    def push_and_release(self, angle: float, hold_steps: int = 10, settle_steps: int = 15) -> float:
        """Push the layer toward `angle` (rad), release it; returns the largest angle reached."""
        self.engage()
        self.data.ctrl[self.actuator] = angle
        peak = 0.0
        for _ in range(hold_steps):
            self.step()
            peak = max(peak, abs(self.hinge_angle))
        self.release()
        self.step(settle_steps)
        self.data.ctrl[self.actuator] = 0.0
        self.engage()
        return peak

"""face_turn: turn a face of a Rubik's cube in the hand, or flip another face up ([R]).

cube_solve (`dexrl.tasks.rubiks_solve`) is this task with goals from a solve plan. The cube
model (docs/architecture.md §6) and its symbolic state are in `dexrl.tasks.rubiks_cube`, goals
from the planner's subgoals in `dexrl.tasks.rubiks_goals`, the hand-free test rig in
`dexrl.tasks.rubiks_rig`.
"""

from __future__ import annotations

import math
import random
from typing import Any, ClassVar

import mujoco
import numpy as np

from dexrl.obs_parts import SIMULATOR, ObsPart, Source
from dexrl.solver import (
    FACES,
    CubeOrientation,
    CubeState,
    RotateSubgoal,
    Subgoal,
    flip_to_top,
    random_scramble,
)
from dexrl.tasks.base import StepResult
from dexrl.tasks.cube_rotate import CubeRotateTask
from dexrl.tasks.registry import register_task
from dexrl.tasks.rotations import quat_mul, rotation_distance
from dexrl.tasks.rubiks_cube import (
    QUARTER,
    CubeIds,
    RubiksCube,
    RubiksSettings,
    face_detent,
    face_friction,
    orientation_quat,
    right_product_matrix,
    set_face_detent,
    set_face_friction,
)
from dexrl.tasks.rubiks_goals import ORIENTATIONS, aligned_pose, subgoal_quat

ROTATE, FLIP = 0, 1  # subgoal type codes in observations and info["subgoal_type"]


# ===================================================================== face_turn
class FaceTurnTask(CubeRotateTask):
    """Turn the top face ±90° or flip another face up (goal distribution of [R] App. C.1).

    Policy observation: the block's 74 values (cube orientation = the solver frame's) followed by
    [hinge angle (rad), remaining face-angle goal (rad), is_rotate, is_flip] → 78.
    Privileged extras: the block's (cube velocity 6, distance 1) + [hinge velocity, alignment error].
    Distance = rotation distance + face-angle distance; success = faces aligned (< face_tolerance),
    rotation distance < success_tolerance and the face-angle goal met (< face_tolerance).
    """

    settings_type = RubiksSettings
    settings: RubiksSettings
    has_face_hinge = True  # ADR's face_friction / face_detent
    # Reported on [R] App. C.1's goals whatever a run trained on (turn goals only, one direction).
    evaluation_values: ClassVar[dict[str, Any]] = {
        "rotate_probability": RubiksSettings.rotate_probability,
        "rotate_direction": RubiksSettings.rotate_direction,
    }

    # ----------------------------------------------------------------- init / reset
    def _task_init(self) -> None:
        super()._task_init()
        K, s = self.num_envs, self.settings
        self.cube_ids = CubeIds.resolve(self.base_model)
        self.cubes = [
            RubiksCube(self.cube_ids, s.face_tolerance, s.rebind_up_cos) for _ in range(K)
        ]
        self.binding_quat = np.tile(np.array([1.0, 0.0, 0.0, 0.0]), (K, 1))
        self._binding_right = np.tile(np.eye(4), (K, 1, 1))  # q ⊗ binding = M · q, per env
        self.subgoals: list[Subgoal | None] = [None] * K
        self.goal_type = np.full(K, FLIP, dtype=np.int64)
        self.face_target = np.zeros(K)  # hinge progress (rad) a rotate goal asks for
        self.face_turns = np.zeros(K)  # committed quarter turns since the goal was set
        self.goal_face_bound = np.zeros(K, dtype=bool)  # the goal's face is the hinged one
        self.rot_error = np.zeros(K)
        self.face_error = np.zeros(K)
        self.align_error = np.zeros(K)

    def _task_reset(self, i: int, rng: np.random.Generator) -> None:
        m, d, a = self.sim.models[i], self.sim.datas[i], self.ids.cube_qpos_adr
        pose = ORIENTATIONS[int(rng.integers(len(ORIENTATIONS)))]
        yaw = rng.uniform(-np.pi, np.pi)
        d.qpos[a : a + 3] = self.cube_start_pos + rng.uniform(-0.003, 0.003, 3) * [1, 1, 0]
        # The body frame only yaws; the binding carries the random aligned pose, so the body's
        # +z (the hinged layer) starts up.
        d.qpos[a + 3 : a + 7] = [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]
        d.qvel[self.ids.cube_dof_adr : self.ids.cube_dof_adr + 6] = 0.0
        self.cubes[i].reset(m, d, self._initial_state(i, rng), pose)
        self.settle(i)  # env.start_pose grasp: the cube comes to rest in the hand first
        self._set_binding(i)
        self._start_episode(i, pose)
        self._new_goal(i, rng)

    def _initial_state(self, i: int, rng: np.random.Generator) -> CubeState:
        """face_turn: a random state (the stickers do not matter to the physics)."""
        r = random.Random(int(rng.integers(2**62)))
        return CubeState.solved().apply(random_scramble(r, 20))

    def _set_binding(self, i: int) -> None:
        self.binding_quat[i] = self.cubes[i].binding_quat
        self._binding_right[i] = right_product_matrix(self.binding_quat[i])

    def _start_episode(self, i: int, pose: CubeOrientation) -> None:
        """Hook for cube_solve's planning; nothing to do for face_turn."""

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        d, cube = self.sim.datas[i], self.cubes[i]
        pose, yaw = aligned_pose(cube.solver_quat(d))
        aligned = cube.alignment_error(d) < self.settings.face_tolerance
        subgoal: Subgoal | None
        if aligned and rng.random() < self.settings.rotate_probability:
            direction = self.settings.rotate_direction or int(rng.choice([-1, 1]))
            subgoal = RotateSubgoal(pose.up_face, direction, pose)
        else:
            others = [f for f in FACES if f != pose.up_face]
            subgoal = flip_to_top(pose, others[int(rng.integers(len(others)))])
        self._set_goal(i, subgoal, yaw)

    def _set_goal(self, i: int, subgoal: Subgoal | None, yaw: np.ndarray) -> None:
        """Make `subgoal` env i's goal (None: hold the current pose, e.g. once solved)."""
        cube = self.cubes[i]
        self.subgoals[i] = subgoal
        if subgoal is None:  # keep the faces aligned in the current pose
            pose, yaw = aligned_pose(cube.solver_quat(self.sim.datas[i]))
            self.goal_quat[i] = quat_mul(yaw, orientation_quat(pose))
            self.goal_type[i], self.face_target[i] = FLIP, 0.0
        else:
            rotate = isinstance(subgoal, RotateSubgoal)
            self.goal_quat[i] = subgoal_quat(subgoal, yaw)
            self.goal_type[i] = ROTATE if rotate else FLIP
            self.face_target[i] = (
                subgoal.layer_angle_z if isinstance(subgoal, RotateSubgoal) else 0.0
            )
        cube.reset_progress()
        self.face_turns[i] = 0
        self.goal_face_bound[i] = subgoal is not None and cube.up_face == subgoal.face
        if self.ids.goal_mocap >= 0:
            self.sim.datas[i].mocap_quat[self.ids.goal_mocap] = self.goal_quat[i]

    # ----------------------------------------------------------------- step
    def _task_after_physics(self) -> None:
        self._update_cubes()

    def _update_cubes(self) -> None:
        """Commit quarter turns, aim detents and re-bind, then refresh the envs that changed."""
        edited = []
        for i, cube in enumerate(self.cubes):
            m, d = self.sim.models[i], self.sim.datas[i]
            if cube.update(m, d):
                mujoco.mj_forward(m, d)  # stickers and layer drawn where the new qpos says
                edited.append(i)
                self._set_binding(i)
                self.face_turns[i] = cube.face_turns
                goal = self.subgoals[i]
                self.goal_face_bound[i] = goal is not None and cube.up_face == goal.face
        if edited:
            self.refresh(edited)

    def step(self, actions: Any) -> StepResult:
        """HandTask.step plus the Rubik's info keys and task-specific episode ends."""
        keep, self.autoreset = self.autoreset, False  # reset only after adding our info
        try:
            r = super().step(actions)
        finally:
            self.autoreset = keep
        extra_end = self._extra_info(r.info)
        r.terminated |= extra_end
        r.truncated &= ~r.terminated
        done = r.terminated | r.truncated
        if done.any() and self.autoreset:
            r.info.update(self._auto_reset(done, r.obs, r.critic_obs))
            r.obs, r.critic_obs = self.observations()
        return r

    def _extra_info(self, info: dict[str, np.ndarray]) -> np.ndarray:
        """Add info keys; return [K] bool of episodes that end for a task reason (terminated)."""
        info["face_angle"] = self.qpos[:, self.cube_ids.hinge_qpos].copy()
        info["aligned"] = self.align_error < self.settings.face_tolerance
        info["subgoal_type"] = self.goal_type.copy()
        info["quarter_turns"] = np.array([c.quarter_turns for c in self.cubes])
        info["rebinds"] = np.array([c.rebinds for c in self.cubes])
        return np.zeros(self.num_envs, dtype=bool)

    # ----------------------------------------------------------------- state
    def refresh(self, env_ids: Any = None) -> None:
        super().refresh(env_ids)
        # Derived arrays are recomputed once per snapshot, not at every use (a step reads the
        # cube orientation in the distance, twice, and in the observation).
        self._derived: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def _derived_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(solver-frame orientation [K, 4], hinge angle [K], alignment error [K])."""
        if self._derived is None:
            a = self.ids.cube_qpos_adr
            q = self.qpos[:, self.cube_ids.hinge_qpos]
            self._derived = (
                np.matmul(self._binding_right, self.qpos[:, a + 3 : a + 7, None])[:, :, 0],
                q,
                np.abs(q - np.round(q / QUARTER) * QUARTER),
            )
        return self._derived

    def cube_quat(self) -> np.ndarray:
        """[K, 4] world orientation of the cube's own (solver) frame; continuous across re-binds."""
        return self._derived_state()[0]

    def _face_progress(self) -> tuple[np.ndarray, np.ndarray]:
        """(hinge angle [K], alignment error [K])."""
        _, q, align = self._derived_state()
        return q, align

    # ----------------------------------------------------------------- reward terms
    def _task_distance(self) -> np.ndarray:
        q, align = self._face_progress()
        remaining = np.abs(self.face_target - (self.face_turns * QUARTER + q))
        # A rotate goal for a face that is not hinged (cube knocked over): a full quarter turn left.
        rotate_err = np.where(self.goal_face_bound, remaining, QUARTER + align)
        self.face_error = np.where(self.goal_type == ROTATE, rotate_err, align)
        self.align_error = align
        self.rot_error = rotation_distance(self.cube_quat(), self.goal_quat)
        return self.rot_error + self.face_error

    def _task_reward_terms(self) -> dict[str, np.ndarray]:
        """The cube's terms, and face_speed: the top layer's hinge velocity in the direction the
        rotate goal still asks for, clipped, · dt (0 for flips and for a goal face not on top)."""
        terms = super()._task_reward_terms()
        cfg = self.settings
        if cfg.face_speed_weight:
            q, _ = self._face_progress()
            rotate, target, on_top = self._face_goal()
            remaining = target - q
            toward = np.sign(remaining) * self.qvel[:, self.cube_ids.hinge_dof]
            active = rotate & on_top & (np.abs(remaining) > 1e-6)
            c = cfg.face_speed_clip
            terms["face_speed"] = np.where(active, cfg.face_speed_weight * np.clip(toward, -c, c) * self.control_dt, 0.0)
        return terms

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        tol = self.settings.face_tolerance
        return (
            (self.rot_error < self.cfg.success_tolerance)
            & (self.align_error < tol)
            & (self.face_error < tol)
        )

    # ----------------------------------------------------------------- observations
    object_frame = "the cube's own frame, named by its centre stickers (unchanged by layer turns)"

    def _face_goal(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The face subgoal as a goal source states it: ([K] rotate, [K] face-angle target (rad),
        [K] the rotate subgoal's face is the top layer). The target is in the hinge angle's
        coordinates (re-based at each committed quarter turn), or the whole turn asked for when
        the face is not on top."""
        bound = self.goal_face_bound
        target = np.where(bound, self.face_target - self.face_turns * QUARTER, self.face_target)
        return self.goal_type == ROTATE, target, bound

    def _task_obs_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        q, align = self._face_progress()
        rotate, target, on_top = self._face_goal()
        detent = np.round(q / QUARTER) * QUARTER
        remaining = np.where(rotate, np.where(on_top, target - q, target), detent - q)
        extra = np.stack([q, remaining, rotate.astype(np.float64), (~rotate).astype(np.float64)], axis=1)
        tracker = (f"face_angle: the hinge angle, continuous until the layer settles within "
                   f"{self.settings.face_tolerance:g} rad of the next 90-degree detent, then re-based "
                   "by -+90 degrees (a committed quarter turn)")
        part = ObsPart("face", 4, "rad, rad, one-hot (2)", "top-face hinge",
                       description="top-face angle, angle still to turn, subgoal is rotate / flip",
                       source=Source("face_progress", tracker))  # fmt: skip
        return [*super()._task_obs_terms(), (part, extra)]

    def _task_privileged_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        q, align = self._face_progress()
        vel = np.clip(self.qvel[:, self.cube_ids.hinge_dof], -50.0, 50.0)
        return [
            *super()._task_privileged_terms(),
            (ObsPart("face_vel", 1, "rad/s (clipped to +-50)", "top-face hinge", source=SIMULATOR), vel[:, None]),
            (ObsPart("face_alignment", 1, "rad", "top-face hinge", source=SIMULATOR,
                     description="|hinge angle - nearest 90-degree detent|"), align[:, None]),
        ]  # fmt: skip

    def deploy_goal(self, i: int) -> dict[str, np.ndarray]:
        """goal_quat (the solver frame's) and the face subgoal: face_subgoal (rotate, flip),
        face_angle_target (rad), face_on_top (1 or 0)."""
        rotate, target, on_top = (x[i] for x in self._face_goal())
        return {**super().deploy_goal(i), "face_subgoal": np.array([float(rotate), float(not rotate)]),
                "face_angle_target": np.array([target]), "face_on_top": np.array([float(on_top)])}  # fmt: skip

    def tracker_reading(self, i: int) -> dict[str, np.ndarray]:
        """A cube-state tracker's reading: the cube's pose (its own frame) and the top layer's
        angle relative to the cube body (the hinge angle)."""
        return {**super().tracker_reading(i), "face_angle": self._face_progress()[0][i : i + 1].copy()}

    # ----------------------------------------------------------------- scripted manipulation
    def set_cube_orientation(self, i: int, quat: np.ndarray) -> None:
        """Kinematically turn env i's cube so its own (solver) frame has world orientation `quat`
        (about its centre; an aligned turn leaves the world geometry unchanged). For oracles and
        scripted demos; the next step re-binds the hinge if another face is now up."""
        self.cubes[i].set_solver_orientation(self.sim.models[i], self.sim.datas[i], quat)
        self.sim.forward(i)
        self.refresh(i)

    def turn_face(self, i: int, angle: float) -> None:
        """Kinematically turn env i's top layer by `angle` (rad, about the hinge) and aim the
        detent at the slot it lands in; the next step commits a completed quarter turn."""
        m, d = self.sim.models[i], self.sim.datas[i]
        self.cubes[i].set_hinge_angle(m, d, float(d.qpos[self.cube_ids.hinge_qpos]) + angle)
        self.sim.forward(i)
        self.refresh(i)

    # ----------------------------------------------------------------- randomizable parameters
    @property
    def face_friction(self) -> np.ndarray:
        """[K] top-layer hinge dry friction (N·m) of each env's model (an ADR parameter)."""
        return np.array([face_friction(m, self.cube_ids) for m in self.sim.models])

    @face_friction.setter
    def face_friction(self, value: float | np.ndarray) -> None:
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.num_envs,))
        for m, x in zip(self.sim.models, v, strict=True):
            set_face_friction(m, self.cube_ids, float(x))

    @property
    def face_detent(self) -> np.ndarray:
        """[K] detent spring stiffness (N·m/rad) of each env's model (an ADR parameter)."""
        return np.array([face_detent(m, self.cube_ids) for m in self.sim.models])

    @face_detent.setter
    def face_detent(self, value: float | np.ndarray) -> None:
        v = np.broadcast_to(np.asarray(value, dtype=np.float64), (self.num_envs,))
        for m, x in zip(self.sim.models, v, strict=True):
            set_face_detent(m, self.cube_ids, float(x))


register_task("face_turn", FaceTurnTask, gym_id="dexrl/FaceTurn-v0")

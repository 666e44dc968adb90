"""cube_rotate and cube_rotate_z: turn the block in the hand to a goal orientation.

Goal: a uniformly random orientation (`goal: so3`) or a random yaw of the current up face
(`goal: z`). Success: rotation distance < 0.4 rad [D]. Reward: decrease of the rotation distance,
+5 per success, −20 on a drop [D]. Episode ends on a drop, after `timeout_steps` without a
success, or at 50 successes (configs/env/cube_rotate*.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dexrl.env_config import TaskSettings
from dexrl.obs_parts import (
    FINGERTIP_POSITIONS,
    GOAL_ORIENTATION,
    GOAL_RELATIVE_ORIENTATION,
    OBJECT_POSITION,
    SIMULATOR,
    ObsPart,
    Source,
)
from dexrl.sim.scene import describe_scene
from dexrl.structured import check_all
from dexrl.tasks.base import HandTask
from dexrl.tasks.registry import register_task
from dexrl.tasks.rotations import (
    ALIGNED_QUATS,
    quat_conj,
    quat_mul,
    random_quat,
    rotate_vectors,
    rotation_distance,
    yaw_quat,
)

_MAX_GOAL_DRAWS = 100  # a goal already met is redrawn; after this many, the last one stands


def canonical(q: np.ndarray) -> np.ndarray:
    """q and −q are the same rotation; observe the one with w ≥ 0."""
    return np.where(q[..., :1] < 0, -q, q)


@dataclass
class CubeRotateSettings(TaskSettings):
    """The cube tasks' own keys (env.<key>; values in configs/env/cube_rotate*.yaml). face_turn and
    cube_solve have them too (their RubiksSettings extend these)."""

    # Goal distribution: "so3" (uniform orientation) or "z" (yaw only: the up face stays up).
    goal: str = "so3"
    # The cube counts as dropped when its centre is this far below the palm centre (m).
    drop_below_palm: float = 0.04
    # Reward terms of the cube (each logged per episode as reward/<term>; 0 = off):
    # rotation_speed: weight of clip(ω·n, ±rotation_speed_clip) · control dt, the object's angular
    #   velocity about the axis that turns it toward the goal (HORA §3.3 and mjlab's LEAP task
    #   reward a clipped rotation rate): pays for turning steadily, not for flinging.
    rotation_speed_weight: float = 0.0
    rotation_speed_clip: float = 1.0  # rad/s
    # object_linvel: penalty weight on the object's squared linear velocity (m²/s²) · control dt
    #   (HORA, mjlab: a cube that slides or bounces is about to be dropped).
    object_linvel_penalty: float = 0.0

    def validate(self) -> None:
        check_all([
            (self.goal in ("so3", "z"), f"env.goal must be 'so3' or 'z' (got '{self.goal}')"),
            (min(self.rotation_speed_weight, self.object_linvel_penalty) >= 0,
             "env.rotation_speed_weight and env.object_linvel_penalty must be >= 0: a penalty's weight is subtracted"),
            (self.rotation_speed_clip > 0, f"env.rotation_speed_clip must be > 0 (got {self.rotation_speed_clip})"),
        ])  # fmt: skip


class CubeRotateTask(HandTask):
    """Reorient a cube to a goal orientation (SO(3) or yaw only)."""

    settings_type = CubeRotateSettings
    settings: CubeRotateSettings

    # ----------------------------------------------------------------- init / reset
    def _task_init(self) -> None:
        if self.ids.cube_qpos_adr < 0:
            raise ValueError(f"task '{self.cfg.task}' needs a model with a 'cube_joint' free joint; "
                             f"the scene ({describe_scene(self.cfg)}) has none")
        a = self.ids.cube_qpos_adr
        self.cube_start_pos = self.base_model.qpos0[a : a + 3].copy()
        if self.cfg.start_pose == "grasp":  # where the robot's grasp pose holds the object
            self.cube_start_pos += np.asarray(self.cfg.robot.grasp_object_offset, dtype=np.float64)
        # The start height is for the calibrated cube; a resized one (ADR) starts higher or lower
        # by the change of its half size, so it neither drops onto nor starts inside the palm.
        self._cube_geom = self.base_model.geom("cube_geom").id
        self._cube_half0 = float(self.base_model.geom_size[self._cube_geom, 2])
        self.goal_quat = np.tile(np.array([1.0, 0.0, 0.0, 0.0]), (self.num_envs, 1))
        self.up_quat = self.goal_quat.copy()  # the face-up part of the initial pose (z goals)

    def _task_reset(self, i: int, rng: np.random.Generator) -> None:
        d, a = self.sim.datas[i], self.ids.cube_qpos_adr
        up = ALIGNED_QUATS[rng.integers(len(ALIGNED_QUATS))] if self.settings.goal == "so3" else ALIGNED_QUATS[0]
        self.up_quat[i] = up
        lift = float(self.sim.models[i].geom_size[self._cube_geom, 2]) - self._cube_half0
        d.qpos[a : a + 3] = self.cube_start_pos + rng.uniform(-0.003, 0.003, 3) * [1, 1, 0]
        d.qpos[a + 2] += lift
        d.qpos[a + 3 : a + 7] = quat_mul(yaw_quat(rng.uniform(-np.pi, np.pi)), up)
        d.qvel[self.ids.cube_dof_adr : self.ids.cube_dof_adr + 6] = 0.0
        self.settle(i)  # the goal is drawn where the cube came to rest: never met at the start
        self._new_goal(i, rng)

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        """A goal orientation, redrawn while the cube already meets it: a uniform yaw is within
        the 0.4 rad tolerance with probability 0.8 / 2π ≈ 0.13 (docs/references.md "Block
        reorientation task"), and such free successes would inflate consecutive successes and the
        random policy's return."""
        a = self.ids.cube_qpos_adr
        now = self.sim.datas[i].qpos[a + 3 : a + 7]
        for _ in range(_MAX_GOAL_DRAWS):
            if self.settings.goal == "z":
                goal = quat_mul(yaw_quat(rng.uniform(-np.pi, np.pi)), self.up_quat[i])
            else:
                goal = random_quat(rng)
            if rotation_distance(now[None], goal[None])[0] >= self.cfg.success_tolerance:
                break
        self.goal_quat[i] = goal
        if self.ids.goal_mocap >= 0:
            self.sim.datas[i].mocap_quat[self.ids.goal_mocap] = goal

    # ----------------------------------------------------------------- state
    def cube_quat(self) -> np.ndarray:
        """[K, 4] cube orientation (w, x, y, z) in the world."""
        a = self.ids.cube_qpos_adr
        return self.qpos[:, a + 3 : a + 7]

    def cube_pos(self) -> np.ndarray:
        """[K, 3] cube centre relative to the palm centre."""
        a = self.ids.cube_qpos_adr
        return self.qpos[:, a : a + 3] - self.palm_pos()

    # ----------------------------------------------------------------- reward terms
    def _task_distance(self) -> np.ndarray:
        return rotation_distance(self.cube_quat(), self.goal_quat)

    def cube_angvel(self) -> np.ndarray:
        """[K, 3] cube angular velocity (rad/s) in world axes (a free joint's qvel holds it in
        the body frame)."""
        v = self.ids.cube_dof_adr
        return rotate_vectors(self.cube_quat(), self.qvel[:, v + 3 : v + 6])

    def _task_reward_terms(self) -> dict[str, np.ndarray]:
        """rotation_speed: clip(ω·n, ±clip) · dt, n the axis of the rotation still to go (goal ·
        cube⁻¹), so turning toward the goal pays up to `rotation_speed_clip` rad/s (HORA §3.3,
        mjlab LEAP); object_linvel: −w·|v|²·dt (HORA, mjlab). Only where their weight is not 0."""
        cfg, dt, terms = self.settings, self.control_dt, {}
        if cfg.rotation_speed_weight:
            rest = quat_mul(self.goal_quat, quat_conj(self.cube_quat()))
            rest = canonical(rest)  # the shorter way round: w >= 0
            norm = np.linalg.norm(rest[:, 1:], axis=1)
            axis = rest[:, 1:] / np.maximum(norm, 1e-9)[:, None]
            speed = np.where(norm > 1e-6, np.sum(self.cube_angvel() * axis, axis=1), 0.0)
            c = cfg.rotation_speed_clip
            terms["rotation_speed"] = cfg.rotation_speed_weight * np.clip(speed, -c, c) * dt
        if cfg.object_linvel_penalty:
            v = self.ids.cube_dof_adr
            terms["object_linvel"] = -cfg.object_linvel_penalty * np.sum(self.qvel[:, v : v + 3] ** 2, axis=1) * dt
        return terms

    def _task_dropped(self) -> np.ndarray:
        return self.cube_pos()[:, 2] < -self.settings.drop_below_palm

    # ----------------------------------------------------------------- observations
    object_frame = "the cube's body frame"  # what the cube's orientation (and a tracker) refers to

    def _task_obs_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        cube_q = canonical(self.cube_quat())
        goal_q = canonical(self.goal_quat)
        relative = canonical(quat_mul(goal_q, quat_conj(cube_q)))
        palm = "world axes, origin at the palm centre"
        quat = "quaternion (w, x, y, z), w >= 0"
        tips = self.fingertips()  # sizes from the robot: 3 per fingertip site
        tracker = Source("object_orientation", f"orientation of {self.object_frame}")
        return [
            (ObsPart("fingertip_pos", 3 * tips.shape[1], "m", palm, "fingertip_pos",
                     f"{tips.shape[1]} fingertips (robot order) x (x, y, z)", source=FINGERTIP_POSITIONS),
             tips.reshape(self.num_envs, -1)),
            (ObsPart("cube_pos", 3, "m", palm, "object_pos", source=OBJECT_POSITION), self.cube_pos()),
            (ObsPart("cube_quat", 4, quat, "world", "object_quat", source=tracker), cube_q),
            (ObsPart("goal_quat", 4, quat, "world", "exact", source=GOAL_ORIENTATION), goal_q),
            (ObsPart("goal_relative_quat", 4, quat, "world (goal * cube^-1)", "object_quat",
                     source=GOAL_RELATIVE_ORIENTATION), relative),
        ]  # fmt: skip

    def _task_privileged_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        v = self.ids.cube_dof_adr
        vel = np.clip(self.qvel[:, v : v + 6], -50, 50)
        return [
            (ObsPart("cube_vel", 6, "m/s, rad/s (clipped to +-50)", "free joint: linear world, angular body",
                     source=SIMULATOR), vel),
            (ObsPart("goal_distance", 1, "task distance", "", source=SIMULATOR), self.distance[:, None]),
        ]  # fmt: skip

    # ----------------------------------------------------------------- what a real hand reads
    def deploy_goal(self, i: int) -> dict[str, np.ndarray]:
        return {"goal_quat": self.goal_quat[i].copy()}

    def goal_orientation(self, i: int) -> np.ndarray | None:
        return np.asarray(self.goal_quat[i].copy())

    def goal_lines(self, i: int) -> list[str]:
        return [f"goal: orientation error {float(self.distance[i]):.2f} rad"]

    def tracker_reading(self, i: int) -> dict[str, np.ndarray]:
        """The cube's centre (world) and the orientation the task observes (`cube_quat`)."""
        a = self.ids.cube_qpos_adr
        return {"object_pos": self.qpos[i, a : a + 3].copy(), "object_quat": self.cube_quat()[i].copy()}


register_task("cube_rotate", CubeRotateTask, gym_id="dexrl/CubeRotate-v0")
register_task("cube_rotate_z", CubeRotateTask, gym_id="dexrl/CubeRotateZ-v0")

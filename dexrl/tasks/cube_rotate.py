"""cube_rotate and cube_rotate_z: turn the block in the hand to a goal orientation.

Goal: a uniformly random orientation (`goal: so3`) or a random yaw of the current up face
(`goal: z`). Success: rotation distance < 0.4 rad [D]. Reward: decrease of the rotation distance,
+5 per success, −20 on a drop [D]. Episode ends on a drop, after `timeout_steps` without a
success, or at 50 successes (configs/env/cube_rotate*.yaml).
"""

from __future__ import annotations

import numpy as np

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
from dexrl.tasks.base import HandTask
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


class CubeRotateTask(HandTask):
    """Reorient a cube to a goal orientation (SO(3) or yaw only)."""

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
        up = ALIGNED_QUATS[rng.integers(len(ALIGNED_QUATS))] if self.cfg.goal == "so3" else ALIGNED_QUATS[0]
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
            if self.cfg.goal == "z":
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
        cfg, dt, terms = self.cfg, self.control_dt, {}
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
        return self.cube_pos()[:, 2] < -self.cfg.drop_below_palm

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

    def tracker_reading(self, i: int) -> dict[str, np.ndarray]:
        """The cube's centre (world) and the orientation the task observes (`cube_quat`)."""
        a = self.ids.cube_qpos_adr
        return {"object_pos": self.qpos[i, a : a + 3].copy(), "object_quat": self.cube_quat()[i].copy()}

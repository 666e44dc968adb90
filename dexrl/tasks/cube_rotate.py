"""cube_rotate and cube_rotate_z: turn the block in the hand to a goal orientation.

Goal: a uniformly random orientation (`goal: so3`) or a random yaw of the current up face
(`goal: z`). Success: rotation distance < 0.4 rad [D]. Reward: decrease of the rotation distance,
+5 per success, −20 on a drop [D]. Episode ends on a drop, after `timeout_steps` without a
success, or at 50 successes (configs/env/cube_rotate*.yaml).
"""

from __future__ import annotations

import numpy as np

from dexrl.tasks.base import HandTask
from dexrl.tasks.rotations import (
    ALIGNED_QUATS,
    quat_conj,
    quat_mul,
    random_quat,
    rotation_distance,
    yaw_quat,
)


def canonical(q: np.ndarray) -> np.ndarray:
    """q and −q are the same rotation; observe the one with w ≥ 0."""
    return np.where(q[..., :1] < 0, -q, q)


class CubeRotateTask(HandTask):
    """Reorient a cube to a goal orientation (SO(3) or yaw only)."""

    # ----------------------------------------------------------------- init / reset
    def _task_init(self) -> None:
        if self.ids.cube_qpos_adr < 0:
            raise ValueError(f"task '{self.cfg.task}' needs a model with a 'cube_joint' free joint; "
                             f"{self.cfg.model} has none")
        a = self.ids.cube_qpos_adr
        self.cube_start_pos = self.base_model.qpos0[a : a + 3].copy()
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
        self._new_goal(i, rng)

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        if self.cfg.goal == "z":
            goal = quat_mul(yaw_quat(rng.uniform(-np.pi, np.pi)), self.up_quat[i])
        else:
            goal = random_quat(rng)
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

    def _task_dropped(self) -> np.ndarray:
        return self.cube_pos()[:, 2] < -self.cfg.drop_below_palm

    # ----------------------------------------------------------------- observations
    def _policy_obs_clean(self) -> np.ndarray:
        cube_q = canonical(self.cube_quat())
        goal_q = canonical(self.goal_quat)
        relative = canonical(quat_mul(goal_q, quat_conj(cube_q)))
        return np.concatenate(
            [
                self.fingertips().reshape(self.num_envs, -1),  # 15
                self.cube_pos(),  # 3
                cube_q,  # 4
                goal_q,  # 4
                relative,  # 4
                self.hand_qpos(),  # 24
                self.last_action,  # 20
            ],
            axis=1,
        )

    def _task_privileged(self) -> np.ndarray:
        v = self.ids.cube_dof_adr
        vel = self.qvel[:, v : v + 6]
        return np.concatenate([np.clip(vel, -50, 50), self.distance[:, None]], axis=1)

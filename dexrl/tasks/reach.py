"""reach: move the five fingertips to random targets (the simplest task; start here).

Targets are the fingertip positions of a random reachable pose (joints drawn within
`reach_target_range` of their ranges around the ready pose, coupled joints kept equal), so every
goal can be reached. Success: every fingertip within `success_tolerance` (1 cm). Reward: decrease
of the mean fingertip distance (scaled), + success bonus; a new goal after each success.
"""

from __future__ import annotations

import mujoco
import numpy as np

from dexrl.tasks.base import HandTask


class ReachTask(HandTask):
    """Fingertips to random reachable targets (positions relative to the palm centre)."""

    def _task_init(self) -> None:
        self.goal_tips = np.zeros((self.num_envs, 5, 3))
        m = self.base_model
        jids = [m.joint(n).id for n in self.ids.hand_joint_names]
        self._lo, self._hi = m.jnt_range[jids, 0], m.jnt_range[jids, 1]
        # Coupled pairs (joint equality J1 = J2): sample J2, copy it into J1.
        index = {j: k for k, j in enumerate(jids)}
        self._coupled = [
            (index[m.eq_obj1id[e]], index[m.eq_obj2id[e]])
            for e in range(m.neq)
            if m.eq_type[e] == mujoco.mjtEq.mjEQ_JOINT
        ]

    def _task_reset(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _task_on_success(self, i: int, rng: np.random.Generator) -> None:
        self._new_goal(i, rng)

    def _new_goal(self, i: int, rng: np.random.Generator) -> None:
        m, d = self.sim.models[i], self.sim.datas[i]
        adr = self.ids.hand_qpos_adr
        saved = d.qpos.copy()
        frac = self.cfg.reach_target_range
        q = self._ready_qpos + frac * (rng.uniform(self._lo, self._hi) - self._ready_qpos)
        for j1, j2 in self._coupled:
            q[j1] = q[j2]
        d.qpos[adr] = q
        mujoco.mj_kinematics(m, d)
        palm = d.site_xpos[self.ids.palm_site]
        self.goal_tips[i] = d.site_xpos[self.ids.fingertip_site] - palm
        for k, mocap in enumerate(self.ids.target_mocap):
            d.mocap_pos[mocap] = d.site_xpos[self.ids.fingertip_site[k]]
        d.qpos[:] = saved
        mujoco.mj_kinematics(m, d)

    def tip_errors(self) -> np.ndarray:
        """[K, 5] distance of each fingertip to its target (m)."""
        return np.linalg.norm(self.fingertips() - self.goal_tips, axis=-1)

    def _task_distance(self) -> np.ndarray:
        return self.tip_errors().mean(axis=1)

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        return np.asarray((self.tip_errors() < self.cfg.success_tolerance).all(axis=1))

    def _policy_obs_clean(self) -> np.ndarray:
        tips = self.fingertips()
        return np.concatenate(
            [
                tips.reshape(self.num_envs, -1),  # 15
                self.goal_tips.reshape(self.num_envs, -1),  # 15
                (self.goal_tips - tips).reshape(self.num_envs, -1),  # 15
                self.hand_qpos(),  # 24
                self.last_action,  # 20
            ],
            axis=1,
        )

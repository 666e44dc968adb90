"""reach: move every fingertip to a random target (the simplest task; start here).

Targets are the fingertip positions of a random reachable pose (joints drawn within
`reach_target_range` of their ranges around the ready pose, coupled joints kept equal), so every
goal can be reached. Success: every fingertip within `success_tolerance` (1 cm). Reward: decrease
of the mean fingertip distance (scaled), + success bonus; a new goal after each success.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from dexrl.env_config import TaskSettings
from dexrl.obs_parts import FINGERTIP_POSITIONS, FINGERTIP_TARGET_ERRORS, FINGERTIP_TARGETS, ObsPart
from dexrl.structured import check_all
from dexrl.tasks.base import HandTask
from dexrl.tasks.registry import register_task

_MAX_GOAL_DRAWS = 100  # a goal already met is redrawn; after this many, the last one stands


@dataclass
class ReachSettings(TaskSettings):
    """reach's own keys (env.<key>; values in configs/env/reach.yaml)."""

    # Targets are fingertip positions of a random pose within this fraction of the joint ranges.
    reach_target_range: float = 0.5
    # Weight of the per-fingertip kernel reward, mean over tips of exp(-error / scale), paid
    # every step so that each fingertip's last centimetre pays (0 = off); scale in m.
    tip_reward_weight: float = 0.0
    tip_reward_scale: float = 0.01

    def validate(self) -> None:
        check_all([
            (0 < self.reach_target_range <= 1, f"env.reach_target_range must be in (0, 1] (got {self.reach_target_range})"),
            (self.tip_reward_weight >= 0 and self.tip_reward_scale > 0,
             f"env.tip_reward_weight must be >= 0 and env.tip_reward_scale > 0 (got {self.tip_reward_weight}, {self.tip_reward_scale})"),
        ])  # fmt: skip


class ReachTask(HandTask):
    """Fingertips to random reachable targets (positions relative to the palm centre)."""

    settings_type = ReachSettings
    settings: ReachSettings

    def _task_init(self) -> None:
        self.goal_tips = np.zeros((self.num_envs, len(self.ids.fingertip_site), 3))
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
        """Targets of a random reachable pose, redrawn while the hand already meets them (no
        free successes)."""
        m, d = self.sim.models[i], self.sim.datas[i]
        mujoco.mj_kinematics(m, d)
        now = self._tips_of(d)
        for _ in range(_MAX_GOAL_DRAWS):
            goal = self._draw_goal_tips(i, rng)
            if not (np.linalg.norm(goal - now, axis=-1) < self.cfg.success_tolerance).all():
                break
        self.goal_tips[i] = goal
        palm = d.site_xpos[self.ids.palm_site]
        for k, mocap in enumerate(self.ids.target_mocap):
            d.mocap_pos[mocap] = palm + goal[k]

    def _tips_of(self, d: mujoco.MjData) -> np.ndarray:
        return d.site_xpos[self.ids.fingertip_site] - d.site_xpos[self.ids.palm_site]

    def _draw_goal_tips(self, i: int, rng: np.random.Generator) -> np.ndarray:
        """[n_tips, 3] fingertips (palm frame) of a pose within reach_target_range of the ranges."""
        m, d = self.sim.models[i], self.sim.datas[i]
        saved = d.qpos.copy()
        frac = self.settings.reach_target_range
        q = self._ready_qpos + frac * (rng.uniform(self._lo, self._hi) - self._ready_qpos)
        for j1, j2 in self._coupled:
            q[j1] = q[j2]
        d.qpos[self.ids.hand_qpos_adr] = q
        mujoco.mj_kinematics(m, d)
        tips = self._tips_of(d).copy()
        d.qpos[:] = saved
        mujoco.mj_kinematics(m, d)
        return tips

    def tip_errors(self) -> np.ndarray:
        """[K, n_tips] distance of each fingertip to its target (m)."""
        return np.linalg.norm(self.fingertips() - self.goal_tips, axis=-1)

    def _task_distance(self) -> np.ndarray:
        return self.tip_errors().mean(axis=1)

    def _task_reward_terms(self) -> dict[str, np.ndarray]:
        """tip_kernel: per-fingertip kernel, mean over tips of exp(-error / tip_reward_scale),
        every step. The distance term pays for the *mean* distance while success needs *every*
        tip within 1 cm; the kernel's slope is steepest near zero, so each tip's last centimetre
        pays."""
        if self.settings.tip_reward_weight == 0.0:
            return {}
        kernel = np.exp(-self.tip_errors() / self.settings.tip_reward_scale).mean(axis=1)
        return {"tip_kernel": self.settings.tip_reward_weight * kernel}

    def _task_success(self, distance: np.ndarray) -> np.ndarray:
        return np.asarray((self.tip_errors() < self.cfg.success_tolerance).all(axis=1))

    def _task_obs_terms(self) -> list[tuple[ObsPart, np.ndarray]]:
        tips = self.fingertips()
        frame = "world axes, origin at the palm centre"
        K, n = self.num_envs, 3 * tips.shape[1]  # sizes from the robot: 3 per fingertip site
        return [
            (ObsPart("fingertip_pos", n, "m", frame, "fingertip_pos",
                     f"{n // 3} fingertips (robot order) x (x, y, z)", source=FINGERTIP_POSITIONS),
             tips.reshape(K, -1)),
            (ObsPart("target_pos", n, "m", frame, "exact", "each fingertip's target", source=FINGERTIP_TARGETS),
             self.goal_tips.reshape(K, -1)),
            (ObsPart("target_minus_fingertip", n, "m", frame, "fingertip_pos", source=FINGERTIP_TARGET_ERRORS),
             (self.goal_tips - tips).reshape(K, -1)),
        ]  # fmt: skip

    def deploy_goal(self, i: int) -> dict[str, np.ndarray]:
        return {"target_pos": self.goal_tips[i].reshape(-1).copy()}

    def goal_lines(self, i: int) -> list[str]:
        return [f"goal: fingertip error {1000 * float(self.distance[i]):.0f} mm"]


register_task("reach", ReachTask, gym_id="dexrl/Reach-v0")

"""The observations of a `HandTask`: named policy and critic parts, and the readings a real hand
(or `dexrl.eval.sim_hand.SimHand`) gives the deploy runtime for the same state.

Each policy part carries its real-hand source (`dexrl.obs_parts`); the task's own parts come from
`_task_obs_terms`, followed by the hand's proprioception and control state. The critic sees the
clean policy parts followed by privileged simulator parts (full qpos / qvel, touch, the task's
`_task_privileged_terms`), all named (`critic_obs_parts`) and never exported.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.obs_parts import (
    CONTROL_LAST_ACTION,
    CONTROL_SMOOTHED_ACTION,
    CONTROL_TARGETS,
    JOINT_ENCODERS,
    SIMULATOR,
    ObsPart,
)

Term = tuple[ObsPart, np.ndarray]  # a part and its value [K, part.size]


class TaskObservations:
    """Mixed into `dexrl.tasks.base.HandTask`: everything about what the task observes."""

    # Set by HandTask.__init__ (declared here for the type checker).
    cfg: EnvConfig
    num_envs: int
    action_dim: int
    ids: Any  # dexrl.sim.model.HandModelIds
    qpos: np.ndarray
    qvel: np.ndarray
    site_pos: np.ndarray
    touch: np.ndarray
    targets: np.ndarray
    smoothed_action: np.ndarray
    last_action: np.ndarray
    obs_dim: int
    obs_noise_corr: np.ndarray
    obs_noise_uncorr_std: np.ndarray

    def _env_normals(self, envs: np.ndarray, size: int) -> np.ndarray:
        raise NotImplementedError

    # ----------------------------------------------------------------- state read by the parts
    def palm_pos(self) -> np.ndarray:
        """[K, 3] palm centre in the world (m)."""
        return self.site_pos[:, 0]

    def fingertips(self) -> np.ndarray:
        """[K, n_tips, 3] fingertip positions relative to the palm centre (m), robot order."""
        return self.site_pos[:, 1:] - self.site_pos[:, :1]

    def hand_qpos(self) -> np.ndarray:
        return self.qpos[:, self.ids.hand_qpos_adr]

    # ----------------------------------------------------------------- vectors
    def observations(self) -> tuple[np.ndarray, np.ndarray]:
        """(policy obs [K, Do], critic obs [K, Dc]) from one pass over the snapshot."""
        clean = self._policy_obs_clean()
        return self._noisy(clean), self._critic(clean)

    def policy_obs(self) -> np.ndarray:
        """[K, Do] what a real hand could sense, with observation noise."""
        return self._noisy(self._policy_obs_clean())

    def critic_obs(self) -> np.ndarray:
        """[K, Dc] privileged: clean policy obs, full qpos/qvel, touch forces, task extras."""
        return self._critic(self._policy_obs_clean())

    def _policy_obs_clean(self) -> np.ndarray:
        return np.concatenate([value for _, value in self._policy_terms()], axis=1)

    def _noisy(self, clean: np.ndarray) -> np.ndarray:
        out = clean + self.obs_noise_corr
        noisy = np.flatnonzero(self.obs_noise_uncorr_std.any(axis=1))
        if noisy.size:
            out[noisy] += self.obs_noise_uncorr_std[noisy] * self._env_normals(noisy, self.obs_dim)
        return out.astype(np.float32)

    def _critic(self, clean: np.ndarray) -> np.ndarray:
        parts = [clean, *(value for _, value in self._privileged_terms())]
        return np.concatenate(parts, axis=1).astype(np.float32)

    # ----------------------------------------------------------------- named parts
    def policy_obs_parts(self) -> tuple[ObsPart, ...]:
        """The named parts of the policy observation, in order (sizes sum to obs_dim); each
        names its real-hand source (what the export manifest and dexrl.deploy use)."""
        return tuple(part for part, _ in self._policy_terms())

    def critic_obs_parts(self) -> tuple[ObsPart, ...]:
        """The named parts of the critic observation, in order (sizes sum to critic_obs_dim): the
        clean policy parts, then the simulator's privileged parts (never exported)."""
        return (*self.policy_obs_parts(), *(part for part, _ in self._privileged_terms()))

    def _check_obs_parts(self) -> None:
        """Once, at construction: each part's value has its declared size; critic-only parts
        have the simulator as their source."""
        for part, value in [*self._policy_terms(), *self._privileged_terms()]:
            if value.shape != (self.num_envs, part.size):
                raise ValueError(
                    f"observation part {part.name!r} declares size {part.size} but gives "
                    f"{value.shape[1:]} per env"
                )
        for part, _ in self._privileged_terms():
            if part.source != SIMULATOR:
                raise ValueError(f"critic part {part.name!r} must have the simulator as its source")

    def _policy_terms(self) -> list[Term]:
        """The task's parts followed by the hand's proprioception and control state."""
        return [*self._task_obs_terms(), *self._proprioception_terms()]

    def _proprioception_terms(self) -> list[Term]:
        """What the hand's own controller knows: joint angles, the targets it is tracking, the
        smoothed action (relative control) and the last action. Without the targets and the
        EMA state the task is partially observable: the same observation can precede different
        motions (docs/architecture.md §12)."""
        A, J = self.action_dim, len(self.ids.hand_qpos_adr)
        terms = [
            (ObsPart("joint_pos", J, "rad", "joint space (robot joint order)", source=JOINT_ENCODERS),
             self.hand_qpos()),
            (ObsPart("joint_targets", A, "actuator ctrl units (rad; coupled J1+J2: sum of both)",
                     "actuator space (actuator order)",
                     description="position targets the actuators are tracking", source=CONTROL_TARGETS),
             self.targets),
        ]  # fmt: skip
        if self.cfg.action_mode == "relative":
            terms.append((ObsPart("smoothed_action", A, "action units [-1, 1]", "actuator space",
                                  description=f"EMA ({self.cfg.action_ema}) of executed actions",
                                  source=CONTROL_SMOOTHED_ACTION),
                          self.smoothed_action))  # fmt: skip
        terms.append((ObsPart("last_action", A, "action units [-1, 1]", "actuator space",
                              source=CONTROL_LAST_ACTION), self.last_action))  # fmt: skip
        return terms

    def _privileged_terms(self) -> list[Term]:
        """The critic's simulator-only parts: every qpos and qvel (clipped), touch, the task's."""
        return [
            (ObsPart("qpos", self.qpos.shape[1], "MuJoCo qpos (m, rad, quaternions)", "model order",
                     source=SIMULATOR), self.qpos),
            (ObsPart("qvel", self.qvel.shape[1], "MuJoCo qvel (m/s, rad/s), clipped to +-50",
                     "model order", source=SIMULATOR), np.clip(self.qvel, -50.0, 50.0)),
            (ObsPart("touch", self.touch.shape[1], "touch sensor readings (N)", "robot touch sensors",
                     source=SIMULATOR), self.touch),
            *self._task_privileged_terms(),
        ]  # fmt: skip

    # ----------------------------------------------------------------- what a real hand reads
    def deploy_goal(self, i: int) -> dict[str, np.ndarray]:
        """Env i's goal as a goal source gives it to `dexrl.deploy` (the goal keys its parts read:
        goal_quat, target_pos, the face subgoal)."""
        return {}

    def tracker_reading(self, i: int) -> dict[str, np.ndarray]:
        """What an object tracker reports for env i, as `dexrl.deploy.SensorReading` fields
        (object_pos, object_quat; face_angle for the Rubik's cube); none without an object."""
        return {}

    # ----------------------------------------------------------------- task interface
    def _task_obs_terms(self) -> list[Term]:
        """[(part, value [K, size])] of the task's policy observation (goal, object, ...)."""
        raise NotImplementedError

    def _task_privileged_terms(self) -> list[Term]:
        """[(part, value [K, size])] the critic sees besides the rest (source: SIMULATOR)."""
        return []

"""The actions of a `HandTask`: a policy's [-1, 1] actions become the joint targets physics runs.

Per control step (`apply_actions`): clip to [-1, 1]; delay by the env's latency and add the
env's action noise (both per env, set by domain randomization: `dexrl.adr.appliers`); then, under
`action_mode: relative` ([D]), an exponential moving average of the executed actions, scaled by
`action_scale` × each actuator's half range, is added to the targets, or, under `absolute`, the
action maps the actuator range and the targets follow it through the EMA; then the
`pre_physics_hooks` run and `HandTask.physics_step` steps the physics. The targets and the EMA
state are observed (`dexrl.tasks.observations`, `_control_state`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dexrl.config import EnvConfig

ACTION_MODES = ("relative", "absolute")


class TaskActions:
    """Mixed into `dexrl.tasks.base.HandTask`: everything between a policy's actions and the
    joint targets of one control step."""

    # Set by HandTask.__init__ (declared here for the type checker).
    cfg: EnvConfig
    num_envs: int
    action_dim: int
    ctrl_low: np.ndarray
    ctrl_high: np.ndarray
    targets: np.ndarray
    smoothed_action: np.ndarray
    last_action: np.ndarray
    previous_action: np.ndarray
    action_delay: np.ndarray
    action_noise_std: np.ndarray
    _action_queue: np.ndarray
    pre_physics_hooks: list[Callable[[], None]]

    def physics_step(self) -> None:
        raise NotImplementedError

    def _env_normals(self, envs: np.ndarray, size: int) -> np.ndarray:
        raise NotImplementedError

    def check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions, dtype=np.float64)
        if a.shape != (self.num_envs, self.action_dim):
            raise ValueError(
                f"actions must have shape ({self.num_envs}, {self.action_dim}) "
                f"[num_envs, action_dim]; got {a.shape}"
            )
        if not np.isfinite(a).all():
            bad = np.argwhere(~np.isfinite(a))[0]
            raise ValueError(
                f"actions contain NaN or inf (first at env {bad[0]}, actuator {bad[1]}); "
                "check the policy output"
            )
        return a

    def apply_actions(self, actions: np.ndarray) -> None:
        """Actions -> EMA-smoothed joint targets, then physics for one control step.

        relative ([D]): the EMA of the actions, × action_scale × half range, is added to the
        targets each step. absolute (GPU peers): the action maps the actuator range to [-1, 1]
        and the targets follow it through the EMA. Either way the state the next step depends
        on (targets, and the smoothed action under relative control) is observed (`_control_state`).
        """
        a = np.clip(actions, -1.0, 1.0)
        self.previous_action = self.last_action
        ema = self.cfg.action_ema
        executed = self._executed_actions(a)
        half_range = 0.5 * (self.ctrl_high - self.ctrl_low)
        if self.cfg.action_mode == "absolute":
            command = 0.5 * (self.ctrl_high + self.ctrl_low) + executed * half_range
            self.targets = ema * command + (1.0 - ema) * self.targets
        else:
            self.smoothed_action = ema * executed + (1.0 - ema) * self.smoothed_action
            step = self.smoothed_action * self.cfg.action_scale * half_range
            self.targets = np.clip(self.targets + step, self.ctrl_low, self.ctrl_high)
        self.last_action = a
        for hook in self.pre_physics_hooks:
            hook()
        self.physics_step()

    def _executed_actions(self, a: np.ndarray) -> np.ndarray:
        """[K, A] what the hand executes: the action of `action_delay` steps ago, plus noise."""
        if self.action_delay.any():
            depth = int(self.action_delay.max()) + 1
            if self._action_queue.shape[1] < depth:
                grow = depth - self._action_queue.shape[1]
                self._action_queue = np.pad(self._action_queue, ((0, 0), (0, grow), (0, 0)))
            q = self._action_queue
            q[:, 1:] = q[:, :-1].copy()
            q[:, 0] = a
            a = q[np.arange(self.num_envs), self.action_delay]  # fancy indexing: a copy
        noisy = np.flatnonzero(self.action_noise_std)
        if noisy.size:
            a = a.copy()
            noise = self.action_noise_std[noisy, None] * self._env_normals(noisy, self.action_dim)
            a[noisy] = np.clip(a[noisy] + noise, -1.0, 1.0)
        return a

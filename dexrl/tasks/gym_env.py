"""Single-env gymnasium API over a batched task with K = 1.

Observations are a Dict: `policy` (what a real hand senses) and `critic` (privileged state), or
only the policy array with `obs_mode="policy"` (for reference trainers that expect a Box).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from dexrl.config import EnvConfig
from dexrl.tasks.registry import make_task


class DexHandEnv(gym.Env):
    """`gymnasium.make("dexrl/CubeRotate-v0")` and friends."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 12.5}

    def __init__(
        self,
        env: str | EnvConfig = "cube_rotate",
        render_mode: str | None = None,
        obs_mode: str = "dict",
        width: int = 480,
        height: int = 360,
        camera: str = "front",
        **overrides: Any,
    ) -> None:
        if obs_mode not in ("dict", "policy"):
            raise ValueError(f"obs_mode must be 'dict' or 'policy' (got '{obs_mode}')")
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"render_mode must be None or 'rgb_array' (got '{render_mode}')")
        if isinstance(env, EnvConfig) and overrides:
            raise ValueError(
                f"DexHandEnv got an EnvConfig and overrides {sorted(overrides)}; put the values in "
                "the EnvConfig (dataclasses.replace) or pass the env name with the overrides"
            )
        self.task = make_task(env, num_envs=1, seed=0, overrides=overrides, autoreset=False)
        self.obs_mode = obs_mode
        self.render_mode = render_mode
        self._render_args = (width, height, camera)
        self._renderer: Any = None
        self._seeded = False  # has reset() chosen the task's random stream yet?
        policy = gym.spaces.Box(-np.inf, np.inf, (self.task.obs_dim,), np.float32)
        critic = gym.spaces.Box(-np.inf, np.inf, (self.task.critic_obs_dim,), np.float32)
        self.observation_space = (
            gym.spaces.Dict({"policy": policy, "critic": critic}) if obs_mode == "dict" else policy
        )
        self.action_space = gym.spaces.Box(-1.0, 1.0, (self.task.action_dim,), np.float32)
        fps = 1.0 / (self.task.cfg.timestep * self.task.cfg.substeps)
        self.metadata = {**self.metadata, "render_fps": fps}

    def _obs(self, policy: np.ndarray, critic: np.ndarray) -> Any:
        if self.obs_mode == "policy":
            return policy[0]
        return {"policy": policy[0], "critic": critic[0]}

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        if seed is not None:
            self.task.reseed(0, seed)
        elif not self._seeded:
            # Gymnasium's contract: an env first reset without a seed draws one from entropy
            # (self.np_random). Without this every instance would replay the task's default
            # seed 0, and `gym.make_vec(...).reset()` would step K identical copies.
            self.task.reseed(0, int(self.np_random.integers(2**63 - 1)))
        self._seeded = True
        self.task.reset_env(0)
        return self._obs(*self.task.observations()), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        a = np.asarray(action, dtype=np.float64)
        if a.shape != (self.task.action_dim,):
            raise ValueError(f"action must have shape ({self.task.action_dim},); got {a.shape}")
        r = self.task.step(a[None])
        info = {k: v[0].item() if v.ndim == 1 else v[0] for k, v in r.info.items()}
        return (
            self._obs(r.obs, r.critic_obs),
            float(r.reward[0]),
            bool(r.terminated[0]),
            bool(r.truncated[0]),
            info,
        )

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._renderer is None:
            from dexrl.sim.render import FrameRenderer

            w, h, cam = self._render_args
            self._renderer = FrameRenderer(self.task.sim.models[0], width=w, height=h, camera=cam)
        return self._renderer.render(self.task.sim.datas[0])  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

"""Stand-in rollout workers for measuring the driver at cluster scale on one machine.

A `StandInWorker` answers the trainer exactly as `dexrl.distributed.worker.RolloutWorker` does
(`dims`, `pid`, `node`, `rollout(weights)` → (batch, statistics)) but steps no physics: it
receives the broadcast weights, waits a fixed stepping time, and returns a batch of the real size
and layout (`num_envs × horizon` samples of the task's observation, critic and action sizes,
random values) with episode statistics, reporting each finished episode to the ADR actor when the
run has one. It imports numpy, Ray and the torch-free parts of dexrl only, so 64 of them fit in a
laptop's memory. `scripts/bench_driver.py` runs the real `Trainer` against N of them.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from dexrl.distributed.worker import EpisodeStats
from dexrl.rl.running_stats import compute_moments
from dexrl.rl.storage import RolloutBatch


class StandInWorker:
    """Same constructor and calls as RolloutWorker; `dims` (obs_dim, critic_obs_dim, action_dim)
    of the real task, `step_time_s` the stepping time a real rollout would take, and an episode
    ending every `episode_steps` steps per env."""

    def __init__(
        self, env_cfg: Any, model_cfg: Any, num_envs: int, horizon: int, seed: int,
        obs_clip: float = 5.0, randomizer: Any = None, *, dims: dict[str, int],
        step_time_s: float = 1.0, episode_steps: int = 400,
    ) -> None:  # fmt: skip
        self.num_envs, self.horizon, self.dim = num_envs, horizon, dict(dims)
        self.step_time_s, self.episode_steps = step_time_s, max(1, episode_steps)
        self.randomizer = randomizer
        if randomizer is not None:
            randomizer.prefetch = 2 * num_envs  # as attach() sets it on a real task
        self.rng = np.random.default_rng(seed)
        self.node_id = _node_id()
        self.batch = self._batch()  # the same arrays every call: building them is not the driver's cost
        self.rollouts = 0

    def dims(self) -> dict[str, int]:
        return dict(self.dim)

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        return self.node_id

    def rollout(self, actor_state: Any) -> tuple[RolloutBatch, dict[str, Any]]:
        """Wait the stepping time (the weights are already deserialised by Ray), then return the
        batch and the statistics of the episodes that ended meanwhile."""
        time.sleep(self.step_time_s)
        start = self.rollouts * self.horizon
        self.rollouts += 1
        ended = (start + self.horizon) // self.episode_steps - start // self.episode_steps
        episodes = ended * self.num_envs
        successes = self.rng.integers(0, 5, episodes)
        if self.randomizer is not None:
            for s in successes:
                self.randomizer.record_episode(float(s))
            self.randomizer.flush()
        stats = EpisodeStats(returns=self.rng.normal(size=episodes).tolist(),
                             lengths=[self.episode_steps] * episodes, successes=successes.tolist(),
                             dropped=[False] * episodes, env_steps=self.num_envs * self.horizon,
                             step_successes=int(successes.sum()), node_id=self.node_id)  # fmt: skip
        return self.batch, stats.as_dict()

    def _batch(self) -> RolloutBatch:
        t, b, do, dc, a = (self.horizon, self.num_envs, self.dim["obs_dim"], self.dim["critic_obs_dim"],
                           self.dim["action_dim"])  # fmt: skip

        def f32(*shape: int) -> np.ndarray:
            return self.rng.standard_normal(shape, dtype=np.float32)

        obs, critic = f32(t, b, do), f32(t, b, dc)
        done = self.rng.random((t, b)) < 1.0 / self.episode_steps
        starts = np.zeros((t, b), dtype=bool)
        starts[1:] = done[:-1]
        return RolloutBatch(obs=obs, critic_obs=critic, actions=f32(t, b, a), logp=f32(t, b),
                            action_mean=f32(t, b, a), action_std=np.ones((t, b, a), np.float32),
                            rewards=f32(t, b), terminated=np.zeros((t, b), bool), truncated=done,
                            final_critic_obs=critic[done],
                            last_critic_obs=f32(b, dc), episode_starts=starts,
                            obs_moments=compute_moments(obs, (do,)),
                            critic_obs_moments=compute_moments(critic, (dc,)))  # fmt: skip


class StandInWorkers:
    """The `worker_cls` a Trainer takes: `.remote(*RolloutWorker args)` starts a StandInWorker
    actor with `dims` and the stepping time bound. `num_cpus` 0: dozens share a laptop's cores
    (they sleep; the driver is what is measured)."""

    def __init__(self, dims: dict[str, int], step_time_s: float, episode_steps: int = 400) -> None:
        import ray

        self.kwargs = {"dims": dict(dims), "step_time_s": step_time_s, "episode_steps": episode_steps}
        self.actor = ray.remote(num_cpus=0, max_restarts=0)(StandInWorker)

    def remote(self, *args: Any) -> Any:
        return self.actor.remote(*args, **self.kwargs)


def _node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""

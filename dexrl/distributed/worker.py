"""Rollout worker: K envs stepped together with a numpy copy of the policy.

The same class runs in-process (tests, evaluation) and as a Ray actor (`RolloutWorker.remote`
via `make_worker_actor`). A worker keeps its envs, observations and recurrent state between
rollouts, so episodes continue across iterations; only the weights change.

No torch here, nor in anything this module imports: the policy runs as `NumpyActor` and the
weights arrive as numpy arrays (`PPOLearner.actor_state()`), so a worker process holds the
physics and the policy, not torch (torch added about 190 MiB RSS to each worker;
scripts/bench_worker_rss.py measures it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.rl.config import ModelConfig
from dexrl.rl.numpy_actor import NumpyActor, NumpyHidden
from dexrl.rl.storage import RolloutBatch, RolloutBuffer
from dexrl.tasks.registry import make_task


@dataclass
class EpisodeStats:
    """Statistics of the episodes that ended during one rollout (lists, one entry per episode)."""

    returns: list[float] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    successes: list[int] = field(default_factory=list)
    dropped: list[bool] = field(default_factory=list)
    solved: list[bool] = field(default_factory=list)  # cube_solve only: info["cube_solved"]
    # Per-episode sum of each named reward term: {"reward/<term>": [one value per episode]}.
    reward_terms: dict[str, list[float]] = field(default_factory=dict)
    unhealthy: int = 0
    dropped_envs: int = 0  # envs whose rollout was withheld from the learner (diverged physics)
    env_steps: int = 0
    step_successes: int = 0
    node_id: str = ""  # the Ray node the worker ran on ("" outside Ray): shows the spread over nodes

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RolloutWorker:
    """Collects `horizon` steps from `num_envs` envs per call of `rollout`."""

    def __init__(
        self,
        env_cfg: EnvConfig,
        model_cfg: ModelConfig,
        num_envs: int,
        horizon: int,
        seed: int,
        obs_clip: float = 5.0,
        randomizer: Any = None,
    ) -> None:
        self.task = make_task(env_cfg, num_envs=num_envs, seed=seed)
        self.randomizer = randomizer
        if randomizer is not None:
            randomizer.attach(self.task)
        self.horizon = horizon
        self.node_id = _ray_node_id()
        self.actor = NumpyActor(self.task.obs_dim, self.task.action_dim, model_cfg, obs_clip)
        self.rng = np.random.default_rng(seed)  # the policy's action noise
        self.buffer = RolloutBuffer(
            horizon, num_envs, self.task.obs_dim, self.task.critic_obs_dim, self.task.action_dim
        )
        self.obs, self.critic_obs = self.task.reset()
        self.starts = np.ones(num_envs, dtype=bool)
        self.hidden: NumpyHidden = self.actor.initial_state(num_envs)

    def dims(self) -> dict[str, int]:
        return {
            "obs_dim": self.task.obs_dim,
            "critic_obs_dim": self.task.critic_obs_dim,
            "action_dim": self.task.action_dim,
        }

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The Ray node this worker runs on (the start line of workers per node)."""
        return self.node_id

    def rollout(self, actor_state: dict[str, Any] | None) -> tuple[RolloutBatch | None, dict[str, Any]]:
        """Load weights (`PPOLearner.actor_state()`, if given), run `horizon` steps, return the
        batch and episode statistics.

        Environments whose physics diverged during the rollout (an ADR sample can make a model
        unstable) are dropped from the batch: their data never reaches the learner. The batch
        is None when every environment diverged.
        """
        if actor_state is not None:
            self.actor.load_state(actor_state)
        stats = EpisodeStats(node_id=self.node_id)
        hidden0 = self.hidden
        healthy = np.ones(self.task.num_envs, dtype=bool)
        for _ in range(self.horizon):
            step = self.actor.sample(
                self.obs, self.hidden, episode_starts=self.starts, rng=self.rng
            )
            self.hidden = step.hidden
            r = self.task.step(step.actions)
            self.buffer.add(
                self.obs, self.critic_obs, step.actions, step.logp, r.reward.astype(np.float32),
                r.terminated, r.truncated, self.starts, r.info.get("final_critic_obs"),
                action_mean=step.mean, action_std=step.std,
            )  # fmt: skip
            self._record(r.info, stats)
            healthy &= ~r.info["unhealthy"]
            self.obs, self.critic_obs = r.obs, r.critic_obs
            self.starts = r.terminated | r.truncated
        if self.randomizer is not None:
            self.randomizer.flush()  # send this rollout's boundary results to the ADR actor
        batch: RolloutBatch | None = self.buffer.finish(self.critic_obs, hidden0)
        stats.dropped_envs = int((~healthy).sum())
        if not healthy.all():
            batch = batch.select_envs(healthy) if healthy.any() else None  # type: ignore[union-attr]
        stats.env_steps = self.horizon * self.task.num_envs  # simulated, used or not
        return batch, stats.as_dict()

    def _record(self, info: dict[str, np.ndarray], stats: EpisodeStats) -> None:
        stats.step_successes += int(info["is_success"].sum())
        stats.unhealthy += int(info["unhealthy"].sum())
        done = info.get("episode_done")
        if done is None:
            return
        for i in np.flatnonzero(done):
            stats.returns.append(float(info["episode_return"][i]))
            stats.lengths.append(int(info["episode_length"][i]))
            stats.successes.append(int(info["episode_successes"][i]))
            stats.dropped.append(bool(info["dropped"][i]))
            for key in info:
                if key.startswith("reward/"):
                    stats.reward_terms.setdefault(key, []).append(float(info[key][i]))
            if "cube_solved" in info:  # a solve, not a subgoal (successes count subgoals there)
                stats.solved.append(bool(info["cube_solved"][i]))


def make_worker_actor(num_cpus: float = 1.0) -> Any:
    """The Ray actor class: restarted without limit when its process dies (the constructor
    runs again with the same arguments); a call in flight then fails and the trainer logs it."""
    import ray

    # SPREAD: on a cluster, workers go to different nodes first (the physics is the work, and a
    # lost node then takes fewer workers with it); on one machine it changes nothing.
    # MUJOCO_GL=disable: a rollout worker never renders, and `import mujoco` with MUJOCO_GL=osmesa
    # (headless machines, CI) loads PyOpenGL and OSMesa: 57 MiB more per worker, measured with
    # scripts/bench_worker_rss.py. The video actor (dexrl.distributed.video) keeps the user's.
    # BLAS threads = the worker's CPUs (docs/architecture.md §17): numpy's OpenBLAS otherwise
    # starts a busy-waiting thread per core in every worker; with 2 workers and the learner on 2
    # cores the policy's matmuls took 9.5-21 ms per step of 64 envs instead of 0.6-0.8 (reach /
    # cube_rotate_z, measured).
    threads = str(max(1, round(num_cpus)))
    env_vars = {"MUJOCO_GL": "disable", **dict.fromkeys(BLAS_THREAD_VARS, threads)}
    return ray.remote(num_cpus=num_cpus, max_restarts=-1, max_task_retries=0, scheduling_strategy="SPREAD",
                      runtime_env={"env_vars": env_vars})(RolloutWorker)  # fmt: skip


BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""What caps numpy's BLAS threads (read when numpy loads, so set before the worker starts)."""


def _ray_node_id() -> str:
    import ray

    return ray.get_runtime_context().get_node_id() if ray.is_initialized() else ""

"""What every group of the doctor shares: the typed configs of the run it examines, an in-process
rollout with the real worker code, and learners prepared the way `PPOLearner.update` prepares them.

The doctor measures from the outside: it calls the learner's own methods (the steps of `update`,
in `update`'s order) and never changes the update code, so what it measures is what training runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from dexrl.config import EnvConfig, TrainConfig
from dexrl.distributed.worker import RolloutWorker
from dexrl.rl.config import ModelConfig, PPOConfig, resolve_gamma
from dexrl.rl.learner import PPOLearner, PreparedBatch
from dexrl.rl.storage import RolloutBatch


@dataclass
class DoctorSetup:
    """The run under examination: typed configs (as `scripts/train.py` builds them) and sizes."""

    env: EnvConfig
    model: ModelConfig
    ppo: PPOConfig
    train: TrainConfig
    adr: Any = None  # ADRConfig (mode none/manual/auto)
    ray: Any = None  # RayConfig for the real-worker check
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ppo = resolve_gamma(self.ppo, self.env.gamma)  # algo.gamma null = the task's

    @property
    def num_envs(self) -> int:
        """Envs of one iteration's batch: workers x envs_per_worker ("auto" workers = this
        process's cores, as Ray's default counts them)."""
        workers = self.train.num_workers
        if workers == "auto":
            workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        return int(workers) * self.train.envs_per_worker


@dataclass
class Rollout:
    """One batch from the real worker code, plus the actions the hand executed each step."""

    batch: RolloutBatch
    executed: NDArray[np.float64]  # [T, K, A] the task's clipped action (`task.last_action`)
    stats: dict[str, Any]
    parts: list[Any] = field(default_factory=list)  # the task's ObsParts (names of obs dims)


class Collector:
    """An in-process `RolloutWorker` (the same class the Ray actors run) over the whole batch."""

    def __init__(self, setup: DoctorSetup, seed_offset: int = 0) -> None:
        self.worker = RolloutWorker(setup.env, setup.model, setup.num_envs, setup.train.horizon,
                                    setup.seed + 1000 + seed_offset, setup.ppo.obs_clip)  # fmt: skip
        self._executed: list[NDArray[np.float64]] = []
        task = self.worker.task
        task.pre_physics_hooks.append(lambda: self._executed.append(task.last_action.copy()))

    @property
    def task(self) -> Any:
        return self.worker.task

    def rollout(self, learner: PPOLearner) -> Rollout:
        self._executed = []
        batch, stats = self.worker.rollout(learner.actor_state())
        if batch is None:
            raise RuntimeError("every env's physics diverged during the doctor's rollout")
        # [T, K] over all K envs (a diverged env's rows may be withheld from the batch, not here)
        return Rollout(batch, np.stack(self._executed), stats, list(self.task.policy_obs_parts()))


def make_learner(setup: DoctorSetup, obs_dim: int, critic_obs_dim: int, action_dim: int) -> PPOLearner:
    """A CPU learner for the setup's configs (the doctor's numbers must not depend on a GPU)."""
    return PPOLearner(obs_dim, critic_obs_dim, action_dim, setup.ppo, setup.model,
                      device="cpu", seed=setup.seed)  # fmt: skip


def clone_learner(learner: PPOLearner, ppo: PPOConfig | None = None) -> PPOLearner:
    """An independent copy (weights, optimizers, normalizers, RNG) via the checkpoint state."""
    dims = learner.dims
    copy = PPOLearner(dims["obs_dim"], dims["critic_obs_dim"], dims["action_dim"],
                      ppo or learner.ppo, learner.model, device="cpu")  # fmt: skip
    copy.load_state_dict(learner.state_dict())
    return copy


Prepared = PreparedBatch  # the doctor's name for a batch after steps 1-5 of PPOLearner.update


def prepare(learner: PPOLearner, batch: RolloutBatch) -> Prepared:
    """Steps 1-5 of `PPOLearner.update`, by the learner itself (`PPOLearner.prepare`)."""
    return learner.prepare(batch)


def whole_batch(prepared: Prepared) -> torch.Tensor:
    """Indices of every sequence (one minibatch holding the whole batch)."""
    return torch.arange(prepared.sequences["obs"].shape[1])


def policy_mean(learner: PPOLearner, prepared: Prepared) -> torch.Tensor:
    """The actor's mean over the whole batch [L, N, A] (with gradient)."""
    seq = prepared.sequences
    mean, _ = learner.actor(seq["obs"], prepared.hidden0 or None, seq["episode_starts"])
    return mean


def log_prob(mean: torch.Tensor, log_std: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Diagonal-Gaussian log-density summed over the action dimension, written out here (not
    torch.distributions) so the doctor's reference does not share code with the learner."""
    z = (actions - mean) / log_std.exp()
    return (-0.5 * z.square() - log_std - 0.5 * np.log(2.0 * np.pi)).sum(-1)


def surrogate_terms(
    learner: PPOLearner, prepared: Prepared, advantages: torch.Tensor | None = None
) -> torch.Tensor:
    """PPO's clipped surrogate per sample [L, N] (to be maximized), from first principles:
    min(r A, clip(r, 1-eps, 1+eps) A), r = pi/pi_behaviour, A normalized over the whole batch
    when the config normalizes advantages (Schulman et al. 2017)."""
    seq = prepared.sequences
    adv = seq["advantages"] if advantages is None else advantages
    if learner.ppo.normalize_advantages:
        adv = (adv - adv.mean()) / (adv.std(correction=0) + 1e-8)
    logp = log_prob(policy_mean(learner, prepared), learner.actor.log_std, seq["actions"])
    ratio = (logp - seq["logp_old"]).exp()
    eps = learner.ppo.clip
    return torch.minimum(ratio * adv, ratio.clamp(1 - eps, 1 + eps) * adv)


def reference_surrogate(
    learner: PPOLearner, prepared: Prepared, advantages: torch.Tensor | None = None
) -> torch.Tensor:
    """The clipped surrogate's mean over the whole batch (`surrogate_terms`)."""
    return surrogate_terms(learner, prepared, advantages).mean()


def with_ppo(setup: DoctorSetup, **changes: Any) -> DoctorSetup:
    return replace(setup, ppo=replace(setup.ppo, **changes))

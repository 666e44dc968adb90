"""Shared by tests/export and tests/deploy: a checkpoint with a lively policy, written the way
the trainer writes one (learner state + the config record), and its export."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dexrl.checkpoint import save_checkpoint
from dexrl.config import EnvConfig, load_env_config
from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner
from dexrl.run_record import run_config_record
from dexrl.tasks.registry import make_task

SMALL = {"actor_hidden": (64, 64), "lstm_dense": (64,), "lstm_size": 32, "critic_hidden": (32,)}


def env_config(name: str = "cube_rotate_z", **overrides: Any) -> EnvConfig:
    return load_env_config(name, overrides or None)


def make_learner(env: EnvConfig, kind: str, seed: int = 0) -> PPOLearner:
    """A learner whose actor has real normalizer statistics (from observations of the task) and
    a mean head scaled up, so actions vary and reach the [-1, 1] clip (an untrained head is ~0)."""
    task = make_task(env, num_envs=8, seed=seed)
    model = ModelConfig(kind=kind, **SMALL)  # type: ignore[arg-type]
    learner = PPOLearner(task.obs_dim, task.critic_obs_dim, task.action_dim, PPOConfig(), model,
                         device="cpu", seed=seed)  # fmt: skip
    rng = np.random.default_rng(seed)
    obs = [task.reset()[0]]
    for _ in range(10):
        obs.append(task.step(rng.uniform(-1, 1, (8, task.action_dim))).obs)
    learner.obs_rms.update(np.concatenate(obs))
    learner.actor.obs_normalizer.set_stats(learner.obs_rms)
    generator = torch.Generator().manual_seed(seed)  # the same policy whatever ran before
    with torch.no_grad():
        head = learner.actor.mean_head
        head.weight.mul_(30.0)
        head.bias.copy_(0.6 * torch.rand(head.bias.shape, generator=generator) - 0.3)
    return learner


def write_checkpoint(directory: Path, env: EnvConfig, kind: str, seed: int = 0) -> Path:
    return save_learner(directory, env, make_learner(env, kind, seed), iteration=3, env_steps=6144)


def write_trained_checkpoint(directory: Path, env: EnvConfig, kind: str = "mlp", iterations: int = 1,
                             seed: int = 0) -> Path:  # fmt: skip
    """A freshly trained policy: `make_learner`'s, then `iterations` PPO updates on rollouts of
    `env` (4 envs x 8 steps each, one in-process worker as the trainer's Ray workers run it)."""
    from dexrl.distributed.worker import RolloutWorker

    learner = make_learner(env, kind, seed)
    worker = RolloutWorker(env, learner.model, num_envs=4, horizon=8, seed=seed, obs_clip=learner.ppo.obs_clip)
    for _ in range(iterations):
        batch, _ = worker.rollout(learner.actor_state())
        assert batch is not None
        learner.update(batch)
    return save_learner(directory, env, learner, iteration=iterations, env_steps=32 * iterations)


def save_learner(directory: Path, env: EnvConfig, learner: PPOLearner, iteration: int, env_steps: int) -> Path:
    """The checkpoint the trainer would write for `learner` (learner state + the config record)."""
    counters = {"iteration": iteration, "env_steps": env_steps, "wall_time_s": 1.0, "worker_restarts": 0}
    state = {"learner": learner.state_dict(), "counters": counters, "adr": None,
             "torch_rng": torch.get_rng_state()}  # fmt: skip
    meta = {"env": env.name, "task": env.task, "counters": counters,
            "config": run_config_record(env, learner.model, learner.ppo, None, algorithm=learner.algorithm)}  # fmt: skip
    save_checkpoint(directory, state, meta)
    return directory


__all__ = ["SMALL", "env_config", "make_learner", "replace", "save_learner", "write_checkpoint",
           "write_trained_checkpoint"]

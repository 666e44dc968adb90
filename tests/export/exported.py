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
from dexrl.frontdoor import run_config_record
from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner
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
    learner = make_learner(env, kind, seed)
    counters = {"iteration": 3, "env_steps": 6144, "wall_time_s": 1.0, "worker_restarts": 0}
    state = {"learner": learner.state_dict(), "counters": counters, "adr": None,
             "torch_rng": torch.get_rng_state()}  # fmt: skip
    meta = {"env": env.name, "task": env.task, "counters": counters,
            "config": run_config_record(env, learner.model, learner.ppo, None)}  # fmt: skip
    save_checkpoint(directory, state, meta)
    return directory


__all__ = ["SMALL", "env_config", "make_learner", "replace", "write_checkpoint"]

"""What a run settles before its first iteration: how many rollout workers, the PPO batch they
make (`resolve_batch`), the learner's CPU threads, which ADR parameters the env can vary and how
ADR is sized to the run's throughput, and where a resumed run's checkpoint is. The trainer
(`dexrl.distributed.trainer`) calls these in its constructor."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ray

from dexrl.config import EnvConfig, TrainConfig
from dexrl.rl.config import BatchShape, PPOConfig, resolve_minibatches


def adr_for_task(adr: Any, env: EnvConfig) -> tuple[Any, dict[str, str]]:
    """Disable the ADR parameters this env cannot randomize (checked on a one-env probe task)."""
    if adr is None or adr.mode == "none":
        return adr, {}
    from dexrl.adr.randomizer import config_for_task
    from dexrl.tasks.registry import make_task

    return config_for_task(adr, make_task(env, num_envs=1, seed=0, autoreset=False))


def adr_sized(adr: Any, env: EnvConfig, train: TrainConfig, workers: int) -> tuple[Any, Any]:
    """ADR sized to this run's throughput (dexrl.adr.sizing), and what the rule found (None
    without ADR auto). Runs after `adr_for_task`, so only the parameters this env randomizes
    count; episodes are taken as env.max_episode_steps long (an upper bound)."""
    if adr is None:
        return None, None
    from dexrl.adr.sizing import size_for_run

    return size_for_run(adr, workers, train.envs_per_worker, train.horizon, env.max_episode_steps)


def checkpoint_dir(resume: str) -> Path:
    p = Path(resume)
    return p / "checkpoints" / "latest" if (p / "checkpoints" / "latest").is_dir() else p


def resolve_num_workers(setting: Any) -> int:
    if setting == "auto":
        return max(1, int(ray.cluster_resources().get("CPU", 1)))
    return int(setting)


def resolve_batch(ppo: PPOConfig, train: TrainConfig, workers: int, kind: str = "mlp") -> tuple[PPOConfig, BatchShape]:
    """`ppo` with its minibatches for `workers` rollout workers of `train` (the rule:
    `dexrl.rl.config.resolve_minibatches`), and the update's shape; ConfigError (one line) when
    an explicit algo.minibatches does not fit the update."""
    from dexrl.config import ConfigError

    try:
        return resolve_minibatches(ppo, workers, train.envs_per_worker, train.horizon, kind)
    except ValueError as err:
        raise ConfigError(str(err)) from None


def choose_learner_threads(
    train: TrainConfig, num_workers: int, local: bool, cores: int | None = None
) -> int | None:
    """CPU threads for the learner (None: leave torch's default).

    Synchronous: the workers wait while the learner trains, so it takes every core. With
    policy_lag the learner trains while the workers roll out; on a local Ray it takes the cores
    the workers leave free (at least one), since more threads than cores make torch's spinning
    threads and the physics steal time from each other (measured: scripts/bench_train.py).
    """
    if train.learner_threads != "auto":
        return int(train.learner_threads)
    if cores is None:
        cores = local_cores()
    if not train.policy_lag:
        return cores
    return max(1, cores - num_workers) if local else None


def local_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by the CPUs Ray was given (Ray
    follows container quotas and `ray.num_cpus`; the affinity alone can be the whole host)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if ray.is_initialized():
        cores = min(cores, max(1, int(ray.cluster_resources().get("CPU", cores))))
    return cores

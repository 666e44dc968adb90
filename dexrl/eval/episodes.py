"""Run whole episodes of a batched task with any policy and summarize them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.tasks.registry import make_task

# obs [K, Do] -> actions [K, A]
PolicyFn = Callable[[np.ndarray], np.ndarray]


def run_episodes(env: EnvConfig, policy: PolicyFn | None, episodes: int, num_envs: int = 8,
                 seed: int = 0) -> dict[str, Any]:
    """Mean/median return and successes of `episodes` finished episodes.

    policy None = uniformly random actions in [-1, 1] (the random-policy baseline).
    """
    task = make_task(env, num_envs=num_envs, seed=seed)
    obs, _ = task.reset()
    rng = np.random.default_rng(seed)
    returns: list[float] = []
    successes: list[int] = []
    drops: list[bool] = []
    while len(returns) < episodes:
        actions = rng.uniform(-1, 1, (num_envs, task.action_dim)) if policy is None else policy(obs)
        r = task.step(actions)
        obs = r.obs
        done = r.info.get("episode_done")
        if done is None:
            continue
        for i in np.flatnonzero(done):
            returns.append(float(r.info["episode_return"][i]))
            successes.append(int(r.info["episode_successes"][i]))
            drops.append(bool(r.info["dropped"][i]))
    returns, successes, drops = returns[:episodes], successes[:episodes], drops[:episodes]
    return {
        "episodes": episodes,
        "return_mean": float(np.mean(returns)),
        "return_median": float(np.median(returns)),
        "consecutive_successes_mean": float(np.mean(successes)),
        "consecutive_successes_median": float(np.median(successes)),
        "success_rate": float(np.mean([s > 0 for s in successes])),
        "drop_rate": float(np.mean(drops)),
    }

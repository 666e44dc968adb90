"""Run whole episodes of a batched task with any policy and summarize them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.tasks.registry import make_task

# obs [K, Do] -> actions [K, A]
PolicyFn = Callable[[np.ndarray], np.ndarray]


def run_episodes(env: EnvConfig, policy: PolicyFn | None, episodes: int, num_envs: int = 8,
                 seed: int = 0) -> dict[str, Any]:
    """Mean/median return and successes of `episodes` finished episodes, and the mean
    per-episode sum of each named reward term (`reward/<term>`, e.g. cube_rotate_z's
    `reward/rotation_speed`: radians turned toward the goal).

    policy None = uniformly random actions in [-1, 1] (the random-policy baseline).
    """
    task = make_task(env, num_envs=num_envs, seed=seed)
    obs, _ = task.reset()
    rng = np.random.default_rng(seed)
    returns: list[float] = []
    successes: list[int] = []
    drops: list[bool] = []
    solved: list[bool] = []
    terms: dict[str, list[float]] = {}
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
            for key, sums in r.info.items():
                if key.startswith("reward/"):
                    terms.setdefault(key, []).append(float(sums[i]))
            if "cube_solved" in r.info:
                solved.append(bool(r.info["cube_solved"][i]))
    returns, successes, drops = returns[:episodes], successes[:episodes], drops[:episodes]
    extra = solve_summary(solved[:episodes], successes) if solved else {}
    return {
        "episodes": episodes,
        "return_mean": float(np.mean(returns)),
        "return_median": float(np.median(returns)),
        "consecutive_successes_mean": float(np.mean(successes)),
        "consecutive_successes_median": float(np.median(successes)),
        "success_rate": float(np.mean([s > 0 for s in successes])),
        "drop_rate": float(np.mean(drops)),
        **{key: float(np.mean(vals[:episodes])) for key, vals in sorted(terms.items())},
        **extra,
    }


def solve_summary(solved: Sequence[bool], subgoals: Sequence[int]) -> dict[str, float]:
    """cube_solve's own metrics over ended episodes (one entry each in both sequences).

    There a success is one subgoal (a flip or a quarter turn), so `success_rate` only says "at
    least one subgoal"; `solve_rate` is the fraction of episodes that solved the cube and
    `subgoals_completed` the mean number of subgoals an episode carried out.
    """
    if len(solved) != len(subgoals):
        raise ValueError(f"{len(solved)} solve flags for {len(subgoals)} episodes")
    return {
        "solve_rate": float(np.mean(solved)) if solved else float("nan"),
        "subgoals_completed": float(np.mean(subgoals)) if subgoals else float("nan"),
    }

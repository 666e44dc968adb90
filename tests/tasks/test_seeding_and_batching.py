"""Reproducibility: a seed fixes a trajectory bit for bit; and the batched task with K envs and
seed s is, step for step, K single gymnasium envs seeded s, s+1, ..., s+K-1 (the documented
equivalence in dexrl.tasks.base: env i draws from default_rng(seed + i); after an episode the
batched task auto-resets, a single env is reset() without a seed and keeps its generator)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

import dexrl  # noqa: F401  (registers the gymnasium ids)
from dexrl.tasks.registry import make_task

GYM_ID = "dexrl/CubeRotate-v0"
SHORT: dict[str, Any] = {"timeout_steps": 8}  # episodes end every few steps, so runs cross episode boundaries


def _rollout(seed: int, actions: np.ndarray, **overrides: Any) -> list[tuple]:  # type: ignore[type-arg]
    env = gym.make(GYM_ID, **overrides)
    obs, _ = env.reset(seed=seed)
    out: list[tuple] = [(obs["policy"].copy(), obs["critic"].copy())]  # type: ignore[type-arg]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs["policy"].copy(), obs["critic"].copy(), reward, terminated, truncated,
                    info["is_success"], info["dropped"]))
        if terminated or truncated:
            obs, _ = env.reset()
            out.append((obs["policy"].copy(), obs["critic"].copy()))
    env.close()
    return out


def _assert_same(a: list[tuple], b: list[tuple]) -> None:  # type: ignore[type-arg]
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert len(x) == len(y)
        for u, v in zip(x, y, strict=True):
            if isinstance(u, np.ndarray):
                np.testing.assert_array_equal(u, v)  # bitwise: same dtype, same bits
            else:
                assert u == v


def test_same_seed_same_actions_identical_trajectories() -> None:
    actions = np.random.default_rng(0).uniform(-1, 1, (30, 20)).astype(np.float32)
    first = _rollout(21, actions, **SHORT)
    second = _rollout(21, actions, **SHORT)
    assert sum(len(x) == 2 for x in first) >= 3, "the run should include at least two resets"
    _assert_same(first, second)


def test_different_seeds_differ() -> None:
    actions = np.random.default_rng(0).uniform(-1, 1, (5, 20)).astype(np.float32)
    a, b = _rollout(21, actions), _rollout(22, actions)
    assert not np.array_equal(a[0][0], b[0][0])  # different start pose and goal
    assert not np.array_equal(a[-1][1], b[-1][1])


def test_reset_with_a_seed_restarts_the_generator() -> None:
    """reset(seed=s) after some play gives what a fresh env gives for seed s."""
    env = gym.make(GYM_ID)
    env.reset(seed=4)
    for a in np.random.default_rng(1).uniform(-1, 1, (12, 20)).astype(np.float32):
        env.step(a)
    again, _ = env.reset(seed=4)
    fresh, _ = gym.make(GYM_ID).reset(seed=4)
    np.testing.assert_array_equal(again["policy"], fresh["policy"])
    np.testing.assert_array_equal(again["critic"], fresh["critic"])


def test_batched_task_equals_single_envs_across_episode_boundaries() -> None:
    K, seed, steps = 4, 100, 20
    batched = make_task("cube_rotate", num_envs=K, seed=seed, overrides=SHORT)
    singles = [gym.make(GYM_ID, **SHORT) for _ in range(K)]
    obs_b, critic_b = batched.reset()
    for i, env in enumerate(singles):
        obs, _ = env.reset(seed=seed + i)
        np.testing.assert_array_equal(obs["policy"], obs_b[i])
        np.testing.assert_array_equal(obs["critic"], critic_b[i])
    actions = np.random.default_rng(5).uniform(-1, 1, (steps, K, 20)).astype(np.float32)
    boundaries = np.zeros(K, dtype=int)
    for t in range(steps):
        r = batched.step(actions[t])
        for i, env in enumerate(singles):
            obs, reward, terminated, truncated, info = env.step(actions[t, i])
            assert reward == r.reward[i], f"step {t} env {i}"
            assert terminated == r.terminated[i] and truncated == r.truncated[i], f"step {t} env {i}"
            assert info["is_success"] == r.info["is_success"][i]
            if terminated or truncated:
                boundaries[i] += 1
                # The batched task reports the ended episode's last observation as final_obs ...
                np.testing.assert_array_equal(obs["policy"], r.info["final_obs"][i])
                obs, _ = env.reset()  # ... and returns the next episode's first one.
            np.testing.assert_array_equal(obs["policy"], r.obs[i], err_msg=f"step {t} env {i}")
            np.testing.assert_array_equal(obs["critic"], r.critic_obs[i], err_msg=f"step {t} env {i}")
    assert (boundaries >= 2).all(), f"every env should cross two episode boundaries: {boundaries}"


def test_unseeded_envs_are_not_copies_of_each_other() -> None:
    """Gymnasium's contract: a first reset() without a seed draws one from entropy. A vector env
    reset without seeds must not step K identical copies (correlated samples)."""
    envs = gym.make_vec(GYM_ID, num_envs=3, vectorization_mode="sync")
    obs, _ = envs.reset()
    policy = obs["policy"]
    assert not np.array_equal(policy[0], policy[1]) and not np.array_equal(policy[1], policy[2])
    envs.close()

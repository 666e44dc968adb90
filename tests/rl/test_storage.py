"""RolloutBatch: the worker -> learner contract, its validation, concatenation and its sparse
final observations (one row per timed-out step)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from dexrl.rl.storage import RolloutBatch, RolloutBuffer

T, B, DO, DC, A = 4, 3, 2, 5, 1


def make_batch(seed: int = 0, num_envs: int = B, hidden: int = 0) -> RolloutBatch:
    """A valid batch filled through RolloutBuffer, with one timeout and one termination."""
    rng = np.random.default_rng(seed)
    buf = RolloutBuffer(T, num_envs, DO, DC, A)
    starts = np.ones(num_envs, bool)
    for t in range(T):
        terminated = np.zeros(num_envs, bool)
        truncated = np.zeros(num_envs, bool)
        if t == 1:
            terminated[0] = True
            truncated[1] = True
        if t == 3:  # two timeouts at one step: their rows keep the env order
            truncated[0] = truncated[num_envs - 1] = True
        buf.add(
            obs=rng.normal(size=(num_envs, DO)).astype(np.float32),
            critic_obs=rng.normal(size=(num_envs, DC)).astype(np.float32),
            actions=rng.normal(size=(num_envs, A)).astype(np.float32),
            logp=rng.normal(size=num_envs).astype(np.float32),
            rewards=rng.normal(size=num_envs).astype(np.float32),
            terminated=terminated,
            truncated=truncated,
            episode_starts=starts,
            final_critic_obs=final_value(seed, t, np.arange(num_envs)),
            action_mean=rng.normal(size=(num_envs, A)).astype(np.float32),
            action_std=np.full((num_envs, A), 0.5, np.float32),
        )
        starts = terminated | truncated
    h = (
        tuple(rng.normal(size=(num_envs, hidden)).astype(np.float32) for _ in range(2))
        if hidden
        else ()
    )
    return buf.finish(rng.normal(size=(num_envs, DC)).astype(np.float32), h)


def final_value(seed: int, t: int, env: np.ndarray) -> np.ndarray:
    """[len(env), DC] rows that say which batch, step and env they belong to."""
    return np.repeat((1000.0 * seed + 100.0 * t + env)[:, None], DC, axis=1).astype(np.float32)


def dense_final(batch: RolloutBatch) -> np.ndarray:
    """final_critic_obs as [T, B, Dc] with zeros where the step did not time out."""
    dense = np.zeros((batch.num_steps, batch.num_envs, DC), np.float32)
    dense[batch.truncated] = batch.final_critic_obs
    return dense


def test_buffer_fills_every_field_of_the_contract() -> None:
    batch = make_batch()
    assert (batch.num_steps, batch.num_envs) == (T, B)
    assert batch.obs.shape == (T, B, DO) and batch.critic_obs.shape == (T, B, DC)
    assert batch.last_critic_obs.shape == (B, DC) and batch.actor_hidden == ()
    # one final row per timeout, step-major: (t=1, env 1), (t=3, env 0), (t=3, env 2)
    assert batch.final_critic_obs.shape == (3, DC)
    np.testing.assert_array_equal(batch.final_critic_obs[:, 0], [101.0, 300.0, 302.0])
    count, mean, var = batch.obs_moments
    assert count == T * B
    np.testing.assert_allclose(mean, batch.obs.reshape(-1, DO).mean(0), rtol=1e-6)
    np.testing.assert_allclose(var, batch.obs.reshape(-1, DO).var(0), rtol=1e-6)


def test_concat_joins_envs_and_merges_moments_exactly() -> None:
    parts = [make_batch(0, 3, hidden=4), make_batch(1, 2, hidden=4)]
    joined = RolloutBatch.concat(parts)
    assert joined.num_envs == 5 and joined.actor_hidden[0].shape == (5, 4)
    np.testing.assert_array_equal(joined.obs[:, 3:], parts[1].obs)
    np.testing.assert_array_equal(joined.last_critic_obs[:3], parts[0].last_critic_obs)
    # the sparse final rows land where the joined batch's timeouts are
    np.testing.assert_array_equal(dense_final(joined), np.concatenate([dense_final(p) for p in parts], axis=1))
    count, mean, var = joined.critic_obs_moments
    pooled = joined.critic_obs.reshape(-1, DC)
    assert count == len(pooled)
    np.testing.assert_allclose(mean, pooled.mean(0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(var, pooled.var(0), rtol=1e-6)
    with pytest.raises(ValueError, match="hidden"):
        RolloutBatch.concat([make_batch(0), make_batch(1, hidden=4)])


def test_select_envs_keeps_the_final_rows_of_the_kept_envs() -> None:
    batch = make_batch(0, 3)
    keep = np.array([True, False, True])
    kept = batch.select_envs(keep)
    np.testing.assert_array_equal(dense_final(kept), dense_final(batch)[:, keep])
    np.testing.assert_array_equal(kept.final_critic_obs[:, 0], [300.0, 302.0])


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("rewards", np.zeros((T, B), np.float64), "rewards must have dtype float32"),
        (
            "critic_obs",
            np.zeros((T, B + 1, DC), np.float32),
            r"critic_obs must have shape \[T B Dc\]",
        ),
        ("terminated", np.zeros((T, B), np.float32), "terminated must have dtype bool"),
        ("last_critic_obs", np.zeros((B, DC + 1), np.float32), "last_critic_obs"),
        ("actor_hidden", (np.zeros((B + 1, 4), np.float32),), r"actor_hidden\[0\]"),
        ("obs_moments", (1.0, np.zeros(DO + 1), np.ones(DO + 1)), "obs_moments"),
        ("obs", np.zeros((T, B), np.float32), "obs must be a 3-d"),
        ("final_critic_obs", np.zeros((T, B, DC), np.float32), r"final_critic_obs must have shape \[K Dc\]"),
    ],
)
def test_validation_names_the_broken_field(field, value, message) -> None:
    good = make_batch()
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(good, **{field: value})


def test_validation_catches_nan_and_inconsistent_episode_starts() -> None:
    good = make_batch()
    rewards = good.rewards.copy()
    rewards[2, 1] = np.nan
    with pytest.raises(ValueError, match="rewards contains NaN"):
        dataclasses.replace(good, rewards=rewards)
    starts = good.episode_starts.copy()
    starts[2, 0] = False  # env 0 terminated at t=1, so obs[2] must start an episode
    with pytest.raises(ValueError, match=r"episode_starts\[2, 0\]"):
        dataclasses.replace(good, episode_starts=starts)


def test_buffer_refuses_to_overfill_or_finish_early() -> None:
    buf = RolloutBuffer(1, 1, DO, DC, A)
    with pytest.raises(ValueError, match="holds 0 of 1"):
        buf.finish(np.zeros((1, DC), np.float32))
    make = np.zeros
    args = (make((1, DO), np.float32), make((1, DC), np.float32), make((1, A), np.float32),
            make(1, np.float32), make(1, np.float32), make(1, bool), make(1, bool), make(1, bool))  # fmt: skip
    timed_out = (*args[:6], np.ones(1, bool), args[7])
    dist = {"action_mean": make((1, A), np.float32), "action_std": np.ones((1, A), np.float32)}
    with pytest.raises(ValueError, match="final_critic_obs"):
        buf.add(*timed_out, **dist)
    buf.add(*args, **dist)
    with pytest.raises(ValueError, match="full"):
        buf.add(*args, **dist)


def test_the_doctors_first_envs_keep_the_final_rows_of_their_timeouts() -> None:
    from dexrl.doctor.overfit import _first_envs

    batch = make_batch(0, 3)  # timeouts: (t=1, env 1), (t=3, env 0), (t=3, env 2)
    first = _first_envs(batch, 2)
    np.testing.assert_array_equal(dense_final(first), dense_final(batch)[:, :2])

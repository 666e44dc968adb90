"""Policy and critic networks: log-probs, LSTM unrolling with resets, normalization inside."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dexrl.rl.config import ModelConfig
from dexrl.rl.networks import Critic, LSTMActor, load_actor_state, make_actor
from dexrl.rl.normalizer import RunningMeanStd

OBS, ACT = 3, 2
SMALL_MLP = ModelConfig(kind="mlp", actor_hidden=(16, 16), critic_hidden=(16,), init_log_std=-0.5)
SMALL_LSTM = ModelConfig(kind="lstm", lstm_dense=(16,), lstm_size=8, critic_hidden=(16,))


def _with_stats(actor, seed: int = 0):
    """Give the actor non-trivial normalizer statistics so they take part in every check, and a
    unit-scale mean head (the 0.01 init gain would hide differences below test tolerances)."""
    rms = RunningMeanStd(OBS)
    rms.update(np.random.default_rng(seed).normal(1.0, 2.0, size=(100, OBS)))
    actor.obs_normalizer.set_stats(rms)
    with torch.no_grad():
        actor.mean_head.weight.normal_(0.0, 1.0)
    return actor


def test_log_prob_is_the_diagonal_gaussian_density() -> None:
    torch.manual_seed(0)
    actor = _with_stats(make_actor(OBS, ACT, SMALL_MLP))
    obs = np.random.default_rng(0).normal(size=(4, OBS)).astype(np.float32)
    actions, logp, hidden = actor.act(obs, generator=torch.Generator().manual_seed(1))
    assert actions.shape == (4, ACT) and logp.shape == (4,) and hidden == ()
    assert actions.dtype == np.float32 and logp.dtype == np.float32
    mean, _ = actor(torch.as_tensor(obs))
    std = math.exp(-0.5)
    z = (actions - mean.detach().numpy()) / std
    expected = (-0.5 * z**2 - math.log(std) - 0.5 * math.log(2 * math.pi)).sum(-1)
    np.testing.assert_allclose(logp, expected, atol=1e-5)
    # evaluate() on [T=1, B] gives the same log-probs and the Gaussian entropy (per-dim sum).
    logp_eval, entropy = actor.evaluate(torch.as_tensor(obs)[None], torch.as_tensor(actions)[None])
    np.testing.assert_allclose(logp_eval[0].detach().numpy(), logp, atol=1e-5)
    expected_entropy = ACT * (0.5 * math.log(2 * math.pi * math.e) + math.log(std))
    np.testing.assert_allclose(entropy.detach().numpy(), expected_entropy, atol=1e-5)


def test_deterministic_act_returns_the_mean_and_samples_are_unbounded() -> None:
    actor = make_actor(OBS, ACT, ModelConfig(kind="mlp", actor_hidden=(8,), init_log_std=1.0))
    obs = np.zeros((2000, OBS), np.float32)
    det, _, _ = actor.act(obs, deterministic=True)
    mean, _ = actor(torch.as_tensor(obs))
    np.testing.assert_allclose(det, mean.detach().numpy(), atol=1e-6)
    sampled, _, _ = actor.act(obs)
    assert np.abs(sampled).max() > 1.0  # the env, not the policy, clips to [-1, 1]


def test_normalization_happens_inside_the_actor() -> None:
    actor = _with_stats(make_actor(OBS, ACT, SMALL_MLP))
    plain = make_actor(OBS, ACT, SMALL_MLP)
    plain.load_state_dict(
        {k: v for k, v in actor.state_dict().items() if "obs_normalizer" not in k}, strict=False
    )
    raw = torch.randn(5, OBS) * 3 + 1
    normalized = ((raw - actor.obs_normalizer.mean) / actor.obs_normalizer.std).clamp(-5, 5)
    torch.testing.assert_close(actor(raw)[0], plain(normalized)[0])


def test_lstm_evaluate_equals_step_by_step_act_with_resets() -> None:
    torch.manual_seed(0)
    actor = _with_stats(make_actor(OBS, ACT, SMALL_LSTM))
    assert isinstance(actor, LSTMActor)
    T, B = 6, 3
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(T, B, OBS)).astype(np.float32)
    starts = np.zeros((T, B), bool)
    starts[0, 0] = starts[3, 1] = starts[2, 2] = starts[4, 2] = True  # resets mid-chunk too
    # A non-zero state at the chunk start, as when a chunk begins mid-episode.
    hidden0 = tuple(rng.normal(size=(B, 8)).astype(np.float32) for _ in range(2))
    gen = torch.Generator().manual_seed(3)
    hidden, actions, logps = hidden0, [], []
    for t in range(T):
        a, lp, hidden = actor.act(obs[t], hidden, episode_starts=starts[t], generator=gen)
        actions.append(a)
        logps.append(lp)
    actions_t = torch.as_tensor(np.stack(actions))
    hidden0_t = tuple(torch.as_tensor(h) for h in hidden0)
    logp, entropy = actor.evaluate(
        torch.as_tensor(obs), actions_t, hidden0_t, torch.as_tensor(starts)
    )
    assert logp.shape == (T, B) and entropy.shape == (T, B)
    np.testing.assert_allclose(logp.detach().numpy(), np.stack(logps), atol=1e-5)
    # The resets matter: ignoring them changes exactly the steps at or after a reset.
    no_reset, _ = actor.evaluate(torch.as_tensor(obs), actions_t, hidden0_t, None)
    changed = ~np.isclose(no_reset.detach().numpy(), np.stack(logps), atol=1e-5)
    affected = np.cumsum(starts, axis=0) > 0
    np.testing.assert_array_equal(changed, affected)


def test_lstm_state_after_a_reset_equals_a_fresh_start() -> None:
    torch.manual_seed(1)
    actor = make_actor(OBS, ACT, SMALL_LSTM)
    obs = torch.randn(5, 2, OBS)
    starts = torch.zeros(5, 2, dtype=torch.bool)
    starts[2, 0] = True
    hidden0 = tuple(torch.randn(2, 8) for _ in range(2))
    mean, (h, c) = actor(obs, hidden0, starts)
    fresh_mean, (fresh_h, _) = actor(obs[2:, :1], None, None)
    torch.testing.assert_close(mean[2:, :1], fresh_mean)
    torch.testing.assert_close(h[:1], fresh_h)
    assert actor.initial_state(4)[0].shape == (4, 8)
    assert make_actor(OBS, ACT, SMALL_MLP).initial_state(4) == ()


def test_worker_copy_acts_like_the_original() -> None:
    for model in (SMALL_MLP, SMALL_LSTM):
        original = _with_stats(make_actor(OBS, ACT, model))
        state = {k: v.numpy() for k, v in original.state_dict().items()}  # e.g. after ray.get
        worker = make_actor(OBS, ACT, model)
        load_actor_state(worker, state)
        obs = np.random.default_rng(0).normal(size=(4, OBS)).astype(np.float32)
        a1, lp1, h1 = original.act(obs, generator=torch.Generator().manual_seed(0))
        a2, lp2, h2 = worker.act(obs, generator=torch.Generator().manual_seed(0))
        np.testing.assert_array_equal(a1, a2)
        np.testing.assert_array_equal(lp1, lp2)
        for x, y in zip(h1, h2, strict=True):
            np.testing.assert_array_equal(x, y)


def test_critic_value_stats_change_preserves_outputs() -> None:
    torch.manual_seed(0)
    critic = Critic(4, SMALL_MLP, obs_clip=5.0)
    obs = torch.randn(10, 4)
    before = critic.value(obs).detach()
    returns = RunningMeanStd(())
    returns.update(np.random.default_rng(0).normal(50.0, 7.0, size=300))
    critic.set_value_stats(returns)
    assert critic.value_mean.item() == pytest.approx(returns.mean.item(), rel=1e-6)
    torch.testing.assert_close(critic.value(obs).detach(), before, atol=1e-4, rtol=1e-5)
    # forward() is now in normalized units: (value - mean) / std
    torch.testing.assert_close(
        critic(obs).detach(), (before - critic.value_mean) / critic.value_std, atol=1e-5, rtol=1e-5
    )


def test_lstm_rejects_non_time_major_input() -> None:
    with pytest.raises(ValueError, match=r"\[T, B, Do\]"):
        make_actor(OBS, ACT, SMALL_LSTM)(torch.zeros(4, OBS))

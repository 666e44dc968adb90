"""PPOLearner: overfit one batch, metrics, KL early stop, lr schedule, checkpoints, errors."""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import pytest
import torch

from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import METRIC_KEYS, PPOLearner
from dexrl.rl.networks import load_actor_state, make_actor
from dexrl.rl.storage import RolloutBatch, RolloutBuffer

DO, DC, A = 4, 3, 2
MODELS = {
    "mlp": ModelConfig(kind="mlp", actor_hidden=(64, 64), critic_hidden=(64, 64)),
    "lstm": ModelConfig(kind="lstm", lstm_dense=(32,), lstm_size=32, critic_hidden=(64, 64)),
}


def synthetic_batch(
    learner: PPOLearner,
    seed: int,
    T: int = 4,
    B: int = 16,
    constant_critic_obs: bool = False,
    timeouts: bool = True,
) -> RolloutBatch:
    """Random observations, actions sampled by (a CPU copy of) the learner's policy, and rewards
    r = 10 + 3 sin(2 x0) + x1 of the critic observation x; some steps end episodes."""
    rng = np.random.default_rng(seed)
    actor = make_actor(DO, A, learner.model, learner.ppo.obs_clip)
    load_actor_state(actor, learner.actor_state())
    buf = RolloutBuffer(T, B, DO, DC, A)
    hidden0 = tuple(
        rng.normal(size=(B, learner.model.lstm_size)).astype(np.float32) for _ in range(2)
    )
    hidden0 = hidden0 if actor.is_recurrent else ()
    hidden, starts = hidden0, np.zeros(B, bool)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(T):
        obs = (rng.normal(size=(B, DO)) * 2 + 1).astype(np.float32)
        critic_obs = (
            np.zeros((B, DC), np.float32)
            if constant_critic_obs
            else rng.normal(size=(B, DC)).astype(np.float32)
        )
        actions, logp, hidden = actor.act(obs, hidden, episode_starts=starts, generator=gen)
        rewards = (10 + 3 * np.sin(2 * critic_obs[:, 0]) + critic_obs[:, 1]).astype(np.float32)
        if constant_critic_obs:
            rewards = rng.normal(size=B).astype(np.float32)
        terminated = rng.random(B) < 0.2
        truncated = (rng.random(B) < 0.2) & ~terminated if timeouts else np.zeros(B, bool)
        final = rng.normal(size=(B, DC)).astype(np.float32)
        buf.add(obs, critic_obs, actions, logp, rewards, terminated, truncated, starts, final)
        starts = terminated | truncated
    return buf.finish(rng.normal(size=(B, DC)).astype(np.float32), hidden0)


def make_learner(kind: str = "mlp", seed: int = 0, **ppo_overrides) -> PPOLearner:
    ppo = PPOConfig(**{"bptt_len": 2, "epochs": 2, "minibatches": 2, **ppo_overrides})
    return PPOLearner(DO, DC, A, ppo, MODELS[kind], device="cpu", seed=seed)


def test_update_returns_every_metric() -> None:
    learner = make_learner()
    metrics = learner.update(synthetic_batch(learner, 0))
    assert set(metrics) == set(METRIC_KEYS)
    assert all(isinstance(v, float) and np.isfinite(v) for v in metrics.values())
    assert metrics["epochs_run"] == 2.0 and metrics["lr"] == pytest.approx(3e-4)
    assert metrics["grad_norm"] > 0 and metrics["learner_time_s"] > 0


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_overfit_one_batch_policy_reaches_the_clipped_optimum(kind: str) -> None:
    # The critic sees a constant, so V is the same for every sample and the per-minibatch
    # normalized advantages are fixed. The clipped surrogate is then bounded below by
    # -mean(where(A > 0, 1.2 A, 0.8 A)) = -0.2 mean|A| (mean(A) = 0): the loss must get close.
    learner = make_learner(kind, epochs=1, minibatches=1, gamma=0.0, lr=3e-3, entropy_coef=0.0)
    batch = synthetic_batch(learner, 1, constant_critic_obs=True, timeouts=False)
    adv = (batch.rewards - batch.rewards.mean()) / batch.rewards.std()
    optimum = float(-0.2 * np.abs(adv).mean())
    first = learner.update(batch)["policy_loss"]
    for _ in range(150):
        last = learner.update(batch)
    assert abs(first) < 0.1 * abs(optimum)  # ratio ~1 at the start: loss ~ -mean(A) = 0
    assert optimum - 1e-6 <= last["policy_loss"] <= 0.9 * optimum
    assert last["clip_fraction"] > 0.8


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_overfit_one_batch_value_loss_goes_to_zero(kind: str) -> None:
    # gamma = 0 makes the value target the reward itself: a fixed function of the critic obs.
    learner = make_learner(kind, epochs=4, minibatches=1, gamma=0.0, lr=1e-3)
    batch = synthetic_batch(learner, 2, T=4, B=32)
    first = learner.update(batch)
    for _ in range(100):
        last = learner.update(batch)
    assert first["value_loss"] > 0.1
    assert last["value_loss"] < 0.05 * first["value_loss"]
    assert last["explained_variance"] > 0.95


def test_kl_early_stop() -> None:
    learner = make_learner(epochs=8, minibatches=2, target_kl=1e-6, lr=1e-2)
    metrics = learner.update(synthetic_batch(learner, 3))
    assert metrics["epochs_run"] < 8
    assert metrics["update_kl"] > 1e-6


def test_kl_early_stop_is_not_triggered_by_policy_lag() -> None:
    learner = make_learner(epochs=4, minibatches=2, lr=1e-3)
    batch = synthetic_batch(learner, 4)
    learner.update(batch)
    # Train on the same data again: it now comes from a policy one update old (lag).
    obs, actions = (torch.as_tensor(x) for x in (batch.obs, batch.actions))
    with torch.no_grad():
        logp_now, _ = learner.actor.evaluate(obs, actions)
    lag_kl = (
        (logp_now - torch.as_tensor(batch.logp)).exp()
        - 1
        - (logp_now - torch.as_tensor(batch.logp))
    ).mean()
    learner.ppo = dataclasses.replace(learner.ppo, target_kl=float(lag_kl) / 2)
    metrics = learner.update(batch)
    assert metrics["approx_kl"] > float(lag_kl) / 2  # against the behaviour policy: above target
    assert metrics["epochs_run"] > 0  # yet the update ran, since it had not moved yet


def test_linear_lr_schedule() -> None:
    learner = make_learner(lr_schedule="linear", lr=1e-3)
    learner.set_progress(0.25)
    assert learner.update(synthetic_batch(learner, 5))["lr"] == pytest.approx(7.5e-4)
    constant = make_learner(lr=1e-3)
    constant.set_progress(0.25)
    assert constant.optimizer.param_groups[0]["lr"] == pytest.approx(1e-3)


def _roundtrip(learner: PPOLearner) -> dict:
    buffer = io.BytesIO()
    torch.save(learner.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)  # no pickled objects allowed


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_checkpoint_round_trip_continues_identically(kind: str) -> None:
    learner = make_learner(kind, lr_schedule="linear")
    learner.update(synthetic_batch(learner, 6))
    learner.set_progress(0.3)
    restored = make_learner(kind, seed=123, lr_schedule="linear")  # different init and RNG
    restored.load_state_dict(_roundtrip(learner))
    assert restored.iteration == 1 and restored.progress == pytest.approx(0.3)
    for key, value in learner.actor_state().items():
        torch.testing.assert_close(restored.actor_state()[key], value, rtol=0, atol=0)
    probe = torch.randn(5, DC)
    torch.testing.assert_close(
        restored.critic.value(probe), learner.critic.value(probe), rtol=0, atol=0
    )
    # Continue both on the same data: same shuffles (RNG), same Adam moments, same normalizers.
    batch = synthetic_batch(learner, 7)
    m1, m2 = learner.update(batch), restored.update(batch)
    m1.pop("learner_time_s"), m2.pop("learner_time_s")
    assert m1 == m2
    for p1, p2 in zip(learner.params, restored.params, strict=True):
        torch.testing.assert_close(p1, p2, rtol=0, atol=0)
    np.testing.assert_array_equal(learner.obs_rms.var, restored.obs_rms.var)
    np.testing.assert_array_equal(learner.return_rms.mean, restored.return_rms.mean)


def test_checkpoint_of_another_architecture_is_refused() -> None:
    state = _roundtrip(make_learner("mlp"))
    with pytest.raises(ValueError, match="model"):
        make_learner("lstm").load_state_dict(state)


def test_batch_errors_are_explained() -> None:
    mlp, lstm = make_learner("mlp"), make_learner("lstm")
    with pytest.raises(ValueError, match="actor_hidden"):
        lstm.update(synthetic_batch(mlp, 0))
    with pytest.raises(ValueError, match="multiple of bptt_len"):
        lstm.update(synthetic_batch(lstm, 0, T=3))
    with pytest.raises(ValueError, match="minibatches"):
        make_learner(minibatches=5).update(synthetic_batch(mlp, 0, T=1, B=4))
    other = PPOLearner(DO + 1, DC, A, PPOConfig(), MODELS["mlp"], device="cpu")
    with pytest.raises(ValueError, match="dims"):
        other.update(synthetic_batch(mlp, 0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_cuda_learner_matches_cpu(kind: str) -> None:
    ppo = PPOConfig(bptt_len=2, epochs=2, minibatches=2)
    cpu = PPOLearner(DO, DC, A, ppo, MODELS[kind], device="cpu", seed=0)
    gpu = PPOLearner(DO, DC, A, ppo, MODELS[kind], device="cuda", seed=0)
    batch = synthetic_batch(cpu, 8)
    m_cpu, m_gpu = cpu.update(batch), gpu.update(batch)
    for key in ("policy_loss", "value_loss", "approx_kl", "explained_variance"):
        assert m_gpu[key] == pytest.approx(m_cpu[key], rel=1e-3, abs=1e-5)
    for key, value in cpu.actor_state().items():
        torch.testing.assert_close(gpu.actor_state()[key], value, rtol=1e-3, atol=1e-4)
    # A GPU checkpoint loads on a CPU-only learner (tensors are saved on CPU).
    PPOLearner(DO, DC, A, ppo, MODELS[kind], device="cpu").load_state_dict(_roundtrip(gpu))


def test_adaptive_lr_schedule_follows_the_update_kl() -> None:
    # A huge step size moves the policy far (KL >> 2 x desired): lr is divided by 1.5.
    big = make_learner(lr=3e-2, lr_schedule="adaptive", desired_kl=1e-4)
    m = big.update(synthetic_batch(big, 0))
    assert m["update_kl"] > 2e-4
    assert big.optimizer.param_groups[0]["lr"] == pytest.approx(3e-2 / 1.5)
    # A tiny step barely moves it (KL << desired / 2): lr is multiplied by 1.5.
    small = make_learner(lr=1e-8, lr_schedule="adaptive", desired_kl=1.0)
    m = small.update(synthetic_batch(small, 0))
    assert m["update_kl"] < 0.5
    assert small.optimizer.param_groups[0]["lr"] == pytest.approx(1e-8 * 1.5)
    # The factor survives a checkpoint round trip.
    restored = make_learner(lr=1e-8, lr_schedule="adaptive", desired_kl=1.0, seed=3)
    restored.load_state_dict(_roundtrip(small))
    assert restored.optimizer.param_groups[0]["lr"] == pytest.approx(1e-8 * 1.5)

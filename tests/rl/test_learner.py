"""PPOLearner: overfit one batch, metrics, KL early stop, lr schedule, checkpoints, errors."""

from __future__ import annotations

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
        step = actor.sample(obs, hidden, episode_starts=starts, generator=gen)
        actions, logp, hidden = step.actions, step.logp, step.hidden
        rewards = (10 + 3 * np.sin(2 * critic_obs[:, 0]) + critic_obs[:, 1]).astype(np.float32)
        if constant_critic_obs:
            rewards = rng.normal(size=B).astype(np.float32)
        terminated = rng.random(B) < 0.2
        truncated = (rng.random(B) < 0.2) & ~terminated if timeouts else np.zeros(B, bool)
        final = rng.normal(size=(B, DC)).astype(np.float32)
        buf.add(obs, critic_obs, actions, logp, rewards, terminated, truncated, starts, final,
                action_mean=step.mean, action_std=step.std)
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
    assert metrics["actor_grad_norm"] > 0 and metrics["critic_grad_norm"] > 0
    assert metrics["learner_time_s"] > 0


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
    learner = make_learner(kind, epochs=4, minibatches=1, gamma=0.0, critic_lr=1e-3)
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
    assert metrics["kl"] > 1e-6


def test_kl_is_measured_against_the_behaviour_policy_under_lag() -> None:
    # Train on the same data twice: the second time it comes from a policy one update old (lag),
    # so the KL the learner reports already counts the first update's move.
    learner = make_learner(epochs=4, minibatches=2, lr=1e-3)
    batch = synthetic_batch(learner, 4)
    first = learner.update(batch)
    second = learner.update(batch)
    assert second["kl_end"] > first["kl_end"] > 0


def _true_kl(learner: PPOLearner, batch: RolloutBatch) -> float:
    """KL(behaviour || learner's policy now), averaged over the batch, computed with
    torch.distributions from the stored behaviour Gaussians (independent of the learner's code)."""
    with torch.no_grad():
        mean, _ = learner.actor(torch.as_tensor(batch.obs), None, torch.as_tensor(batch.episode_starts))
        now = torch.distributions.Normal(mean, learner.actor.log_std.exp().expand_as(mean))
        then = torch.distributions.Normal(
            torch.as_tensor(batch.action_mean), torch.as_tensor(batch.action_std)
        )
        return torch.distributions.kl_divergence(then, now).sum(-1).mean().item()


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_the_kl_the_controller_reads_is_the_true_kl_of_the_update(kind: str) -> None:
    learner = make_learner(kind, epochs=3, minibatches=4, lr=3e-3, lr_schedule="adaptive")
    batch = synthetic_batch(learner, 9, T=4, B=32)
    metrics = learner.update(batch)
    if kind == "mlp":
        assert metrics["kl"] == pytest.approx(_true_kl(learner, batch), rel=1e-4)
    assert metrics["kl"] == metrics["kl_end"] > 1e-4
    # The mean over minibatches of the KL against the policy at the start of the update (what
    # the controller read before) is well below what the update did.


def test_actor_and_critic_are_clipped_separately() -> None:
    # A critic gradient 1000x larger must not change the actor's steps: with one global clip it
    # would scale the actor's gradient by a factor that varies from step to step.
    batch_source = make_learner()
    batch = synthetic_batch(batch_source, 10, T=4, B=32)
    params = []
    for value_coef in (1.0, 1000.0):
        learner = make_learner(epochs=3, minibatches=2, value_coef=value_coef)
        metrics = learner.update(batch)
        params.append(torch.cat([p.flatten() for p in learner.actor.parameters()]))
    torch.testing.assert_close(params[0], params[1], rtol=0, atol=0)
    assert metrics["critic_clipped"] == 1.0  # the huge critic gradient was clipped


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
    for key in ("learner_time_s", "ingest_time_s"):  # wall clock
        m1.pop(key), m2.pop(key)
    assert m1 == m2
    for p1, p2 in zip(_params(learner), _params(restored), strict=True):
        torch.testing.assert_close(p1, p2, rtol=0, atol=0)
    np.testing.assert_array_equal(learner.obs_rms.var, restored.obs_rms.var)
    np.testing.assert_array_equal(learner.return_rms.mean, restored.return_rms.mean)


def _params(learner: PPOLearner) -> list[torch.Tensor]:
    return [*learner.actor.parameters(), *learner.critic.parameters()]


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
    for key in ("policy_loss", "value_loss", "kl", "explained_variance"):
        assert m_gpu[key] == pytest.approx(m_cpu[key], rel=1e-3, abs=1e-5)
    for key, value in cpu.actor_state().items():
        torch.testing.assert_close(gpu.actor_state()[key], value, rtol=1e-3, atol=1e-4)
    # A GPU checkpoint loads on a CPU-only learner (tensors are saved on CPU).
    PPOLearner(DO, DC, A, ppo, MODELS[kind], device="cpu").load_state_dict(_roundtrip(gpu))


@pytest.mark.parametrize("every, factor", [("update", 1.5), ("epoch", 1.5**2)])
def test_adaptive_lr_schedule_follows_the_kl(every: str, factor: float) -> None:
    # A huge step size moves the policy far (KL >> 2 x desired): lr is divided by 1.5 once per
    # update, or after each of the 2 epochs; the critic's lr does not follow the KL.
    big = make_learner(lr=3e-2, lr_schedule="adaptive", desired_kl=1e-4, lr_adapt_every=every)
    m = big.update(synthetic_batch(big, 0))
    assert m["kl"] > 2e-4
    assert big.optimizer.param_groups[0]["lr"] == pytest.approx(3e-2 / factor)
    assert big.critic_optimizer.param_groups[0]["lr"] == pytest.approx(3e-4)
    # A tiny step barely moves it (KL << desired / 2): lr is multiplied by 1.5.
    small = make_learner(lr=1e-8, lr_schedule="adaptive", desired_kl=1.0, lr_adapt_every=every)
    m = small.update(synthetic_batch(small, 0))
    assert m["kl"] < 0.5
    assert small.optimizer.param_groups[0]["lr"] == pytest.approx(1e-8 * factor)
    # The factor survives a checkpoint round trip.
    restored = make_learner(lr=1e-8, lr_schedule="adaptive", desired_kl=1.0, seed=3,
                            lr_adapt_every=every)
    restored.load_state_dict(_roundtrip(small))
    assert restored.optimizer.param_groups[0]["lr"] == pytest.approx(1e-8 * factor)

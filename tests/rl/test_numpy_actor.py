"""The rollout workers' numpy policy against the learner's torch policy: the behaviour log-probs,
means and stds a worker records are what `evaluate` computes on the learner, step by step and
across episode starts, for the MLP (every activation) and the LSTM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner
from dexrl.rl.numpy_actor import NumpyActor

OBS, CRITIC, ACT = 5, 3, 3
T, B = 12, 4
# Agreement bounds, float32 on both sides. Largest differences measured over 20 seeds (unit-scale
# mean heads, stds 0.37-1.65): log-prob 1.8e-5, mean 6.7e-6, LSTM state 9e-8, all on the default
# 512-256-128 MLP except the state; the small networks stay below 8e-6 / 1.5e-6.
LOGP_ATOL = 1e-4
MEAN_ATOL = 5e-5
MODELS = {
    "mlp-elu": ModelConfig(kind="mlp", actor_hidden=(32, 16), critic_hidden=(8,)),
    "mlp-relu": ModelConfig(kind="mlp", actor_hidden=(32,), critic_hidden=(8,), activation="relu"),
    "mlp-tanh": ModelConfig(kind="mlp", actor_hidden=(32, 16), critic_hidden=(8,), activation="tanh"),
    "lstm": ModelConfig(kind="lstm", lstm_dense=(32,), lstm_size=16, critic_hidden=(8,)),
    "lstm-no-dense": ModelConfig(kind="lstm", lstm_dense=(), lstm_size=16, critic_hidden=(8,)),
    "mlp-default": ModelConfig(kind="mlp", critic_hidden=(8,)),
    "lstm-default": ModelConfig(kind="lstm", critic_hidden=(8,)),
}


def trained_looking_learner(model: ModelConfig, seed: int = 0) -> PPOLearner:
    """A learner whose policy has non-trivial normalizer statistics (some observations clip), a
    unit-scale mean head (the 0.01 init gain would hide differences) and per-dimension stds."""
    learner = PPOLearner(OBS, CRITIC, ACT, PPOConfig(gamma=0.99), model, device="cpu", seed=seed)
    rng = np.random.default_rng(seed)
    learner.obs_rms.update(rng.normal(1.0, 2.0, size=(200, OBS)))
    learner.actor.obs_normalizer.set_stats(learner.obs_rms)
    with torch.no_grad():
        learner.actor.mean_head.weight.normal_(0.0, 1.0, generator=torch.Generator().manual_seed(seed))
        learner.actor.log_std.copy_(torch.tensor([-1.0, 0.0, 0.5]))
    return learner


def worker_rollout(
    actor: NumpyActor, obs: np.ndarray, starts: np.ndarray, hidden0: tuple[np.ndarray, ...], seed: int
) -> dict[str, np.ndarray]:
    """What a rollout worker records: one `sample` per step, state carried, starts resetting."""
    rng = np.random.default_rng(seed)
    hidden, steps = hidden0, []
    for t in range(obs.shape[0]):
        step = actor.sample(obs[t], hidden, episode_starts=starts[t], rng=rng)
        hidden = step.hidden
        steps.append(step)
    out = {k: np.stack([getattr(s, k) for s in steps]) for k in ("actions", "logp", "mean", "std")}
    out["hidden"] = hidden  # type: ignore[assignment]
    return out


def sequence(seed: int, first: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Raw obs [T, B, OBS] (one beyond the 5-sigma clip) and episode starts [T, B]: episodes start
    mid-sequence (two in env 2), and at step 0 in every env (`first`) or in env 0 only (the other
    envs are mid-episode, as when a rollout continues the previous one)."""
    rng = np.random.default_rng(seed)
    obs = (rng.normal(size=(T, B, OBS)) * 2 + 1).astype(np.float32)
    obs[2, 1, 0] = 40.0  # clipped by the normalizer
    starts = np.zeros((T, B), bool)
    starts[0] = first
    starts[0, 0] = True
    starts[5, 0] = starts[3, 2] = starts[9, 2] = starts[11, 3] = True
    return obs, starts


@pytest.mark.parametrize("name", list(MODELS))
def test_worker_logp_mean_std_equal_the_learners_evaluate(name: str) -> None:
    learner = trained_looking_learner(MODELS[name])
    actor = NumpyActor(OBS, ACT, MODELS[name], learner.ppo.obs_clip)
    actor.load_state(learner.actor_state())  # the broadcast, as a worker receives it
    obs, starts = sequence(1, first=False)
    # A non-zero state at the start (envs 1-3 are mid-episode there).
    rng = np.random.default_rng(2)
    hidden0 = tuple(rng.normal(size=h.shape).astype(np.float32) for h in actor.initial_state(B))
    got = worker_rollout(actor, obs, starts, hidden0, seed=3)

    obs_t, starts_t = torch.as_tensor(obs), torch.as_tensor(starts)
    hidden0_t = tuple(torch.as_tensor(h) for h in hidden0) or None
    with torch.no_grad():
        logp, _ = learner.actor.evaluate(obs_t, torch.as_tensor(got["actions"]), hidden0_t, starts_t)
        mean, hidden = learner.actor(obs_t, hidden0_t, starts_t)
        std = learner.actor.distribution(mean).stddev
    np.testing.assert_allclose(got["logp"], logp.numpy(), rtol=0, atol=LOGP_ATOL)
    np.testing.assert_allclose(got["mean"], mean.numpy(), rtol=0, atol=MEAN_ATOL)
    np.testing.assert_allclose(got["std"], std.numpy(), rtol=1e-6, atol=0)
    for h_np, h_t in zip(got["hidden"], hidden, strict=True):  # the state carried to the next rollout
        np.testing.assert_allclose(h_np, h_t.numpy(), rtol=0, atol=MEAN_ATOL)
    # The actions are mean + std * noise with standard normal noise.
    noise = (got["actions"] - got["mean"]) / got["std"]
    assert abs(noise.mean()) < 0.5 and 0.5 < noise.std() < 1.5


def test_lstm_resets_matter_and_hidden_state_is_per_env() -> None:
    model = MODELS["lstm"]
    learner = trained_looking_learner(model)
    actor = NumpyActor(OBS, ACT, model, learner.ppo.obs_clip)
    actor.load_state(learner.actor_state())
    obs, starts = sequence(4)
    with_resets = worker_rollout(actor, obs, starts, actor.initial_state(B), seed=0)
    without = worker_rollout(actor, obs, np.zeros_like(starts), actor.initial_state(B), seed=0)
    changed = ~np.isclose(with_resets["mean"], without["mean"], atol=1e-6).all(-1)
    after_reset = np.cumsum(starts[1:], axis=0) > 0  # step 0 starts from zeros either way
    np.testing.assert_array_equal(changed[1:], after_reset)
    assert not changed[0].any()


def test_sample_fields_match_the_torch_actor_sample() -> None:
    for name in ("mlp-elu", "lstm"):
        learner = trained_looking_learner(MODELS[name])
        actor = NumpyActor(OBS, ACT, MODELS[name], learner.ppo.obs_clip)
        actor.load_state(learner.actor_state())
        obs = np.random.default_rng(0).normal(size=(B, OBS)).astype(np.float32)
        starts = np.ones(B, bool)
        ref = learner.actor.sample(obs, learner.actor.initial_state(B), episode_starts=starts)
        got = actor.sample(obs, actor.initial_state(B), episode_starts=starts,
                           rng=np.random.default_rng(0))  # fmt: skip
        for field in ("actions", "logp", "mean", "std"):
            assert getattr(got, field).shape == getattr(ref, field).shape, field
            assert getattr(got, field).dtype == getattr(ref, field).dtype == np.float32, field
        assert len(got.hidden) == len(ref.hidden)
        for h_np, h_t in zip(got.hidden, ref.hidden, strict=True):
            assert h_np.shape == h_t.shape and h_np.dtype == h_t.dtype
        det = actor.sample(obs, None, deterministic=True, episode_starts=starts)
        np.testing.assert_allclose(det.actions, ref.mean, rtol=0, atol=MEAN_ATOL)
        np.testing.assert_array_equal(det.actions, det.mean)


def test_same_seed_same_actions_and_an_untrained_actor_is_pure_noise() -> None:
    actor = NumpyActor(OBS, ACT, ModelConfig(actor_hidden=(8,), init_log_std=-0.5))
    obs = np.ones((64, OBS), np.float32)
    a = actor.sample(obs, rng=np.random.default_rng(7)).actions
    b = actor.sample(obs, rng=np.random.default_rng(7)).actions
    np.testing.assert_array_equal(a, b)
    # Before the first broadcast: mean 0, std exp(init_log_std).
    step = actor.sample(obs, rng=np.random.default_rng(7))
    np.testing.assert_array_equal(step.mean, 0.0)
    np.testing.assert_allclose(step.std, np.exp(-0.5), rtol=1e-6)


def test_a_state_of_another_architecture_is_refused() -> None:
    learner = trained_looking_learner(MODELS["mlp-elu"])
    with pytest.raises(ValueError, match="missing .*lstm.weight_ih_l0"):
        NumpyActor(OBS, ACT, MODELS["lstm"]).load_state(learner.actor_state())
    with pytest.raises(ValueError, match=r"'obs_normalizer.mean' has shape \(5,\), expected \(6,\)"):
        NumpyActor(OBS + 1, ACT, MODELS["mlp-elu"]).load_state(learner.actor_state())


def test_dexrl_rl_names_resolve_lazily() -> None:
    # dexrl.rl imports its names on first use (so the workers' torch-free submodules do not load
    # torch through the package); every exported name must still resolve.
    import dexrl.rl as rl

    assert sorted(rl.__all__) == sorted(rl._MODULE_OF)
    for name in rl.__all__:
        assert getattr(rl, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        rl.Nope  # noqa: B018

"""The learner takes the workers' batches as a list: the same update as on their concatenation,
without joining them on the driver (dexrl.rl.ingest)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.ingest import BatchIngest
from dexrl.rl.learner import PPOLearner
from dexrl.rl.storage import RolloutBatch, RolloutBuffer

T, DO, DC, A = 8, 3, 5, 2


def worker_batch(seed: int, envs: int, hidden: int = 0) -> RolloutBatch:
    """A worker's rollout with terminations and timeouts at random steps."""
    rng = np.random.default_rng(seed)
    buf = RolloutBuffer(T, envs, DO, DC, A)
    starts = np.ones(envs, bool)
    for _ in range(T):
        terminated = rng.random(envs) < 0.1
        truncated = ~terminated & (rng.random(envs) < 0.2)
        buf.add(rng.normal(size=(envs, DO)).astype(np.float32), rng.normal(size=(envs, DC)).astype(np.float32),
                rng.normal(size=(envs, A)).astype(np.float32), rng.normal(size=envs).astype(np.float32),
                rng.normal(size=envs).astype(np.float32), terminated, truncated, starts,
                rng.normal(size=(envs, DC)).astype(np.float32),
                action_mean=rng.normal(size=(envs, A)).astype(np.float32),
                action_std=np.full((envs, A), 0.7, np.float32))  # fmt: skip
        starts = terminated | truncated
    h = tuple(rng.normal(size=(envs, hidden)).astype(np.float32) for _ in range(2)) if hidden else ()
    return buf.finish(rng.normal(size=(envs, DC)).astype(np.float32), h)


def learner(kind: str) -> PPOLearner:
    model = ModelConfig(kind=kind, actor_hidden=(16,), lstm_dense=(16,), lstm_size=8, critic_hidden=(16,))
    ppo = PPOConfig(gamma=0.99, epochs=2, minibatches=2, bptt_len=4)
    return PPOLearner(DO, DC, A, ppo, model, device="cpu", seed=3)


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_a_list_of_batches_updates_exactly_as_their_concatenation(kind: str) -> None:
    hidden = 8 if kind == "lstm" else 0
    rounds = [[worker_batch(10 * r + i, envs, hidden) for i, envs in enumerate((4, 6, 2))] for r in range(2)]
    assert all(sum(len(b.final_critic_obs) for b in parts) > 0 for parts in rounds)  # timeouts to bootstrap
    joined, listed = learner(kind), learner(kind)
    for parts in rounds:  # twice: the second update refills the kept buffers
        m_joined = joined.update(RolloutBatch.concat(parts))
        m_listed = listed.update(parts)
        assert {k: v for k, v in m_joined.items() if not k.endswith("_time_s")} == \
            {k: v for k, v in m_listed.items() if not k.endswith("_time_s")}
    for (name, a), (_, b) in zip(joined.state_dict()["actor"].items(), listed.state_dict()["actor"].items(), strict=True):
        assert torch.equal(a, b), name
    for name in ("critic_obs_rms", "return_rms"):
        for key, value in joined.state_dict()[name].items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(listed.state_dict()[name][key])), (name, key)


def test_kept_buffers_are_refilled_and_fresh_ones_are_not_shared() -> None:
    parts = [worker_batch(1, 4), worker_batch(2, 3)]
    kept = BatchIngest(torch.device("cpu"), reuse=True)
    first = kept(parts).tensors
    obs_first = first["obs"].clone()
    second = kept([worker_batch(3, 4), worker_batch(4, 3)]).tensors
    assert second["obs"].data_ptr() == first["obs"].data_ptr()  # the same memory, refilled
    assert not torch.equal(second["obs"], obs_first)
    fresh = BatchIngest(torch.device("cpu"), reuse=False)
    a, b = fresh(parts).tensors, fresh(parts).tensors
    assert a["obs"].data_ptr() != b["obs"].data_ptr() and torch.equal(a["obs"], b["obs"])
    np.testing.assert_array_equal(a["obs"].numpy(), np.concatenate([p.obs for p in parts], axis=1))


def test_batches_that_do_not_belong_together_are_refused() -> None:
    with pytest.raises(ValueError, match="no rollout batch"):
        learner("mlp").update([])
    short = RolloutBuffer(4, 2, DO, DC, A)  # T = 4 against T = 8
    with pytest.raises(ValueError, match="T=4"):
        BatchIngest(torch.device("cpu"), reuse=False)([worker_batch(0, 2), _filled(short)])


def _filled(buf: RolloutBuffer) -> RolloutBatch:
    zeros, envs = np.zeros, buf.num_envs
    for _ in range(buf.num_steps):
        buf.add(zeros((envs, DO), np.float32), zeros((envs, DC), np.float32), zeros((envs, A), np.float32),
                zeros(envs, np.float32), zeros(envs, np.float32), zeros(envs, bool), zeros(envs, bool),
                np.ones(envs, bool) if buf.step == 0 else zeros(envs, bool),
                action_mean=zeros((envs, A), np.float32), action_std=np.ones((envs, A), np.float32))  # fmt: skip
    return buf.finish(zeros((envs, DC), np.float32))

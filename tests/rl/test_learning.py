"""PPO learns, end to end and without a simulator: rollout loop (the workers' numpy policy) ->
RolloutBatch -> update -> weight broadcast, on tiny numpy environments (see toy_envs.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner
from dexrl.rl.numpy_actor import NumpyActor

from .toy_envs import ContextualBandit, CueRecall, Runner

MODELS = {
    "mlp": ModelConfig(kind="mlp", actor_hidden=(64, 64), critic_hidden=(64, 64)),
    "lstm": ModelConfig(kind="lstm", lstm_dense=(32,), lstm_size=32, critic_hidden=(64, 64)),
}
# A larger lr than the hand default (3e-4) so a few dozen updates suffice; no entropy bonus.
PPO = PPOConfig(gamma=0.99, lr=3e-3, entropy_coef=0.0, epochs=5, minibatches=4, bptt_len=3)


def train(env, kind: str, iterations: int, num_steps: int, seed: int = 0) -> list[float]:
    """Mean return of the episodes finished in each iteration's rollout."""
    learner = PPOLearner(
        env.obs_dim, env.critic_obs_dim, env.action_dim, PPO, MODELS[kind], device="cpu", seed=seed
    )
    worker_actor = NumpyActor(env.obs_dim, env.action_dim, MODELS[kind], PPO.obs_clip)
    worker_actor.load_state(learner.actor_state())
    runner = Runner(env, worker_actor, num_steps, seed)
    returns = []
    for _ in range(iterations):
        batch, finished = runner.collect()
        returns.append(float(np.mean(finished)))
        learner.update(batch)
        worker_actor.load_state(learner.actor_state())  # the weight broadcast
    return returns


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_contextual_bandit_improves(kind: str) -> None:
    # Start: actions ~ N(0, 1) per dim -> return about -(2 + E|a*|^2) ~ -1.6 (clipping helps).
    returns = train(ContextualBandit(num_envs=64, seed=0), kind, iterations=30, num_steps=6)
    assert np.mean(returns[:2]) < -1.0
    assert np.mean(returns[-3:]) > -0.2


def test_lstm_remembers_what_an_mlp_cannot() -> None:
    # CueRecall: a memoryless policy's best return is -Var(cue) = -0.25. T=6 with bptt_len=3
    # puts one episode per env across a chunk boundary (state carried, gradient cut).
    lstm = train(CueRecall(num_envs=64, seed=0), "lstm", iterations=50, num_steps=6)
    mlp = train(CueRecall(num_envs=64, seed=0), "mlp", iterations=30, num_steps=6)
    assert np.mean(lstm[-3:]) > -0.05
    assert np.mean(mlp[-3:]) < -0.2

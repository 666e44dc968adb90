"""README "Add an algorithm": a learner of one's own, registered under its name, trains with the
real Trainer (Ray, real rollout workers) and the run's record names it.

The learner is a tiny REINFORCE (no critic): it satisfies `dexrl.rl.learners.Learner`, builds
the same policy network as PPO (`make_actor`, so the workers' `NumpyActor` loads its weights)
and registers with `register_learner`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from dexrl.rl.config import ModelConfig
from dexrl.rl.learners import LEARNERS, Learner, learner_factory, register_learner
from dexrl.rl.networks import make_actor
from dexrl.rl.numpy_actor import ActorState
from dexrl.rl.storage import RolloutBatch


class Reinforce:
    """REINFORCE: the policy's log-likelihood of each action, weighted by the normalized
    discounted return that followed it within the rollout."""

    algorithm = "reinforce"

    def __init__(self, obs_dim: int, critic_obs_dim: int, action_dim: int, cfg: Any, model: ModelConfig,
                 device: str, seed: int) -> None:  # fmt: skip
        self.dims = {"obs_dim": obs_dim, "critic_obs_dim": critic_obs_dim, "action_dim": action_dim}
        self.device = torch.device("cpu")
        self.gamma = float(cfg.gamma)  # the trainer resolved it (algo.gamma, else env.gamma)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.actor = make_actor(obs_dim, action_dim, model, cfg.obs_clip)
        self.optimizer = torch.optim.Adam(self.actor.parameters(), lr=cfg.lr)
        self.progress = 0.0
        self.updates = 0

    def update(self, batch: RolloutBatch | Sequence[RolloutBatch]) -> dict[str, float]:
        b = batch if isinstance(batch, RolloutBatch) else RolloutBatch.concat(list(batch))
        returns = np.zeros_like(b.rewards)
        running = np.zeros(b.rewards.shape[1], dtype=np.float32)
        for t in reversed(range(b.rewards.shape[0])):  # no bootstrap: the rollout's own returns
            running = b.rewards[t] + self.gamma * running * ~(b.terminated[t] | b.truncated[t])
            returns[t] = running
        weights = torch.as_tensor((returns - returns.mean()) / (returns.std() + 1e-8))
        logp, _ = self.actor.evaluate(torch.as_tensor(b.obs), torch.as_tensor(b.actions), None,
                                      torch.as_tensor(b.episode_starts))  # fmt: skip
        loss = -(logp * weights).mean()
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.updates += 1
        return {"policy_loss": loss.item(), "action_std": float(self.actor.log_std.detach().exp().mean())}

    def set_progress(self, fraction: float) -> None:
        self.progress = fraction

    def actor_state(self) -> ActorState:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.actor.state_dict().items()}

    def state_dict(self) -> dict[str, Any]:
        return {"actor": self.actor.state_dict(), "optimizer": self.optimizer.state_dict(),
                "updates": self.updates, "progress": self.progress}  # fmt: skip

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.actor.load_state_dict(state["actor"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.updates, self.progress = int(state["updates"]), float(state["progress"])


@pytest.fixture
def reinforce() -> Iterator[str]:
    register_learner("reinforce", Reinforce)
    yield "reinforce"
    LEARNERS.pop("reinforce")


def test_register_learner_adds_the_algorithm_and_refuses_a_taken_name(reinforce: str) -> None:
    assert learner_factory(reinforce) is Reinforce
    register_learner(reinforce, Reinforce)  # the same factory again: nothing changes
    with pytest.raises(ValueError, match="algorithm 'ppo' already has a learner"):
        register_learner("ppo", Reinforce)


def test_a_registered_learner_trains_with_the_trainer_and_the_run_records_it(
    reinforce: str, ray_session: Any, tmp_path: Path
) -> None:
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs

    c = typed_configs(compose(["env=reach", "logger=none", "train.num_workers=1", "train.envs_per_worker=2",
                               "train.horizon=4", "train.total_env_steps=8"], "train").plain())  # fmt: skip
    trainer = Trainer(c.env, c.algo, c.model, None, c.train, c.ray, c.logger, tmp_path,
                      learner_factory=learner_factory(reinforce))  # fmt: skip
    try:
        trainer.run()
    finally:
        trainer.close()
    assert isinstance(trainer.learner, Reinforce) and isinstance(trainer.learner, Learner)
    assert trainer.learner.updates == 1  # 8 env steps / (1 worker x 2 envs x 4 steps)
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1] and np.isfinite(rows[0]["policy_loss"])
    meta = json.loads((tmp_path / "checkpoints" / "latest" / "meta.json").read_text())
    assert meta["config"]["algo"]["name"] == "reinforce"

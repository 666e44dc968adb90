"""The learner seam: the registry, the protocol PPO satisfies, and a trainer built from another
factory (a real learner: PPO that also counts its updates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner
from dexrl.rl.learners import LEARNERS, Learner, learner_factory

SMALL = ModelConfig(actor_hidden=(16,), critic_hidden=(16,))


def test_ppo_is_registered_and_satisfies_the_protocol() -> None:
    learner = learner_factory("ppo")(6, 8, 2, PPOConfig(gamma=0.99), SMALL, "cpu", 0)
    assert isinstance(learner, PPOLearner) and isinstance(learner, Learner)
    assert learner.algorithm == "ppo" and learner.dims == {"obs_dim": 6, "critic_obs_dim": 8, "action_dim": 2}
    assert set(LEARNERS) == {"ppo"}


def test_an_unknown_algorithm_names_the_registered_ones() -> None:
    with pytest.raises(ValueError, match=r"no learner registered for algorithm 'sac'; registered: ppo"):
        learner_factory("sac")


class CountingPPO(PPOLearner):
    algorithm = "ppo-counting"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.updates = 0

    def update(self, batch):  # type: ignore[no-untyped-def]
        self.updates += 1
        return super().update(batch)


def test_the_trainer_builds_its_learner_from_the_factory_it_is_given(ray_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs

    c = typed_configs(compose(["env=reach", "logger=none", "train.num_workers=1", "train.envs_per_worker=2",
                               "train.horizon=4", "train.total_env_steps=16", "algo.epochs=1"], "train").plain())  # fmt: skip

    def factory(obs: int, critic: int, act: int, cfg: Any, model: ModelConfig, device: str, seed: int) -> Learner:
        return CountingPPO(obs, critic, act, cfg, model, device=device, seed=seed)

    trainer = Trainer(c.env, c.algo, c.model, None, c.train, c.ray, c.logger, tmp_path, learner_factory=factory)
    try:
        trainer.run()
    finally:
        trainer.close()
    assert isinstance(trainer.learner, CountingPPO) and trainer.learner.updates == 2  # 16 / (2 x 4)

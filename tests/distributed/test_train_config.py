"""The train node: config defaults, and how many CPU threads the learner takes."""

from __future__ import annotations

import pytest

from dexrl.config import TrainConfig, default_train_config
from dexrl.distributed.run_setup import choose_learner_threads


def test_dataclass_defaults_are_the_config_file_defaults() -> None:
    # Library users (TrainConfig()) and scripts/train.py (configs/config.yaml) get the same run.
    assert default_train_config() == TrainConfig()
    assert default_train_config(horizon=8).horizon == 8
    with pytest.raises(ValueError, match="train.horizon must be >= 1"):
        default_train_config(horizon=0)


def test_learner_threads() -> None:
    cores = 2
    sync = TrainConfig(policy_lag=False)
    lag = TrainConfig(policy_lag=True)
    # Synchronous: the workers wait during the update, the learner takes every core.
    assert choose_learner_threads(sync, 2, local=True, cores=cores) == 2
    assert choose_learner_threads(sync, 2, local=True, cores=8) == 8
    # Policy lag on a local Ray: the cores the workers leave, at least one.
    assert choose_learner_threads(lag, 2, local=True, cores=cores) == 1
    assert choose_learner_threads(lag, 1, local=True, cores=8) == 7
    # On a cluster the workers live elsewhere: torch's default.
    assert choose_learner_threads(lag, 2, local=False, cores=cores) is None
    # An explicit number wins.
    assert choose_learner_threads(TrainConfig(policy_lag=True, learner_threads=3), 2, True, cores) == 3


def test_step_counts_accept_1e6_style_integers_and_refuse_fractions() -> None:
    """The README's `train.total_env_steps=1e6`: YAML and Hydra read 1e6 as a float."""
    from dexrl.frontdoor import ConfigError, compose, typed_configs

    configs = typed_configs(compose(["env=reach", "train.total_env_steps=1e6",
                                     "env.max_episode_steps=5e1"], "train").plain())  # fmt: skip
    assert configs.train.total_env_steps == 1_000_000 and isinstance(configs.train.total_env_steps, int)
    assert configs.env.max_episode_steps == 50 and isinstance(configs.env.max_episode_steps, int)
    with pytest.raises(ConfigError, match="train.total_env_steps"):
        typed_configs(compose(["env=reach", "train.total_env_steps=1234.5"], "train").plain())

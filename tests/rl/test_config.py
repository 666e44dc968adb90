"""Config defaults ([D]/[R], docs/references.md "PPO hyper-parameters") and validation messages."""

from __future__ import annotations

import dataclasses

import pytest

from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict


def test_defaults_follow_the_papers_and_validate() -> None:
    ppo = PPOConfig().validate()
    # docs/references.md "PPO hyper-parameters": gamma 0.998, lambda 0.95, clip 0.2, Adam 3e-4,
    # entropy 0.01, +-5 sigma
    assert (ppo.gamma, ppo.gae_lambda, ppo.clip, ppo.lr, ppo.entropy_coef, ppo.obs_clip) == (
        0.998, 0.95, 0.2, 3e-4, 0.01, 5.0,
    )  # fmt: skip
    assert ppo.normalize_advantages and ppo.normalize_value_targets
    assert ModelConfig().validate().actor_hidden == (512, 256, 128)


@pytest.mark.parametrize(
    ("cls", "key", "value", "allowed"),
    [
        (PPOConfig, "gamma", 1.5, r"\[0.0, 1.0\]"),
        (PPOConfig, "lr_schedule", "cosine", "constant"),
        (PPOConfig, "minibatches", 0, "integer >= 1"),
        (PPOConfig, "target_kl", -0.1, "> 0"),
        (PPOConfig, "normalize_advantages", 1, "true or false"),
        (ModelConfig, "kind", "gru", "mlp"),
        (ModelConfig, "actor_hidden", (64, 0), "positive ints"),
        (ModelConfig, "activation", "gelu", "elu"),
    ],
)
def test_validation_names_key_and_allowed_values(cls, key, value, allowed) -> None:
    bad = dataclasses.replace(cls(), **{key: value})
    with pytest.raises(ValueError, match=key) as info:
        bad.validate()
    assert info.match(allowed)


def test_config_from_dict_converts_lists_and_rejects_unknown_keys() -> None:
    model = config_from_dict(ModelConfig, {"kind": "lstm", "lstm_dense": [64, 32]})
    assert model.lstm_dense == (64, 32)
    with pytest.raises(ValueError, match="gama"):
        config_from_dict(PPOConfig, {"gama": 0.99})

"""The batch rule (dexrl.rl.config.resolve_minibatches): the minibatch keeps its size, the
number of minibatches grows with the workers (README "Running on a cluster")."""

from __future__ import annotations

import dataclasses

import pytest

from dexrl.config import default_algo_configs
from dexrl.rl.config import AUTO_MINIBATCH_SIZE, PPOConfig, minibatch_count, resolve_minibatches

ENVS, HORIZON = 64, 64  # configs/config.yaml's train.envs_per_worker and train.horizon


def shape(ppo: PPOConfig, workers: int, kind: str = "mlp") -> tuple[int, int, int]:
    resolved, batch = resolve_minibatches(ppo, workers, ENVS, HORIZON, kind)
    assert resolved.minibatches == batch.minibatches
    # lr, the KL target and the epochs never change with the workers.
    assert (resolved.lr, resolved.desired_kl, resolved.epochs) == (ppo.lr, ppo.desired_kl, ppo.epochs)
    return batch.samples, batch.minibatches, batch.minibatch_size


def test_config_file_default_follows_the_batch_and_keeps_the_laptop_update() -> None:
    ppo, _ = default_algo_configs()
    assert (ppo.minibatches, ppo.minibatch_size) == (None, "auto")
    assert AUTO_MINIBATCH_SIZE == 2048
    # 2 workers: today's update exactly (8,192 samples in 4 minibatches of 2,048).
    assert shape(ppo, 2) == (8_192, 4, 2_048)
    # Never fewer than 4 minibatches (what every update had before the rule): 1 worker and small
    # test batches train as they always did; only larger batches get more of ~2,048.
    assert shape(ppo, 1) == (4_096, 4, 1_024)
    assert shape(ppo, 16) == (65_536, 32, 2_048)
    assert shape(ppo, 64) == (262_144, 128, 2_048)


def test_explicit_minibatches_win_whatever_the_workers() -> None:
    ppo = dataclasses.replace(default_algo_configs()[0], minibatches=4)
    assert shape(ppo, 2) == (8_192, 4, 2_048)
    assert shape(ppo, 16) == (65_536, 4, 16_384)
    # The library default (PPOConfig()) is an explicit 4, as before the rule.
    assert shape(PPOConfig(), 16)[1] == 4
    _, batch = resolve_minibatches(dataclasses.replace(ppo, minibatch_size=512), 16, ENVS, HORIZON)
    assert "algo.minibatches=4 as given" in batch.line() and "minibatch_size=512 not used" in batch.line()


def test_explicit_minibatch_size_and_rounding() -> None:
    ppo = dataclasses.replace(default_algo_configs()[0], minibatch_size=4096)
    assert shape(ppo, 16) == (65_536, 16, 4_096)
    # 8,192 / 3,000 = 2.73 -> 3 minibatches (of 2,730 or 2,731: torch.tensor_split), said so.
    odd = dataclasses.replace(ppo, minibatch_size=3000)
    _, batch = resolve_minibatches(odd, 2, ENVS, HORIZON)
    assert (batch.minibatches, batch.minibatch_size) == (3, 2_730)
    assert "8,192 / 3,000 rounded to 3" in batch.line() and "~2,730" in batch.line()
    # Never 0 minibatches (a batch smaller than the size is one minibatch), never more than samples.
    assert minibatch_count(100, 2048) == 1
    assert minibatch_count(3 * 2048, 2048) == 3 and minibatch_count(5, 2, max_count=2) == 2
    assert minibatch_count(5 * 1024, 2048) == 3  # 2.5 rounds up
    assert minibatch_count(64, "auto") == 4 and minibatch_count(64, "auto", max_count=2) == 2
    _, small = resolve_minibatches(default_algo_configs()[0], 2, 4, 8)
    assert small.minibatches == 4 and "at least 4 minibatches" in small.line()


def test_lstm_counts_sequences() -> None:
    ppo = dataclasses.replace(default_algo_configs()[0], bptt_len=16)
    assert shape(ppo, 2, kind="lstm") == (8_192, 4, 2_048)
    tiny = dataclasses.replace(ppo, minibatch_size=1)  # 8,192 samples but only 512 sequences
    assert shape(tiny, 2, kind="lstm")[1] == 2 * ENVS * (HORIZON // 16)


def test_start_line_names_the_shape() -> None:
    _, batch = resolve_minibatches(default_algo_configs()[0], 16, ENVS, HORIZON)
    assert batch.line() == ("PPO batch: 16 workers x 64 envs x 64 steps = 65,536 samples per update, "
                            "32 minibatches x 2,048 samples, 5 epochs (algo.minibatch_size=auto = 2,048)")


@pytest.mark.parametrize(("key", "value", "message"), [
    ("minibatch_size", 0, "minibatch_size must be 'auto' or an integer >= 1, got 0"),
    ("minibatch_size", "big", "minibatch_size must be 'auto' or an integer >= 1, got 'big'"),
    ("minibatch_size", 2.5, "minibatch_size must be 'auto' or an integer >= 1, got 2.5"),
    ("minibatches", 0, "minibatches must be an integer >= 1, got 0"),
])
def test_bad_values_give_one_line_naming_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        dataclasses.replace(PPOConfig(), **{key: value}).validate()
    assert str(info.value) == message


def test_explicit_minibatches_larger_than_the_update_is_one_line() -> None:
    with pytest.raises(ValueError, match=r"^algo.minibatches=9000 exceeds the 8,192 samples") as info:
        resolve_minibatches(PPOConfig(minibatches=9000), 2, ENVS, HORIZON)
    assert "\n" not in str(info.value)


def test_learner_alone_applies_the_rule_to_its_batch() -> None:
    # Library users of the config file's algo (minibatches null) without the trainer: the learner
    # splits each batch by minibatch_size itself (32 samples / 8 = 4 minibatches, 2 epochs = 8 steps).
    from tests.rl.test_learner import make_learner, synthetic_batch

    learner = make_learner(minibatches=None, minibatch_size=8, epochs=2)
    metrics = learner.update(synthetic_batch(learner, 0, T=4, B=8))
    assert metrics["epochs_run"] == 2.0 and learner._minibatches == 4

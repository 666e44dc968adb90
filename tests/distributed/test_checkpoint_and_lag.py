"""Checkpoint files: round trip, and clear errors for truncated or foreign files; the
one-iteration policy lag runs end to end with real Ray workers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

from dexrl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from dexrl.config import LoggerConfig, RayConfig, TrainConfig, WandbConfig, load_env_config
from dexrl.rl.config import ModelConfig, PPOConfig


def test_round_trip_holds_tensors_and_json_only(tmp_path: Path) -> None:
    state = {"weights": torch.arange(4.0), "counters": {"iteration": 3}, "adr": json.dumps({"a": 1})}
    save_checkpoint(tmp_path, state, {"env": "reach"})
    loaded = load_checkpoint(tmp_path)  # weights_only=True inside
    assert torch.equal(loaded["weights"], torch.arange(4.0)) and loaded["counters"]["iteration"] == 3
    assert json.loads((tmp_path / "meta.json").read_text())["env"] == "reach"
    assert not list(tmp_path.glob("*.tmp"))  # written atomically


def test_truncated_foreign_and_missing_checkpoints_are_explained(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "ok", {"w": torch.zeros(1000)}, {})
    data = (tmp_path / "ok" / "checkpoint.pt").read_bytes()
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "checkpoint.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or not a dexrl checkpoint"):
        load_checkpoint(tmp_path / "cut")
    (tmp_path / "foreign").mkdir()
    torch.save({"model": torch.zeros(2)}, tmp_path / "foreign" / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="not a dexrl checkpoint"):
        load_checkpoint(tmp_path / "foreign")
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "nowhere")


def test_policy_lag_trains_end_to_end(ray_session, tmp_path: Path) -> None:
    from dexrl.distributed.trainer import Trainer

    train = TrainConfig(total_env_steps=6 * 64, num_workers=2, envs_per_worker=4, horizon=8,
                        device="cpu", checkpoint_every=1000, policy_lag=True)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False)
    trainer = Trainer(load_env_config("reach"), PPOConfig(epochs=2, minibatches=1),
                      ModelConfig(actor_hidden=(32,), critic_hidden=(32,)), None, train,
                      RayConfig(), logger, tmp_path)
    threads_before = torch.get_num_threads()
    last = trainer.run()
    assert last["iteration"] == 6 and last["env_steps"] == 6 * 64
    # With lag on a local Ray the learner takes the cores the 2 workers leave (at least 1)
    # during the run, and the process gets its thread count back afterwards.
    assert trainer.learner_threads == max(1, len(os.sched_getaffinity(0)) - 2)
    assert torch.get_num_threads() == threads_before
    # Ratios are taken against the behaviour log-probs the workers recorded one iteration
    # behind; they stay small, so the KL against the behaviour policy does too.
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(r["approx_kl"] < 0.5 for r in rows)

"""One tiny real training run (reach, 2 iterations on the shared Ray) for every script test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def reach_run(ray_session, tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A run directory written by the real Trainer: checkpoints/latest + config.resolved.yaml,
    and (train.video_every=1) the video of iteration 1 in videos/."""
    from omegaconf import OmegaConf

    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs

    # 20-step episodes (reach's own are 50): every video and evaluation of this checkpoint in
    # tests/scripts renders and runs 2.5 x fewer steps, and none needs more.
    overrides = ["env=reach", "env.max_episode_steps=20", "env.timeout_steps=20", "logger=none",
                 "train.num_workers=2", "train.envs_per_worker=4", "train.horizon=8",
                 "train.total_env_steps=128", "train.video_every=1"]  # fmt: skip
    c = typed_configs(compose(overrides, "train").plain())
    run_dir = tmp_path_factory.mktemp("reach_run")
    (run_dir / "config.resolved.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(c.plain)))
    trainer = Trainer(c.env, c.algo, c.model, None, c.train, c.ray, c.logger, run_dir, seed=0)
    try:
        trainer.run()
    finally:
        trainer.close()
    return run_dir

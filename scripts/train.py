#!/usr/bin/env python
"""Train a policy: `python scripts/train.py env=cube_rotate` (local Ray, CPU learner by default).

    python scripts/train.py env=reach train.total_env_steps=300000
    python scripts/train.py env=cube_rotate adr=auto model=lstm
    python scripts/train.py env=cube_rotate cluster=auto          # or ray.address=auto
    python scripts/train.py resume=runs/cube_rotate/2026-11-28_12-00-00
    python scripts/train.py env=reach algo=sb3                     # stable-baselines3 reference

Every config is validated before Ray starts; a bad key or value exits with status 2 and names it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf


def build_configs(cfg: DictConfig) -> dict[str, Any]:
    """Typed configs from the composed Hydra config; raises ValueError naming a bad key."""
    from dexrl.adr.config import adr_config_from_dict
    from dexrl.config import (
        LoggerConfig,
        RayConfig,
        TrainConfig,
        env_config_from_dict,
        structured,
        validate_train_config,
    )  # fmt: skip
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict

    plain = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(plain, dict)
    algo = dict(plain["algo"])
    name = algo.pop("name", "ppo")
    if name not in ("ppo", "sb3"):
        raise ValueError(f"algo.name must be 'ppo' or 'sb3' (got '{name}')")
    out: dict[str, Any] = {
        "env": env_config_from_dict(plain["env"], source="env"),
        "algo_name": name,
        "algo": config_from_dict(PPOConfig, algo) if name == "ppo" else algo,
        "model": config_from_dict(ModelConfig, plain["model"]),
        "adr": adr_config_from_dict(plain["adr"]),
        "train": structured(TrainConfig, plain["train"], "train"),
        "ray": structured(RayConfig, plain.get("ray"), "ray"),
        "logger": structured(LoggerConfig, plain["logger"], "logger"),
        "plain": plain,
    }
    validate_train_config(out["train"])
    return out


@hydra.main(config_path="../configs", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        c = build_configs(cfg)
    except ValueError as err:
        print(f"config error: {err}", file=sys.stderr)
        sys.exit(2)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    (run_dir / "config.resolved.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(c["plain"])))
    print(f"[dexrl] run directory: {run_dir}")
    if c["algo_name"] == "sb3":
        from dexrl.baselines.sb3 import train_sb3

        result = train_sb3(c["env"], c["algo"], c["train"], run_dir, seed=int(cfg.seed))
        print(f"[dexrl] sb3 finished: {result}")
        return
    from dexrl.checkpoint import CheckpointError
    from dexrl.distributed.trainer import Trainer

    adr = c["adr"] if c["adr"].mode != "none" else None
    try:
        trainer = Trainer(
            c["env"], c["algo"], c["model"], adr, c["train"], c["ray"], c["logger"], run_dir,
            seed=int(cfg.seed), resume=cfg.resume, resolved_config=c["plain"],
        )  # fmt: skip
    except CheckpointError as err:
        print(f"resume error: {err}", file=sys.stderr)
        sys.exit(2)
    if trainer.learner.device.type == "cpu":
        print(f"[dexrl] learner on CPU, {trainer.num_workers} rollout workers")
    else:
        print(f"[dexrl] learner on {trainer.learner.device}, {trainer.num_workers} rollout workers")
    last = trainer.run()
    print(f"[dexrl] done: {last.get('env_steps', 0)} env steps; checkpoint in {run_dir / 'checkpoints' / 'latest'}")


if __name__ == "__main__":
    main()

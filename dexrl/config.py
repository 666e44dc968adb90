"""Structured configs (dataclasses) for dexrl.

Hydra composes `configs/*.yaml`; the scripts turn the result into these dataclasses with
`OmegaConf.structured` + `merge`, so an unknown or mistyped key fails with its name before any
simulation, Ray or torch work starts. Library code takes these typed objects, never a DictConfig.

Here: the run's own configs (train, Ray, logger) and the defaults of configs/. The env config
and each task's settings are in `dexrl.env_config`, the robot's in `dexrl.robots`, the helpers
that read plain values in `dexrl.structured`; all are importable from here as before.
Algorithm configs live beside their code (`dexrl.rl.config`, `dexrl.adr.config`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from dexrl.env_config import (
    EnvConfig,
    TaskSettings,
    env_config_from_dict,
    env_config_to_dict,
    known_env_names,
    load_env_config,
    validate_env_config,
)
from dexrl.paths import configs_dir
from dexrl.robots import PHYSICS_SCALES, RobotConfig
from dexrl.structured import ConfigError, integral_floats, structured


def config_path(group: str, name: str) -> Path:
    """Path of `configs/<group>/<name>.yaml`, with a clear error listing the choices."""
    path = configs_dir() / group / f"{name}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in (configs_dir() / group).glob("*.yaml"))
        raise ValueError(f"unknown {group} config '{name}'. Choices: {', '.join(choices)}")
    return path


@dataclass
class RayConfig:
    """Where the rollout workers run."""

    # None/"local": start a local Ray in this process; "auto": join the running cluster.
    address: str | None = None
    # CPUs for a local Ray (None = all of this machine's cores).
    num_cpus: int | None = None
    # Joining a cluster that does not answer within this many seconds stops with one line.
    connect_timeout_s: float = 30.0


@dataclass
class WandbConfig:
    # "offline" (default: no account needed; `wandb sync` later), "online", or "disabled".
    mode: str = "offline"
    project: str = "dexrl"
    entity: str | None = None


@dataclass
class LoggerConfig:
    wandb: WandbConfig = field(default_factory=WandbConfig)
    # Show a progress bar on the terminal.
    progress_bar: bool = True
    # Print one line of metrics every N iterations.
    print_every: int = 1


@dataclass
class TrainConfig:
    """The training run (configs/config.yaml `train:` node)."""

    # Stop after this many environment steps (samples).
    total_env_steps: int = 2_000_000
    # Rollout workers: "auto" = one per CPU Ray sees (at least 1), or a number.
    num_workers: Any = "auto"
    # Envs stepped together by each worker.
    envs_per_worker: int = 64
    # Steps per env per rollout (T). Samples per iteration = workers x envs x horizon.
    horizon: int = 64
    # Learner device: "auto" (cuda when available), "cpu", "cuda".
    device: str = "auto"
    # Collect the next rollout with the previous weights while the learner trains (1-step lag).
    policy_lag: bool = False
    # CPU threads of the learner: "auto" = every core while the workers wait (synchronous), the
    # cores the local workers leave free with policy_lag (at least 1), or a number.
    learner_threads: Any = "auto"
    # Save a checkpoint every N iterations (and at the end, and on Ctrl-C).
    checkpoint_every: int = 20
    # Stop early once the mean consecutive successes of finished episodes reaches this (None = off).
    stop_at_successes: float | None = None
    # Stop after this many seconds of wall time (None = off).
    max_wall_s: float | None = None
    # Render one short episode of the current policy every N iterations, in a Ray actor of its
    # own (videos/iter_<k>.mp4 in the run dir, and wandb); 0 = off (dexrl.distributed.video).
    video_every: int = 0


def validate_train_config(cfg: TrainConfig) -> None:
    nw = cfg.num_workers
    if not (nw == "auto" or (isinstance(nw, int) and nw >= 1)):
        raise ValueError(f"train.num_workers must be 'auto' or an integer >= 1 (got {nw!r})")
    lt = cfg.learner_threads
    if not (lt == "auto" or (isinstance(lt, int) and not isinstance(lt, bool) and lt >= 1)):
        raise ValueError(f"train.learner_threads must be 'auto' or an integer >= 1 (got {lt!r})")
    for key in ("total_env_steps", "envs_per_worker", "horizon", "checkpoint_every"):
        if getattr(cfg, key) < 1:
            raise ValueError(f"train.{key} must be >= 1 (got {getattr(cfg, key)})")
    if cfg.device not in ("auto", "cpu", "cuda") and not cfg.device.startswith("cuda:"):
        raise ValueError(f"train.device must be 'auto', 'cpu' or 'cuda[:K]' (got '{cfg.device}')")
    if cfg.video_every < 0:
        raise ValueError(f"train.video_every must be >= 0 (0 = no videos; got {cfg.video_every})")


def load_group(group: str, name: str) -> dict[str, Any]:
    """The plain values of `configs/<group>/<name>.yaml` (for library users and benchmarks that
    want the same defaults as scripts/train.py)."""
    values = OmegaConf.to_container(OmegaConf.load(config_path(group, name)), resolve=True)
    assert isinstance(values, dict)
    return values  # type: ignore[return-value]


def default_train_config(**overrides: Any) -> TrainConfig:
    """The `train:` node of configs/config.yaml (what scripts/train.py uses), with overrides."""
    base = OmegaConf.load(config_path("", "config"))
    assert isinstance(base, DictConfig)
    values = OmegaConf.to_container(base["train"], resolve=True)
    assert isinstance(values, dict)
    cfg: TrainConfig = structured(TrainConfig, {**values, **overrides}, "train")
    validate_train_config(cfg)
    return cfg


def default_algo_configs(model: str = "mlp") -> tuple[Any, Any]:
    """(PPOConfig, ModelConfig) from configs/algo/ppo.yaml and configs/model/<model>.yaml."""
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict

    ppo = load_group("algo", "ppo")
    ppo.pop("name", None)
    return config_from_dict(PPOConfig, ppo), config_from_dict(ModelConfig, load_group("model", model))


__all__ = [
    "PHYSICS_SCALES", "ConfigError", "EnvConfig", "LoggerConfig", "RayConfig", "RobotConfig",
    "TaskSettings", "TrainConfig", "WandbConfig", "config_path", "default_algo_configs",
    "default_train_config", "env_config_from_dict", "env_config_to_dict", "integral_floats",
    "known_env_names", "load_env_config", "load_group", "structured", "validate_env_config",
    "validate_train_config",
]  # fmt: skip

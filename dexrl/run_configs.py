"""A run's typed configs: from a composed command line (`typed_configs`) or from a checkpoint
(`load_run`, then `restore_configs` for a command line that continues or opens it).

Part of the front door (`dexrl.frontdoor` re-exports every name here). A checkpoint's recorded
config is read through `dexrl.run_record.read_run_record`, which converts an older env record
(`env_version`) or names, in one line, one this dexrl cannot read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.checkpoint import CheckpointError, load_checkpoint
from dexrl.config import EnvConfig, LoggerConfig, RayConfig, TrainConfig
from dexrl.run_record import read_run_record
from dexrl.structured import ConfigError

if TYPE_CHECKING:
    from dexrl.frontdoor import Composed

# Config nodes a checkpoint records and `restore_configs` can take from it.
RUN_NODES = ("env", "model", "algo", "adr")


def one_line(text: str) -> str:
    """`text` on one line (an error message for stderr)."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def override_key(override: str) -> str:
    """The key of a command-line override (`+env.x=1` -> `env.x`)."""
    return override.split("=", 1)[0].lstrip("+~")


# ---------------------------------------------------------------------------- typed configs


@dataclass
class Configs:
    """The typed configs of one run (what library code takes)."""

    env: EnvConfig
    model: Any  # dexrl.rl.config.ModelConfig
    algo_name: str  # "ppo" or "sb3"
    algo: Any  # PPOConfig for ppo, the plain dict for sb3
    adr: Any  # dexrl.adr.config.ADRConfig (mode "none" = calibrated)
    train: TrainConfig
    ray: RayConfig
    logger: LoggerConfig
    seed: int = 0
    plain: dict[str, Any] = field(default_factory=dict)

    @property
    def ppo(self) -> Any:
        return self.algo


def typed_configs(plain: Mapping[str, Any]) -> Configs:
    """Typed, validated configs from plain values (a composed config); ConfigError names the key."""
    from dexrl.adr.config import adr_config_from_dict
    from dexrl.config import env_config_from_dict, structured, validate_train_config
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict

    try:
        algo = dict(plain["algo"])
        name = algo.pop("name", "ppo")
        if name not in ("ppo", "sb3"):
            raise ValueError(f"algo.name must be 'ppo' or 'sb3' (got '{name}')")
        configs = Configs(
            env=env_config_from_dict(dict(plain["env"]), source="env"),
            model=_prefixed("model", lambda: config_from_dict(ModelConfig, plain["model"])),
            algo_name=name,
            algo=_prefixed("algo", lambda: config_from_dict(PPOConfig, algo)) if name == "ppo" else algo,
            adr=adr_config_from_dict(plain.get("adr") or {"mode": "none"}),
            train=structured(TrainConfig, plain.get("train"), "train"),
            ray=structured(RayConfig, plain.get("ray"), "ray"),
            logger=structured(LoggerConfig, plain.get("logger"), "logger"),
            seed=_seed(plain.get("seed", 0)),
            plain=dict(plain),
        )
        validate_train_config(configs.train)
        from dexrl.sim.model import check_scene

        check_scene(configs.env)  # the robot's MJCF and the object compose and compile
        if not configs.ray.connect_timeout_s > 0:
            raise ValueError(f"ray.connect_timeout_s must be > 0 seconds (got {configs.ray.connect_timeout_s})")
        if name == "ppo":  # algo.gamma null = the task's own discount (env.gamma)
            from dexrl.rl.config import resolve_gamma

            configs.algo = resolve_gamma(configs.algo, configs.env.gamma)
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError) as err:
        raise ConfigError(one_line(str(err))) from None
    return configs


def _prefixed(node: str, build: Callable[[], Any]) -> Any:
    """Run a builder whose messages name bare keys ('gamma must ...'), naming the node too."""
    try:
        return build()
    except (ValueError, TypeError) as err:
        text = one_line(str(err))
        raise ConfigError(text if f"{node}." in text else f"{node}: {text}") from None


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"seed must be an integer (got {value!r})")
    return value


# ---------------------------------------------------------------------------- checkpoints


@dataclass
class RunSpec:
    """A checkpoint and the typed configs it was trained with."""

    checkpoint_dir: Path
    run_dir: Path | None  # the run directory holding checkpoints/ (None for a loose checkpoint)
    env: EnvConfig  # robot included (env.robot)
    model: Any  # ModelConfig
    ppo: Any  # PPOConfig
    adr: Any  # ADRConfig, mode "none" when the run had no randomization
    adr_state: dict[str, Any] | None  # the ADR algorithm's JSON state (ranges, buffers) if any
    payload: dict[str, Any]  # the loaded checkpoint (learner state, counters, ...)
    config: dict[str, Any]  # the recorded plain config nodes (env, model, algo, adr, train)

    @property
    def dims(self) -> dict[str, int]:
        return dict(self.payload["learner"]["dims"])


def checkpoint_dir(path: str | Path) -> Path:
    """The checkpoint folder for a run dir, a checkpoint dir or a checkpoint.pt file."""
    p = Path(path).expanduser()
    if p.is_file():
        return p.parent
    if (p / "checkpoints" / "latest").is_dir():
        return p / "checkpoints" / "latest"
    return p


def load_run(checkpoint: str | Path | None, key: str = "checkpoint") -> RunSpec:
    """Open a run directory or a checkpoint directory; ConfigError/CheckpointError in one line
    naming `key`, the command-line key the path came from (checkpoint=, resume=)."""
    if checkpoint in (None, ""):
        raise ConfigError(f"no checkpoint given: pass {key}=<run dir> (e.g. runs/reach/<date>) "
                          f"or {key}=<run dir>/checkpoints/latest")  # fmt: skip
    ckpt = checkpoint_dir(str(checkpoint))
    if not ckpt.exists():
        raise ConfigError(f"no such file or directory: {checkpoint} (key: {key}); pass a run "
                          "directory (runs/<env>/<date>) or its checkpoints/latest")  # fmt: skip
    if (ckpt / "sb3_model.zip").is_file() and not (ckpt / "checkpoint.pt").is_file():
        raise ConfigError(f"{checkpoint} is a stable-baselines3 reference run (algo=sb3, key: {key}): "
                          "its sb3_model.zip loads with stable_baselines3.PPO.load and its figures are "
                          "in sb3_metrics.json; evaluate, view, export and resume take dexrl PPO runs")  # fmt: skip
    try:
        payload = load_checkpoint(Path(str(checkpoint)).expanduser() if Path(str(checkpoint)).is_file() else ckpt)
    except CheckpointError as err:
        raise CheckpointError(f"{err} (key: {key})") from None
    run_dir = ckpt.parent.parent if ckpt.parent.name == "checkpoints" else None
    config = _recorded_config(payload, run_dir, ckpt)
    try:
        configs = typed_configs({**_defaults_for_missing(config), **config})
    except ConfigError as err:
        raise ConfigError(f"the checkpoint's recorded config is not valid here: {err}") from None
    adr_json = payload.get("adr")
    return RunSpec(
        checkpoint_dir=ckpt, run_dir=run_dir, env=configs.env, model=configs.model,
        ppo=configs.algo, adr=configs.adr,
        adr_state=json.loads(adr_json) if isinstance(adr_json, str) else None,
        payload=payload, config=config,
    )  # fmt: skip


def _recorded_config(payload: Mapping[str, Any], run_dir: Path | None, ckpt: Path) -> dict[str, Any]:
    """The config nodes a checkpoint was trained with: meta["config"] (written by Trainer.save),
    else the run directory's config.resolved.yaml (older checkpoints), its env node converted
    from an older version (read_run_record); model and algo always come from the learner state
    itself, which is what the weights were built with."""
    meta = payload.get("meta") or {}
    config = dict(meta.get("config") or {})
    resolved = run_dir / "config.resolved.yaml" if run_dir is not None else None
    if "env" not in config and resolved is not None and resolved.is_file():
        values = OmegaConf.to_container(OmegaConf.load(resolved), resolve=True)
        assert isinstance(values, dict)
        config = {k: values[k] for k in (*RUN_NODES, "train") if k in values}
    if "env" not in config:
        raise CheckpointError(f"{ckpt} does not record the env it was trained on (no config in "
                              f"meta.json, no config.resolved.yaml beside it)")  # fmt: skip
    try:
        config = read_run_record(config)  # an older env record in today's form
    except ValueError as err:
        raise CheckpointError(f"{ckpt}: {one_line(str(err))}") from None
    learner = payload.get("learner") or {}
    if "model" in learner:
        config["model"] = dict(learner["model"])
    if "ppo" in learner:
        config["algo"] = {"name": "ppo", **dict(learner["ppo"])}
    return config


def _defaults_for_missing(config: Mapping[str, Any]) -> dict[str, Any]:
    defaults: dict[str, Any] = {"adr": {"mode": "none"}, "train": {}}
    if "algo" not in config:
        defaults["algo"] = {"name": "ppo"}
    if "model" not in config:
        defaults["model"] = {}
    return defaults


def restore_configs(composed: Composed, run: RunSpec, nodes: tuple[str, ...] = RUN_NODES) -> Configs:
    """Typed configs for a command line that continues or opens `run`.

    Each node in `nodes` (env with its robot, model, algo, adr) comes from the checkpoint unless
    the command line selects another one (`env=reach`); `node.key=value` overrides apply on top
    of the checkpoint's values. Everything else (train, ray, logger, seed) is the command line's.
    """
    plain = composed.plain()
    for node in nodes:
        if node not in run.config or any(override_key(o) == node for o in composed.overrides):
            continue
        dotted = [o.lstrip("+") for o in composed.overrides if override_key(o).startswith(node + ".")]
        try:
            merged = OmegaConf.merge(OmegaConf.create({node: run.config[node]}),
                                     OmegaConf.from_dotlist(dotted))  # fmt: skip
        except OmegaConfBaseException as err:
            raise ConfigError(f"cannot apply {' '.join(dotted)}: {one_line(str(err))}") from None
        values = OmegaConf.to_container(merged, resolve=True)
        assert isinstance(values, dict)
        plain[node] = values[node]
    return typed_configs(plain)


def check_dims(run: RunSpec, obs_dim: int, action_dim: int, env_name: str) -> None:
    """ConfigError when `run`'s policy does not fit an env's observation/action sizes."""
    dims = run.dims
    if dims.get("obs_dim") == obs_dim and dims.get("action_dim") == action_dim:
        return
    if env_name == run.env.name:
        raise ConfigError(
            f"the checkpoint's policy takes {dims.get('obs_dim')} observations and gives "
            f"{dims.get('action_dim')} actions, but env {env_name} of this dexrl version has "
            f"{obs_dim} and {action_dim}: the checkpoint was made by a dexrl version with another "
            "observation layout; retrain, or use the version it was trained with"
        )
    raise ConfigError(
        f"the checkpoint's policy takes {dims.get('obs_dim')} observations and gives "
        f"{dims.get('action_dim')} actions (trained on env {run.env.name}); env {env_name} has "
        f"{obs_dim} and {action_dim} (key: env). Leave env= out to use the checkpoint's env"
    )

"""One front door for every script: train, evaluate, view, export, doctor (docs/architecture.md §13).

A script hands its command line to `compose` (Hydra's compose API on `configs/` plus the script's
own keys) and turns the result into typed configs with `typed_configs`; a script that takes a
checkpoint opens it with `load_run` and lets `restore_configs` take env, robot, model, algo and
ADR from what the checkpoint was trained with. Every mistake on the way is a `ConfigError`, and
`exit_on_error` turns it into exactly one line on stderr and exit status 2 -- before Ray, torch
workers or any file in a run directory are touched.

    @exit_on_error
    def main(argv: list[str]) -> None:
        composed = compose(argv, "evaluate", script_keys={"checkpoint": None, "episodes": 100})
        run = load_run(composed.args["checkpoint"])
        configs = restore_configs(composed, run)   # env of the checkpoint unless env=... given
"""

from __future__ import annotations

import functools
import json
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.checkpoint import CheckpointError, load_checkpoint
from dexrl.config import ConfigError, EnvConfig, LoggerConfig, RayConfig, TrainConfig
from dexrl.paths import configs_dir
from dexrl.run_record import run_config_record

# Config nodes a checkpoint records and `restore_configs` can take from it.
RUN_NODES = ("env", "model", "algo", "adr")
_F = TypeVar("_F", bound=Callable[..., Any])


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def exit_on_error(fn: _F) -> _F:
    """Wrap a script's main: a ConfigError (or CheckpointError) prints one line and exits 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CheckpointError as err:
            print(f"checkpoint error: {_one_line(str(err))}", file=sys.stderr)
        except ConfigError as err:
            print(f"config error: {_one_line(str(err))}", file=sys.stderr)
        sys.exit(2)

    return wrapper  # type: ignore[return-value]


# ---------------------------------------------------------------------------- composing


@dataclass
class Composed:
    """What a command line composed to: the Hydra config, the script's own keys, the overrides."""

    cfg: DictConfig  # the composed config, `hydra` node included (run dir: cfg.hydra.run.dir)
    args: dict[str, Any]  # the script's own keys (defaults filled in)
    overrides: list[str]  # the Hydra overrides as given (script keys removed)
    script: str = "train"

    def plain(self) -> dict[str, Any]:
        """The resolved config as plain values, without the `hydra` node."""
        try:
            body = OmegaConf.masked_copy(self.cfg, [str(k) for k in self.cfg if k != "hydra"])
            values = OmegaConf.to_container(body, resolve=True)
        except OmegaConfBaseException as err:  # e.g. a bad ${...} interpolation in a value
            key = getattr(err, "full_key", None)
            raise ConfigError(f"cannot resolve the config (key: {key}): {_one_line(str(err))}") from None
        assert isinstance(values, dict)
        return values  # type: ignore[return-value]

    def touched(self, node: str) -> bool:
        """Whether an override selects or changes config node `node` (e.g. `env=...`, `env.x=`)."""
        return any(_override_key(o) == node or _override_key(o).startswith(node + ".")
                   for o in self.overrides)  # fmt: skip

    def run_dir(self) -> Path:
        return Path(str(self.cfg.hydra.run.dir))


def _override_key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def compose(
    overrides: list[str], script: str, script_keys: Mapping[str, Any] | None = None
) -> Composed:
    """Compose `configs/config.yaml` with `overrides` the way `@hydra.main` would.

    `script_keys` are the script's own top-level keys and their defaults (e.g. evaluate's
    `{"checkpoint": None, "episodes": 100}`); values are converted to the default's type
    (a None default keeps the string). Every error is a one-line ConfigError naming the key.
    """
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    keys = dict(script_keys or {})
    args, hydra_overrides = _split_script_keys(overrides, keys)
    # The robot group composes into env.robot (`robot@env.robot` in config.yaml's defaults), and
    # Hydra only accepts a selection by that full name: `robot=<hand>` means it.
    hydra_overrides = [_robot_selection(o.split("=", 1)[1]) if _override_key(o) in ("robot", "robot@env.robot")
                       else o for o in hydra_overrides]  # fmt: skip
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3", job_name=script):
            cfg = hydra_compose("config", overrides=[_open_nested(o) for o in hydra_overrides],
                                return_hydra_config=True)  # fmt: skip
    except Exception as err:  # Hydra raises many types; every one becomes one line
        raise ConfigError(_hydra_message(err, hydra_overrides, keys)) from None
    finally:
        GlobalHydra.instance().clear()
    _check_top_level(cfg, keys)
    return Composed(cfg, args, hydra_overrides, script)


ROBOT_FILE_TAG = "__file_"  # ConfigStore names of robot yamls given by path: <stem>__file_<hash>


def _robot_selection(choice: str) -> str:
    """The Hydra override selecting a robot: configs/robot/<name>.yaml by name, or a robot yaml
    given by path (`robot=/path/to/hand.yaml`), which is stored in Hydra's ConfigStore under the
    robot group (its relative mjcf resolved from the yaml's folder, dexrl.robots.robot_values)."""
    import hashlib

    from hydra.core.config_store import ConfigStore

    from dexrl.robots import is_robot_path, robot_file, robot_values

    if not is_robot_path(choice):
        return f"robot@env.robot={choice}"
    try:
        path = robot_file(choice)
        values = robot_values(choice)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    key = f"{path.stem}{ROBOT_FILE_TAG}{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    ConfigStore.instance().store(group="robot", name=key, node=values)
    return f"robot@env.robot={key}"


def compose_hand_alone(argv: list[str], script: str, script_keys: Mapping[str, Any]) -> Composed:
    """`compose` for scripts that drive the hand without an object (excite, calibrate): the
    scene of env=reach unless the command line names an env."""
    if not any(a.split("=", 1)[0] == "env" for a in argv):
        argv = ["env=reach", *argv]
    return compose(argv, script, script_keys)


def _split_script_keys(
    overrides: list[str], keys: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    args = dict(keys)
    rest: list[str] = []
    for o in overrides:
        if "=" not in o:
            raise ConfigError(f"argument '{o}' is not key=value (e.g. env=reach, train.horizon=16)")
        key, value = o.split("=", 1)
        name = key.lstrip("+")
        if name in keys:
            args[name] = _convert(name, value, keys[name])
        else:
            rest.append(o)
    return args, rest


def _convert(name: str, value: str, default: Any) -> Any:
    if value.lower() in ("null", "none", "") and default is None:
        return None
    kind = type(default)
    try:
        if kind is bool:
            if value.lower() not in ("true", "false"):
                raise ValueError
            return value.lower() == "true"
        if kind in (int, float):
            return kind(float(value)) if kind is int and float(value).is_integer() else kind(value)
    except ValueError:
        raise ConfigError(f"{name} must be {kind.__name__} (got '{value}')") from None
    return value


def _open_nested(override: str) -> str:
    """`a.b.c=v` may add a key inside an open mapping (adr.params.*, env.robot.ready_pose.*), as
    the README's examples do, so it is passed as `++a.b.c=v`; the typed configs then reject an
    unknown key by its full name (`env.bogus`). Top-level keys are checked by `_check_top_level`."""
    key = override.split("=", 1)[0]
    if key.startswith(("+", "~")) or "." not in key or key.startswith("hydra.") or "@" in key:
        return override
    return "++" + override


def _check_top_level(cfg: DictConfig, keys: Mapping[str, Any]) -> None:
    known = _known_top_level()
    unknown = sorted({str(k) for k in cfg.keys()} - known - {"hydra"})
    nested = cfg.get("experiment")  # ladder.yaml has no `@package _global_`: it lands here
    if "ladder" in unknown or (isinstance(nested, DictConfig) and "ladder" in nested):
        # configs/experiment/ladder.yaml is read by dexrl.doctor.ladder, not composed into a run
        raise ConfigError("experiment=ladder is the doctor's ladder (one training run per rung), "
                          "not one run: python scripts/doctor.py experiment=ladder")  # fmt: skip
    if unknown:
        allowed = sorted(known | set(keys))
        raise ConfigError(f"unknown key '{unknown[0]}'; top-level keys are: {', '.join(allowed)}")


@functools.lru_cache(maxsize=1)
def _known_top_level() -> frozenset[str]:
    base = OmegaConf.load(configs_dir() / "config.yaml")
    groups = {p.name for p in configs_dir().iterdir() if p.is_dir()}
    # `cluster` composes into `ray` (`# @package ray`); `robot` into env.robot.
    return frozenset(set(base.keys()) - {"defaults", "hydra"} | groups | {"ray"}) - {"robot", "cluster", "experiment"}


def _hydra_message(err: Exception, overrides: list[str], keys: Mapping[str, Any]) -> str:
    from hydra.errors import MissingConfigException

    text = str(err)
    if isinstance(err, MissingConfigException) and "Could not find '" in text:
        missing = text.split("Could not find '", 1)[1].split("'", 1)[0]  # e.g. env/nonexistent
        group, _, name = missing.rpartition("/")
        choices = sorted(p.stem for p in (configs_dir() / group).glob("*.yaml")) if group else []
        if group == "env":
            return f"unknown env '{name}'. Known envs: {', '.join(choices)} (key: env)"
        return f"unknown {group} '{name}' (key: {group}); choose one of: {', '.join(choices)}"
    if text.startswith("Could not override '"):
        key = text.split("'", 2)[1]
        allowed = sorted(_known_top_level() | set(keys))
        return f"unknown key '{key}'; top-level keys are: {', '.join(allowed)}"
    if "Error parsing override" in text:
        bad = text.split("'", 2)[1] if "'" in text else text
        return f"cannot parse '{bad}': write key=value (e.g. train.horizon=16, env=reach)"
    given = " ".join(overrides)
    return f"cannot compose the config from '{given}': {_one_line(text)}"


# ---------------------------------------------------------------------------- multirun

MULTIRUN_FLAGS = ("-m", "--multirun")


def multirun_jobs(argv: list[str]) -> list[list[str]] | None:
    """The jobs of a Hydra-style multirun command line (`-m seed=0,1 env=reach,cube_rotate_z`:
    the cartesian product of every comma list, in order), or None without `-m`. Values in
    brackets (`env.x=[1,2]`) are one value; `hydra.*` overrides are never split. Hydra's other
    sweep forms (range(), choice(), ...) are refused with one line."""
    if not any(a in MULTIRUN_FLAGS for a in argv):
        return None
    rest = [a for a in argv if a not in MULTIRUN_FLAGS]
    axes: list[list[str]] = []
    for o in rest:
        if "=" not in o:
            raise ConfigError(f"argument '{o}' is not key=value (e.g. -m seed=0,1,2 env=reach)")
        key, value = o.split("=", 1)
        if value.startswith(("range(", "interval(", "choice(", "glob(", "tag(")):
            raise ConfigError(f"'{o}': only comma lists sweep here (e.g. {key}=0,1,2)")
        axes.append([f"{key}={v}" for v in _split_top_level_commas(value)] if not key.startswith("hydra.") else [o])
    jobs: list[list[str]] = [[]]
    for axis in axes:
        jobs = [job + [choice] for job in jobs for choice in axis]
    return jobs


def _split_top_level_commas(value: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in value:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    if any(p == "" for p in parts):
        raise ConfigError(f"empty value in the sweep '{value}' (e.g. seed=0,1,2)")
    return parts


def run_multirun(script: Path, jobs: list[list[str]], check: Callable[[list[str]], Any]) -> int:
    """Run each job as its own process of `script` (its own Ray, its own run directory under
    runs/multirun/<date>/<job number>, or `hydra.sweep.dir=`), one after another, and print a
    summary. `check(job)` (the script's own validation: compose + typed configs) runs on every
    job first, so a typo stops the sweep before any job runs. Returns the number that failed."""
    import subprocess
    import time

    sweep_dir = None
    for job in jobs:
        for o in list(job):
            if o.startswith("hydra.sweep.dir="):
                sweep_dir = o.split("=", 1)[1]
                job.remove(o)
    for job in jobs:
        check(job)  # a ConfigError here names the job's bad key; nothing has run
    root = Path(sweep_dir or f"runs/multirun/{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    root.mkdir(parents=True, exist_ok=True)
    (root / "multirun.yaml").write_text(OmegaConf.to_yaml(OmegaConf.create(
        {"script": script.name, "jobs": [{"num": i, "overrides": j, "dir": str(root / str(i))}
                                         for i, j in enumerate(jobs)]})))  # fmt: skip
    failed = []
    for i, job in enumerate(jobs):
        print(f"[dexrl] multirun job {i + 1}/{len(jobs)}: {' '.join(job)} -> {root / str(i)}", flush=True)
        done = subprocess.run([sys.executable, str(script), *job, f"hydra.run.dir={root / str(i)}"], check=False)
        if done.returncode != 0:
            failed.append(i)
            print(f"[dexrl] multirun job {i + 1} failed (exit {done.returncode}); going on", flush=True)
    print(f"[dexrl] multirun: {len(jobs) - len(failed)} of {len(jobs)} jobs finished in {root}"
          + (f"; failed: {', '.join(str(i) for i in failed)}" if failed else ""))  # fmt: skip
    return len(failed)


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
        raise ConfigError(_one_line(str(err))) from None
    return configs


def _prefixed(node: str, build: Callable[[], Any]) -> Any:
    """Run a builder whose messages name bare keys ('gamma must ...'), naming the node too."""
    try:
        return build()
    except (ValueError, TypeError) as err:
        text = _one_line(str(err))
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
    else the run directory's config.resolved.yaml (older checkpoints); model and algo always
    come from the learner state itself, which is what the weights were built with."""
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
        if node not in run.config or any(_override_key(o) == node for o in composed.overrides):
            continue
        dotted = [o.lstrip("+") for o in composed.overrides if _override_key(o).startswith(node + ".")]
        try:
            merged = OmegaConf.merge(OmegaConf.create({node: run.config[node]}),
                                     OmegaConf.from_dotlist(dotted))  # fmt: skip
        except OmegaConfBaseException as err:
            raise ConfigError(f"cannot apply {' '.join(dotted)}: {_one_line(str(err))}") from None
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


def next_steps(run_dir: str | Path) -> str:
    """What to do with a finished (or interrupted) run: the commands to evaluate, view, export it."""
    d = shlex.quote(str(run_dir))
    return "\n".join([
        f"[dexrl] run directory: {run_dir}",
        f"[dexrl]   evaluate: python scripts/evaluate.py checkpoint={d}",
        f"[dexrl]   watch:    python scripts/view.py checkpoint={d}",
        f"[dexrl]   export:   python scripts/export.py checkpoint={d}",
    ])  # fmt: skip


__all__ = [
    "ConfigError", "Composed", "Configs", "RunSpec", "check_dims", "checkpoint_dir", "compose",
    "compose_hand_alone",
    "exit_on_error", "load_run", "next_steps", "restore_configs", "run_config_record",
    "typed_configs",
]  # fmt: skip

"""One front door for every script: train, evaluate, view, export, doctor (docs/architecture.md §13).

A script hands its command line to `compose` (Hydra's compose API on `configs/` plus the script's
own keys) and turns the result into typed configs with `typed_configs`; a script that takes a
checkpoint opens it with `load_run` and lets `restore_configs` take env, robot, model, algo and
ADR from what the checkpoint was trained with. Every mistake on the way is a `ConfigError`, and
`exit_on_error` turns it into exactly one line on stderr and exit status 2 -- before Ray, torch
workers or any file in a run directory are touched.

Composing is here; the typed configs and restoring a run from its checkpoint are in
`dexrl.run_configs`, multiruns in `dexrl.multirun`; this module re-exports both, so scripts
import everything from here.

    @exit_on_error
    def main(argv: list[str]) -> None:
        composed = compose(argv, "evaluate", script_keys={"checkpoint": None, "episodes": 100})
        run = load_run(composed.args["checkpoint"])
        configs = restore_configs(composed, run)   # env of the checkpoint unless env=... given
"""

from __future__ import annotations

import functools
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from dexrl.checkpoint import CheckpointError
from dexrl.config import ConfigError
from dexrl.multirun import MULTIRUN_FLAGS, multirun_jobs, run_multirun
from dexrl.paths import configs_dir
from dexrl.run_configs import (
    RUN_NODES,
    Configs,
    RunSpec,
    check_dims,
    checkpoint_dir,
    load_run,
    restore_configs,
    typed_configs,
)
from dexrl.run_configs import one_line as _one_line
from dexrl.run_configs import override_key as _override_key
from dexrl.run_record import run_config_record

_F = TypeVar("_F", bound=Callable[..., Any])


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
    for o in hydra_overrides:  # configs/env/_base.yaml and the like are parts of envs, not envs
        if _override_key(o) == "env" and o.split("=", 1)[1].startswith("_"):
            from dexrl.config import known_env_names

            raise ConfigError(f"unknown env '{o.split('=', 1)[1]}'. Known envs: {', '.join(known_env_names())} (key: env)")
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
        choices = sorted(p.stem for p in (configs_dir() / group).glob("*.yaml") if not p.stem.startswith("_")) if group else []
        if group == "env":
            return (f"unknown env '{name}'. Known envs: {', '.join(choices)} (key: env); an env yaml of "
                    "your own is found with hydra.searchpath=[file:///abs/folder] where the folder holds "
                    f"env/{name}.yaml")  # fmt: skip
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
    "MULTIRUN_FLAGS", "RUN_NODES", "CheckpointError", "ConfigError", "Composed", "Configs", "RunSpec",
    "check_dims", "checkpoint_dir", "compose", "compose_hand_alone", "exit_on_error", "load_run",
    "multirun_jobs", "next_steps", "restore_configs", "run_config_record", "run_multirun",
    "typed_configs",
]  # fmt: skip

"""Plain values into typed dataclass configs, every mistake in one line naming the key.

The lowest layer of the configs: `dexrl.env_config` (the env and its task's settings) and
`dexrl.config` (train, Ray, logger) build on it; both re-export `ConfigError`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException


class ConfigError(ValueError):
    """A bad command line, config value or checkpoint: one line naming the key and what is allowed.

    Library code raises it too (e.g. a batch that does not fit the workers); `dexrl.frontdoor`'s
    `exit_on_error` turns it into one line on stderr and exit status 2."""


def format_error(source: str, err: OmegaConfBaseException) -> str:
    """One line for an OmegaConf error while reading `source`, naming the key in full."""
    key = getattr(err, "full_key", None) or getattr(err, "key", None)
    # A node merged on its own (`train`) reports keys relative to it: name them in full.
    if key and source.isidentifier() and not str(key).startswith(source + "."):
        key = f"{source}.{key}"
    where = f" (key: {key})" if key else ""
    msg = str(err.msg if hasattr(err, "msg") else err).strip().splitlines()
    return f"invalid config in {source}{where}: {msg[0] if msg else type(err).__name__}"


def integral_floats(cls: type, values: Any) -> Any:
    """`values` with a whole float given to an int field of dataclass `cls` made an int, so
    `train.total_env_steps=1e6` (YAML and Hydra read 1e6 as a float) means 1000000; 1.5e3 for
    an int field still fails with the key's name."""
    if not isinstance(values, dict):
        return values
    ints = {f.name for f in dataclasses.fields(cls) if f.type in (int, "int")}
    return {k: int(v) if k in ints and isinstance(v, float) and v.is_integer() else v
            for k, v in values.items()}  # fmt: skip


def structured(cls: type, values: Any, source: str) -> Any:
    """Merge plain values into dataclass `cls`; unknown keys and bad types name the key."""
    try:
        merged = OmegaConf.merge(OmegaConf.structured(cls), OmegaConf.create(integral_floats(cls, values or {})))
        return OmegaConf.to_object(merged)
    except OmegaConfBaseException as err:
        raise ValueError(format_error(source, err)) from err


def check_all(checks: list[tuple[bool, str]]) -> None:
    """Raise ValueError with the message of the first check that failed."""
    for ok, message in checks:
        if not ok:
            raise ValueError(message)

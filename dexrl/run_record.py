"""The config record a checkpoint carries (meta["config"]): what a checkpoint directory alone
restores its env (robot included), model, algorithm and ADR settings from.

A library module: the trainer writes the record (`dexrl.distributed.trainer`), the front door reads
it back (`dexrl.run_configs.load_run`, through `read_run_record`). The algorithm's name comes from
the learner that trained (`Learner.algorithm`, dexrl.rl.learners), not from a literal here.

The env node is versioned (`env_version`, dexrl.env_config.ENV_CONFIG_VERSION): a record of an
older version is converted when it is read (`read_run_record`), one that this dexrl cannot read
fails in one line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from dexrl.config import EnvConfig, TrainConfig
from dexrl.env_config import (
    ENV_CONFIG_VERSION,
    env_config_from_dict,
    env_config_to_dict,
    upgrade_env_record,
)

# The record's key holding the env node's version (absent: version 1).
ENV_VERSION_KEY = "env_version"


def run_config_record(
    env: EnvConfig, model: Any, algo: Any, adr: Any, train: TrainConfig | None = None, *, algorithm: str
) -> dict[str, Any]:
    """The plain config nodes a checkpoint records: env (flat: the shared keys and the task's own,
    `env_config_to_dict`) with its version, model, algo (`algorithm`'s name and its config
    `algo`), adr (None: {"mode": "none"}) and, from a trainer, train."""
    record: dict[str, Any] = {
        "env": env_config_to_dict(env),
        ENV_VERSION_KEY: ENV_CONFIG_VERSION,
        "model": asdict(model),
        "algo": {"name": algorithm, **asdict(algo)},
        "adr": asdict(adr) if adr is not None else {"mode": "none"},
    }
    if train is not None:
        record["train"] = asdict(train)
    return json.loads(json.dumps(record))  # type: ignore[no-any-return]  # tuples -> lists: what meta.json holds


def read_run_record(config: Mapping[str, Any]) -> dict[str, Any]:
    """A recorded config (meta["config"], or the nodes of an older run's config.resolved.yaml)
    with its env node in today's form and no version key. ValueError in one line when the env
    node's version is one this dexrl cannot read."""
    out = dict(config)
    version = out.pop(ENV_VERSION_KEY, 1)
    if "env" in out:
        out["env"] = upgrade_env_record(dict(out["env"]), version)
    return out


def env_from_record(config: Mapping[str, Any], source: str = "env") -> EnvConfig:
    """The EnvConfig of a recorded config (e.g. `json.load(meta.json)["config"]`), converted from
    an older version."""
    return env_config_from_dict(read_run_record(config)["env"], source=source)

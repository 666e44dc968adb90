"""The config record a checkpoint carries (meta["config"]): what a checkpoint directory alone
restores its env (robot included), model, algorithm and ADR settings from.

A library module: the trainer writes the record (`dexrl.distributed.trainer`), the front door reads
it back (`dexrl.frontdoor.load_run`). The algorithm's name comes from the learner that trained
(`Learner.algorithm`, dexrl.rl.learners), not from a literal here.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from dexrl.config import EnvConfig, TrainConfig


def run_config_record(
    env: EnvConfig, model: Any, algo: Any, adr: Any, train: TrainConfig | None = None, *, algorithm: str
) -> dict[str, Any]:
    """The plain config nodes a checkpoint records: env, model, algo (`algorithm`'s name and its
    config `algo`), adr (None: {"mode": "none"}) and, from a trainer, train."""
    record: dict[str, Any] = {
        "env": asdict(env),
        "model": asdict(model),
        "algo": {"name": algorithm, **asdict(algo)},
        "adr": asdict(adr) if adr is not None else {"mode": "none"},
    }
    if train is not None:
        record["train"] = asdict(train)
    return json.loads(json.dumps(record))  # type: ignore[no-any-return]  # tuples -> lists: what meta.json holds

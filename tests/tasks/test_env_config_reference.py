"""Every shipped env and experiment resolves to the values it resolved to before tasks declared
their own settings (issue 21): the frozen reference data/env_config_reference.json was recorded
from the tree before that change (the resolved EnvConfig of `scripts/train.py env=<each>` and of
the experiments, the other composed nodes, and `load_env_config(<each>)`).

Version 1's EnvConfig was one union of every task's fields; today an env holds the shared fields
and its task's own settings. So the flat view of today's config (`env_config_to_dict`) must equal
the reference on every key it has, and the keys it lost must be other tasks' keys that no env or
experiment had set (still at version 1's defaults).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dexrl.config import env_config_to_dict, load_env_config
from dexrl.env_config import shared_keys
from dexrl.frontdoor import compose, typed_configs
from dexrl.tasks.registry import task_spec

REFERENCE = json.loads((Path(__file__).parent / "data" / "env_config_reference.json").read_text())
V1_DEFAULTS: dict[str, Any] = REFERENCE["v1_defaults"]
# Shared keys added after the reference was recorded, at their defaults (which change nothing):
# task_module names the module of a task defined outside dexrl.
ADDED_SINCE: dict[str, Any] = {"task_module": None}
# A task's own keys added since, at their defaults (face_turn / cube_solve: the face_speed term,
# the rotate goals' direction).
TASK_KEYS_ADDED_SINCE: dict[str, Any] = {"face_speed_weight": 0.0, "face_speed_clip": 1.0, "rotate_direction": 0}


def check_env(now: dict[str, Any], before: dict[str, Any]) -> None:
    now = json.loads(json.dumps(now))  # tuples -> lists, as the reference was written
    for key, default in ADDED_SINCE.items():
        assert now.pop(key) == default
    for key, default in TASK_KEYS_ADDED_SINCE.items():
        assert now.pop(key, default) == default
    assert {k: v for k, v in before.items() if k in now} == now
    own = {f for f in task_spec(now["task"]).settings.__dataclass_fields__}
    lost = set(before) - set(now)
    assert not lost & (shared_keys() | own)
    assert {k: before[k] for k in lost} == {k: V1_DEFAULTS[k] for k in lost}, "a lost key had been set"


@pytest.mark.parametrize("label", sorted(REFERENCE["composed"]))
def test_composed_configs_resolve_as_before(label: str) -> None:
    composed = compose([label], "train")
    plain = composed.plain()
    configs = typed_configs(plain)
    expected = REFERENCE["composed"][label]
    assert {k: v for k, v in plain.items() if k != "env"} == expected["plain"]
    check_env(env_config_to_dict(configs.env), expected["env"])


@pytest.mark.parametrize("name", sorted(REFERENCE["load_env_config"]))
def test_load_env_config_resolves_as_before(name: str) -> None:
    cfg = load_env_config(name)
    check_env(env_config_to_dict(cfg), REFERENCE["load_env_config"][name])
    # The library's reading of the yaml (defaults list included) is Hydra's.
    assert cfg == typed_configs(compose([f"env={name}"], "train").plain()).env

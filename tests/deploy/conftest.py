"""Shared by tests/deploy: one exported policy (a lively random-weight LSTM on cube_rotate_z)."""

from __future__ import annotations

from pathlib import Path

import pytest
from export.exported import env_config, make_learner

from dexrl.export.bundle import export_policy
from dexrl.tasks.registry import make_task


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = env_config("cube_rotate_z")
    out = tmp_path_factory.mktemp("exported")
    actor = make_learner(env, "lstm").actor.eval()
    export_policy(actor, make_task(env, num_envs=1, seed=0, autoreset=False), out)
    return out

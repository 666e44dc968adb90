"""scripts/train.py as a real subprocess: invalid configs fail before Ray starts, naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.num_workers=0", "train.num_workers must be 'auto' or an integer >= 1"),
        ("train.learner_threads=0", "train.learner_threads must be 'auto' or an integer >= 1"),
        ("algo.gamma=2", "gamma must be a number in [0.0, 1.0]"),
        ("+env.bogus=1", "bogus"),
        ("env.substeps=0", "env.substeps must be >= 1"),
        ("adr=auto", None),  # valid: only checks that composition + validation pass (no run)
    ],
)
def test_invalid_config_fails_before_ray_starts(override: str, message: str | None, tmp_path: Path) -> None:
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "env=reach", override,
           f"hydra.run.dir={tmp_path}"]
    if message is None:
        cmd += ["--cfg", "job"]  # print the composed config and exit
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if message is None:
        assert out.returncode == 0, out.stderr
        return
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    assert "Started a local Ray" not in out.stdout + out.stderr


def _build_configs(overrides: list[str]):  # type: ignore[no-untyped-def]
    """What scripts/train.py builds for `overrides` (the front door's compose + typed configs)."""
    from dexrl.frontdoor import compose, typed_configs

    return typed_configs(compose(overrides, "train").plain())


def test_train_script_env_carries_the_robot_config() -> None:
    from dexrl.config import load_env_config

    # What the workers of `python scripts/train.py env=reach` build is what the library loads
    # (ready pose, sites), and `env.robot.*` overrides reach it without dropping the rest.
    assert _build_configs(["env=reach"]).env == load_env_config("reach")
    env = _build_configs(["env=cube_rotate", "env.robot.init_qpos_noise=0.0"]).env
    assert env.robot.init_qpos_noise == 0.0
    assert env.robot.ready_pose == load_env_config("cube_rotate").robot.ready_pose
    assert env.robot.ready_pose  # the yaml's curled fingers, not an empty pose

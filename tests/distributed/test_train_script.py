"""scripts/train.py as a real subprocess: invalid configs fail before Ray starts, naming the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


CASES = [
    ("train.num_workers=0", "train.num_workers must be 'auto' or an integer >= 1"),
    ("train.learner_threads=0", "train.learner_threads must be 'auto' or an integer >= 1"),
    ("algo.gamma=2", "gamma must be a number in [0.0, 1.0]"),
    ("algo.minibatch_size=0", "algo: minibatch_size must be 'auto' or an integer >= 1, got 0"),
    ("+env.bogus=1", "bogus"),
    ("env.substeps=0", "env.substeps must be >= 1"),
    ("adr=auto", None),  # valid: only checks that composition + validation pass (no run)
]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case's train.py, all started at once: each is mostly an interpreter importing torch,
    so on a 2-core machine they take about half the time side by side."""
    started = {}
    for override, message in CASES:
        cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "env=reach", override,
               f"hydra.run.dir={tmp_path_factory.mktemp('run')}"]  # fmt: skip
        if message is None:
            cmd += ["--cfg", "job"]  # print the composed config and exit
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[override] = (cmd, proc)
    done = {}
    try:
        for override, (cmd, proc) in started.items():
            out, err = proc.communicate(timeout=120)
            done[override] = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    finally:
        for _, proc in started.values():
            if proc.poll() is None:
                proc.kill()
    return done


@pytest.mark.parametrize(("override", "message"), CASES)
def test_invalid_config_fails_before_ray_starts(override: str, message: str | None,
                                                finished: dict[str, subprocess.CompletedProcess[str]]) -> None:  # fmt: skip
    out = finished[override]
    if message is None:
        assert out.returncode == 0, out.stderr
        return
    assert out.returncode == 2, out.stdout + out.stderr
    assert message in out.stderr
    # Nothing started: the run directory line comes before Ray (whose own start-up line dexrl
    # no longer prints).
    assert "[dexrl] run directory" not in out.stdout


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

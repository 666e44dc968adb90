"""A checkpoint's recorded env config is versioned (issue 21): today's records (version 2: the
shared keys and the task's own) read back as they were written, older ones (version 1: one union
of every task's keys, no `env_version`) are converted on load, and a version this dexrl cannot
read is one line naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dexrl.checkpoint import CheckpointError, save_checkpoint
from dexrl.config import default_algo_configs, load_env_config
from dexrl.env_config import ENV_CONFIG_VERSION, upgrade_env_record
from dexrl.frontdoor import load_run
from dexrl.run_record import env_from_record, read_run_record, run_config_record
from dexrl.tasks.cube_rotate import CubeRotateSettings

SHIPPED_META = Path(__file__).resolve().parents[2] / "docs" / "policies" / "cube_rotate_z" / "checkpoint" / "meta.json"


def _checkpoint(d: Path, config: dict) -> Path:
    save_checkpoint(d, {}, {"config": config})
    return d


def test_a_record_reads_back_as_it_was_written(tmp_path: Path) -> None:
    ppo, model = default_algo_configs()
    for name, overrides in (("reach", {"reach_target_range": 0.3}), ("cube_solve", {"scramble": "R U"}),
                            ("cube_rotate_z", {"rotation_speed_weight": 1.0, "start_pose": "ready"})):  # fmt: skip
        env = load_env_config(name, overrides)
        record = run_config_record(env, model, ppo, None, algorithm="ppo")
        assert record["env_version"] == ENV_CONFIG_VERSION == 2
        assert "scramble" not in record["env"] or name == "cube_solve"  # only the task's own keys
        assert env_from_record(record) == env
        run = load_run(_checkpoint(tmp_path / name, record))
        assert run.env == env and "env_version" not in run.config


def test_the_shipped_version_1_record_is_converted_on_load() -> None:
    config = json.loads(SHIPPED_META.read_text())["config"]
    assert "env_version" not in config and "scramble" in config["env"]  # version 1: every task's keys
    env = env_from_record(config)
    assert isinstance(env.settings, CubeRotateSettings)
    assert (env.settings.goal, env.settings.rotation_speed_weight, env.settings.object_linvel_penalty) == ("z", 1.0, 5.0)
    assert env.hand_pose_penalty == 0.1 and env.start_pose == "grasp" and env.timestep == 0.01
    assert env.object == "block"  # its scene file (model: scenes/hand_block.xml) became its object
    assert "scramble" not in read_run_record(config)["env"]
    assert load_run(SHIPPED_META.parent).env == env


def test_a_version_1_record_keeps_its_own_task_keys_and_refuses_a_typo() -> None:
    v1 = {"name": "reach", "task": "reach", "reach_target_range": 0.3, "scramble": "R", "goal": "z"}
    assert upgrade_env_record(v1, 1) == {"name": "reach", "task": "reach", "reach_target_range": 0.3}
    with pytest.raises(ValueError, match="key: env.bogus"):
        env_from_record({"env": {**v1, "bogus": 1}})


@pytest.mark.parametrize("version", [3, 99, "2", 0, None])
def test_a_version_this_dexrl_cannot_read_is_one_line(version: object, tmp_path: Path) -> None:
    record = {"env": {"name": "reach", "task": "reach"}, "env_version": version}
    with pytest.raises(ValueError, match=f"has version {version!r}, which this dexrl cannot read"):
        read_run_record(record)
    with pytest.raises(CheckpointError) as err:
        load_run(_checkpoint(tmp_path, record))
    assert "\n" not in str(err.value) and str(tmp_path) in str(err.value)
    assert "reads versions 1 to 2" in str(err.value)

"""README "Add a task": a task of one's own is one Python module and one env yaml, both outside
the dexrl package, trained with scripts/train.py.

The module (here `hold_point_task.py`: keep the first fingertip at a point above the palm) holds
a HandTask subclass, its TaskSettings dataclass with a key of its own (`point_height`), its own
observation parts and reward term, and a `register_task(...)` call. The yaml
(`configs/env/hold_point.yaml`) names the module (`task_module: hold_point_task`), which dexrl
imports before it looks the task up; the rollout workers import it when they unpickle the env
config. The module must be importable everywhere (PYTHONPATH), and Hydra finds the yaml with
`hydra.searchpath=[file://<folder holding env/>]`.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dexrl.frontdoor import ConfigError, compose, load_run, typed_configs
from dexrl.tasks import registry

ROOT = Path(__file__).resolve().parents[2]

TASK_MODULE = '''\
"""hold_point: keep the first fingertip at a point above the palm (a task of one's own)."""

from dataclasses import dataclass

import numpy as np

from dexrl.env_config import TaskSettings
from dexrl.obs_parts import FINGERTIP_POSITIONS, ObsPart, not_exportable
from dexrl.tasks.base import HandTask
from dexrl.tasks.registry import register_task


@dataclass
class HoldPointSettings(TaskSettings):
    # Height of the point above the palm centre (m): env.point_height.
    point_height: float = 0.08

    def validate(self) -> None:
        if not 0 < self.point_height < 0.3:
            raise ValueError(f"env.point_height must be in (0, 0.3) m (got {self.point_height})")


class HoldPointTask(HandTask):
    settings_type = HoldPointSettings
    settings: HoldPointSettings

    def _task_init(self):
        self.point = np.array([0.0, 0.0, self.settings.point_height])  # palm frame

    def _task_reset(self, i, rng):  # the point stays where it is
        pass

    def _task_on_success(self, i, rng):
        pass

    def _tip(self):
        return self.fingertips()[:, 0]  # [K, 3] relative to the palm centre

    def _task_distance(self):
        return np.linalg.norm(self.point - self._tip(), axis=1)

    def _task_reward_terms(self):  # logged per episode as reward/near_point
        return {"near_point": 0.1 * np.exp(-self._task_distance() / 0.01)}

    def _task_obs_terms(self):
        tips = self.fingertips()
        return [
            (ObsPart("fingertip_pos", tips[0].size, "m", "palm centre", "fingertip_pos",
                     source=FINGERTIP_POSITIONS), tips.reshape(self.num_envs, -1)),
            (ObsPart("point_minus_tip", 3, "m", "palm centre",
                     source=not_exportable("a toy task: no real hand knows the point")),
             self.point - self._tip()),
        ]


register_task("hold_point", HoldPointTask, gym_id="mylab/HoldPoint-v0")
'''

ENV_YAML = """\
defaults:
  - _base
  - _self_
name: hold_point
task: hold_point
task_module: hold_point_task   # the module above: importable on every worker (PYTHONPATH)
object: none
max_episode_steps: 4           # tiny episodes: some end within the test's one rollout
timeout_steps: 4
success_tolerance: 0.01
drop_penalty: 0.0
distance_reward_scale: 10.0
gamma: 0.99
point_height: 0.07             # the task's own key
"""

TINY_TRAIN = ["train.total_env_steps=32", "train.num_workers=1", "train.envs_per_worker=4", "train.horizon=8",
              "train.learner_threads=1", "logger=none"]  # fmt: skip


def write_task(folder: Path, module: str = TASK_MODULE, yaml: str = ENV_YAML) -> list[str]:
    """The user's two files; returns the overrides that find the yaml."""
    (folder / "hold_point_task.py").write_text(module)
    (folder / "configs" / "env").mkdir(parents=True, exist_ok=True)
    (folder / "configs" / "env" / "hold_point.yaml").write_text(yaml)
    return ["env=hold_point", f"hydra.searchpath=['file://{folder / 'configs'}']"]


@pytest.fixture
def forget_task() -> Iterator[None]:
    """Tests that import the module in this process leave no trace of it."""
    yield
    registry._TABLE.pop("hold_point", None)
    sys.modules.pop("hold_point_task", None)


def test_a_task_of_ones_own_trains_through_scripts_train(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          forget_task: None) -> None:  # fmt: skip
    user = tmp_path / "mylab"
    user.mkdir()
    find_env = write_task(user)
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(user), os.environ.get("PYTHONPATH")) if p)}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "train.py"), *find_env, *TINY_TRAIN,
                           f"hydra.run.dir={run_dir}"], capture_output=True, text=True, timeout=300, cwd=ROOT,
                          env=env)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "it 1 |" in done.stdout
    meta = json.loads((run_dir / "checkpoints" / "latest" / "meta.json").read_text())
    assert (run_dir / "checkpoints" / "latest" / "checkpoint.pt").is_file()
    assert meta["task"] == "hold_point" and meta["env"] == "hold_point"
    recorded = meta["config"]["env"]
    assert recorded["task_module"] == "hold_point_task" and recorded["point_height"] == 0.07
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in rows] == [1] and rows[0]["episodes"] > 0
    assert "reward/near_point" in rows[0]  # the task's own reward term, summed per episode
    # The checkpoint reopens (evaluate, view, export, resume=) where the module is importable.
    monkeypatch.syspath_prepend(str(user))
    run = load_run(run_dir)
    assert run.env.task == "hold_point" and type(run.env.settings).__name__ == "HoldPointSettings"
    assert run.env.settings.point_height == 0.07  # type: ignore[attr-defined]


def test_a_module_that_is_not_importable_is_named_in_one_line(tmp_path: Path) -> None:
    find_env = write_task(tmp_path)  # not on sys.path
    with pytest.raises(ConfigError, match=r"env.task_module='hold_point_task' cannot be imported \(no module named "
                       r"'hold_point_task'\): the module registering env.task must be importable by the trainer "
                       r"and by every rollout worker: put its folder on PYTHONPATH"):  # fmt: skip
        typed_configs(compose(find_env, "train").plain())


def test_a_module_that_registers_another_name_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       forget_task: None) -> None:  # fmt: skip
    find_env = write_task(tmp_path, yaml=ENV_YAML.replace("task: hold_point", "task: hold_pointt"))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"env.task='hold_pointt' is not registered by env.task_module="
                       r"'hold_point_task': the module must call register_task\(\"hold_pointt\", .*"
                       r"\(it registers: hold_point\)"):  # fmt: skip
        typed_configs(compose(find_env, "train").plain())


def test_the_tasks_own_key_is_checked_and_the_yaml_is_found_only_on_the_searchpath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forget_task: None
) -> None:
    find_env = write_task(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigError, match=r"env.point_height must be in \(0, 0.3\) m \(got 0.5\)"):
        typed_configs(compose([*find_env, "env.point_height=0.5"], "train").plain())
    with pytest.raises(ConfigError, match=r"unknown env 'hold_point'.*hydra.searchpath=\[file:///abs/folder\]"):
        compose(["env=hold_point"], "train")


def test_a_worker_without_the_module_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     forget_task: None) -> None:  # fmt: skip
    """A rollout worker unpickles the env config; the settings' class imports the task's module."""
    find_env = write_task(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = typed_configs(compose(find_env, "train").plain()).env
    data = pickle.dumps(cfg)
    assert pickle.loads(data) == cfg
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    sys.modules.pop("hold_point_task")  # a process that cannot import it
    with pytest.raises(ModuleNotFoundError, match=r"cannot import 'hold_point_task' in this process .*must be "
                       r"importable by the trainer and by every rollout worker: put its folder on PYTHONPATH"):  # fmt: skip
        pickle.loads(data)

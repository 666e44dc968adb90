"""scripts/calibrate.py refuses a bad recording with one line naming the problem, exit 2, and
writes nothing (no robot yaml, no report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from calibration_scripts import run_script

from dexrl.config import load_env_config
from dexrl.deploy.recording import Recording
from dexrl.tasks.registry import make_task


def _valid() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    task = make_task(load_env_config("reach"), num_envs=1, seed=0, autoreset=False)
    m = task.base_model
    joints = list(task.ids.hand_joint_names)
    actuators = [m.actuator(a).name for a in range(m.nu)]
    n = 40
    rec = Recording(hand="dexhand", joint_names=joints, actuator_names=actuators, control_period_s=0.08,
                    time=np.arange(n) * 0.08, targets=np.zeros((n, len(actuators))),
                    joint_pos=np.full((n, len(joints)), 0.1))  # fmt: skip
    return rec.header(), {"time": rec.time, "targets": rec.targets, "joint_pos": rec.joint_pos}


def _missing_joint(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    h["joint_names"] = h["joint_names"][:-1]
    a["joint_pos"] = a["joint_pos"][:, :-1]


def _unknown_joint(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    h["joint_names"] = [*h["joint_names"], "FFJ9"]
    a["joint_pos"] = np.concatenate([a["joint_pos"], a["joint_pos"][:, :1]], axis=1)


def _time_backward(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    a["time"][20] = a["time"][18]


def _nan(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    a["joint_pos"][7, 3] = np.nan


def _version(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    h["format_version"] = 99


def _period(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    h["control_period_s"] = 0.05


def _other_hand(h: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    h["hand"] = "lab_hand"


CASES = {
    "missing joint": (_missing_joint, "joint(s) ['THJ1'] of the model are missing from the recording"),
    "unknown joint": (_unknown_joint, "joint(s) ['FFJ9'] are not joints of the model"),
    "time backward": (_time_backward, "time is not strictly increasing at row 20"),
    "NaN": (_nan, "'joint_pos' has 1 NaN/inf value(s), the first at row 7, column 'FFJ3'"),
    "format version": (_version, "format_version 99 is not supported"),
    "control period": (_period, "control_period_s 0.05 differs from env reach's 0.08"),
    "another hand": (_other_hand, "recorded on hand 'lab_hand', but robot 'dexhand' is being calibrated"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_recording_exits_2_with_one_line_and_writes_nothing(case: str, assets: Path, tmp_path: Path) -> None:
    edit, message = CASES[case]
    header, arrays = _valid()
    edit(header, arrays)
    logs = tmp_path / "logs"
    logs.mkdir()
    np.savez(logs / "good_one.npz", header=np.asarray(json.dumps(_valid()[0])), **_valid()[1])  # type: ignore[arg-type]
    np.savez(logs / "bad.npz", header=np.asarray(json.dumps(header)), **arrays)  # type: ignore[arg-type]
    robot_dir = assets / "configs" / "robot"
    before = sorted(p.name for p in robot_dir.iterdir())
    done = run_script("calibrate.py", f"logs={logs}", "robot=dexhand", f"report={tmp_path / 'report'}",
                      assets=assets, timeout=120)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(lines) == 1 and lines[0].startswith("config error: "), done.stderr
    assert message in lines[0] and "bad.npz" in lines[0], lines[0]
    assert not (tmp_path / "report").exists()
    assert sorted(p.name for p in robot_dir.iterdir()) == before  # no robot yaml written

"""Sim-to-sim calibration through the scripts: excite a hand whose physics were changed by factors
the calibration is not told, calibrate, and find them; an unmodified hand stays nominal; a policy
trains on the calibrated robot config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from calibration_scripts import run_script
from hidden_hand import ARMATURE, DAMPING, GAIN, LATENCY

CLASSES = ("wrist", "knuckle", "proximal", "distal", "thumb")


@pytest.fixture(scope="module")
def hidden(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 20 s excitation of the hidden hand, calibrated with the defaults (out= in assets)."""
    d = tmp_path_factory.mktemp("hidden")
    excite = run_script("excite.py", "hand=hidden_hand:hidden_hand", "realtime=false", "duration=20",
                        f"out={d / 'hidden.npz'}", assets=assets)  # fmt: skip
    assert excite.returncode == 0, excite.stderr
    calibrate = run_script("calibrate.py", f"logs={d}", "robot=dexhand", f"report={d / 'report'}", assets=assets)
    assert calibrate.returncode == 0, calibrate.stdout + calibrate.stderr
    print(calibrate.stdout)
    summary = json.loads((d / "report" / "calibration.json").read_text())
    return {"dir": d, "summary": summary, "stdout": calibrate.stdout}


@pytest.mark.slow
def test_calibration_recovers_the_hidden_factors_and_latency(hidden: dict[str, Any], assets: Path) -> None:
    s = hidden["summary"]
    truth = {"kp": GAIN, "damping": DAMPING, "armature": ARMATURE}
    for kind, value in truth.items():
        for cls in CLASSES:
            assert s["fitted"][kind][cls], (kind, cls, s["notes"])
            assert s["factors"][kind][cls] == pytest.approx(value, rel=0.10), (kind, cls)
    assert s["latency_steps"] == LATENCY
    assert s["rms_after_rad"] <= s["rms_before_rad"] / 3
    # The force ranges never bind in this excitation: kept, and said so.
    assert all(v == 1.0 for v in s["factors"]["forcerange"].values())
    assert any(n.startswith("forcerange/") for n in s["notes"])
    d = hidden["dir"] / "report"
    assert (d / "report.html").stat().st_size > 10_000 and (d / "trajectories.png").stat().st_size > 10_000
    # The robot config: robot=dexhand_calibrated composes it, and it carries the factors per name.
    yaml_path = assets / "configs" / "robot" / "dexhand_calibrated.yaml"
    assert yaml_path.is_file() and s["out"] == str(yaml_path)


@pytest.mark.slow
def test_a_recording_of_the_unmodified_hand_leaves_the_robot_nominal(assets: Path, tmp_path: Path) -> None:
    excite = run_script("excite.py", "duration=20", f"out={tmp_path / 'nominal.npz'}", assets=assets)
    assert excite.returncode == 0, excite.stderr
    out = tmp_path / "nominal_robot.yaml"
    done = run_script("calibrate.py", f"logs={tmp_path / 'nominal.npz'}", "robot=dexhand", f"out={out}",
                      f"report={tmp_path / 'report'}", assets=assets)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    s = json.loads((tmp_path / "report" / "calibration.json").read_text())
    for kind, by_class in s["factors"].items():
        for cls, value in by_class.items():
            assert value == pytest.approx(1.0, rel=0.05), (kind, cls)
    assert s["latency_steps"] == 0
    assert out.is_file()


@pytest.mark.slow
def test_a_policy_trains_on_the_calibrated_robot(hidden: dict[str, Any], assets: Path, ray_session: Any,
                                                 monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:  # fmt: skip
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs
    from dexrl.tasks.registry import make_task

    monkeypatch.setenv("DEXRL_ASSETS", str(assets))  # where calibrate.py wrote dexhand_calibrated.yaml
    overrides = ["env=reach", "robot=dexhand_calibrated", "logger=none", "train.num_workers=2",
                 "train.envs_per_worker=8", "train.horizon=32", "train.total_env_steps=2048"]  # fmt: skip
    c = typed_configs(compose(overrides, "train").plain())
    s = hidden["summary"]
    assert c.env.robot.action_latency_steps == LATENCY
    assert c.env.robot.actuator_gain_scale["A_FFJ3"] == pytest.approx(s["factors"]["kp"]["proximal"], abs=1e-6)
    assert c.env.robot.joint_armature_scale["THJ1"] == pytest.approx(s["factors"]["armature"]["thumb"], abs=1e-6)
    task = make_task(c.env, num_envs=1, seed=0, autoreset=False)
    assert task.action_delay.tolist() == [LATENCY]
    assert task.base_model.actuator("A_FFJ3").gainprm[0] == pytest.approx(c.env.robot.actuator_gain_scale["A_FFJ3"])
    trainer = Trainer(c.env, c.algo, c.model, None, c.train, c.ray, c.logger, tmp_path / "run", seed=0)
    try:
        metrics = trainer.run()
    finally:
        trainer.close()
    assert trainer.counters["env_steps"] >= 2048 and metrics
    meta = json.loads((tmp_path / "run" / "checkpoints" / "latest" / "meta.json").read_text())
    assert meta["config"]["env"]["robot"]["action_latency_steps"] == LATENCY

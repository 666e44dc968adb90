"""scripts/probe_face.py: how far a policy (random, or a checkpoint's mean action) moves the
Rubik's cube's top layer, at the calibrated detent and at the detents asked for."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _probe() -> ModuleType:
    spec = importlib.util.spec_from_file_location("probe_face", ROOT / "scripts" / "probe_face.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _last_json(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_without_the_detent_the_same_random_actions_take_the_layer_farther(capsys) -> None:  # type: ignore[no-untyped-def]
    _probe().main(["experiment=face_turn_fast", "steps=110", "envs=4", "detents=0.04,0", "friction=0",
                   "json=true"])  # fmt: skip
    out = _last_json(capsys)
    calibrated, free = out["rows"]
    assert out["policy"] == "random" and out["env"] == "face_turn"
    assert (calibrated["detent"], free["detent"], free["friction"]) == (0.04, 0.0, 0.0)
    assert calibrated["travel_rad_mean"] > 0.05  # random fingers do move the layer
    for row in (calibrated, free):
        assert 0 <= row["off_detent_rad_mean"] <= row["off_detent_rad_max"] <= math.pi / 4 + 1e-9
        assert 0 <= row["share_near_45deg"] <= 1
        # 110 steps outlast the 100-step goal timeout, so every env's first goal has ended
        assert row["goals_cw"] + row["goals_ccw"] >= 1
        assert 0 <= row["met_cw"] <= row["goals_cw"] and 0 <= row["met_ccw"] <= row["goals_ccw"]
        assert min(row["turns_cw"], row["turns_ccw"]) >= 0
    # Same actions (a fresh random policy per setting, same seed): with no spring pulling it back
    # the layer gets farther from a detent (measured 0.33 vs 0.13 rad on average).
    assert free["off_detent_rad_mean"] > 1.5 * calibrated["off_detent_rad_mean"]


def test_a_face_turn_checkpoint_is_probed_with_its_mean_action(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from export.exported import env_config, write_trained_checkpoint

    write_trained_checkpoint(tmp_path / "run" / "checkpoints" / "latest", env_config("face_turn"), "mlp")
    _probe().main([f"checkpoint={tmp_path / 'run'}", "steps=10", "envs=2", "json=true"])
    out = _last_json(capsys)
    (row,) = out["rows"]
    assert out["checkpoint"].endswith("latest") and out["env"] == "face_turn"
    assert row["detent"] > 0 and row["friction"] > 0  # the calibrated model's, not changed
    assert row["steps"] == 10 and row["envs"] == 2 and row["travel_rad_max"] >= row["travel_rad_mean"] >= 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["env=cube_rotate_z", "steps=2"], "needs a Rubik's cube task"),
        (["env=face_turn", "detents=stiff"], "detents must be numbers"),
        (["env=face_turn", "detents=-0.01"], "detents must be >= 0"),
        (["env=face_turn", "steps=0"], "steps and envs must be >= 1"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit) as exc:
        _probe().main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1

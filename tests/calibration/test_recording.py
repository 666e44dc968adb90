"""The recording format and the Recorder: numpy only, any HandController, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dexrl.deploy import ControlLoop, SensorReading
from dexrl.deploy.excitation import ExcitationPolicy, excitation_schedule, hand_description
from dexrl.deploy.recording import (
    FORMAT_VERSION,
    Recorder,
    Recording,
    RecordingError,
    load_recording,
)

ROOT = Path(__file__).resolve().parents[2]
JOINTS, ACTUATORS = ["J0", "J1", "J2"], ["A0", "A1"]
LIMITS = np.array([[-1.0, 1.0], [0.0, 2.0]])
PERIOD = 0.08


class LagHand:
    """A numpy hand (as a real driver would be): each joint moves half way to its target per step;
    J2 follows J1. `drop` lists the read() calls that return None (the sensor had nothing)."""

    def __init__(self, drop: tuple[int, ...] = (), velocities: bool = True) -> None:
        self.q = np.array([0.2, 0.5, 0.5])
        self.t, self.reads, self.drop, self.velocities = 100.0, 0, drop, velocities
        self.sent: list[np.ndarray] = []

    def read(self) -> SensorReading | None:
        self.reads += 1
        self.t += PERIOD
        if self.reads - 1 in self.drop:
            return None
        return SensorReading(timestamp=self.t, joint_pos=self.q.copy(), palm_pos=np.zeros(3),
                             fingertip_pos=np.zeros((5, 3)),
                             joint_vel=np.ones(3) if self.velocities else None)  # fmt: skip

    def send_targets(self, targets: np.ndarray) -> None:
        self.sent.append(np.array(targets))
        self.q[:2] += 0.5 * (targets - self.q[:2])
        self.q[2] = self.q[1]


def _transmission() -> list[dict[str, Any]]:
    return [{"joints": ["J0"], "coefs": [1.0], "gear": 1.0}, {"joints": ["J1"], "coefs": [1.0], "gear": 1.0}]


def _excite(hand: LagHand, time_source: str = "reading", max_change: float = 0.1) -> tuple[Recorder, Any]:
    description = hand_description(JOINTS, ACTUATORS, LIMITS, _transmission(), PERIOD, max_change)
    policy = ExcitationPolicy(description, duration_s=3.0, seed=1)
    recorder = Recorder(hand, JOINTS, ACTUATORS, PERIOD, "laghand", time_source=time_source)
    loop = ControlLoop(policy, recorder.hand, goal=lambda: {}, realtime=False)  # type: ignore[arg-type]
    loop.reset()
    policy.begin(loop.safe_targets)
    stats = loop.run(policy.steps, on_step=recorder)
    return recorder, stats


def test_recorder_on_the_control_loop_records_each_step_with_the_runtime_clamps(tmp_path: Path) -> None:
    hand = LagHand()
    recorder, stats = _excite(hand)
    rec = recorder.recording()
    assert rec.rows == stats.steps == len(hand.sent) and stats.held == 0
    np.testing.assert_array_equal(rec.targets, np.array(hand.sent))  # what the hand was sent
    np.testing.assert_allclose(np.diff(rec.time), PERIOD)  # the readings' timestamps, from 0
    assert rec.time[0] == 0.0
    assert (rec.targets >= LIMITS[:, 0]).all() and (rec.targets <= LIMITS[:, 1]).all()
    assert np.abs(np.diff(rec.targets, axis=0)).max() <= 0.1 + 1e-9  # the per-step change limit
    assert stats.clamped_steps > 0  # the schedule asks for more; the loop clamps
    path = rec.save(tmp_path / "rec.npz")
    back = load_recording(path)
    for key in ("time", "targets", "joint_pos", "joint_vel"):
        np.testing.assert_array_equal(getattr(back, key), getattr(rec, key))
    assert back.object_pos is None and back.joint_names == JOINTS and back.hand == "laghand"
    with np.load(path, allow_pickle=False) as npz:  # plain numpy reads it too
        header = json.loads(str(npz["header"]))
    assert header["format_version"] == FORMAT_VERSION and header["units"]["joint_pos"] == "rad"


def test_a_step_without_a_reading_writes_no_row_and_steps_time_counts_steps() -> None:
    hand = LagHand(drop=(5,), velocities=False)  # read() call 5 = the loop's step 4 (call 0: reset)
    recorder, stats = _excite(hand, time_source="steps")
    rec = recorder.recording()
    assert stats.missing_readings == 1 and rec.rows == stats.steps - 1 and recorder.skipped == 1
    assert rec.joint_vel is None
    np.testing.assert_allclose(rec.time[:6], np.array([0, 1, 2, 3, 5, 6]) * PERIOD)


def test_the_schedule_stays_within_the_limits_and_holds_actuators_not_excited() -> None:
    start = np.array([0.0, 1.0])
    s = excitation_schedule(LIMITS[:, 0], LIMITS[:, 1], start, PERIOD, duration_s=10.0, seed=0,
                            excited=np.array([True, False]))  # fmt: skip
    margin = 0.05 * (LIMITS[:, 1] - LIMITS[:, 0])
    assert (s[:, 0] >= LIMITS[0, 0] + margin[0] - 1e-12).all() and (s[:, 0] <= LIMITS[0, 1] - margin[0] + 1e-12).all()
    np.testing.assert_array_equal(s[:, 1], 1.0)
    np.testing.assert_array_equal(s[:6, 0], 0.0)  # the hold at the start pose
    assert s[:, 0].std() > 0.2


def _write(path: Path, **edits: Any) -> Path:
    rec = Recording(hand="laghand", joint_names=JOINTS, actuator_names=ACTUATORS, control_period_s=PERIOD,
                    time=np.arange(5) * PERIOD, targets=np.zeros((5, 2)), joint_pos=np.zeros((5, 3)))  # fmt: skip
    header = rec.header()
    arrays = {"time": rec.time, "targets": rec.targets, "joint_pos": rec.joint_pos}
    for key, value in edits.items():
        (header if key in header else arrays)[key] = value
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(path, header=np.asarray(json.dumps(header)), **arrays)  # type: ignore[arg-type]
    return path


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        ({"format_version": 2}, "format_version 2 is not supported"),
        ({"joint_pos": None}, "the array 'joint_pos' is missing"),
        ({"time": np.array([0.0, 0.08, 0.08, 0.24, 0.32])}, "time is not strictly increasing at row 2"),
        ({"targets": np.where(np.eye(5, 2) > 0, np.nan, 0.0)}, "'targets' has 2 NaN/inf value(s), the first at row 0, column 'A0'"),
        ({"joint_pos": np.zeros((5, 2))}, "'joint_pos' has shape (5, 2), expected (5, 3) (joint_names in the header has 3)"),
        ({"format": "other"}, "header format is 'other', expected 'dexrl-recording'"),
    ],
)
def test_a_bad_recording_is_refused_in_one_line_naming_the_problem(tmp_path: Path, edits: dict[str, Any],
                                                                    message: str) -> None:  # fmt: skip
    path = _write(tmp_path / "bad.npz", **edits)
    with pytest.raises(RecordingError) as info:
        load_recording(path)
    text = str(info.value)
    assert message in text and str(path) in text and "\n" not in text


def test_recording_and_excitation_need_neither_torch_nor_mujoco_nor_ray(tmp_path: Path) -> None:
    """As dexrl.deploy (tests/deploy): a hand's computer runs them with numpy (gymnasium is only
    touched by dexrl's optional env registration, skipped where it is not installed)."""
    path = _write(tmp_path / "ok.npz")
    code = (
        "import sys\n"
        "from dexrl.deploy.recording import Recorder, load_recording\n"
        "from dexrl.deploy.excitation import ExcitationPolicy\n"
        f"r = load_recording({str(path)!r})\n"
        "print(sorted(m for m in ('torch', 'mujoco', 'ray') if m in sys.modules), r.rows)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ), cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "5"]

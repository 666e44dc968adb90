"""dexrl.deploy alone: what it imports, manifest checks, clamps and the watchdog on SimHand."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from export.exported import env_config

from dexrl.deploy import ControlLoop, ManifestError, Policy, SensorReading
from dexrl.eval.sim_hand import SimHand

ROOT = Path(__file__).resolve().parents[2]


# `exported` (conftest.py): a random-weight LSTM policy for cube_rotate_z.


def test_deploy_imports_neither_torch_nor_mujoco_nor_ray(exported: Path) -> None:
    code = (
        "import sys, numpy as np\n"
        "from dexrl.deploy import Policy\n"
        f"p = Policy.load({str(exported)!r})\n"
        "a, s = p.run(np.zeros((1, p.obs_dim), np.float32), p.initial_state())\n"
        "print(sorted(m for m in ('torch', 'mujoco', 'ray') if m in sys.modules), a.shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ), cwd=ROOT)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "(1,", "20)"]


def _edited(exported: Path, tmp_path: Path, edit: Any) -> Path:
    d = tmp_path / "edited"
    d.mkdir()
    (d / "policy.onnx").write_bytes((exported / "policy.onnx").read_bytes())
    manifest = json.loads((exported / "manifest.json").read_text())
    edit(manifest)
    (d / "manifest.json").write_text(json.dumps(manifest))
    return d


@pytest.mark.parametrize(
    ("field", "edit"),
    [
        ("joints.limits[3][1]", lambda m: m["joints"]["limits"][3].__setitem__(1, 2.0)),
        ("control.rate_hz", lambda m: m["control"].__setitem__("rate_hz", 30.0)),
        ("observation.parts[1].units", lambda m: m["observation"]["parts"][1].__setitem__("units", "mm")),
        ("action.mode", lambda m: m["action"].__setitem__("mode", "absolute")),
        ("policy.state[0].shape[1]", lambda m: m["policy"]["state"][0]["shape"].__setitem__(1, 64)),
        ("actuators.names (length 19 vs 20)", lambda m: m["actuators"]["names"].pop()),
    ],
)
def test_an_edited_manifest_is_refused_naming_the_field(
    exported: Path, tmp_path: Path, field: str, edit: Any
) -> None:
    with pytest.raises(ManifestError, match=f"'{re.escape(field)}'"):
        Policy.load(_edited(exported, tmp_path, edit))


def test_a_replaced_graph_is_refused(exported: Path, tmp_path: Path) -> None:
    d = _edited(exported, tmp_path, lambda m: None)
    (d / "policy.onnx").write_bytes((exported / "policy.onnx").read_bytes() + b"\0")
    with pytest.raises(ManifestError, match="onnx_sha256"):
        Policy.load(d)
    assert Policy.load(exported).obs_dim == 114  # the untouched export loads


# ---------------------------------------------------------------------------- watchdog on SimHand


class FaultyHand:
    """SimHand with injected sensor faults at chosen steps (the physics stays real)."""

    def __init__(self, hand: SimHand, missing_at: set[int] = frozenset(), frozen_at: set[int] = frozenset(),  # type: ignore[assignment]
                 slow_at: set[int] = frozenset(), slow_s: float = 0.0) -> None:  # type: ignore[assignment]  # fmt: skip
        self.hand, self.reads, self.sent = hand, 0, []  # type: ignore[var-annotated]
        self.missing_at, self.frozen_at, self.slow_at, self.slow_s = missing_at, frozen_at, slow_at, slow_s
        self.last: SensorReading | None = None

    def read(self) -> SensorReading | None:
        k, self.reads = self.reads, self.reads + 1
        if k in self.slow_at:
            time.sleep(self.slow_s)
        if k in self.missing_at:
            return None
        if k in self.frozen_at and self.last is not None:
            return self.last  # the sensor stopped updating: the same reading, same timestamp
        self.last = self.hand.read()
        return self.last

    def send_targets(self, targets: np.ndarray) -> None:
        self.sent.append(targets.copy())
        self.hand.send_targets(targets)


class NaNAt:
    """The real exported policy, whose output turns NaN at chosen calls."""

    def __init__(self, policy: Policy, at: set[int]) -> None:
        self.policy, self.at, self.calls = policy, at, 0
        self.manifest, self.initial_state = policy.manifest, policy.initial_state

    def run(self, obs: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        action, state = self.policy.run(obs, state)
        if self.calls in self.at:
            action = action.copy()
            action[0, 3] = np.nan
        self.calls += 1
        return action, state


def _loop(exported: Path, hand: Any, policy: Any = None, realtime: bool = False, **kw: Any) -> tuple[ControlLoop, SimHand]:
    sim = hand.hand if isinstance(hand, FaultyHand) else hand
    loop = ControlLoop(policy or Policy.load(exported), hand, goal=sim.goal, realtime=realtime, **kw)
    loop.reset()
    return loop, sim


def _check_held(records: list[Any], faulty: set[int], fault: str, hand: FaultyHand) -> None:
    for k, rec in enumerate(records):
        if k in faulty:
            assert rec.fault == fault
            np.testing.assert_array_equal(rec.targets, records[k - 1].targets)  # last safe target
            np.testing.assert_array_equal(hand.sent[k], hand.sent[k - 1])  # ... is what the hand got
        else:
            assert rec.fault is None and rec.action is not None
    assert len(hand.sent) == len(records)  # the loop went on: a command every step


@pytest.mark.parametrize(("fault", "kw", "count"), [
    ("missing_readings", {"missing_at": {4, 5}}, "missing_readings"),
    ("stale_readings", {"frozen_at": {6, 7, 8}}, "stale_readings"),
])  # fmt: skip
def test_sensor_faults_hold_the_last_safe_target(exported: Path, fault: str, kw: dict[str, Any], count: str) -> None:
    sim = SimHand(env_config("cube_rotate_z"), seed=1)
    sim.reset()
    hand = FaultyHand(sim, **kw)
    loop, _ = _loop(exported, hand)
    records: list[Any] = []
    stats = loop.run(12, on_step=records.append)
    # read() 0 was reset's; step k reads call k + 1.
    faulty = {k - 1 for k in next(iter(kw.values()))}
    _check_held(records, faulty, fault, hand)
    assert getattr(stats, count) == len(faulty) and stats.held == len(faulty)
    assert stats.sent == 12 - len(faulty)


def test_nan_policy_output_holds_and_keeps_the_recurrent_state(exported: Path) -> None:
    sim = SimHand(env_config("cube_rotate_z"), seed=1)
    sim.reset()
    hand = FaultyHand(sim)
    policy = NaNAt(Policy.load(exported), at={3, 4})
    loop, _ = _loop(exported, hand, policy=policy)
    records: list[Any] = []
    states = []
    stats = loop.run(10, on_step=lambda r: (records.append(r), states.append(loop.state)))
    _check_held(records, {3, 4}, "nonfinite_actions", hand)
    assert stats.nonfinite_actions == 2 and stats.held == 2
    assert states[3] is states[2] and states[4] is states[2]  # the faulty steps' state was dropped
    assert all(np.isfinite(t).all() for t in hand.sent)


def test_an_overrun_step_misses_its_deadline_and_holds(exported: Path) -> None:
    sim = SimHand(env_config("cube_rotate_z"), seed=1)
    sim.reset()
    period = Policy.load(exported).manifest["control"]["period_s"]
    hand = FaultyHand(sim, slow_at={3}, slow_s=1.5 * period)  # step 2's read takes 1.5 periods
    loop, _ = _loop(exported, hand, realtime=True, stale_after_s=10.0)
    records: list[Any] = []
    t0 = time.monotonic()
    stats = loop.run(6, on_step=records.append)
    elapsed = time.monotonic() - t0
    _check_held(records, {2}, "missed_deadlines", hand)
    assert stats.missed_deadlines == 1 and stats.late_steps >= 1 and stats.sent == 5
    assert elapsed >= 5 * period  # the rate is held (no burst after the overrun)


def test_targets_stay_within_limits_and_the_change_limit(exported: Path) -> None:
    sim = SimHand(env_config("cube_rotate_z"), seed=1)
    sim.reset()
    limit = 0.002  # rad per step, far below what the policy asks for
    loop, _ = _loop(exported, sim, max_target_change=limit)
    records: list[Any] = []
    start = loop.safe_targets.copy()
    stats = loop.run(15, on_step=records.append)
    targets = np.array([start] + [r.targets for r in records])
    assert np.abs(np.diff(targets, axis=0)).max() <= limit + 1e-12
    lo, hi = np.array(loop.policy.manifest["actuators"]["ctrl_limits"]).T
    assert (targets >= lo).all() and (targets <= hi).all()
    assert stats.clamped_steps >= 10 and stats.held == 0


def test_an_old_reading_is_stale_in_real_time(exported: Path) -> None:
    """A driver whose readings advance but lag behind (a stalled camera thread): each is newer
    than the last one used, yet a period old -- stale by age, not by repetition."""
    sim = SimHand(env_config("cube_rotate_z"), seed=1)
    sim.reset()

    class Lagging(FaultyHand):
        stamp = 0.0

        def read(self) -> SensorReading | None:
            from dataclasses import replace

            r = super().read()
            assert r is not None
            if self.reads - 1 in (3, 4):  # a microsecond after the previous reading's time
                r = replace(r, timestamp=self.stamp + 1e-6)
            self.stamp = r.timestamp
            return r

    hand = Lagging(sim)
    loop, _ = _loop(exported, hand, realtime=True, stale_after_s=0.05)  # the period is 0.08 s
    records: list[Any] = []
    stats = loop.run(6, on_step=records.append)
    _check_held(records, {2, 3}, "stale_readings", hand)
    assert stats.stale_readings == 2 and stats.sent == 4

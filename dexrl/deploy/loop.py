"""The control loop: sensors -> observation -> policy -> safe joint targets, at the manifest's rate.

Safety rules a real hand needs (its driver expects a steady stream of sane commands):
- targets are clamped to the actuators' limits and to a per-step change limit;
- a watchdog: a missing or non-finite sensor reading, a reading that stopped updating (stale),
  a non-finite policy output, or a command ready after its step's deadline each *hold the last
  safe target* (it is sent again), are counted, and the loop goes on. A faulty step leaves the
  control state (targets, EMA, last action, recurrent state) as it was, so the next good step
  continues from what the hand is actually tracking.
Targets follow the task's rule exactly (manifest "action"), so with no faults the loop commands
what the simulator's task would have.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexrl.deploy.controller import HandController, SensorReading
from dexrl.deploy.observation import ControlState, ObservationBuilder
from dexrl.deploy.policy import Policy

FAULTS = ("missing_readings", "stale_readings", "nonfinite_actions", "missed_deadlines")


@dataclass
class LoopStats:
    """Counts since the loop was built; every fault also counts in `held`."""

    steps: int = 0
    sent: int = 0  # steps that sent a new target
    held: int = 0  # steps that re-sent the last safe target instead
    missing_readings: int = 0
    stale_readings: int = 0
    nonfinite_actions: int = 0
    missed_deadlines: int = 0
    late_steps: int = 0  # steps that started after their slot (the previous one overran)
    clamped_steps: int = 0  # steps whose targets the limits changed

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class StepRecord:
    """What one step did: the action (None when no policy output was used) and the sent targets."""

    targets: np.ndarray
    action: np.ndarray | None = None
    obs: np.ndarray | None = None
    fault: str | None = None  # one of FAULTS when the step held
    extra: dict[str, Any] = field(default_factory=dict)


class ControlLoop:
    """Runs `policy` on `hand`; `goal()` gives the current goal (e.g. {"goal_quat": q})."""

    def __init__(
        self,
        policy: Policy,
        hand: HandController,
        goal: Callable[[], Mapping[str, Any]],
        max_target_change: np.ndarray | float | None = None,
        stale_after_s: float | None = None,
        realtime: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        m = policy.manifest
        self.policy, self.hand, self.goal, self.clock = policy, hand, goal, clock
        self.period = float(m["control"]["period_s"])
        self.realtime = realtime
        act = m["action"]
        self.mode, self.ema, self.scale = act["mode"], float(act["ema"]), float(act["scale"])
        limits = np.asarray(m["actuators"]["ctrl_limits"], dtype=np.float64)
        self.low, self.high = limits[:, 0], limits[:, 1]
        self.half_range = 0.5 * (self.high - self.low)
        change = act["max_target_change"] if max_target_change is None else max_target_change
        self.max_change = np.broadcast_to(np.asarray(change, dtype=np.float64), self.low.shape)
        self.stale_after_s = 2.0 * self.period if stale_after_s is None else stale_after_s
        self.transmission = _transmission_matrix(m["actuators"], m["joints"]["names"])
        self.observation = ObservationBuilder(m["observation"])
        self.n_joints = len(m["joints"]["names"])
        self.stats = LoopStats()
        self.control: ControlState | None = None
        self.state = policy.initial_state()
        self.safe_targets = np.zeros_like(self.low)
        self._last_timestamp = -np.inf

    # ------------------------------------------------------------------ episode start
    def reset(self) -> None:
        """Start an episode: targets = where the actuators are now, EMA and recurrent state zero."""
        reading = self.hand.read()
        problem = self._invalid(reading)
        if problem is not None:
            raise RuntimeError(f"cannot start: the first reading is unusable ({problem})")
        assert reading is not None
        q = np.asarray(reading.joint_pos, dtype=np.float64)
        targets = np.clip(self.transmission @ q, self.low, self.high)
        zeros = np.zeros_like(self.low)
        self.control = ControlState(targets, zeros.copy(), zeros.copy())
        self.safe_targets = targets.copy()
        self.state = self.policy.initial_state()
        self._last_timestamp = -np.inf

    # ------------------------------------------------------------------ one step
    def step(self, deadline: float | None = None) -> StepRecord:
        """Read, build the observation, run the policy, send safe targets (or hold)."""
        if self.control is None:
            raise RuntimeError("call reset() before step(): the loop needs the hand's starting pose")
        self.stats.steps += 1
        reading = self.hand.read()
        if self._invalid(reading) is not None:
            return self._hold("missing_readings")
        assert reading is not None
        if self._stale(reading):
            return self._hold("stale_readings")
        self._last_timestamp = reading.timestamp
        obs = self.observation.build(reading, self.goal(), self.control)
        action, state = self.policy.run(obs, self.state)
        if not np.isfinite(action).all() or not all(np.isfinite(s).all() for s in state):
            return self._hold("nonfinite_actions", obs=obs)
        control, raw = self._next_control(action[0].astype(np.float64))
        if deadline is not None and self.clock() > deadline:
            return self._hold("missed_deadlines", obs=obs)
        if not np.array_equal(control.targets, raw):
            self.stats.clamped_steps += 1
        self.control, self.state, self.safe_targets = control, state, control.targets.copy()
        self.hand.send_targets(control.targets.copy())
        self.stats.sent += 1
        return StepRecord(control.targets.copy(), action=action[0], obs=obs)

    def _next_control(self, action: np.ndarray) -> tuple[ControlState, np.ndarray]:
        """The task's target rule (manifest action.rule), then the safety clamps."""
        assert self.control is not None
        a = np.clip(action, -1.0, 1.0)
        smoothed = self.control.smoothed_action
        if self.mode == "absolute":
            command = 0.5 * (self.high + self.low) + a * self.half_range
            raw = self.ema * command + (1.0 - self.ema) * self.control.targets
        else:
            smoothed = self.ema * a + (1.0 - self.ema) * smoothed
            step = smoothed * self.scale * self.half_range
            raw = np.clip(self.control.targets + step, self.low, self.high)
        safe = np.clip(raw, self.safe_targets - self.max_change, self.safe_targets + self.max_change)
        safe = np.clip(safe, self.low, self.high)
        return ControlState(safe, smoothed, a), raw

    def _hold(self, fault: str, obs: np.ndarray | None = None) -> StepRecord:
        setattr(self.stats, fault, getattr(self.stats, fault) + 1)
        self.stats.held += 1
        self.hand.send_targets(self.safe_targets.copy())
        return StepRecord(self.safe_targets.copy(), obs=obs, fault=fault)

    def _invalid(self, reading: SensorReading | None) -> str | None:
        if reading is None:
            return "no reading"
        if np.shape(reading.joint_pos) != (self.n_joints,):
            return f"joint_pos has shape {np.shape(reading.joint_pos)}, expected ({self.n_joints},)"
        values = [reading.joint_pos, reading.palm_pos, reading.fingertip_pos,
                  *(v for v in (reading.object_pos, reading.object_quat) if v is not None)]  # fmt: skip
        if not all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in values):
            return "a non-finite value"
        return None

    def _stale(self, reading: SensorReading) -> bool:
        """Not newer than the last reading used, or (in real time) older than stale_after_s."""
        if reading.timestamp <= self._last_timestamp:
            return True
        return self.realtime and self.clock() - reading.timestamp > self.stale_after_s

    # ------------------------------------------------------------------ the loop
    def run(self, steps: int, on_step: Callable[[StepRecord], None] | None = None) -> LoopStats:
        """`steps` control steps at the manifest's rate (as fast as possible when not realtime).

        A step whose command is not ready by the end of its period holds (missed deadline); the
        next step then starts at once and counts as late -- the loop never bursts to catch up.
        """
        next_start = self.clock()
        for _ in range(steps):
            deadline = None
            if self.realtime:
                wait = next_start - self.clock()
                if wait > 0:
                    time.sleep(wait)
                deadline = next_start + self.period
            record = self.step(deadline)
            if on_step is not None:
                on_step(record)
            if self.realtime:
                next_start += self.period
                now = self.clock()
                if now > next_start:
                    self.stats.late_steps += 1
                    next_start = now
        return self.stats


def _transmission_matrix(actuators: Mapping[str, Any], joint_names: list[str]) -> np.ndarray:
    """[A, J]: actuator position = gear * sum(coef * joint) (coupled fingers: two joints)."""
    index = {name: j for j, name in enumerate(joint_names)}
    t = np.zeros((len(actuators["names"]), len(joint_names)))
    for a, tr in enumerate(actuators["transmission"]):
        for joint, coef in zip(tr["joints"], tr["coefs"], strict=True):
            t[a, index[joint]] += tr["gear"] * coef
    return t

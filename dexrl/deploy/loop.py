"""The control loop: sensors -> observation -> policy -> safe joint targets, at the manifest's rate.

Safety rules a real hand needs (its driver expects a steady stream of sane commands):
- targets are clamped to the actuators' limits and to a per-step change limit;
- a watchdog: a step whose reading, goal or policy output is unusable, or whose command is ready
  after its step's deadline, *holds the last safe target* (it is sent again), counts the fault by
  kind (`LoopStats`, `stats.faults`) and the loop goes on. A faulty step leaves the control state
  (targets, EMA, last action, recurrent state) as it was, so the next good step continues from
  what the hand is actually tracking. The kinds, in the order a step checks them (a step counts
  one fault, the first it finds):
    read_errors           the driver's read() raised (the message is in the StepRecord's detail)
    missing_readings      read() returned None (the sensor had nothing)
    bad_timestamps        the timestamp is missing or not a finite number, or (in real time) ahead
                          of the loop's clock by more than stale_after_s (e.g. time.time() stamps)
    stale_readings        not newer than the last reading used (repeated or going backward), or (in
                          real time) older than stale_after_s
    missing_fields        a field the observation reads (joint_pos, palm_pos, fingertip_pos) is None
                          or absent
    missing_object_poses  object_pos, object_quat or face_angle is None (the tracker lost the object)
    bad_shapes            a field of the wrong shape or size (e.g. 4 fingertips, a ragged list)
    bad_dtypes            a field that is not real numbers (booleans, complex values, text, objects)
    nonfinite_readings    NaN or inf in a field
    bad_quaternions       object_quat's norm is off 1 by more than 0.1 (an all-zero pose included)
    goal_errors           the goal source raised (checked before the reading's fields), or its goal
                          is unusable: not a mapping, a key the observation reads missing, wrong
                          shape, not numbers, non-finite, a goal quaternion of norm far from 1, or
                          a flag (face_subgoal, face_on_top) that is not one of its values
    observation_errors    anything else that failed while building the observation
    nonfinite_actions     the policy's action or recurrent state is not finite
    missed_deadlines      the command was ready after the step's deadline
  Only the fields the policy's observation reads are checked (a reach policy ignores the object).
- reset() refuses to start on an unusable first reading (RuntimeError) or a goal source that cannot
  serve the policy (GoalSourceError, a ValueError naming the missing key and what the policy
  needs), before the loop runs. After reset() succeeded, step() does not raise because of what
  the hand's driver or the goal source deliver.
Targets follow the task's rule exactly (manifest "action"), so with no faults the loop commands
what the simulator's task would have.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexrl.deploy.controller import HandController, SensorReading
from dexrl.deploy.observation import (
    ControlState,
    ObservationBuilder,
    ObservationFault,
    checked_array,
)
from dexrl.deploy.policy import Policy

FAULTS = (
    "read_errors", "missing_readings", "bad_timestamps", "stale_readings", "missing_fields",
    "missing_object_poses", "bad_shapes", "bad_dtypes", "nonfinite_readings", "bad_quaternions",
    "goal_errors", "observation_errors", "nonfinite_actions", "missed_deadlines",
)  # fmt: skip


class GoalSourceError(ValueError):
    """reset() refused the goal source: it cannot give what the policy's observation reads."""


@dataclass
class LoopStats:
    """Counts since the loop was built: one field per fault kind (FAULTS, see the module's
    docstring); every fault also counts in `held`. `faults` is the kinds as a dict."""

    steps: int = 0
    sent: int = 0  # steps that sent a new target
    held: int = 0  # steps that re-sent the last safe target instead
    read_errors: int = 0
    missing_readings: int = 0
    bad_timestamps: int = 0
    stale_readings: int = 0
    missing_fields: int = 0
    missing_object_poses: int = 0
    bad_shapes: int = 0
    bad_dtypes: int = 0
    nonfinite_readings: int = 0
    bad_quaternions: int = 0
    goal_errors: int = 0
    observation_errors: int = 0
    nonfinite_actions: int = 0
    missed_deadlines: int = 0
    late_steps: int = 0  # steps that started after their slot (the previous one overran)
    clamped_steps: int = 0  # steps whose targets the limits changed

    @property
    def faults(self) -> dict[str, int]:
        """{kind: count} for every kind in FAULTS (zeros included)."""
        return {kind: getattr(self, kind) for kind in FAULTS}

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
    detail: str | None = None  # what was wrong, when the step held (e.g. the driver's exception)


class ControlLoop:
    """Runs `policy` on `hand`; `goal()` gives the current goal (e.g. {"goal_quat": q}).

    The goal keys the policy reads: `self.observation.goal_keys` (described by
    `self.observation.describe_goal()`).
    """

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
        """Start an episode: targets = where the actuators are now, EMA and recurrent state zero.

        Refuses to start (before any target is sent) on an unusable first reading (RuntimeError
        naming the fault) or a goal source that cannot serve the policy (GoalSourceError naming
        the missing key and what the policy needs). A driver's exception from read() propagates.
        """
        reading = self.hand.read()
        try:
            if reading is None:
                raise ObservationFault("missing_readings", "read() returned None")
            if _timestamp(reading) is None:
                raise ObservationFault("bad_timestamps", _bad_timestamp(reading))
            q = checked_array(getattr(reading, "joint_pos", None), "reading.joint_pos", ((self.n_joints,),))
            self.observation.check_reading(reading)
        except ObservationFault as fault:
            raise RuntimeError(f"cannot start: the first reading is unusable ({fault.kind}: {fault})") from None
        try:
            goal = self.goal()
        except Exception as err:
            raise GoalSourceError(f"cannot start: the goal source raised {_describe(err)}; this policy needs "
                                  f"{self.observation.describe_goal()}") from err  # fmt: skip
        try:
            self.observation.check_goal(goal)
        except ObservationFault as fault:
            raise GoalSourceError(f"cannot start: the goal source cannot serve this policy: {fault}") from None
        targets = np.clip(self.transmission @ q, self.low, self.high)
        zeros = np.zeros_like(self.low)
        control = ControlState(targets, zeros.copy(), zeros.copy())
        self.observation.build(reading, goal, control)  # anything else wrong shows here, not mid-loop
        self.control = control
        self.safe_targets = targets.copy()
        self.state = self.policy.initial_state()
        self._last_timestamp = -np.inf

    # ------------------------------------------------------------------ one step
    def step(self, deadline: float | None = None) -> StepRecord:
        """Read, build the observation, run the policy, send safe targets (or hold and count)."""
        if self.control is None:
            raise RuntimeError("call reset() before step(): the loop needs the hand's starting pose")
        self.stats.steps += 1
        try:
            reading = self.hand.read()
        except Exception as err:  # a driver's I/O error must not leave the hand without commands
            return self._hold("read_errors", detail=f"read() raised {_describe(err)}")
        if reading is None:
            return self._hold("missing_readings", detail="read() returned None")
        timestamp = _timestamp(reading)
        if timestamp is None or (self.realtime and timestamp - self.clock() > self.stale_after_s):
            return self._hold("bad_timestamps", detail=_bad_timestamp(reading))
        if self._stale(timestamp):
            return self._hold("stale_readings", detail=f"timestamp {timestamp} is not newer than the last one used "
                              f"({self._last_timestamp}) or is older than {self.stale_after_s} s")  # fmt: skip
        self._last_timestamp = timestamp
        try:
            goal = self.goal()
        except Exception as err:
            return self._hold("goal_errors", detail=f"the goal source raised {_describe(err)}")
        try:
            obs = self.observation.build(reading, goal, self.control)
        except ObservationFault as fault:
            return self._hold(fault.kind, detail=str(fault))
        except Exception as err:  # e.g. a part of the wrong size: hold, never leave the loop
            return self._hold("observation_errors", detail=_describe(err))
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

    def _hold(self, fault: str, obs: np.ndarray | None = None, detail: str | None = None) -> StepRecord:
        setattr(self.stats, fault, getattr(self.stats, fault) + 1)
        self.stats.held += 1
        self.hand.send_targets(self.safe_targets.copy())
        return StepRecord(self.safe_targets.copy(), obs=obs, fault=fault, detail=detail)

    def _stale(self, timestamp: float) -> bool:
        """Not newer than the last reading used, or (in real time) older than stale_after_s."""
        if timestamp <= self._last_timestamp:
            return True
        return self.realtime and self.clock() - timestamp > self.stale_after_s

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


def _timestamp(reading: SensorReading) -> float | None:
    """The reading's timestamp as a finite float, or None (missing, not a number, NaN, inf)."""
    t = getattr(reading, "timestamp", None)
    if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
        return None
    return float(t) if math.isfinite(t) else None


def _bad_timestamp(reading: SensorReading) -> str:
    return (f"timestamp {getattr(reading, 'timestamp', None)!r} is not a finite time.monotonic() value "
            "(or is ahead of the loop's clock)")  # fmt: skip


def _describe(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _transmission_matrix(actuators: Mapping[str, Any], joint_names: list[str]) -> np.ndarray:
    """[A, J]: actuator position = gear * sum(coef * joint) (coupled fingers: two joints)."""
    index = {name: j for j, name in enumerate(joint_names)}
    t = np.zeros((len(actuators["names"]), len(joint_names)))
    for a, tr in enumerate(actuators["transmission"]):
        for joint, coef in zip(tr["joints"], tr["coefs"], strict=True):
            t[a, index[joint]] += tr["gear"] * coef
    return t

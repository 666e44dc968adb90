"""A scripted excitation for calibration: chirps and steps per actuator, run by the control loop.

numpy only (it runs on the hand's computer). `ExcitationPolicy` stands in for an exported policy
in `dexrl.deploy.ControlLoop`, so the excitation goes through the same runtime as a policy: the
targets are clamped to the actuators' limits and to the per-step change limit, faults hold the
last safe target, and `Recorder` (dexrl.deploy.recording) records it as it would a policy's run.

    policy = ExcitationPolicy(hand_description(names..., limits..., transmission...), period_s=0.08)
    loop = ControlLoop(policy, recorder.hand, goal=lambda: {}, realtime=True)
    loop.reset(); policy.begin(loop.safe_targets); loop.run(policy.steps, on_step=recorder)

The schedule (`excitation_schedule`), per excited actuator, within [low + margin, high - margin]:
a hold at the start pose, a linear chirp around the middle of the range (f0 -> f1, each actuator
with its own phase so the joints do not move in lockstep), random steps (new targets every 3-8
control steps, uniform over the range; the change limit turns large ones into ramps), and a hold
at the end. Actuators not excited hold their start target. Chirps show the gain and damping over
frequency, steps the inertia (armature) and the response to large errors (force limits).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dexrl.deploy.policy import Policy, State


def hand_description(joint_names: Sequence[str], actuator_names: Sequence[str], ctrl_limits: Any,
                     transmission: Sequence[dict[str, Any]], period_s: float,
                     max_target_change: Any) -> dict[str, Any]:  # fmt: skip
    """The manifest sections ControlLoop reads, for a scripted (not exported) policy: joints,
    actuators (names, limits, what each drives: gear * sum(coef * joint)), control period, an
    absolute action rule without smoothing, and an observation of the joint positions only."""
    limits = np.asarray(ctrl_limits, dtype=np.float64)
    J = len(joint_names)
    return {
        "format": "dexrl-excitation",
        "joints": {"names": list(joint_names)},
        "actuators": {"names": list(actuator_names), "ctrl_limits": limits.tolist(),
                      "transmission": [dict(t) for t in transmission]},  # fmt: skip
        "control": {"period_s": float(period_s), "rate_hz": 1.0 / float(period_s)},
        "action": {"mode": "absolute", "ema": 1.0, "scale": 1.0, "range": [-1.0, 1.0],
                   "max_target_change": np.broadcast_to(np.asarray(max_target_change, dtype=np.float64),
                                                        (len(actuator_names),)).tolist()},  # fmt: skip
        "observation": {"dim": J, "parts": [{"name": "joint_pos", "size": J}]},
        "policy": {"kind": "excitation", "state": []},
    }


def excitation_schedule(low: np.ndarray, high: np.ndarray, start: np.ndarray, period_s: float,
                        duration_s: float = 25.0, seed: int = 0, amplitude: float = 0.8,
                        excited: np.ndarray | None = None, margin: float = 0.05,
                        chirp_hz: tuple[float, float] = (0.2, 2.0), hold_s: float = 0.5) -> np.ndarray:  # fmt: skip
    """[steps, A] targets: hold, chirp (half the rest), random steps (the other half), hold.

    amplitude: the fraction of each actuator's usable range (the range less `margin` of it at
    each end) the chirps and steps cover, around the middle of the range. excited: [A] bool,
    the actuators that move (default all); the others hold `start`.
    """
    low, high, start = (np.asarray(x, dtype=np.float64) for x in (low, high, start))
    A = low.shape[0]
    if not 0 < amplitude <= 1:
        raise ValueError(f"amplitude must be in (0, 1] (got {amplitude})")
    steps = int(round(duration_s / period_s))
    hold = max(1, int(round(hold_s / period_s)))
    if steps < 2 * hold + 10:
        raise ValueError(f"duration {duration_s} s is too short: the excitation needs at least "
                         f"{(2 * hold + 10) * period_s:.2f} s")  # fmt: skip
    rng = np.random.default_rng(seed)
    span = (high - low) * (1.0 - 2.0 * margin)
    mid = 0.5 * (low + high)
    lo, hi = mid - 0.5 * amplitude * span, mid + 0.5 * amplitude * span
    moving = steps - 2 * hold
    n_chirp = moving // 2
    n_steps = moving - n_chirp
    t = np.arange(n_chirp) * period_s
    length = max(n_chirp * period_s, period_s)
    f0, f1 = chirp_hz
    phase = 2.0 * np.pi * (f0 * t + 0.5 * (f1 - f0) / length * t**2)  # linear chirp
    offsets = 2.0 * np.pi * np.arange(A) / A
    chirp = mid + 0.5 * (hi - lo) * np.sin(phase[:, None] + offsets[None, :])
    random_steps = np.empty((n_steps, A))
    for a in range(A):
        k = 0
        while k < n_steps:
            n = int(rng.integers(3, 9))
            random_steps[k : k + n, a] = rng.uniform(lo[a], hi[a])
            k += n
    schedule = np.concatenate([np.tile(start, (hold, 1)), chirp, random_steps, np.tile(random_steps[-1], (hold, 1))])
    if excited is not None:
        mask = np.asarray(excited, dtype=bool)
        schedule[:, ~mask] = start[~mask]
    return np.clip(schedule, low, high)


class ExcitationPolicy(Policy):
    """A scripted "policy" for ControlLoop: step k commands schedule[k] (absolute targets).

    Call `begin(loop.safe_targets)` after `loop.reset()`: the schedule starts from the targets
    the loop holds. A step the loop holds (a fault) does not advance the schedule.
    """

    def __init__(self, description: dict[str, Any], duration_s: float = 25.0, seed: int = 0,
                 amplitude: float = 0.8, excited: Sequence[str] | None = None) -> None:  # fmt: skip
        self.manifest = description
        self.obs_dim = int(description["observation"]["dim"])
        self.action_dim = len(description["actuators"]["names"])
        self.state_inputs, self.state_outputs, self.state_sizes = [], [], []
        limits = np.asarray(description["actuators"]["ctrl_limits"], dtype=np.float64)
        self.low, self.high = limits[:, 0], limits[:, 1]
        self.period_s = float(description["control"]["period_s"])
        self.duration_s, self.seed, self.amplitude = duration_s, seed, amplitude
        names = list(description["actuators"]["names"])
        unknown = sorted(set(excited or []) - set(names))
        if unknown:
            raise ValueError(f"actuators {unknown} are not actuators of this hand; actuators: {', '.join(names)}")
        self.excited = np.array([excited is None or n in excited for n in names])
        self.schedule: np.ndarray | None = None
        self.k = 0

    @property
    def steps(self) -> int:
        """Control steps of the schedule (available before begin())."""
        hold = max(1, int(round(0.5 / self.period_s)))
        return max(int(round(self.duration_s / self.period_s)), 2 * hold + 10)

    def begin(self, start_targets: np.ndarray) -> None:
        self.schedule = excitation_schedule(self.low, self.high, start_targets, self.period_s,
                                            self.duration_s, self.seed, self.amplitude, self.excited)  # fmt: skip
        self.k = 0

    def initial_state(self, batch: int = 1) -> State:
        return ()

    def run(self, obs: np.ndarray, state: State = ()) -> tuple[np.ndarray, State]:
        if self.schedule is None:
            raise RuntimeError("call begin(loop.safe_targets) after loop.reset() before running the excitation")
        target = self.schedule[min(self.k, len(self.schedule) - 1)]
        self.k += 1
        half = 0.5 * (self.high - self.low)
        action = (target - 0.5 * (self.high + self.low)) / np.where(half > 0, half, 1.0)
        return action[None].astype(np.float32), ()


__all__ = ["ExcitationPolicy", "excitation_schedule", "hand_description"]

"""Build the policy observation from a sensor reading, part by part, as the task did in training.

Each manifest part name maps to one function of (reading, goal, control state). The formulas
mirror dexrl.tasks (cube_rotate, reach, base); tests/deploy compares both vector for vector.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dexrl.deploy.controller import SensorReading


@dataclass
class ControlState:
    """What the control loop itself knows: the targets it sent and its action history."""

    targets: np.ndarray  # [A] actuator targets last sent
    smoothed_action: np.ndarray  # [A] EMA of executed actions (relative control)
    last_action: np.ndarray  # [A] the last action


def canonical(q: np.ndarray) -> np.ndarray:
    """q and -q are the same rotation; the task observes the one with w >= 0."""
    return -q if q[0] < 0 else q


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product of quaternions (w, x, y, z)."""
    w1, x1, y1, z1 = a
    w2, x2, y2, z2 = b
    return np.array([
        w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
        w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
        w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
        w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
    ])  # fmt: skip


def quat_conj(q: np.ndarray) -> np.ndarray:
    return np.array([q[0], -q[1], -q[2], -q[3]])


def _tips(r: SensorReading) -> np.ndarray:
    return np.asarray(r.fingertip_pos, dtype=np.float64) - np.asarray(r.palm_pos, dtype=np.float64)


def _object(r: SensorReading, field: str) -> np.ndarray:
    value = getattr(r, field)
    if value is None:
        raise ValueError(f"this policy observes the object, but the reading has no {field}")
    return np.asarray(value, dtype=np.float64)


def _goal(goal: Mapping[str, Any], key: str) -> np.ndarray:
    if key not in goal:
        raise ValueError(f"this policy needs the goal '{key}'; the goal source gave {sorted(goal)}")
    return np.asarray(goal[key], dtype=np.float64)


Builder = Callable[[SensorReading, Mapping[str, Any], ControlState], np.ndarray]

BUILDERS: dict[str, Builder] = {
    "fingertip_pos": lambda r, g, c: _tips(r).ravel(),
    "cube_pos": lambda r, g, c: _object(r, "object_pos") - np.asarray(r.palm_pos, dtype=np.float64),
    "cube_quat": lambda r, g, c: canonical(_object(r, "object_quat")),
    "goal_quat": lambda r, g, c: canonical(_goal(g, "goal_quat")),
    "goal_relative_quat": lambda r, g, c: canonical(
        quat_mul(canonical(_goal(g, "goal_quat")), quat_conj(canonical(_object(r, "object_quat"))))
    ),
    "target_pos": lambda r, g, c: _goal(g, "target_pos").ravel(),
    "target_minus_fingertip": lambda r, g, c: (_goal(g, "target_pos").reshape(-1, 3) - _tips(r)).ravel(),
    "joint_pos": lambda r, g, c: np.asarray(r.joint_pos, dtype=np.float64),
    "joint_targets": lambda r, g, c: c.targets,
    "smoothed_action": lambda r, g, c: c.smoothed_action,
    "last_action": lambda r, g, c: c.last_action,
}


class ObservationBuilder:
    """The manifest's observation layout as a function of (reading, goal, control state)."""

    def __init__(self, observation: Mapping[str, Any]) -> None:
        unknown = [p["name"] for p in observation["parts"] if p["name"] not in BUILDERS]
        if unknown:
            raise ValueError(f"observation parts {unknown} are not known to this dexrl.deploy; "
                             f"known: {sorted(BUILDERS)}")  # fmt: skip
        self.parts = [(p["name"], int(p["size"]), BUILDERS[p["name"]]) for p in observation["parts"]]
        self.dim = int(observation["dim"])

    def build(self, reading: SensorReading, goal: Mapping[str, Any], control: ControlState) -> np.ndarray:
        """[1, Do] float32, the layout the graph expects; ValueError names a part of wrong size."""
        values = []
        for name, size, fn in self.parts:
            v = fn(reading, goal, control)
            if v.shape != (size,):
                raise ValueError(f"observation part '{name}' has shape {v.shape}, the manifest says ({size},)")
            values.append(v)
        return np.concatenate(values)[None].astype(np.float32)

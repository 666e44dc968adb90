"""Build the policy observation from a sensor reading, part by part, as the task did in training.

Each manifest part names its source kind (dexrl.obs_parts.KINDS: joint encoders, fingertip
positions, an object or cube-state tracker, the goal, the loop's own control state, ...); each kind
is one function of (reading, goal, control state), whatever the part is called. The formulas mirror
dexrl.tasks (reach, cube_rotate, rubiks, observations); tests/deploy compares both vector for vector.

Before any formula runs, every reading field and goal key the manifest's parts use is checked
(`ObservationBuilder.check_reading` / `check_goal`): present, the right shape, numbers, finite,
and a quaternion of norm near 1. A value that fails raises `ObservationFault`, whose `kind` is
the control loop's name for the fault (it holds the last safe target and counts it by kind).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from dexrl.deploy.controller import SensorReading
from dexrl.obs_parts import KINDS

QUAT_NORM_TOLERANCE = 0.1  # |norm - 1| above this is not an orientation (e.g. an all-zero "lost" pose)
# Tracker outputs (motion capture / vision, a cube-state tracker): what goes missing with the object.
OBJECT_FIELDS = ("object_pos", "object_quat", "face_angle")
QUATERNIONS = ("object_quat", "goal_quat")
QUARTER = math.pi / 2  # the Rubik's cube's detents: every 90 degrees

Shapes = tuple[tuple[int, ...], ...]  # the shapes a value may have (the first is the canonical one)


class ObservationFault(ValueError):
    """A reading or goal value the observation cannot be built from.

    `kind` names the fault as ControlLoop counts it: missing_fields, missing_object_poses,
    bad_shapes, bad_dtypes, nonfinite_readings, bad_quaternions (reading fields) or goal_errors
    (any problem with the goal).
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def checked_array(value: Any, what: str, shapes: Shapes, quaternion: bool = False,
                  missing: str = "missing_fields") -> np.ndarray:
    """`value` as float64 in its canonical shape, or ObservationFault naming what is wrong.

    The checks run in this order and the first that fails names the kind: None (`missing`), shape
    (bad_shapes, also a ragged nested list), numbers (bad_dtypes: booleans, complex values, strings
    or objects that are not numbers; numbers as text convert), finite (nonfinite_readings), unit norm for quaternions
    (bad_quaternions: |norm - 1| > QUAT_NORM_TOLERANCE, an all-zero quaternion included).
    """
    if value is None:
        raise ObservationFault(missing, f"{what} is missing (None)")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as err:
        raise ObservationFault("bad_shapes", f"{what} is not an array of one shape ({err})") from None
    if raw.shape not in shapes:
        expected = " or ".join(str(s) for s in shapes)
        raise ObservationFault("bad_shapes", f"{what} has shape {raw.shape}, expected {expected}")
    if raw.dtype.kind in "bcmMV":  # booleans, complex (a cast drops the imaginary part), times, raw bytes
        raise ObservationFault("bad_dtypes", f"{what} has dtype {raw.dtype}, expected real numbers")
    try:
        array = raw.astype(np.float64, copy=False).reshape(shapes[0])
    except (TypeError, ValueError) as err:
        raise ObservationFault("bad_dtypes", f"{what} has dtype {raw.dtype} that is not numbers ({err})") from None
    if not np.isfinite(array).all():
        raise ObservationFault("nonfinite_readings", f"{what} has a non-finite value: {array.tolist()}")
    if quaternion:
        norm = math.sqrt(float(array @ array))
        if abs(norm - 1.0) > QUAT_NORM_TOLERANCE:
            raise ObservationFault("bad_quaternions", f"{what} has norm {norm:.3g}, a quaternion (w, x, y, z) "
                                   f"needs norm 1 (within {QUAT_NORM_TOLERANCE})")  # fmt: skip
    return array


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
        raise ObservationFault("missing_object_poses",
                               f"this policy observes the object, but the reading has no {field}")
    return np.asarray(value, dtype=np.float64)


def _goal(goal: Mapping[str, Any], key: str) -> np.ndarray:
    if key not in goal:
        raise ObservationFault("goal_errors",
                               f"this policy needs the goal '{key}'; the goal source gave {sorted(goal)}")
    return np.asarray(goal[key], dtype=np.float64)


def _face_progress(r: SensorReading, g: Mapping[str, Any], c: ControlState) -> np.ndarray:
    """[face_angle, angle still to turn, rotate, flip], as dexrl.tasks.rubiks.FaceTurnTask observes."""
    q = float(_object(r, "face_angle").reshape(-1)[0])
    rotate, flip = _goal(g, "face_subgoal")
    target = float(_goal(g, "face_angle_target").reshape(-1)[0])
    if rotate:
        on_top = _goal(g, "face_on_top").reshape(-1)[0] == 1.0
        remaining = target - q if on_top else target
    else:
        remaining = float(np.round(q / QUARTER) * QUARTER) - q
    return np.array([q, remaining, rotate, flip])


Builder = Callable[[SensorReading, Mapping[str, Any], ControlState], np.ndarray]

# One builder per source kind (dexrl.obs_parts.KINDS): a part is built by its source, whatever its
# name. The formulas mirror dexrl.tasks; tests/deploy compares both vector for vector.
BUILDERS: dict[str, Builder] = {
    "joint_encoders": lambda r, g, c: np.asarray(r.joint_pos, dtype=np.float64),
    "fingertip_positions": lambda r, g, c: _tips(r).ravel(),
    "object_position": lambda r, g, c: _object(r, "object_pos") - np.asarray(r.palm_pos, dtype=np.float64),
    "object_orientation": lambda r, g, c: canonical(_object(r, "object_quat")),
    "goal_orientation": lambda r, g, c: canonical(_goal(g, "goal_quat")),
    "goal_relative_orientation": lambda r, g, c: canonical(
        quat_mul(canonical(_goal(g, "goal_quat")), quat_conj(canonical(_object(r, "object_quat"))))
    ),
    "fingertip_targets": lambda r, g, c: _goal(g, "target_pos").ravel(),
    "fingertip_target_errors": lambda r, g, c: (_goal(g, "target_pos").reshape(-1, 3) - _tips(r)).ravel(),
    "control_targets": lambda r, g, c: c.targets,
    "control_smoothed_action": lambda r, g, c: c.smoothed_action,
    "control_last_action": lambda r, g, c: c.last_action,
    "face_progress": _face_progress,
}

# Manifests written before each part carried its source kind name only the part: these are the
# names such a manifest can hold (the shipped docs/policies/cube_rotate_z/exported is one).
LEGACY_PART_KINDS = {
    "fingertip_pos": "fingertip_positions", "cube_pos": "object_position", "cube_quat": "object_orientation",
    "goal_quat": "goal_orientation", "goal_relative_quat": "goal_relative_orientation",
    "target_pos": "fingertip_targets", "target_minus_fingertip": "fingertip_target_errors",
    "joint_pos": "joint_encoders", "joint_targets": "control_targets",
    "smoothed_action": "control_smoothed_action", "last_action": "control_last_action",
}  # fmt: skip

# The shapes each value a source reads may have (dexrl.obs_parts.KINDS[kind].reads), as a function
# of the part's size. check_reading / check_goal validate exactly these.
_SCALAR: Shapes = ((1,), ())
SHAPES: dict[str, Callable[[int], Shapes]] = {
    "reading.joint_pos": lambda n: ((n,),),
    "reading.palm_pos": lambda n: ((3,),),
    "reading.fingertip_pos": lambda n: ((n // 3, 3),),
    "reading.object_pos": lambda n: ((3,),),
    "reading.object_quat": lambda n: ((4,),),
    "reading.face_angle": lambda n: _SCALAR,
    "goal.goal_quat": lambda n: ((4,),),
    "goal.target_pos": lambda n: ((n,), (n // 3, 3)),  # flat, or one row per fingertip
    "goal.face_subgoal": lambda n: ((2,),),
    "goal.face_angle_target": lambda n: _SCALAR,
    "goal.face_on_top": lambda n: _SCALAR,
}
# Goal values that are flags: the allowed values (checked by check_goal).
GOAL_FLAGS = {"face_subgoal": ((1.0, 0.0), (0.0, 1.0)), "face_on_top": ((0.0,), (1.0,))}

Need = tuple[str, str, Shapes]  # ("reading" or "goal", field or key, shapes)


def needs(kind: str, size: int) -> list[Need]:
    """What a part of source `kind` and `size` reads from the reading and the goal, with the
    shapes it accepts (control-state values are the loop's own)."""
    out = []
    for read in KINDS[kind].reads:
        source, _, key = read.partition(".")
        if source != "control":
            out.append((source, key, SHAPES[read](size)))
    return out


def part_kind(part: Mapping[str, Any]) -> str:
    """The source kind of a manifest part (a legacy manifest's part: by its name)."""
    source = part.get("source")
    if isinstance(source, Mapping):
        return str(source.get("kind"))
    if part["name"] in LEGACY_PART_KINDS:
        return LEGACY_PART_KINDS[part["name"]]
    raise ValueError(f"observation part '{part['name']}' names no source kind; re-export the policy "
                     "with this dexrl version")  # fmt: skip


class ObservationBuilder:
    """The manifest's observation layout as a function of (reading, goal, control state).

    `reading_fields` and `goal_keys` are what the parts read, with the shapes they accept;
    `used_by` names the parts that read each (for error messages).
    """

    def __init__(self, observation: Mapping[str, Any]) -> None:
        kinds = {p["name"]: part_kind(p) for p in observation["parts"]}
        unknown = {name: kind for name, kind in kinds.items() if kind not in BUILDERS}
        if unknown:
            raise ValueError(f"observation parts {unknown} (name: source kind) cannot be built by this "
                             f"dexrl.deploy; it builds the source kinds {sorted(BUILDERS)}")  # fmt: skip
        self.parts = [(p["name"], int(p["size"]), kinds[p["name"]]) for p in observation["parts"]]
        self.dim = int(observation["dim"])
        self.reading_fields: dict[str, Shapes] = {}
        self.goal_keys: dict[str, Shapes] = {}
        self.used_by: dict[str, list[str]] = {}
        for name, size, kind in self.parts:
            for source, key, shapes in needs(kind, size):
                table = self.reading_fields if source == "reading" else self.goal_keys
                if table.setdefault(key, shapes) != shapes:
                    raise ValueError(f"observation parts {self.used_by[key]} and '{name}' disagree on the "
                                     f"shape of {key}: {table[key]} vs {shapes}")  # fmt: skip
                self.used_by.setdefault(key, []).append(name)

    def check_reading(self, reading: Any) -> SensorReading:
        """The reading with each field the parts read as float64 of its canonical shape.

        ObservationFault (kind: missing_object_poses for a tracker's object_pos / object_quat /
        face_angle, else
        missing_fields, bad_shapes, bad_dtypes, nonfinite_readings, bad_quaternions) names the
        first field that is unusable. Fields no part reads are passed through unchecked.
        """
        values: dict[str, Any] = {}
        for key, shapes in self.reading_fields.items():
            missing = "missing_object_poses" if key in OBJECT_FIELDS else "missing_fields"
            values[key] = checked_array(getattr(reading, key, None), f"reading.{key}", shapes,
                                        quaternion=key in QUATERNIONS, missing=missing)  # fmt: skip
        fields = ("joint_pos", "palm_pos", "fingertip_pos", *OBJECT_FIELDS)
        values.update({k: getattr(reading, k, None) for k in fields if k not in values})
        return SensorReading(timestamp=getattr(reading, "timestamp", None), **values)  # type: ignore[arg-type]

    def check_goal(self, goal: Any) -> dict[str, np.ndarray]:
        """The goal keys the parts read, as float64 of their canonical shapes (other keys dropped).

        Any problem (not a mapping, a key missing, wrong shape, not numbers, non-finite, a goal
        quaternion of norm far from 1, a flag that is not one of its values: GOAL_FLAGS) raises ObservationFault of kind goal_errors, naming the key
        and what the policy needs.
        """
        if not isinstance(goal, Mapping):
            raise ObservationFault("goal_errors", f"the goal source gave a {type(goal).__name__}, not a "
                                   f"mapping; this policy needs {self.describe_goal()}")  # fmt: skip
        values = {}
        for key, shapes in self.goal_keys.items():
            try:
                if key not in goal:
                    raise ObservationFault("goal_errors", f"the goal source gave keys {sorted(map(str, goal))} "
                                           f"without '{key}'")  # fmt: skip
                values[key] = checked_array(goal[key], f"goal '{key}'", shapes, quaternion=key in QUATERNIONS)
                if key in GOAL_FLAGS and tuple(values[key].reshape(-1)) not in GOAL_FLAGS[key]:
                    raise ObservationFault("goal_errors", f"goal '{key}' is {values[key].tolist()}, expected "
                                           f"one of {[list(v) for v in GOAL_FLAGS[key]]}")  # fmt: skip
            except Exception as err:  # a mapping that fails to answer is as unusable as a bad value
                message = str(err) if isinstance(err, ObservationFault) else f"reading goal '{key}' raised {err!r}"
                raise ObservationFault("goal_errors", f"{message}; this policy needs {self.describe_goal()}") from None
        return values

    def describe_goal(self) -> str:
        """What the parts need from the goal source, e.g. "{'goal_quat': shape (4,) ...}"."""
        if not self.goal_keys:
            return "no goal keys"
        return ", ".join(f"'{k}' of shape {' or '.join(map(str, s))}"
                         f"{' (a unit quaternion w, x, y, z)' if k in QUATERNIONS else ''} "
                         f"(read by {', '.join(self.used_by[k])})" for k, s in self.goal_keys.items())  # fmt: skip

    def build(self, reading: Any, goal: Any, control: ControlState) -> np.ndarray:
        """[1, Do] float32, the layout the graph expects.

        The reading and goal are checked first (ObservationFault with its kind); a part whose
        value has the wrong size raises ValueError naming it.
        """
        reading, goal = self.check_reading(reading), self.check_goal(goal)
        values = []
        for name, size, kind in self.parts:
            v = BUILDERS[kind](reading, goal, control)
            if v.shape != (size,):
                raise ValueError(f"observation part '{name}' has shape {v.shape}, the manifest says ({size},)")
            values.append(v)
        return np.concatenate(values)[None].astype(np.float32)

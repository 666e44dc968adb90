"""Named observation parts and where a real hand gets each one (docs/architecture.md §9, §11).

A task's policy observation is a list of `ObsPart`s, and each part carries its `Source`: what a
hand's controller reads to build that part (joint encoders, fingertip forward kinematics, an
object pose tracker, the goal source, the control loop's own state, ...). The source `kind` is
the contract between training and deployment: the export manifest writes it for every part
(`dexrl.export.manifest`), and the deploy runtime builds each part by its kind
(`dexrl.deploy.observation.BUILDERS`), never by the part's name. A part no real hand can provide
is declared `not_exportable(reason)`, and export stops with that reason; the critic's privileged
parts are `SIMULATOR` parts, never exported.

Standard library only: `dexrl.deploy` imports this module on a hand computer (numpy and
onnxruntime, no MuJoCo or torch).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SourceKind:
    """One way a controller obtains a part: what it reads and what that means."""

    name: str
    reads: tuple[str, ...]
    """reading.<SensorReading field>, goal.<goal key> or control.<ControlState field>."""
    description: str
    exportable: bool = True


KINDS: dict[str, SourceKind] = {k.name: k for k in (
    SourceKind("joint_encoders", ("reading.joint_pos",), "the hand's joint encoders"),
    SourceKind("fingertip_positions", ("reading.fingertip_pos", "reading.palm_pos"),
               "fingertip positions (the driver's forward kinematics of its calibrated model, or "
               "motion capture) minus the palm centre"),
    SourceKind("object_position", ("reading.object_pos", "reading.palm_pos"),
               "object position from a pose tracker (vision / motion capture) minus the palm centre"),
    SourceKind("object_orientation", ("reading.object_quat",),
               "object orientation from a pose tracker (vision / motion capture), w >= 0"),
    SourceKind("goal_orientation", ("goal.goal_quat",),
               "the goal source: the orientation asked for (user or solver), w >= 0"),
    SourceKind("goal_relative_orientation", ("goal.goal_quat", "reading.object_quat"),
               "computed: goal_quat * conj(object_quat), both w >= 0, the result w >= 0"),
    SourceKind("fingertip_targets", ("goal.target_pos",),
               "the goal source: each fingertip's target, relative to the palm centre"),
    SourceKind("fingertip_target_errors", ("goal.target_pos", "reading.fingertip_pos", "reading.palm_pos"),
               "computed: target_pos - (fingertip_pos - palm_pos)"),
    SourceKind("control_targets", ("control.targets",), "control loop state: the targets last sent"),
    SourceKind("control_smoothed_action", ("control.smoothed_action",),
               "control loop state: the EMA of executed actions"),
    SourceKind("control_last_action", ("control.last_action",), "control loop state: the last action"),
    SourceKind("face_progress",
               ("reading.face_angle", "goal.face_subgoal", "goal.face_angle_target", "goal.face_on_top"),
               "a cube-state tracker's top-layer angle relative to the cube body (face_angle) and "
               "the goal source's face subgoal: [face_angle, angle still to turn, rotate, flip]; "
               "still to turn = face_angle_target - face_angle for a rotate subgoal whose face is "
               "the top layer (face_on_top = 1), face_angle_target when it is not, and the nearest "
               "90-degree detent - face_angle for a flip"),
    SourceKind("not_exportable", (), "no source on a real hand", exportable=False),
    SourceKind("simulator", (), "simulator state: the critic's privileged input, never exported",
               exportable=False),
)}  # fmt: skip


@dataclass(frozen=True)
class Source:
    """Where one part comes from on a real hand: a kind of `KINDS` and a task's own note on it
    (for `not_exportable`: the reason)."""

    kind: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown observation source kind {self.kind!r}; known: {', '.join(KINDS)}")
        if self.kind == "not_exportable" and not self.note:
            raise ValueError("a not_exportable source needs its reason as the note")

    @property
    def exportable(self) -> bool:
        return KINDS[self.kind].exportable

    @property
    def reads(self) -> tuple[str, ...]:
        return KINDS[self.kind].reads

    def describe(self) -> str:
        text = KINDS[self.kind].description
        return f"{text}; {self.note}" if self.note else text

    def manifest(self) -> dict[str, object]:
        """The part's `source` entry in the export manifest."""
        return {"kind": self.kind, "reads": list(self.reads), "description": self.describe()}


def not_exportable(reason: str) -> Source:
    """A part no real hand can provide; export stops with `reason`."""
    return Source("not_exportable", reason)


JOINT_ENCODERS = Source("joint_encoders")
FINGERTIP_POSITIONS = Source("fingertip_positions")
OBJECT_POSITION = Source("object_position")
OBJECT_ORIENTATION = Source("object_orientation")
GOAL_ORIENTATION = Source("goal_orientation")
GOAL_RELATIVE_ORIENTATION = Source("goal_relative_orientation")
FINGERTIP_TARGETS = Source("fingertip_targets")
FINGERTIP_TARGET_ERRORS = Source("fingertip_target_errors")
CONTROL_TARGETS = Source("control_targets")
CONTROL_SMOOTHED_ACTION = Source("control_smoothed_action")
CONTROL_LAST_ACTION = Source("control_last_action")
SIMULATOR = Source("simulator")


@dataclass(frozen=True)
class ObsPart:
    """One named part of an observation (docs/architecture.md §11).

    ADR's observation noise reads `noise`; the export manifest reads every field (the source
    included), so a real hand's controller can build the same vector.
    """

    name: str
    size: int
    units: str
    frame: str
    noise: str = "exact"
    """Sensor-noise class ([D] levels in dexrl.adr.apply.OBS_NOISE_LEVELS): fingertip_pos,
    object_pos, object_quat, or exact (no sensor noise modelled: goals, joint state, actions)."""
    description: str = ""
    source: Source = field(kw_only=True)
    """What a real hand's controller reads to build this part (`KINDS`)."""


__all__ = [
    "CONTROL_LAST_ACTION", "CONTROL_SMOOTHED_ACTION", "CONTROL_TARGETS", "FINGERTIP_POSITIONS",
    "FINGERTIP_TARGETS", "FINGERTIP_TARGET_ERRORS", "GOAL_ORIENTATION", "GOAL_RELATIVE_ORIENTATION",
    "JOINT_ENCODERS", "KINDS", "OBJECT_ORIENTATION", "OBJECT_POSITION", "SIMULATOR", "ObsPart",
    "Source", "SourceKind", "not_exportable",
]  # fmt: skip

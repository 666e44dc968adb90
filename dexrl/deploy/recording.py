"""Recordings of a hand: what was commanded and what the joints did, for calibration.

numpy only (no torch, MuJoCo or Ray): it runs on the hand's computer, beside the control loop.

    from dexrl.deploy.recording import Recorder, load_recording
    recorder = Recorder(hand, joint_names=..., actuator_names=..., period_s=0.08, hand_name="my_hand")
    loop = ControlLoop(policy, recorder.hand, goal=...)   # recorder.hand: your hand, read and recorded
    loop.reset(); loop.run(steps=300, on_step=recorder)   # one row per control step with a reading
    recorder.save("runs/excite/recording.npz")
    rec = load_recording("runs/excite/recording.npz")       # RecordingError names what is wrong

On-disk format (format "dexrl-recording", version FORMAT_VERSION): one `.npz` file (numpy's zip
of .npy arrays, `np.load(path, allow_pickle=False)` opens it) with

    header       a 0-d unicode array holding JSON: format, format_version, hand, joint_names,
                 actuator_names, control_period_s, time_source ("reading": the readings'
                 timestamps; "steps": step index x control_period_s, for a hand stepped faster than
                 real time such as SimHand), units, source, created (UTC), rows, notes, extra
    time         [N] float64 s, from the first row (strictly increasing)
    targets      [N, A] float64, the actuator targets sent at that step (actuator_names order; rad,
                 a coupled finger's actuator is the sum of its two distal joints)
    joint_pos    [N, J] float64 rad, measured at `time` before the step's targets were sent
    joint_vel    [N, J] float64 rad/s (optional: when the hand's readings have joint_vel)
    object_pos   [N, 3] float64 m (optional: when the readings have it; world axes)
    object_quat  [N, 4] float64 (w, x, y, z) (optional)

Row k is one control step: the reading at time[k] (joint_pos[k], ...) and the targets the loop
sent right after it (targets[k]), which act from then until the next row's targets. A step whose
reading was unusable (the loop held and counted a fault) writes no row: the hand kept tracking
the previous row's targets (a held step re-sends them), so the recording stays exact.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "dexrl-recording"
FORMAT_VERSION = 1
TIME_SOURCES = ("reading", "steps")
UNITS = {"time": "s", "targets": "rad (actuator position; coupled fingers: J1 + J2)",
         "joint_pos": "rad", "joint_vel": "rad/s", "object_pos": "m", "object_quat": "w, x, y, z"}  # fmt: skip
OPTIONAL = ("joint_vel", "object_pos", "object_quat")


class RecordingError(ValueError):
    """A recording that cannot be used; the message names the file and the problem in one line."""


@dataclass
class Recording:
    """One recording in memory (see the module docstring for the fields and units)."""

    hand: str
    joint_names: list[str]
    actuator_names: list[str]
    control_period_s: float
    time: np.ndarray  # [N]
    targets: np.ndarray  # [N, A]
    joint_pos: np.ndarray  # [N, J]
    joint_vel: np.ndarray | None = None  # [N, J]
    object_pos: np.ndarray | None = None  # [N, 3]
    object_quat: np.ndarray | None = None  # [N, 4]
    time_source: str = "reading"
    source: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    path: str = ""

    @property
    def rows(self) -> int:
        return int(self.time.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.time[-1] - self.time[0]) if self.rows else 0.0

    def header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hand": self.hand,
            "joint_names": list(self.joint_names),
            "actuator_names": list(self.actuator_names),
            "control_period_s": float(self.control_period_s),
            "time_source": self.time_source,
            "units": UNITS,
            "source": self.source,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "rows": self.rows,
            "notes": self.notes,
            "extra": self.extra,
        }

    def save(self, path: str | Path) -> Path:
        """Write the .npz (the parent folder is created); checks the recording first."""
        check_recording(self, where=str(path))
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"header": np.asarray(json.dumps(self.header())), "time": self.time,
                  "targets": self.targets, "joint_pos": self.joint_pos}  # fmt: skip
        arrays.update({k: getattr(self, k) for k in OPTIONAL if getattr(self, k) is not None})
        with p.open("wb") as f:  # a file object: np.savez would append .npz to another suffix
            np.savez_compressed(f, **arrays)  # type: ignore[arg-type]
        return p


def load_recording(path: str | Path) -> Recording:
    """Read and check a recording; RecordingError (one line naming the file) when it is unusable."""
    p = Path(path)
    where = str(p)
    if not p.is_file():
        raise RecordingError(f"{where}: no such file")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except Exception as err:  # not a zip, truncated, pickled objects
        raise RecordingError(f"{where}: not a {FORMAT} .npz file ({type(err).__name__}: {err})") from None
    if "header" not in arrays:
        raise RecordingError(f"{where}: no 'header' entry: not a {FORMAT} file (format version {FORMAT_VERSION})")
    try:
        header = json.loads(str(arrays["header"]))
    except json.JSONDecodeError as err:
        raise RecordingError(f"{where}: the header is not valid JSON ({err})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else header
        raise RecordingError(f"{where}: header format is {got!r}, expected {FORMAT!r}")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise RecordingError(f"{where}: format_version {version!r} is not supported (this dexrl reads "
                             f"version {FORMAT_VERSION}); record it again with this dexrl")  # fmt: skip
    for key in ("hand", "joint_names", "actuator_names", "control_period_s"):
        if key not in header:
            raise RecordingError(f"{where}: the header has no '{key}'")
    for key in ("time", "targets", "joint_pos"):
        if key not in arrays:
            raise RecordingError(f"{where}: the array '{key}' is missing")
    rec = Recording(
        hand=str(header["hand"]),
        joint_names=[str(n) for n in header["joint_names"]],
        actuator_names=[str(n) for n in header["actuator_names"]],
        control_period_s=_number(header["control_period_s"], "control_period_s", where),
        time=arrays["time"], targets=arrays["targets"], joint_pos=arrays["joint_pos"],
        joint_vel=arrays.get("joint_vel"), object_pos=arrays.get("object_pos"),
        object_quat=arrays.get("object_quat"),
        time_source=str(header.get("time_source", "reading")), source=str(header.get("source", "")),
        notes=str(header.get("notes", "")), extra=dict(header.get("extra") or {}), path=where,
    )  # fmt: skip
    check_recording(rec, where)
    return rec


def _number(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise RecordingError(f"{where}: header {key} must be a positive number (got {value!r})")
    return float(value)


def check_recording(rec: Recording, where: str = "") -> None:
    """RecordingError naming the first problem: names, shapes, dtypes, NaN/inf, time order."""
    where = where or rec.path or "recording"
    for key, names in (("joint_names", rec.joint_names), ("actuator_names", rec.actuator_names)):
        if not names:
            raise RecordingError(f"{where}: header {key} is empty")
        dup = sorted({n for n in names if list(names).count(n) > 1})
        if dup:
            raise RecordingError(f"{where}: header {key} lists {dup} more than once")
    if rec.time_source not in TIME_SOURCES:
        raise RecordingError(f"{where}: header time_source {rec.time_source!r} is not one of {TIME_SOURCES}")
    J, A = len(rec.joint_names), len(rec.actuator_names)
    n = np.asarray(rec.time).shape[0] if np.asarray(rec.time).ndim == 1 else -1
    if n < 0:
        raise RecordingError(f"{where}: 'time' has shape {np.asarray(rec.time).shape}, expected one dimension [N]")
    if n < 2:
        raise RecordingError(f"{where}: {n} rows; a recording needs at least 2")
    shapes = {"time": (n,), "targets": (n, A), "joint_pos": (n, J), "joint_vel": (n, J),
              "object_pos": (n, 3), "object_quat": (n, 4)}  # fmt: skip
    for key, shape in shapes.items():
        value = getattr(rec, key)
        if value is None:
            continue
        array = np.asarray(value)
        if array.shape != shape:
            header_key = {"targets": "actuator_names", "joint_pos": "joint_names", "joint_vel": "joint_names"}
            hint = f" ({header_key[key]} in the header has {shape[1]})" if key in header_key else ""
            raise RecordingError(f"{where}: '{key}' has shape {array.shape}, expected {shape}{hint}")
        if array.dtype.kind not in "fiu":
            raise RecordingError(f"{where}: '{key}' has dtype {array.dtype}, expected real numbers")
        bad = np.argwhere(~np.isfinite(array.astype(np.float64)))
        if bad.size:
            row = int(bad[0][0])
            col = ""
            if array.ndim == 2:
                names_of = {"targets": rec.actuator_names, "joint_pos": rec.joint_names, "joint_vel": rec.joint_names}
                c = int(bad[0][1])
                col = f", column {names_of[key][c]!r}" if key in names_of else f", column {c}"
            raise RecordingError(f"{where}: '{key}' has {len(bad)} NaN/inf value(s), the first at row "
                                 f"{row}{col} (time {float(rec.time[row]):.3f} s)")  # fmt: skip
        setattr(rec, key, array.astype(np.float64, copy=False))
    steps = np.diff(rec.time)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0])
        raise RecordingError(f"{where}: time is not strictly increasing at row {k + 1} "
                             f"({rec.time[k]:.6f} s then {rec.time[k + 1]:.6f} s)")  # fmt: skip


class _RecordedHand:
    """A HandController that passes everything to `inner` and shows the recorder each reading."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner, self.recorder = inner, recorder

    def read(self) -> Any:
        self.recorder._pending = None
        reading = self.inner.read()
        self.recorder._pending = reading
        return reading

    def send_targets(self, targets: np.ndarray) -> None:
        self.inner.send_targets(targets)

    def __getattr__(self, name: str) -> Any:  # goal(), reset(), ... of the hand being recorded
        return getattr(self.inner, name)


class Recorder:
    """Records a control loop run: pass `recorder.hand` to the ControlLoop and the recorder itself
    as `on_step` (`loop.run(steps, on_step=recorder)`).

    Each step with a usable reading (a finite timestamp that goes forward, joint positions of the
    right size and finite) adds a row: its time, joint positions (velocities and the object pose
    when the reading has them) and the targets the step sent. `time_source="steps"` times rows by
    the loop's step count x period_s instead of the readings' timestamps: for a hand stepped
    faster than real time (SimHand with `realtime=False`), whose timestamps are not its clock.
    """

    def __init__(self, hand: Any, joint_names: Sequence[str], actuator_names: Sequence[str],
                 period_s: float, hand_name: str, time_source: str = "reading", source: str = "",
                 notes: str = "", extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        if time_source not in TIME_SOURCES:
            raise ValueError(f"time_source must be one of {TIME_SOURCES} (got {time_source!r})")
        self.hand = _RecordedHand(hand, self)
        self.joint_names, self.actuator_names = list(joint_names), list(actuator_names)
        self.period_s, self.hand_name, self.time_source = float(period_s), hand_name, time_source
        self.source = source or type(hand).__name__
        self.notes, self.extra = notes, dict(extra or {})
        self.steps = 0
        self.skipped = 0  # steps without a usable reading (no row)
        self._pending: Any = None
        self._rows: dict[str, list[np.ndarray]] = {k: [] for k in ("time", "targets", "joint_pos", *OPTIONAL)}
        self._t0: float | None = None
        self._last_t = -math.inf

    def __call__(self, record: Any) -> None:
        """The ControlLoop's on_step: add the step's row (its reading and the targets it sent)."""
        step, self.steps = self.steps, self.steps + 1
        reading, self._pending = self._pending, None
        q = _finite(getattr(reading, "joint_pos", None), (len(self.joint_names),))
        stamp = getattr(reading, "timestamp", None)
        if self.time_source == "steps":
            t = step * self.period_s
        else:
            ok = isinstance(stamp, (int, float, np.floating, np.integer)) and not isinstance(stamp, bool)
            t = float(stamp) if ok and math.isfinite(float(stamp)) else math.nan  # type: ignore[arg-type]
        if q is None or not math.isfinite(t) or t <= self._last_t:
            self.skipped += 1
            return
        targets = np.array(record.targets, dtype=np.float64)
        self._last_t = t
        if self._t0 is None:
            self._t0 = t
        self._rows["time"].append(np.asarray(t - self._t0))
        self._rows["targets"].append(targets)
        self._rows["joint_pos"].append(q)
        for key, shape in (("joint_vel", (len(self.joint_names),)), ("object_pos", (3,)), ("object_quat", (4,))):
            self._rows[key].append(_finite(getattr(reading, key, None), shape))  # type: ignore[arg-type]

    @property
    def rows(self) -> int:
        return len(self._rows["time"])

    def recording(self) -> Recording:
        """The rows so far as a Recording (an optional field only when every row has it)."""
        optional = {k: np.stack(v) for k, v in self._rows.items()
                    if k in OPTIONAL and v and all(x is not None for x in v)}  # fmt: skip
        rec = Recording(
            hand=self.hand_name, joint_names=self.joint_names, actuator_names=self.actuator_names,
            control_period_s=self.period_s,
            time=np.asarray(self._rows["time"], dtype=np.float64),
            targets=np.stack(self._rows["targets"]) if self.rows else np.zeros((0, len(self.actuator_names))),
            joint_pos=np.stack(self._rows["joint_pos"]) if self.rows else np.zeros((0, len(self.joint_names))),
            time_source=self.time_source, source=self.source, notes=self.notes,
            extra={**self.extra, "steps": self.steps, "steps_without_reading": self.skipped},
        )  # fmt: skip
        for key, value in optional.items():
            setattr(rec, key, value)
        return rec

    def save(self, path: str | Path) -> Path:
        return self.recording().save(path)


def _finite(value: Any, shape: tuple[int, ...]) -> np.ndarray | None:
    """`value` as a float64 copy of `shape` when it is one and finite, else None."""
    if value is None:
        return None
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if array.shape != shape or not np.isfinite(array).all():
        return None
    return array


__all__ = ["FORMAT", "FORMAT_VERSION", "Recorder", "Recording", "RecordingError", "check_recording",
           "load_recording"]  # fmt: skip

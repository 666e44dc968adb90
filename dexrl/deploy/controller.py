"""What the control loop needs from a hand: read its sensors, send it joint targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class SensorReading:
    """One reading of the hand and the object, in the manifest's units (m, rad) and world axes.

    fingertip_pos is not something joint encoders measure: the hand's driver computes it by
    forward kinematics of its calibrated model, or motion capture measures it (as in [D]).
    """

    timestamp: float  # s, time.monotonic() of when the reading was taken (staleness check)
    joint_pos: np.ndarray  # [J] rad, in the manifest's joint order
    palm_pos: np.ndarray  # [3] m, the palm centre
    fingertip_pos: np.ndarray  # [n_tips, 3] m, fingertips in the manifest's order
    object_pos: np.ndarray | None = None  # [3] m (tasks with an object)
    object_quat: np.ndarray | None = None  # [4] (w, x, y, z)
    # [J] rad/s, in the manifest's joint order, when the driver measures them; no policy
    # observation reads them, a recording (dexrl.deploy.recording) keeps them.
    joint_vel: np.ndarray | None = None
    # [1] rad (Rubik's cube tasks): a cube-state tracker's angle of the top layer about the cube's
    # +z relative to the cube body, re-based by -+90 degrees when a quarter turn completes (the
    # manifest's "face" part says when); object_quat is then the cube's own frame (centre stickers).
    face_angle: np.ndarray | None = None


class HandController(Protocol):
    """Implemented by a real hand's driver (and by SimHand over MuJoCo)."""

    def read(self) -> SensorReading | None:
        """The latest reading, or None when a sensor has nothing (the loop holds and counts it)."""
        ...

    def send_targets(self, targets: np.ndarray) -> None:
        """Command actuator position targets [A] in the manifest's actuator order and units."""
        ...

"""Calibrate the simulated hand to recordings of the real one (scripts/calibrate.py).

`calibrate(env, recordings)` identifies, with MuJoCo's system identification toolbox
(`mujoco.sysid`: parameters with model modifiers, rollouts, its least-squares optimizer and HTML
report), one factor per joint class (wrist, knuckle, proximal, distal, thumb) for the actuators'
position gain kp and force range (when the recordings drive the actuators to their force limit),
the joints' damping, armature and friction loss, and the action latency in whole control steps.
`robot_values(...)` turns the result into a robot config (RobotConfig's *_scale fields and
action_latency_steps) that training uses as `robot=<hand>_calibrated`.
"""

from dexrl.calibration.fit import (
    KINDS,
    CalibrationError,
    CalibrationResult,
    calibrate,
    check_against_model,
    joint_class,
    robot_values,
)

__all__ = [
    "KINDS", "CalibrationError", "CalibrationResult", "calibrate", "check_against_model",
    "joint_class", "robot_values",
]  # fmt: skip

"""What a calibration needs before it fits anything: MuJoCo's system identification extras
(`load_sysid`), the hand's layout in the env's model (`hand_layout`), and recordings that fit that
model and robot (`check_against_model`); `CalibrationError` says which one is missing, in one line.

scripts/calibrate.py runs these up front; `dexrl.calibration.problem.Problem` runs them again
when it is built. The fit itself is `dexrl.calibration.fit`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import mujoco

from dexrl.deploy.recording import Recording
from dexrl.sim.model import HandModelIds, compile_model, scene_spec
from dexrl.sim.scene import describe_scene


class CalibrationError(ValueError):
    """Recordings that do not fit the model, or a calibration that cannot run (one line)."""


def load_sysid() -> Any:
    """`mujoco.sysid` with its extras (scipy, plotly, ...), or CalibrationError saying how to get
    them. (Imported by name: mypy then keeps treating the untyped `mujoco` package as Any.)"""
    sysid = importlib.import_module("mujoco.sysid")
    if not hasattr(sysid, "optimize"):  # mujoco.sysid hides itself when its extras are missing
        raise CalibrationError("calibration needs MuJoCo's system identification extras: "
                               "pip install 'dexrl[calibrate]' (or pip install 'mujoco[sysid]')")  # fmt: skip
    return sysid


def hand_layout(env: Any) -> tuple[mujoco.MjSpec, mujoco.MjModel, list[str], list[str]]:
    """(spec, model, hand joint names, actuator names) of env's scene with its robot."""
    spec = scene_spec(env)
    model = compile_model(spec)
    r = env.robot
    ids = HandModelIds.resolve(model, r)
    return spec, model, list(ids.hand_joint_names), [model.actuator(a).name for a in range(model.nu)]


def _check_names(where: str, kind: str, recorded: Any, model: Any, model_note: str, need: str) -> None:
    """CalibrationError when a recording names a `kind` (joint / actuator) the model lacks, or
    lacks one the model has."""
    unknown = [n for n in recorded if n not in model]
    if unknown:
        raise CalibrationError(f"{where}: {kind}(s) {unknown} are not {kind}s of the model{' ' + model_note if model_note else ''}; "
                               f"its {kind}s: {', '.join(model)}")  # fmt: skip
    missing = [n for n in model if n not in recorded]
    if missing:
        raise CalibrationError(f"{where}: {kind}(s) {missing} of the model are missing from the recording "
                               f"(every hand {kind} {need})")  # fmt: skip


def check_against_model(recordings: Sequence[Recording], env: Any, model: mujoco.MjModel,
                        joints: list[str], actuators: list[str]) -> None:  # fmt: skip
    """CalibrationError naming the first recording that does not fit env's model and robot."""
    free = [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_FREE]
    if free:
        raise CalibrationError(f"env {env.name}'s scene ({describe_scene(env)}) has a free object ({', '.join(free)}); "
                               "calibrate with a scene of the hand alone (env=reach) and recordings without an object")  # fmt: skip
    period = env.timestep * env.substeps
    for rec in recordings:
        where = rec.path or "recording"
        if rec.hand != env.robot.name:
            raise CalibrationError(f"{where}: recorded on hand '{rec.hand}', but robot {env.robot.name!r} is "
                                   f"being calibrated (robot=<the hand's robot config>)")  # fmt: skip
        _check_names(where, "joint", rec.joint_names, joints, f"({env.robot.mjcf})", "must be measured")
        _check_names(where, "actuator", rec.actuator_names, actuators, "", "needs recorded targets")
        if abs(rec.control_period_s - period) > 1e-6 * period:
            raise CalibrationError(f"{where}: control_period_s {rec.control_period_s} differs from env "
                                   f"{env.name}'s {period} (env.timestep x env.substeps): the latency "
                                   "would be counted in other control steps")  # fmt: skip
        if rec.rows < 10:
            raise CalibrationError(f"{where}: {rec.rows} rows; a calibration needs at least 10 control steps")

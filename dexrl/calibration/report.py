"""What a calibration writes: the robot yaml, calibration.json, the before/after plot and
mujoco.sysid's HTML report."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dexrl.calibration.fit import CalibrationResult, Problem, robot_values


def write_robot_yaml(path: Path, robot: Any, result: CalibrationResult, sources: list[str], report: Path) -> dict[str, Any]:
    """The calibrated robot config (the starting robot's values, calibrated physics and latency)."""
    values = robot_values(robot, result)
    fitted = [f"{kind}/{cls} x{value:.3f}" for kind, by_class in result.factors.items()
              for cls, value in by_class.items() if result.fitted[kind][cls]]  # fmt: skip
    header = [
        f"# Robot {robot.name!r} calibrated by scripts/calibrate.py on {time.strftime('%Y-%m-%d %H:%M:%S')}",
        f"# from {', '.join(sources)}.",
        "# The *_scale entries multiply the MJCF's values (dexrl.sim.model.apply_robot_physics);",
        "# action_latency_steps delays every action by whole control steps (the task, SimHand).",
        f"# Fitted class factors: {', '.join(fitted) or 'none'}; latency {result.latency_steps} step(s).",
        f"# RMS joint error over the recordings: {result.rms_before:.4f} rad before, {result.rms_after:.4f} rad after.",
        f"# Report: {report}",
        f"# Train on it: python scripts/train.py env=reach robot={path.stem}",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header) + "\n" + yaml.safe_dump(values, sort_keys=False, width=100))
    return values


def representative_joints(result: CalibrationResult) -> list[str]:
    """Per class, the joint the starting model fitted worst (where calibration shows most)."""
    return [max(joints, key=lambda n: result.rms_before_by_joint[n])
            for joints in result.classes.values() if joints]  # fmt: skip


def plot_before_after(path: Path, result: CalibrationResult, recording: int = 0, title: str = "") -> None:
    """PNG: measured vs simulated joint positions with the starting and the calibrated model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    problem: Problem = result.sysid["problem"]
    measured = result.sysid["measured"][recording]
    before, after = result.sysid["preds_before"][recording], result.sysid["preds_after"][recording]
    joints = representative_joints(result)
    fig, axes = plt.subplots(len(joints), 1, figsize=(10, 1.9 * len(joints) + 0.8), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, joints, strict=True):
        j = problem.joints.index(name)
        ax.plot(measured.times, measured.data[:, j], color="black", lw=1.6, label="measured")
        ax.plot(before.times, before.data[:, j], color="tab:red", lw=1.0, ls="--",
                label=f"before (RMS {result.rms_before_by_joint[name]:.3f} rad)")  # fmt: skip
        ax.plot(after.times, after.data[:, j], color="tab:blue", lw=1.0,
                label=f"calibrated (RMS {result.rms_after_by_joint[name]:.3f} rad)")  # fmt: skip
        ax.set_ylabel(f"{name}\n({problem.joint_class[name]}) rad", fontsize=8)
        ax.legend(loc="upper right", fontsize=7, ncol=3, framealpha=0.8)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel("time (s)")
    fig.suptitle(title or (f"measured vs simulated joints: RMS over all joints {result.rms_before:.3f} rad "
                           f"before, {result.rms_after:.4f} rad calibrated (latency {result.latency_steps} step)"),
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def write_sysid_report(directory: Path, result: CalibrationResult, title: str) -> Path:
    """mujoco.sysid's default HTML report (parameters, signals, intervals, optimizer trace)."""
    import matplotlib

    matplotlib.use("Agg")
    problem: Problem = result.sysid["problem"]
    final = result.sysid["final"]
    initial = result.sysid["initial"].copy()
    for name in initial.keys():  # the same free parameters as the final fit's
        initial[name].frozen = final[name].frozen
    problem.sysid.default_report(
        problem.models_sequences, initial, final, problem.residual_fn, result.sysid["result"],
        title=title, save_path=directory, build_model=problem.build_model, generate_videos=False,
    )  # fmt: skip
    return directory / "report.html"


def write_summary(path: Path, result: CalibrationResult, extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**extra, **result.summary()}, indent=2, default=float) + "\n")

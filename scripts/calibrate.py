#!/usr/bin/env python
"""Calibrate the simulated hand to recordings of yours (scripts/excite.py writes them).

    python scripts/calibrate.py logs=recordings/ robot=dexhand
    python scripts/calibrate.py logs=a.npz,b.npz robot=dexhand out=configs/robot/lab_hand.yaml
    python scripts/train.py env=reach robot=dexhand_calibrated          # then train on it

Identifies with mujoco.sysid (dexrl.calibration): per joint class (wrist, knuckle, proximal,
distal, thumb) the actuators' gain kp and force range (where the recordings reach the force
limit), the joints' damping, armature and friction loss, and the action latency in whole control
steps. Writes the calibrated robot config (default configs/robot/<robot>_calibrated.yaml, usable
as robot=<robot>_calibrated), and in report= (default runs/calibrate/<robot>_<date>/):
report.html (mujoco.sysid's report), trajectories.png (measured vs simulated joints before and
after) and calibration.json (the factors, their 95% intervals, the errors, the wall time).

Own keys: logs (a recording, a folder of .npz recordings, or a comma-separated list), out,
report, max_iters (of the least-squares fit, 30). env (default reach: the hand without an
object) and robot (default dexhand) give the model to calibrate, starting from the robot's
current values. A bad recording (missing or unknown joints, time not increasing, NaNs, another
format version) or key prints one line and exits 2 with nothing written.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from dexrl.frontdoor import ConfigError, compose_hand_alone, exit_on_error, typed_configs

KEYS: dict[str, Any] = {"logs": None, "out": None, "report": None, "max_iters": 30}


def recording_paths(logs: str | None) -> list[Path]:
    """The .npz files `logs=` names (files, folders, comma-separated); ConfigError when none."""
    if not logs:
        raise ConfigError("no recordings given: pass logs=<recording.npz, a folder of them, or a,b,c> "
                          "(record with: python scripts/excite.py)")  # fmt: skip
    paths: list[Path] = []
    for part in (p.strip() for p in logs.split(",")):
        if not part:
            continue
        p = Path(part).expanduser()
        if p.is_dir():
            found = sorted(p.glob("*.npz"))
            if not found:
                raise ConfigError(f"logs: folder {p} holds no .npz recordings")
            paths.extend(found)
        elif p.is_file():
            paths.append(p)
        else:
            raise ConfigError(f"logs: no such file or folder: {p}")
    if not paths:
        raise ConfigError(f"logs={logs!r} names no recordings")
    return paths


def robot_choice(overrides: list[str]) -> str:
    """The robot's name on the command line (a robot yaml given by path: its file's stem)."""
    from dexrl.frontdoor import ROBOT_FILE_TAG
    from dexrl.robots import default_robot

    chosen = [o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0] == "robot@env.robot"]
    return chosen[-1].split(ROBOT_FILE_TAG)[0] if chosen else default_robot()


@exit_on_error
def main(argv: list[str]) -> None:
    composed = compose_hand_alone(argv, "calibrate", KEYS)  # env=reach: the hand without an object
    args = composed.args
    if args["max_iters"] < 1:
        raise ConfigError(f"max_iters must be >= 1 (got {args['max_iters']})")
    env = typed_configs(composed.plain()).env
    choice = robot_choice(composed.overrides)
    paths = recording_paths(args["logs"])

    from dexrl.calibration.fit import (
        CalibrationError,
        calibrate,
        check_against_model,
        hand_layout,
        load_sysid,
    )
    from dexrl.deploy.recording import RecordingError, load_recording
    from dexrl.paths import configs_dir

    try:
        load_sysid()
    except CalibrationError as err:
        raise ConfigError(str(err)) from None
    try:
        recordings = [load_recording(p) for p in paths]
    except RecordingError as err:
        raise ConfigError(str(err)) from None
    try:
        _, model, joints, actuators = hand_layout(env)
        check_against_model(recordings, env, model, joints, actuators)
    except (CalibrationError, ValueError) as err:
        raise ConfigError(str(err)) from None
    name = choice if choice.endswith("_calibrated") else f"{choice}_calibrated"
    out = Path(args["out"]) if args["out"] else configs_dir() / "robot" / f"{name}.yaml"
    if out.suffix not in (".yaml", ".yml") or out.is_dir():
        raise ConfigError(f"out={out} must be a .yaml file (a robot config)")
    report = Path(args["report"] or f"runs/calibrate/{name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}")
    if report.exists() and not report.is_dir():
        raise ConfigError(f"report={report} is a file; give a folder")

    from dexrl.sim.scene import describe_scene

    total = sum(r.rows for r in recordings)
    print(f"[calibrate] robot {choice} on env {env.name} ({describe_scene(env)}): {len(recordings)} recording(s), "
          f"{total} control steps ({sum(r.duration_s for r in recordings):.1f} s)", flush=True)  # fmt: skip
    try:
        result = calibrate(env, recordings, max_iters=args["max_iters"],
                           progress=lambda msg: print(f"[calibrate] {msg}", flush=True))  # fmt: skip
    except CalibrationError as err:
        raise ConfigError(str(err)) from None

    from dexrl.calibration.report import (
        plot_before_after,
        write_robot_yaml,
        write_summary,
        write_sysid_report,
    )

    report.mkdir(parents=True, exist_ok=True)
    write_robot_yaml(out, env.robot, result, [str(p) for p in paths], report)
    plot_before_after(report / "trajectories.png", result)
    write_summary(report / "calibration.json", result, {
        "robot": choice, "env": env.name, "logs": [str(p) for p in paths], "out": str(out),
        "command": "python scripts/calibrate.py " + " ".join(argv),
    })  # fmt: skip
    html = write_sysid_report(report, result, title=f"dexrl calibration: robot {choice} on {env.name}")
    for kind, by_class in result.factors.items():
        shown = [f"{c} {v:.3f}" + ("" if result.fitted[kind][c] else " (kept)") for c, v in by_class.items()]
        print(f"[calibrate] {kind:>12}: {', '.join(shown)}")
    for note in result.notes:
        print(f"[calibrate] note: {note}")
    print(f"[calibrate] latency {result.latency_steps} control step(s) (continuous fit "
          f"{result.latency_continuous:.3f}); RMS joint error {result.rms_before:.4f} -> {result.rms_after:.4f} rad; "
          f"{result.wall_s:.0f} s")  # fmt: skip
    print(f"[calibrate] wrote {out}, {report / 'trajectories.png'}, {report / 'calibration.json'}, {html}")
    use = f"robot={out.stem}" if out.parent.resolve() == (configs_dir() / "robot").resolve() else \
        f"robot=<name> after copying {out} to {configs_dir() / 'robot'}/"
    print(f"[calibrate] train on it: python scripts/train.py env=reach {use}")


if __name__ == "__main__":
    main(sys.argv[1:])

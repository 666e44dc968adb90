#!/usr/bin/env python
"""Record a scripted excitation of a hand for calibration (scripts/calibrate.py reads it).

    python scripts/excite.py out=recordings/sim.npz                      # SimHand (env=reach)
    python scripts/excite.py hand=my_driver:MyHand out=recordings/hand.npz robot=dexhand
    python scripts/excite.py hand=my_driver:MyHand actuators=A_FFJ3,A_FFJ0 duration=20

Chirps and random steps per actuator within its limits (dexrl.deploy.excitation), run by the
deploy runtime's ControlLoop: targets are clamped to the actuator limits and to a per-step change
of `max_change` x each actuator's half range, a faulty step holds the last safe target. Each step
is recorded (dexrl.deploy.recording: .npz + JSON header, readable with numpy alone).

Own keys: out (the recording, default recordings/<hand>_<date>.npz), hand (module:attr, a
HandController class or factory called with no arguments, imported from the current directory or
PYTHONPATH; default: SimHand of env= and robot=), duration (s, 25), seed (0), amplitude (the
fraction of each range the excitation covers, 0.8), max_change (0.3), actuators (comma-separated
names; default all; the others hold), realtime (default true for a hand=, false for SimHand,
whose rows are then timed by step count x period). env (default reach: the hand without an
object) and robot choose the model that describes the hand (joint and actuator names, limits,
control period). A bad key or value prints one line and exits 2 before the hand moves.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path
from typing import Any

from dexrl.frontdoor import ConfigError, compose_hand_alone, exit_on_error, typed_configs

KEYS: dict[str, Any] = {"out": None, "hand": None, "duration": 25.0, "seed": 0, "amplitude": 0.8,
                        "max_change": 0.3, "actuators": None, "realtime": None}  # fmt: skip


def load_hand(spec: str) -> Any:
    """`module:attr` -> attr() (a HandController); ConfigError naming what failed."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"hand={spec!r} must be module:attr (e.g. my_driver:MyHand)")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")  # the current directory, as `python -m` would
    try:
        module = importlib.import_module(module_name)
    except Exception as err:
        raise ConfigError(f"hand={spec}: cannot import {module_name} ({type(err).__name__}: {err})") from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise ConfigError(f"hand={spec}: {module_name} has no callable '{attr}'")
    try:
        hand = factory()
    except Exception as err:
        raise ConfigError(f"hand={spec}: {attr}() raised {type(err).__name__}: {err}") from None
    for method in ("read", "send_targets"):
        if not callable(getattr(hand, method, None)):
            raise ConfigError(f"hand={spec}: {attr}() gave a {type(hand).__name__} without {method}() "
                              "(a HandController: read() -> SensorReading, send_targets(targets))")  # fmt: skip
    return hand


def _bool(value: Any, key: str) -> bool | None:
    if value is None:
        return None
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise ConfigError(f"{key} must be true or false (got '{value}')")


@exit_on_error
def main(argv: list[str]) -> None:
    composed = compose_hand_alone(argv, "excite", KEYS)  # env=reach: the hand without an object
    args = composed.args
    env = typed_configs(composed.plain()).env
    if args["duration"] <= 0 or not 0 < args["amplitude"] <= 1 or args["max_change"] <= 0:
        raise ConfigError(f"duration must be > 0, amplitude in (0, 1] and max_change > 0 (got duration="
                          f"{args['duration']}, amplitude={args['amplitude']}, max_change={args['max_change']})")  # fmt: skip
    realtime = _bool(args["realtime"], "realtime")
    excited = [a.strip() for a in args["actuators"].split(",") if a.strip()] if args["actuators"] else None

    import numpy as np

    from dexrl.deploy import ControlLoop
    from dexrl.deploy.excitation import ExcitationPolicy, hand_description
    from dexrl.deploy.recording import Recorder
    from dexrl.export.manifest import actuators_section, joints_section
    from dexrl.sim.scene import describe_scene
    from dexrl.tasks.registry import make_task

    try:
        task = make_task(env, num_envs=1, seed=args["seed"], autoreset=False)  # the hand's description
    except (ValueError, FileNotFoundError) as err:
        raise ConfigError(f"cannot build env {env.name} with robot {env.robot.name}: {err}") from None
    joints, actuators = joints_section(task), actuators_section(task)
    limits = np.asarray(actuators["ctrl_limits"])
    period = env.timestep * env.substeps
    description = hand_description(joints["names"], actuators["names"], limits, actuators["transmission"],
                                   period, args["max_change"] * 0.5 * (limits[:, 1] - limits[:, 0]))  # fmt: skip
    try:
        policy = ExcitationPolicy(description, args["duration"], args["seed"], args["amplitude"], excited)
    except ValueError as err:
        raise ConfigError(f"actuators: {err}") from None

    if args["hand"]:
        hand = load_hand(args["hand"])
        source = f"{args['hand']} ({type(hand).__name__})"
        realtime = True if realtime is None else realtime
    else:
        from dexrl.eval.sim_hand import SimHand

        hand = SimHand(env, seed=args["seed"])
        hand.reset()
        source = f"SimHand (env {env.name}, robot {env.robot.name})"
        realtime = False if realtime is None else realtime
    out = Path(args["out"] or f"recordings/{env.robot.name}_{time.strftime('%Y-%m-%d_%H-%M-%S')}.npz")
    recorder = Recorder(hand, joints["names"], actuators["names"], period, env.robot.name,
                        time_source="reading" if realtime else "steps", source=source,
                        notes="scripts/excite.py: chirps and random steps per actuator",
                        extra={"seed": args["seed"], "duration_s": args["duration"], "amplitude": args["amplitude"],
                               "max_change": args["max_change"], "excited": excited or actuators["names"],
                               "env": env.name, "model": describe_scene(env), "realtime": realtime})  # fmt: skip
    loop = ControlLoop(policy, recorder.hand, goal=lambda: {}, realtime=realtime)  # type: ignore[arg-type]
    try:
        loop.reset()
    except (RuntimeError, ValueError) as err:
        raise ConfigError(f"the hand cannot start: {err}") from None
    policy.begin(loop.safe_targets)
    print(f"[excite] {source}: {policy.steps} steps at {1 / period:.1f} Hz ({policy.steps * period:.1f} s), "
          f"{len(excited or actuators['names'])} of {len(actuators['names'])} actuators, "
          f"{'real time' if realtime else 'as fast as the hand steps'}")  # fmt: skip
    stats = loop.run(policy.steps, on_step=recorder)
    path = recorder.save(out)
    faults = {k: n for k, n in stats.faults.items() if n}
    print(f"[excite] steps {stats.steps}: sent {stats.sent}, held {stats.held}, clamped {stats.clamped_steps}"
          + (f", faults {faults}" if faults else ""))  # fmt: skip
    print(f"[excite] wrote {path} ({recorder.rows} rows); calibrate: python scripts/calibrate.py "
          f"logs={path} robot={env.robot.name}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python
"""Run the shipped cube_rotate_z policy (policy.onnx + manifest.json) on the simulated hand, the way
a real hand's computer runs it: dexrl.deploy's ControlLoop at the manifest's rate (12.5 Hz), under
real-time scheduling when the system allows it (otherwise it says so and goes on).

    python scripts/deploy_example.py                  # 100 control steps (8 s)
    python scripts/deploy_example.py steps=200 seed=3

Arguments (key=value): steps (control steps, default 100), seed (the simulated episode, default
0), policy (an export directory, default docs/policies/cube_rotate_z/exported; write one with
scripts/export.py), checkpoint (the checkpoint directory whose meta.json records the env the
simulated hand runs, default docs/policies/cube_rotate_z/checkpoint). On a real hand, SimHand is
your driver's HandController and hand.goal your goal source (README "Export for a real hand").
Prints what real-time scheduling was granted and a summary: steps, faults by kind, successes.
A bad argument or an unusable policy directory exits 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).resolve().parents[1] / "docs" / "policies" / "cube_rotate_z"
DEFAULTS = {"steps": "100", "seed": "0", "policy": str(SHIPPED / "exported"),
            "checkpoint": str(SHIPPED / "checkpoint")}  # fmt: skip


def fail(message: str) -> None:
    print(f"[deploy] error: {message}", file=sys.stderr)
    sys.exit(2)


def parse_args(argv: list[str]) -> dict[str, Any]:
    """key=value arguments over DEFAULTS; steps >= 1 and seed >= 0 are integers."""
    args = dict(DEFAULTS)
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or key not in DEFAULTS:
            fail(f"unknown argument {arg!r}; use key=value with keys {sorted(DEFAULTS)}")
        args[key] = value
    parsed: dict[str, Any] = dict(args)
    for key, least in (("steps", 1), ("seed", 0)):
        try:
            parsed[key] = int(args[key])
        except ValueError:
            parsed[key] = None
        if parsed[key] is None or parsed[key] < least:
            fail(f"{key}={args[key]!r} must be an integer >= {least}")
    return parsed


def main(argv: list[str]) -> None:
    args = parse_args(argv)
    from dexrl.deploy import ControlLoop, ManifestError, Policy, RealtimeError, request_realtime
    from dexrl.eval.sim_hand import SimHand
    from dexrl.run_record import env_from_record

    try:
        policy = Policy.load(args["policy"])  # checks manifest.json against policy.onnx
    except ManifestError as err:
        fail(str(err))
    meta_path = Path(args["checkpoint"]) / "meta.json"
    if not meta_path.is_file():
        fail(f"{meta_path} is missing: checkpoint= must be a checkpoint directory (it records the env)")
    try:  # the env the checkpoint recorded (an older record converted)
        env = env_from_record(json.loads(meta_path.read_text())["config"], source=str(meta_path))
    except ValueError as err:
        fail(str(err))
    m = policy.manifest
    if env.name != m["env"]["name"]:
        fail(f"the policy was exported for env {m['env']['name']!r} but {meta_path} records {env.name!r}")
    print(f"[deploy] policy {args['policy']}: env {env.name}, {m['policy']['kind']}, "
          f"{m['control']['rate_hz']} Hz, {m['action']['dim']} actuators")  # fmt: skip

    hand = SimHand(env, seed=args["seed"])  # a real hand: your driver's HandController
    hand.reset()
    try:
        status = request_realtime(priority=50)  # the last core this process may use, SCHED_FIFO, memory locked
    except RealtimeError as err:  # not Linux
        print(f"[deploy] real-time scheduling not available ({err}); running with normal scheduling")
    else:
        if status.scheduler != "fifo":
            print(f"[deploy] real-time scheduling not permitted; running with normal scheduling ({status})")
        else:
            print(f"[deploy] real-time scheduling: {status}")

    loop = ControlLoop(policy, hand, goal=hand.goal)  # goal(): {"goal_quat": (w, x, y, z)}
    loop.reset()  # targets = where the actuators are now; refuses a goal source the policy cannot use
    stats = loop.run(args["steps"])  # at the manifest's rate
    faults = {kind: n for kind, n in stats.faults.items() if n}
    listed = ", ".join(f"{kind}={n}" for kind, n in faults.items()) or "none"
    print(f"[deploy] steps {stats.steps}: sent {stats.sent}, held {stats.held}, late {stats.late_steps}")
    print(f"[deploy] faults: {listed}")
    print(f"[deploy] successes: {hand.successes}, dropped: {'yes' if hand.dropped else 'no'}")


if __name__ == "__main__":
    main(sys.argv[1:])

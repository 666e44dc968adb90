#!/usr/bin/env python
"""How far a policy moves the Rubik's cube's top layer: the face-turn exploration probe.

    python scripts/probe_face.py experiment=face_turn_fast                    # uniform random actions
    python scripts/probe_face.py checkpoint=runs/face_turn/<date>              # a trained mean action
    python scripts/probe_face.py experiment=face_turn_fast detents=0.04,0.01,0 friction=0

A quarter turn commits only when the top layer gets past 45° from its detent (the detent spring
then pulls it into the next slot; dexrl/tasks/rubiks_cube.py), so a policy that never takes the
layer that far never sees a turn's reward. For each detent stiffness asked for (N·m/rad; default
the calibrated model's), `envs` envs run `steps` control steps from the task's start state (auto
reset) and the probe reports: the hinge's travel (|angular velocity| at each control step × the
control period, summed: rad per env), the largest angle from the nearest detent each env reached,
the share of envs that came within 0.05 rad of 45°, and by direction (clockwise seen from above
the face, U; counter-clockwise, U') the quarter turns committed and the rotate goals asked and met
(a goal ends at its success or at the episode's end). A policy that meets turn goals in one
direction only plateaus at about half of them (`env.rotate_direction` trains the other alone).

Own keys: checkpoint (a run dir or its checkpoints/latest; none = uniform random actions), steps
(300), envs (16), seed (0), detents (comma-separated N·m/rad; "" = calibrated), friction (the
hinge's dry friction, N·m; -1 = calibrated), json (false: one JSON line at the end). The env comes
from the checkpoint or from env= / experiment=, and `env.key=value` changes a value.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np

from dexrl.frontdoor import (
    ConfigError,
    check_dims,
    compose,
    exit_on_error,
    load_run,
    restore_configs,
    typed_configs,
)

KEYS: dict[str, Any] = {"checkpoint": None, "steps": 300, "envs": 16, "seed": 0, "detents": "",
                        "friction": -1.0, "json": False}  # fmt: skip
NEAR_HALF_TURN = 0.05  # rad short of 45°: "came to the point where the detent lets go"


def parse_detents(text: str) -> list[float | None]:
    """`detents=0.04,0` → [0.04, 0.0]; "" → [None] (the calibrated stiffness)."""
    if not text.strip():
        return [None]
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ConfigError(f"detents must be numbers in N·m/rad separated by commas, e.g. 0.04,0 (got '{text}')") from None
    if not values or min(values) < 0:
        raise ConfigError(f"detents must be >= 0 N·m/rad (got '{text}')")
    return list(values)


def probe(env: Any, policy: Any, steps: int, envs: int, seed: int, detent: float | None,
          friction: float) -> dict[str, Any]:  # fmt: skip
    """Run `policy` on `envs` envs for `steps` control steps; the top layer's motion."""
    from dexrl.tasks.registry import make_task
    from dexrl.tasks.rubiks_cube import QUARTER

    task = make_task(env, num_envs=envs, seed=seed)
    if not hasattr(task, "cube_ids"):
        raise ConfigError(f"probe_face needs a Rubik's cube task (face_turn, cube_solve); env '{env.name}' "
                          f"has no top layer (use env=face_turn or experiment=face_turn_fast)")  # fmt: skip
    obs, _ = task.reset()
    if detent is not None:
        task.face_detent = detent
    if friction >= 0:
        task.face_friction = friction
    used_detent, used_friction = float(task.face_detent[0]), float(task.face_friction[0])
    policy.reset(envs)
    starts = np.ones(envs, dtype=bool)
    travel, off_detent = np.zeros(envs), np.zeros(envs)
    dof = task.cube_ids.hinge_dof
    drops = 0
    turns_before = np.array([c.turns_by_direction for c in task.cubes]).sum(axis=0)
    goals = np.zeros((2, 2), dtype=int)  # [clockwise, counter-clockwise] x [asked, met]
    goal_dir = _turn_goal_direction(task)
    for _ in range(steps):
        r = task.step(policy(obs, starts))
        obs, starts = r.obs, r.terminated | r.truncated
        travel += np.abs(task.qvel[:, dof]) * task.control_dt
        off_detent = np.maximum(off_detent, task.align_error)  # |hinge − nearest detent|, the task's own
        drops += int(np.sum(r.info["dropped"]))
        success = r.info["is_success"].astype(bool)
        ended = (success | starts) & (goal_dir >= 0)
        np.add.at(goals, (goal_dir[ended], 0), 1)
        np.add.at(goals, (goal_dir[ended & success], 1), 1)
        goal_dir = np.where(success | starts, _turn_goal_direction(task), goal_dir)
    turns = np.array([c.turns_by_direction for c in task.cubes]).sum(axis=0) - turns_before
    return {"detent": used_detent, "friction": used_friction, "envs": envs, "steps": steps,
            "travel_rad_mean": float(travel.mean()), "travel_rad_max": float(travel.max()),
            "off_detent_rad_mean": float(off_detent.mean()), "off_detent_rad_max": float(off_detent.max()),
            "share_near_45deg": float(np.mean(off_detent >= QUARTER / 2 - NEAR_HALF_TURN)),
            "drops": drops, "turns_cw": int(turns[0]), "turns_ccw": int(turns[1]),
            "goals_cw": int(goals[0, 0]), "met_cw": int(goals[0, 1]),
            "goals_ccw": int(goals[1, 0]), "met_ccw": int(goals[1, 1])}  # fmt: skip


def _turn_goal_direction(task: Any) -> np.ndarray:
    """[K] each env's current goal: 0 a clockwise turn (hinge target < 0), 1 counter-clockwise,
    -1 not a turn (a flip)."""
    from dexrl.tasks.rubiks import ROTATE

    return np.where(task.goal_type == ROTATE, (task.face_target > 0).astype(int), -1)


@exit_on_error
def main(argv: list[str]) -> None:
    composed = compose(argv, "probe_face", KEYS)
    args = composed.args
    if args["steps"] < 1 or args["envs"] < 1:
        raise ConfigError(f"steps and envs must be >= 1 (got steps={args['steps']}, envs={args['envs']})")
    detents = parse_detents(str(args["detents"]))
    run = load_run(args["checkpoint"]) if args["checkpoint"] else None
    env = (restore_configs(composed, run, nodes=("env",)) if run else typed_configs(composed.plain())).env
    from dexrl.eval.policy import CheckpointPolicy, Policy, RandomPolicy
    from dexrl.tasks.registry import make_task

    shape = make_task(env, num_envs=1, seed=0, autoreset=False)
    if run is not None:
        check_dims(run, shape.obs_dim, shape.action_dim, env.name)
    rows = []
    for detent in detents:  # a fresh policy per setting: the same random actions for each
        policy: Policy = (CheckpointPolicy(run, shape.obs_dim, shape.action_dim) if run is not None
                          else RandomPolicy(shape.action_dim, args["seed"]))  # fmt: skip
        row = probe(env, policy, args["steps"], args["envs"], args["seed"], detent, args["friction"])
        rows.append(row)
        print(f"[dexrl] detent {row['detent']:.3g} N·m/rad, friction {row['friction']:.3g} N·m: hinge travel "
              f"{row['travel_rad_mean']:.2f} rad per env (max {row['travel_rad_max']:.2f}) in {row['steps']} "
              f"steps; farthest from a detent {row['off_detent_rad_mean']:.2f} rad on average (max "
              f"{row['off_detent_rad_max']:.2f}; a turn needs 0.79); {100 * row['share_near_45deg']:.0f} % "
              f"of envs came within {NEAR_HALF_TURN} rad of 45°; {row['drops']} drops", flush=True)  # fmt: skip
        print(f"[dexrl]   clockwise (U): {row['turns_cw']} quarter turns, {row['met_cw']} of {row['goals_cw']} "
              f"turn goals met; counter-clockwise (U'): {row['turns_ccw']} quarter turns, {row['met_ccw']} of "
              f"{row['goals_ccw']} met", flush=True)  # fmt: skip
    if args["json"]:
        who = {"checkpoint": str(run.checkpoint_dir)} if run is not None else {"policy": "random"}
        print(json.dumps({"env": env.name, **who, "rows": rows}))


if __name__ == "__main__":
    main(sys.argv[1:])

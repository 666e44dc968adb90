#!/usr/bin/env python
"""Watch a policy in MuJoCo's interactive viewer, in real time.

    python scripts/view.py checkpoint=runs/cube_rotate/<date>
    python scripts/view.py env=cube_solve                 # no checkpoint: a random policy
    python scripts/view.py checkpoint=<run> policy=zero   # start with the zero action

Own keys: checkpoint (a run dir or its checkpoints/latest; none = random actions), seed (0),
policy (policy|zero: what acts at the start), seconds (0 = until the window is closed).
The env, robot and model come from the checkpoint (`env.key=value` changes one value). The
policy acts at the control rate (12.5 Hz) while the physics runs at its own timestep; the goal
is shown as a translucent ghost cube. Keys: Space pause, Backspace reset, Enter next goal,
Insert new ADR sample (the checkpoint's trained ranges, else the hard limits), Delete toggle
policy / zero action. Without a display: one line suggesting scripts/evaluate.py's video, exit 2.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from dexrl.frontdoor import (
    ConfigError,
    check_dims,
    compose,
    exit_on_error,
    load_run,
    restore_configs,
    typed_configs,
)

KEYS: dict[str, Any] = {"checkpoint": None, "seed": 0, "policy": "policy", "seconds": 0.0}


def no_display_reason() -> str | None:
    """Why no window can open here (None when one can)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return "no display (DISPLAY is not set)"
    return None


def _adr_ranges(run: Any, task: Any) -> dict[str, tuple[float, float]]:
    """The checkpoint's trained ADR ranges; without them the hard limits of every parameter the
    task can randomize (the viewer also serves to inspect a task's randomization)."""
    if run is not None and run.adr_state and run.adr_state.get("ranges"):
        return {n: (float(r[0]), float(r[1])) for n, r in run.adr_state["ranges"].items()}
    from dexrl.adr.apply import unsupported_reason
    from dexrl.adr.config import ADRConfig
    from dexrl.adr.params import PARAM_SPECS

    adr = ADRConfig(mode="auto")
    return {s.name: adr.hard_limits(s) for s in PARAM_SPECS if unsupported_reason(s.name, task) is None}


def build_session(argv: list[str]) -> tuple[Any, dict[str, Any]]:
    """The viewer session for a command line (every bad input a ConfigError, before a window)."""
    composed = compose(argv, "view", KEYS)
    args = composed.args
    if args["policy"] not in ("policy", "zero"):
        raise ConfigError(f"policy must be 'policy' or 'zero' (got '{args['policy']}')")
    if args["seconds"] < 0:
        raise ConfigError(f"seconds must be >= 0 (got {args['seconds']})")
    run = load_run(args["checkpoint"]) if args["checkpoint"] else None
    env = (restore_configs(composed, run, nodes=("env",)) if run else typed_configs(composed.plain())).env
    from dexrl.eval.policy import CheckpointPolicy, Policy, RandomPolicy
    from dexrl.eval.viewer import ViewerSession
    from dexrl.tasks.registry import make_task

    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    if run is not None:
        check_dims(run, probe.obs_dim, probe.action_dim, env.name)
    reason = no_display_reason()
    if reason:
        target = f"checkpoint={args['checkpoint']}" if run else "checkpoint=<run dir>"
        raise _NoDisplay(f"view: {reason}, the viewer needs a window; render a video instead: "
                         f"python scripts/evaluate.py {target} video_episodes=2 (writes video.mp4)")  # fmt: skip
    policy: Policy = (CheckpointPolicy(run, probe.obs_dim, probe.action_dim) if run is not None
                      else RandomPolicy(probe.action_dim, args["seed"]))  # fmt: skip
    name = "checkpoint (mean action)" if run is not None else "random (no checkpoint)"
    session = ViewerSession(env, policy, name, _adr_ranges(run, probe), seed=args["seed"])
    session.use_policy = args["policy"] == "policy"
    return session, args


class _NoDisplay(Exception):
    """No window can open: one line of its own (not a config error), exit 2."""


@exit_on_error
def _main(argv: list[str]) -> None:
    session, args = build_session(argv)
    from dexrl.eval.viewer import run_viewer

    steps = run_viewer(session, seconds=args["seconds"])
    print(f"[dexrl] viewer closed after {steps} control steps, {session.total_successes} successes")


def main(argv: list[str]) -> None:
    try:
        _main(argv)
    except _NoDisplay as err:  # not a ConfigError: exit_on_error lets it through
        print(str(err), file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])

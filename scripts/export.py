#!/usr/bin/env python
"""Export a trained policy for a real hand controller: policy.onnx + manifest.json.

    python scripts/export.py checkpoint=runs/cube_rotate/<date> out=exported/cube_rotate

The graph holds the observation normalizer, the network and the deterministic action (the mean,
clipped to [-1, 1]); an LSTM policy takes and returns its state (h_in/c_in -> h_out/c_out).
The manifest names the hand, joints, actuators, control rate, action rule and observation layout
(see README "Export for a real hand"), each observation part with its real-hand source; run it
with `dexrl.deploy` (numpy + onnxruntime only). Env, robot and model come from the checkpoint (the
front door); a bad argument, or a task with an observation part no real hand can provide, exits 2
with one line.
"""

from __future__ import annotations

import sys
from pathlib import Path

from dexrl.frontdoor import (
    ConfigError,
    check_dims,
    compose,
    exit_on_error,
    load_run,
    restore_configs,
)


@exit_on_error
def main(argv: list[str]) -> None:
    composed = compose(argv, "export", script_keys={"checkpoint": None, "out": None})
    run = load_run(composed.args["checkpoint"])
    configs = restore_configs(composed, run)
    from dexrl.export.bundle import export_policy
    from dexrl.export.manifest import check_exportable
    from dexrl.rl.networks import load_actor_state, make_actor
    from dexrl.tasks.registry import make_task

    task = make_task(configs.env, num_envs=1, seed=0, autoreset=False)
    try:
        check_exportable(task)  # before anything is written: a part no real hand can provide
    except ValueError as err:
        raise ConfigError(str(err)) from None
    check_dims(run, task.obs_dim, task.action_dim, configs.env.name)
    actor = make_actor(task.obs_dim, task.action_dim, run.model, run.ppo.obs_clip)
    load_actor_state(actor, run.payload["learner"]["actor"])
    out = composed.args["out"] or str((run.run_dir or run.checkpoint_dir) / "export")
    try:
        onnx_path, manifest_path = export_policy(
            actor, task, out, checkpoint_file=run.checkpoint_dir / "checkpoint.pt",
            counters=dict(run.payload.get("counters") or {}),
        )  # fmt: skip
    except ValueError as err:  # e.g. an actuator transmission a manifest cannot describe
        raise ConfigError(f"cannot export env {configs.env.name}: {err}") from None
    print(f"[dexrl] wrote {onnx_path} and {manifest_path}")
    print(f"[dexrl] run it: from dexrl.deploy import Policy; Policy.load({str(Path(out))!r})")


if __name__ == "__main__":
    main(sys.argv[1:])

#!/usr/bin/env python
"""Environment throughput against raw MuJoCo physics, on one core.

For the same scene and the same control sequence, measures:
  raw    — `mj_step` in a tight loop (physics steps/s), the baseline of this run;
  single — the dexrl task with K=1 (env steps/s × substeps = physics steps/s);
  batched — the dexrl task with K=16.
Ratios to raw are reported as min/median/max over repeats (machines are noisy: compare ratios).

    python scripts/bench_env.py                     # cube_rotate, 3 repeats
    python scripts/bench_env.py --env reach --json  # last line: one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import mujoco
import numpy as np

from dexrl.tasks.registry import make_task


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def env_rate(env: str, num_envs: int, steps: int, seed: int, overrides: dict) -> tuple[float, list]:
    """Physics steps/s of the task; returns the control targets it sent, for the raw replay."""
    task = make_task(env, num_envs=num_envs, seed=seed, overrides=overrides)
    task.reset()
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (steps, num_envs, task.action_dim))
    # For the raw replay: (state at an episode start or None, control targets) per step.
    sent: list[tuple[np.ndarray | None, np.ndarray]] = []
    record = num_envs == 1
    elapsed = 0.0
    for k in range(steps):
        start = _state(task) if record and task.step_count[0] == 0 else None
        t0 = time.perf_counter()
        task.step(actions[k])
        elapsed += time.perf_counter() - t0
        if record:
            sent.append((start, task.targets[0].copy()))
    return steps * num_envs * task.cfg.substeps / elapsed, sent


def raw_rate(env: str, seed: int, controls: list, overrides: dict) -> float:
    """Physics steps/s of plain `mj_step` on the same model, states and controls as the env run.

    Replaying the env's own episode starts and control targets makes both runs do the same
    physics (same contacts), so the ratio measures only what the env adds.
    """
    task = make_task(env, num_envs=1, seed=seed, overrides=overrides)
    task.reset()
    m = task.sim.models[0]
    d = mujoco.MjData(m)
    n = task.cfg.substeps
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    elapsed = 0.0
    for start, ctrl in controls:
        if start is not None:  # the env reset here: replay from the same state (untimed)
            mujoco.mj_setState(m, d, start, spec)
            mujoco.mj_forward(m, d)
        t0 = time.perf_counter()
        d.ctrl[:] = ctrl
        for _ in range(n):
            mujoco.mj_step(m, d)
        elapsed += time.perf_counter() - t0
    return len(controls) * n / elapsed


def _state(task) -> np.ndarray:  # type: ignore[no-untyped-def]
    m, d = task.sim.models[0], task.sim.datas[0]
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    out = np.empty(mujoco.mj_stateSize(m, spec))
    mujoco.mj_getState(m, d, out, spec)
    return out


def summarize(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--steps", type=int, default=1500, help="control steps per single-env run")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args()
    pin_one_core()
    overrides: dict = {}
    rows: dict[str, list[float]] = {"raw": [], "single": [], "batched": []}
    for r in range(args.repeats):
        single, controls = env_rate(args.env, 1, args.steps, seed=r, overrides=overrides)
        raw = raw_rate(args.env, r, controls, overrides)
        batched, _ = env_rate(args.env, args.batch, max(1, args.steps // args.batch), seed=r, overrides=overrides)
        rows["raw"].append(raw)
        rows["single"].append(single)
        rows["batched"].append(batched)
        print(f"repeat {r}: raw {raw:,.0f} | single {single:,.0f} ({single / raw:.3f}) | "
              f"batched x{args.batch} {batched:,.0f} ({batched / raw:.3f}) physics steps/s")
    ratio_single = [s / r for s, r in zip(rows["single"], rows["raw"])]
    ratio_batched = [b / r for b, r in zip(rows["batched"], rows["raw"])]
    result = {
        "env": args.env,
        "cores": 1,
        "repeats": args.repeats,
        "raw_mj_step_per_s": summarize(rows["raw"]),
        "single_physics_steps_per_s": summarize(rows["single"]),
        "batched_physics_steps_per_s": summarize(rows["batched"]),
        "batch_size": args.batch,
        "ratio_single": summarize(ratio_single),
        "ratio_batched": summarize(ratio_batched),
        "mujoco": mujoco.__version__,
    }
    print(f"ratio_single {result['ratio_single']['median']:.3f}, "
          f"ratio_batched {result['ratio_batched']['median']:.3f} (median of {args.repeats})")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

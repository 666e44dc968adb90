#!/usr/bin/env python
"""Throughput of face_turn (Rubik's cube: hinged top layer, commits, re-binding) against
cube_rotate (the block), on one core with random actions.

Both envs run K=1 with the same seeded uniform random actions in [-1, 1]; each repeat times the
two alternately so machine noise hits both. Reported: env steps/s of each and their ratio,
min/median/max over repeats (docs/architecture.md §6 keeps the cube cheap; target ≥ 0.8).

    python scripts/bench_rubiks.py                # 3 repeats of 1500 steps
    python scripts/bench_rubiks.py --json         # last line: one JSON object
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import mujoco
import numpy as np

from dexrl.benchmarking import pin_one_core
from dexrl.tasks.registry import make_task


def env_steps_per_s(env: str, steps: int, seed: int) -> tuple[float, dict[str, int]]:
    """Env steps/s of `env` (K=1, auto-reset on) under uniform random actions, plus event counts."""
    task = make_task(env, num_envs=1, seed=seed)
    task.reset()
    actions = np.random.default_rng(seed).uniform(-1.0, 1.0, (steps, 1, task.action_dim))
    events = {"episodes": 0, "quarter_turns": 0, "rebinds": 0}
    t0 = time.perf_counter()
    for a in actions:
        r = task.step(a)
        if "episode_done" in r.info and r.info["episode_done"][0]:  # episode totals
            events["episodes"] += 1
            events["quarter_turns"] += int(r.info.get("quarter_turns", [0])[0])
            events["rebinds"] += int(r.info.get("rebinds", [0])[0])
    elapsed = time.perf_counter() - t0
    return steps / elapsed, events


def summarize(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--steps", type=int, default=1500, help="control steps per env per repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args()
    pin_one_core()
    block_rates, rubiks_rates, ratios = [], [], []
    for r in range(args.repeats):
        block, _ = env_steps_per_s("cube_rotate", args.steps, seed=r)
        rubiks, events = env_steps_per_s("face_turn", args.steps, seed=r)
        block_rates.append(block)
        rubiks_rates.append(rubiks)
        ratios.append(rubiks / block)
        print(
            f"repeat {r}: cube_rotate {block:,.0f} | face_turn {rubiks:,.0f} env steps/s "
            f"(ratio {rubiks / block:.3f}; {events})"
        )
    result = {
        "cores": 1,
        "steps": args.steps,
        "repeats": args.repeats,
        "cube_rotate_env_steps_per_s": summarize(block_rates),
        "face_turn_env_steps_per_s": summarize(rubiks_rates),
        "ratio_face_turn_vs_block": summarize(ratios),
        "target": 0.8,
        "mujoco": mujoco.__version__,
    }
    print(
        f"ratio_face_turn_vs_block {result['ratio_face_turn_vs_block']['median']:.3f} "
        f"(median of {args.repeats}; target >= 0.8)"
    )
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

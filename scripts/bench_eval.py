#!/usr/bin/env python
"""Is the evaluator the bottleneck? Its env-step rate against the batched task's, one core.

Per repeat, in the same process and with the same policy (an untrained actor of the default
model, acting with its mean, so both pay the same network cost per step):
  evaluator — `dexrl.eval.runner.run_episodes`: N whole episodes (default 100) on per-episode
              seeds, K envs (default 16), no video; its rate is the steps of those episodes
              per second (steps of envs idling at the end, once every episode is assigned,
              count as cost, not as work);
  batched   — the task with K envs and autoreset, stepped by the same policy in a bare loop
              for as many steps: the rate an evaluation could reach at best.
`ratio` = evaluator / batched (target >= 0.8), min/median/max over repeats.

    python scripts/bench_eval.py                      # cube_rotate, 100 episodes, 5 repeats
    python scripts/bench_eval.py --episodes 20 --repeats 2 --json   # last line: one JSON object
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

import numpy as np
import torch

from dexrl.benchmarking import CLOCKS, BenchClock, pin_one_core
from dexrl.config import EnvConfig
from dexrl.eval.policy import ActorPolicy
from dexrl.eval.runner import run_episodes
from dexrl.rl.config import ModelConfig
from dexrl.rl.networks import make_actor
from dexrl.tasks.registry import load_env_config, make_task

# Every timing reads this clock: wall time, or with --clock cpu this process's CPU time.
clock = BenchClock()


def evaluator_rate(env: EnvConfig, policy: ActorPolicy, episodes: int, num_envs: int,
                   seed: int) -> tuple[float, int]:  # fmt: skip
    """Steps of `episodes` finished episodes per second of run_episodes, and that step count."""
    t0 = clock()
    records = run_episodes(env, policy, episodes, seed=seed, num_envs=num_envs)
    elapsed = clock() - t0
    steps = sum(r.length for r in records)
    return steps / elapsed, steps


def batched_rate(env: EnvConfig, policy: ActorPolicy, steps: int, num_envs: int, seed: int) -> float:
    """Env steps per second of the autoresetting task stepped by `policy` in a bare loop."""
    task = make_task(env, num_envs=num_envs, seed=seed)
    obs, _ = task.reset()
    policy.reset(num_envs)
    starts = np.ones(num_envs, dtype=bool)
    loops = max(1, -(-steps // num_envs))  # ceil: at least the evaluator's step count
    t0 = clock()
    for _ in range(loops):
        r = task.step(policy(obs, starts))
        obs, starts = r.obs, r.terminated | r.truncated
    return loops * num_envs / (clock() - t0)


def summarize(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--num-envs", type=int, default=16)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time, or this process's CPU time (robust on a loaded machine)")
    args = p.parse_args()
    pin_one_core(torch_threads=True)
    clock.use(args.clock)
    env = load_env_config(args.env)
    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    torch.manual_seed(0)
    policy = ActorPolicy(make_actor(probe.obs_dim, probe.action_dim, ModelConfig()))
    rows: dict[str, list[float]] = {"evaluator": [], "batched": [], "ratio": []}
    steps_seen: list[int] = []
    for r in range(args.repeats):
        # Alternate the order so that a drift in the machine's load favours neither.
        first_eval = r % 2 == 0
        if first_eval:
            ev, steps = evaluator_rate(env, policy, args.episodes, args.num_envs, seed=r)
        bt = batched_rate(env, policy, steps if first_eval else steps_seen[-1], args.num_envs, seed=r)
        if not first_eval:
            ev, steps = evaluator_rate(env, policy, args.episodes, args.num_envs, seed=r)
        rows["evaluator"].append(ev)
        rows["batched"].append(bt)
        rows["ratio"].append(ev / bt)
        steps_seen.append(steps)
        print(f"repeat {r}: evaluator {ev:,.0f} | batched x{args.num_envs} {bt:,.0f} env steps/s "
              f"-> ratio {ev / bt:.3f} ({args.episodes} episodes, {steps} steps)")
    result: dict[str, Any] = {
        "env": args.env, "episodes": args.episodes, "num_envs": args.num_envs, "cores": 1,
        "repeats": args.repeats, "episode_steps": summarize([float(s) for s in steps_seen]),
        "evaluator_env_steps_per_s": summarize(rows["evaluator"]),
        "batched_env_steps_per_s": summarize(rows["batched"]),
        "ratio": summarize(rows["ratio"]),
        "clock": args.clock,
    }  # fmt: skip
    print(f"ratio (evaluator / batched) min/median/max {result['ratio']['min']:.3f} / "
          f"{result['ratio']['median']:.3f} / {result['ratio']['max']:.3f} (target >= 0.8)")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Training throughput on this machine: dexrl vs stable-baselines3 vs the physics limit.

Same task and cores for all three:
  physics limit — raw `mj_step` on 2 threads (`mujoco.rollout`), ÷ substeps = env steps/s;
  dexrl         — scripts/train.py's loop with its config defaults (configs/config.yaml `train:`,
                  algo/ppo, model/mlp): local Ray with 2 rollout workers + the CPU learner,
                  synchronous (the default) and with `train.policy_lag=true`;
  sb3           — stable-baselines3 PPO, 2 envs in subprocesses (SubprocVecEnv), its default
                  hyper-parameters (n_steps 2048, batch 64, 10 epochs, 64-64 MLP).
The process pins itself (and so Ray and SB3's env processes) to `--workers` cores (default 2).

The machine is shared and its speed drifts by tens of percent within minutes, so the three are
measured in interleaved rounds: each round times the physics limit, dexrl synchronous, the physics
limit, dexrl with policy lag, the physics limit, SB3, the physics limit. Every rate is divided by
the mean of the physics windows on either side of it, and the figures are the min/median/max
over rounds of those paired ratios.

    python scripts/bench_train.py --json            # last line: one JSON object
    python scripts/bench_train.py --rounds 5 --iterations 8
    python scripts/bench_train.py --race --race-budget-s 480 --json   # + time to the reach threshold
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import replace
from typing import Any

import mujoco
import numpy as np
import torch

from dexrl.config import (
    EnvConfig,
    LoggerConfig,
    RayConfig,
    TrainConfig,
    WandbConfig,
    default_algo_configs,
    default_train_config,
    load_env_config,
)  # fmt: skip
from dexrl.distributed.trainer import Trainer


def physics_limit(env: str, threads: int, seconds: float = 3.0) -> dict[str, float]:
    """Raw physics steps/s with `threads` threads on the task's model and a realistic state."""
    from mujoco import rollout

    from dexrl.tasks.registry import make_task

    task = make_task(env, num_envs=threads, seed=0)
    task.reset()
    models = task.sim.models
    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    state = np.stack([_state(m, d, spec) for m, d in zip(models, task.sim.datas, strict=True)])
    datas = [mujoco.MjData(models[0]) for _ in range(threads)]
    nstep = 400
    ctrl = np.tile(task.targets[:, None, :], (1, nstep, 1))
    steps, t0 = 0, time.perf_counter()
    with rollout.Rollout(nthread=threads) as r:
        while time.perf_counter() - t0 < seconds:
            r.rollout(models, datas, state, ctrl)
            steps += threads * nstep
    physics = steps / (time.perf_counter() - t0)
    return {"physics_steps_per_s": physics, "env_steps_per_s": physics / task.cfg.substeps,
            "substeps": task.cfg.substeps}


def _state(m: mujoco.MjModel, d: mujoco.MjData, spec: mujoco.mjtState) -> np.ndarray:
    out = np.empty(mujoco.mj_stateSize(m, spec))
    mujoco.mj_getState(m, d, out, spec)
    return out


def make_trainer(env: EnvConfig, train: TrainConfig, run_dir: str, num_cpus: int) -> Trainer:
    """A Trainer as scripts/train.py builds it (ADR off: the physics limit has no ADR either)."""
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10**9)
    ppo, model = default_algo_configs("mlp")
    return Trainer(env, ppo, model, None, train, RayConfig(num_cpus=num_cpus), logger, run_dir)


def iterate(trainer: Trainer, iterations: int) -> float:
    """Samples/s of `iterations` training iterations (collect + update), after one untimed one
    (with policy_lag the first iteration has nothing to overlap with)."""
    if trainer.learner_threads is not None:  # one process holds both trainers: apply its own
        torch.set_num_threads(trainer.learner_threads)
    t0, steps = 0.0, 0
    for it in range(iterations + 1):
        if it == 1:
            t0, steps = time.perf_counter(), 0
        batches, stats = trainer.collect()
        trainer.learner.update(batches)
        steps += sum(s["env_steps"] for s in stats)
    rate = steps / (time.perf_counter() - t0)
    trainer.finish_pending()  # nothing may run during the next physics window
    return rate


class SB3Runner:
    """stable-baselines3 PPO with its defaults, one subprocess env per core, timed a chunk at a
    time."""

    def __init__(self, env: str, n_envs: int, n_steps: int = 2048) -> None:
        from stable_baselines3 import PPO

        from dexrl.baselines.sb3 import make_vec_env, silent

        self.n_envs = n_envs
        self.vec = make_vec_env(load_env_config(env), n_envs=n_envs, seed=0, subprocess=True)
        self.model = silent(PPO("MlpPolicy", self.vec, n_steps=n_steps, device="cpu", seed=0, verbose=0))
        self.model.learn(total_timesteps=n_steps * n_envs)  # warm-up: one full rollout + update

    def rate(self, steps: int) -> float:
        """Samples/s over `steps` more steps (whole rollouts of n_envs x n_steps, each with its
        update)."""
        torch.set_num_threads(self.n_envs)  # SB3's learner runs in this process, like ours
        start, t0 = self.model.num_timesteps, time.perf_counter()
        self.model.learn(total_timesteps=steps, reset_num_timesteps=False)
        return (self.model.num_timesteps - start) / (time.perf_counter() - t0)

    def close(self) -> None:
        self.vec.close()


def race_reach(target: float, budget_s: float, workers: int = 2) -> dict[str, float | None]:
    """Wall time until the mean consecutive successes of recent training episodes on `reach`
    (targets within 30% of the joint ranges, as the learning test) reaches `target`: dexrl with
    its config defaults vs SB3 PPO with its own defaults, each capped at `budget_s`."""
    import ray
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from dexrl.baselines.sb3 import make_vec_env, silent

    env = load_env_config("reach", {"reach_target_range": 0.3})
    train = default_train_config(total_env_steps=10**9, num_workers=workers, device="cpu",
                                 checkpoint_every=10**9, stop_at_successes=target,
                                 max_wall_s=budget_s)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = make_trainer(env, train, tmp, num_cpus=workers)
        t0 = time.perf_counter()
        last = trainer.run()
        dex_s = time.perf_counter() - t0
        dex_ok = last.get("consecutive_successes_mean", 0.0) >= target
    ray.shutdown()

    class Race(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.recent: list[int] = []
            self.t0 = time.perf_counter()
            self.reached: float | None = None

        def _on_step(self) -> bool:
            for info, done in zip(self.locals["infos"], self.locals["dones"], strict=True):
                if done:
                    self.recent = (self.recent + [int(info["consecutive_successes"])])[-64:]
            elapsed = time.perf_counter() - self.t0
            if len(self.recent) >= 32 and np.mean(self.recent) >= target:
                self.reached = elapsed
                return False
            return elapsed < budget_s

    vec = make_vec_env(env, n_envs=workers, seed=0, subprocess=True)
    race = Race()
    silent(PPO("MlpPolicy", vec, device="cpu", seed=0, verbose=0)).learn(10**9, callback=race)
    vec.close()
    return {"target_consecutive_successes": target, "budget_s": budget_s,
            "dexrl_s": dex_s if dex_ok else None, "sb3_s": race.reached}


def pin_cores(n: int) -> None:
    """Run this process, and what it starts (Ray, SB3's env processes), on n cores, so the three
    contenders and the n-thread physics limit share the same cores on a bigger machine too."""
    if not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < n:
        raise SystemExit(f"--workers {n} needs {n} cores; this process may use {len(cpus)}")
    os.sched_setaffinity(0, cpus[:n])


def stats(xs: list[float]) -> dict[str, float]:
    return {"min": float(min(xs)), "median": float(np.median(xs)), "max": float(max(xs))}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds (see the module docstring); returns per-round rates and paired ratios."""
    import ray

    train = default_train_config(num_workers=args.workers, device="cpu", checkpoint_every=10**9,
                                 total_env_steps=10**12, **args.train_overrides)
    env = load_env_config(args.env)
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # One Ray session holds both trainers' workers (idle ones cost nothing).
        sync = make_trainer(env, train, f"{tmp}/sync", num_cpus=2 * args.workers)
        lag = make_trainer(env, replace(train, policy_lag=True), f"{tmp}/lag", num_cpus=2 * args.workers)
        sb3 = SB3Runner(args.env, args.workers, args.sb3_n_steps)
        iterate(sync, 1)  # warm-up (first weights, first episodes)
        iterate(lag, 1)
        contenders = {
            "dexrl": lambda: iterate(sync, args.iterations),
            "dexrl_policy_lag": lambda: iterate(lag, args.iterations),
            "sb3": lambda: sb3.rate(args.sb3_steps),
        }
        for r in range(args.rounds):
            # physics, contender, physics, contender, ...: each paired with the windows around it.
            limits = [physics_limit(args.env, args.workers, args.physics_s)["env_steps_per_s"]]
            row: dict[str, float] = {}
            for name, rate in contenders.items():
                row[name] = rate()
                limits.append(physics_limit(args.env, args.workers, args.physics_s)["env_steps_per_s"])
                row[f"limit_{name}"] = (limits[-2] + limits[-1]) / 2
            row.update(limit_min=min(limits), limit_max=max(limits))
            rows.append(row)
            print(f"round {r + 1}/{args.rounds}: physics limit {min(limits):,.0f}-{max(limits):,.0f} "
                  f"env steps/s; dexrl {row['dexrl']:,.0f} ({row['dexrl'] / row['limit_dexrl']:.3f}), "
                  f"policy lag {row['dexrl_policy_lag']:,.0f} "
                  f"({row['dexrl_policy_lag'] / row['limit_dexrl_policy_lag']:.3f}), "
                  f"sb3 {row['sb3']:,.0f} ({row['sb3'] / row['limit_sb3']:.3f})", flush=True)
        sb3.close()
        sync.close()
        lag.close()
    ray.shutdown()
    frac = [r["dexrl"] / r["limit_dexrl"] for r in rows]
    frac_lag = [r["dexrl_policy_lag"] / r["limit_dexrl_policy_lag"] for r in rows]
    frac_sb3 = [r["sb3"] / r["limit_sb3"] for r in rows]
    return {
        "env": args.env, "workers": args.workers, "rounds": rows,
        "train": {k: getattr(train, k) for k in ("envs_per_worker", "horizon", "learner_threads")},
        "samples_per_iteration": args.workers * train.envs_per_worker * train.horizon,
        "physics_limit_env_steps_per_s": stats([r["limit_min"] for r in rows] + [r["limit_max"] for r in rows]),
        "dexrl_samples_per_s": stats([r["dexrl"] for r in rows]),
        "dexrl_policy_lag_samples_per_s": stats([r["dexrl_policy_lag"] for r in rows]),
        "sb3_samples_per_s": stats([r["sb3"] for r in rows]),
        "fraction_of_physics_limit": float(np.median(frac)),
        "fraction_of_physics_limit_rounds": stats(frac),
        "fraction_of_physics_limit_policy_lag": float(np.median(frac_lag)),
        "fraction_of_physics_limit_policy_lag_rounds": stats(frac_lag),
        "sb3_fraction_of_physics_limit": float(np.median(frac_sb3)),
        # Paired per round: both normalized by the physics windows around them.
        "ratio_vs_sb3": float(np.median([a / b for a, b in zip(frac, frac_sb3, strict=True)])),
        "ratio_vs_sb3_rounds": stats([a / b for a, b in zip(frac, frac_sb3, strict=True)]),
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--iterations", type=int, default=6, help="dexrl iterations timed per round")
    p.add_argument("--physics-s", type=float, default=1.5, help="seconds per physics-limit window")
    p.add_argument("--sb3-steps", type=int, default=4096, help="SB3 steps timed per round")
    p.add_argument("--sb3-n-steps", type=int, default=2048,
                   help="SB3's rollout length per env (its default 2048; smaller only for quick checks)")
    p.add_argument("--envs-per-worker", type=int, default=None, help="default: configs/config.yaml")
    p.add_argument("--horizon", type=int, default=None, help="default: configs/config.yaml")
    p.add_argument("--race", action="store_true",
                   help="also time dexrl and SB3 to the reach threshold (minutes)")
    p.add_argument("--race-target", type=float, default=0.3)
    p.add_argument("--race-budget-s", type=float, default=600.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if min(args.rounds, args.iterations, args.workers) < 1 or args.physics_s <= 0:
        p.error("--rounds, --iterations and --workers must be >= 1 and --physics-s > 0")
    pin_cores(args.workers)
    args.train_overrides = {k: v for k, v in (("envs_per_worker", args.envs_per_worker),
                                              ("horizon", args.horizon)) if v is not None}
    result = measure(args)
    f, fl = result["fraction_of_physics_limit_rounds"], result["fraction_of_physics_limit_policy_lag_rounds"]
    r = result["ratio_vs_sb3_rounds"]
    print(f"fraction_of_physics_limit (min/median/max over {args.rounds} rounds): synchronous "
          f"{f['min']:.3f}/{f['median']:.3f}/{f['max']:.3f}, policy lag "
          f"{fl['min']:.3f}/{fl['median']:.3f}/{fl['max']:.3f}; sb3 {result['sb3_fraction_of_physics_limit']:.3f}")
    print(f"ratio_vs_sb3 {r['min']:.2f}/{r['median']:.2f}/{r['max']:.2f} "
          f"({result['samples_per_iteration']} samples per iteration)")
    if args.race:
        race = race_reach(args.race_target, args.race_budget_s, args.workers)
        result["reach_race"] = race
        dex_s, sb3_s = race["dexrl_s"], race["sb3_s"]
        fmt = lambda v: "not reached" if v is None else f"{v:.0f} s"  # noqa: E731
        print(f"reach to {args.race_target} consecutive successes: dexrl {fmt(dex_s)}, "
              f"sb3 {fmt(sb3_s)} (budget {args.race_budget_s:.0f} s each)")
        if dex_s is not None:
            # SB3 not reaching it within the budget bounds the ratio from above.
            result["reach_time_ratio_dexrl_vs_sb3"] = dex_s / (sb3_s if sb3_s else args.race_budget_s)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Training throughput on this machine: dexrl vs stable-baselines3 vs the physics limit.

Same task and cores for all three, one run each:
  physics limit — raw `mj_step` on 2 threads (`mujoco.rollout`), ÷ substeps = env steps/s;
  dexrl         — scripts/train.py's loop: local Ray with 2 rollout workers + the learner;
  sb3           — stable-baselines3 PPO, 2 envs in subprocesses (SubprocVecEnv), its default
                  hyper-parameters (n_steps 2048, batch 64, 10 epochs, 64-64 MLP).

    python scripts/bench_train.py --json            # last line: one JSON object
    python scripts/bench_train.py --env reach --dexrl-iterations 20
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time

import mujoco
import numpy as np

from dexrl.config import (
    LoggerConfig,
    RayConfig,
    TrainConfig,
    WandbConfig,
    default_algo_configs,
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


def dexrl_rate(env: str, workers: int, iterations: int, envs_per_worker: int, horizon: int,
               policy_lag: bool = False) -> dict[str, float]:
    """Env steps/s of the dexrl training loop (first 2 iterations are warm-up, not counted)."""
    import ray


    train = TrainConfig(total_env_steps=10**12, num_workers=workers, envs_per_worker=envs_per_worker,
                        horizon=horizon, device="cpu", checkpoint_every=10**9, policy_lag=policy_lag)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10**9)
    # The defaults a user gets from scripts/train.py: configs/algo/ppo.yaml, configs/model/mlp.yaml.
    ppo, model = default_algo_configs("mlp")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(load_env_config(env), ppo, model, None, train,
                          RayConfig(num_cpus=workers), logger, tmp)
        rows = []
        for it in range(iterations):
            t0 = time.perf_counter()
            batches, stats = trainer.collect()
            from dexrl.rl.storage import RolloutBatch

            trainer.learner.update(RolloutBatch.concat(batches))
            dt = time.perf_counter() - t0
            if it >= 2:
                rows.append((sum(s["env_steps"] for s in stats), dt))
        ray.shutdown()
    steps = sum(r[0] for r in rows)
    total = sum(r[1] for r in rows)
    per_it = [r[0] / r[1] for r in rows]
    return {"samples_per_s": steps / total, "min": min(per_it), "median": float(np.median(per_it)),
            "max": max(per_it), "iterations_timed": len(rows)}


def sb3_rate(env: str, total_steps: int) -> dict[str, float]:
    from stable_baselines3 import PPO

    from dexrl.baselines.sb3 import make_vec_env

    vec = make_vec_env(load_env_config(env), n_envs=2, seed=0, subprocess=True)
    model = PPO("MlpPolicy", vec, device="cpu", seed=0, verbose=0)
    model.learn(total_timesteps=2048 * 2)  # warm-up: one full rollout + update
    t0 = time.perf_counter()
    model.learn(total_timesteps=total_steps, reset_num_timesteps=False)
    rate = (model.num_timesteps - 4096) / (time.perf_counter() - t0)
    vec.close()
    return {"samples_per_s": rate}


def race_reach(target: float, budget_s: float) -> dict[str, float | None]:
    """Wall time until the mean consecutive successes of recent training episodes on `reach`
    (targets within 30% of the joint ranges, as the learning test) reaches `target`: dexrl with
    its config defaults vs SB3 PPO with its own defaults, each capped at `budget_s`."""
    import ray
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    from dexrl.baselines.sb3 import make_vec_env

    env = load_env_config("reach", {"reach_target_range": 0.3})
    ppo, model = default_algo_configs("mlp")
    train = TrainConfig(total_env_steps=10**9, num_workers=2, envs_per_worker=16, horizon=64,
                        device="cpu", checkpoint_every=10**9, stop_at_successes=target,
                        max_wall_s=budget_s)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(env, ppo, model, None, train, RayConfig(num_cpus=2), logger, tmp)
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

    vec = make_vec_env(env, n_envs=2, seed=0, subprocess=True)
    race = Race()
    PPO("MlpPolicy", vec, device="cpu", seed=0, verbose=0).learn(10**9, callback=race)
    vec.close()
    return {"target_consecutive_successes": target, "budget_s": budget_s,
            "dexrl_s": dex_s if dex_ok else None, "sb3_s": race.reached}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--dexrl-iterations", type=int, default=12)
    p.add_argument("--envs-per-worker", type=int, default=16)
    p.add_argument("--horizon", type=int, default=64)
    p.add_argument("--sb3-steps", type=int, default=8192)
    p.add_argument("--race", action="store_true",
                   help="also time dexrl and SB3 to the reach threshold (minutes)")
    p.add_argument("--race-target", type=float, default=0.3)
    p.add_argument("--race-budget-s", type=float, default=600.0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    limit = physics_limit(args.env, args.workers)
    print(f"physics limit: {limit['physics_steps_per_s']:,.0f} physics steps/s on {args.workers} threads "
          f"= {limit['env_steps_per_s']:,.0f} env steps/s")
    dex = dexrl_rate(args.env, args.workers, args.dexrl_iterations, args.envs_per_worker, args.horizon)
    print(f"dexrl (synchronous, the default): {dex['samples_per_s']:,.0f} samples/s (per iteration "
          f"min/median/max {dex['min']:,.0f}/{dex['median']:,.0f}/{dex['max']:,.0f})")
    lag = dexrl_rate(args.env, args.workers, args.dexrl_iterations, args.envs_per_worker,
                     args.horizon, policy_lag=True)
    print(f"dexrl (train.policy_lag=true): {lag['samples_per_s']:,.0f} samples/s (per iteration "
          f"min/median/max {lag['min']:,.0f}/{lag['median']:,.0f}/{lag['max']:,.0f})")
    sb3 = sb3_rate(args.env, args.sb3_steps)
    print(f"sb3:   {sb3['samples_per_s']:,.0f} samples/s")
    result = {
        "env": args.env, "workers": args.workers,
        "physics_limit_env_steps_per_s": limit["env_steps_per_s"],
        "dexrl_samples_per_s": dex["samples_per_s"], "dexrl_per_iteration": dex,
        "dexrl_policy_lag_samples_per_s": lag["samples_per_s"], "dexrl_policy_lag_per_iteration": lag,
        "fraction_of_physics_limit_policy_lag": lag["samples_per_s"] / limit["env_steps_per_s"],
        "sb3_samples_per_s": sb3["samples_per_s"],
        "ratio_vs_sb3": dex["samples_per_s"] / sb3["samples_per_s"],
        "fraction_of_physics_limit": dex["samples_per_s"] / limit["env_steps_per_s"],
        "sb3_fraction_of_physics_limit": sb3["samples_per_s"] / limit["env_steps_per_s"],
    }  # fmt: skip
    print(f"ratio_vs_sb3 {result['ratio_vs_sb3']:.2f}, fraction_of_physics_limit "
          f"{result['fraction_of_physics_limit']:.2f} (sb3: {result['sb3_fraction_of_physics_limit']:.2f})")
    if args.race:
        race = race_reach(args.race_target, args.race_budget_s)
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

#!/usr/bin/env python
"""Simulation fidelity and cost of two physics settings of one task, measured in one run.

A cheaper physics step is only worth having if the simulation stays the same simulation. For each
setting (default: the old 4 ms x 20 substeps against cube_rotate_z's 10 ms x 8, both 80 ms per
action) this script measures, on the same start states:
  - (the settling at reset lasts as long in every setting: env.settle_steps is in physics steps)
  - a scripted hold (zero actions: the relative-control targets hold the grasp) and a random
    policy (uniform actions): drop rate, penetration of the cube's contacts (mm; MuJoCo's soft
    contacts let bodies overlap, and a larger step overlaps more), the total normal force on the
    cube (N), and under the hold the largest rise of the cube's mechanical energy (mJ; a resting
    cube should gain none: a rise is numerical energy injection);
  - every ADR parameter the task randomizes, pinned at each of its hard limits, under the random
    policy: episodes whose physics went non-finite (MuJoCo's auto-reset warnings) and drops;
  - the cost: env steps per second of the batched task (64 envs, one core), the settings
    interleaved in rounds, as min/median/max of the per-round ratio new/old.

    python scripts/bench_fidelity.py --json
    python scripts/bench_fidelity.py --env cube_rotate_z --setting 4ms_x20=0.004,20 --setting 10ms_x8=0.01,8
    python scripts/bench_fidelity.py --skip-adr --rounds 5   # contacts and cost only
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import mujoco
import numpy as np

from dexrl.config import EnvConfig, load_env_config


def _cube_contacts(task: Any, i: int) -> tuple[float, float]:
    """(deepest penetration in m, total normal force in N) of env i's contacts with the cube."""
    m, d = task.sim.models[i], task.sim.datas[i]
    cube = m.geom("cube_geom").id
    depth, force, f6 = 0.0, 0.0, np.zeros(6)
    for c in range(d.ncon):
        con = d.contact[c]
        if cube not in (con.geom1, con.geom2):
            continue
        depth = max(depth, -float(con.dist))
        mujoco.mj_contactForce(m, d, c, f6)
        force += abs(float(f6[0]))
    return depth, force


def _cube_energy(task: Any, i: int) -> float:
    """Kinetic + potential energy (J) of env i's cube alone."""
    m, d = task.sim.models[i], task.sim.datas[i]
    body = m.body("cube").id
    v = task.ids.cube_dof_adr
    mass, inertia = float(m.body_mass[body]), m.body_inertia[body]
    lin, ang = d.qvel[v : v + 3], d.qvel[v + 3 : v + 6]  # world linear, body-frame angular
    g = -float(m.opt.gravity[2])
    return 0.5 * mass * float(lin @ lin) + 0.5 * float(inertia @ ang**2) + mass * g * float(d.xpos[body, 2])


def contact_figures(env: EnvConfig, policy: str, envs: int, steps: int, seed: int) -> dict[str, float]:
    """Run `steps` control steps of `envs` envs under `policy` ("hold" or "random")."""
    from dexrl.tasks.registry import make_task

    task = make_task(env, num_envs=envs, seed=seed, autoreset=False)
    task.reset()
    rng = np.random.default_rng(seed)
    alive = np.ones(envs, dtype=bool)
    drops = nonfinite = 0
    depths, forces = [], []
    energy0 = np.array([_cube_energy(task, i) for i in range(envs)])
    rise = np.zeros(envs)
    for _ in range(steps):
        a = np.zeros((envs, task.action_dim)) if policy == "hold" else rng.uniform(-1, 1, (envs, task.action_dim))
        r = task.step(a)
        for i in np.flatnonzero(alive).tolist():
            if r.info["unhealthy"][i]:
                nonfinite += 1
                alive[i] = False
                continue
            if r.info["dropped"][i]:
                drops += 1
                alive[i] = False
                continue
            depth, force = _cube_contacts(task, i)
            depths.append(depth)
            forces.append(force)
            rise[i] = max(rise[i], _cube_energy(task, i) - energy0[i])
    return {
        "drop_rate": drops / envs,
        "nonfinite_rate": nonfinite / envs,
        "penetration_mm_median": 1e3 * float(np.median(depths)),
        "penetration_mm_p99": 1e3 * float(np.percentile(depths, 99)),
        "cube_normal_force_N_median": float(np.median(forces)),
        "cube_normal_force_N_p99": float(np.percentile(forces, 99)),
        "cube_energy_rise_mJ_max": 1e3 * float(rise.max()),
    }


def adr_limits(env: EnvConfig, episodes: int, seed: int) -> dict[str, dict[str, float]]:
    """Random-policy episodes with each ADR parameter of the task at each hard limit."""
    from dexrl.adr.config import ADRConfig
    from dexrl.adr.params import PARAM_NAMES, get_spec
    from dexrl.adr.randomizer import config_for_task
    from dexrl.eval.evaluate import pinned
    from dexrl.eval.policy import RandomPolicy
    from dexrl.eval.runner import run_episodes
    from dexrl.tasks.registry import make_task

    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    adr, _ = config_for_task(ADRConfig(mode="auto"), probe)
    out: dict[str, dict[str, float]] = {}
    for name in (n for n in PARAM_NAMES if adr.is_randomized(n)):
        lo, hi = adr.hard_limits(get_spec(name))
        for lam in (lo, hi):
            recs = run_episodes(env, RandomPolicy(probe.action_dim, seed), episodes, seed,
                                num_envs=min(16, episodes), randomization=pinned(name, lam))  # fmt: skip
            out[f"{name}@{lam:+.3g}"] = {
                "nonfinite_rate": float(np.mean([r.unhealthy for r in recs])),
                "drop_rate": float(np.mean([r.dropped for r in recs])),
            }
    return out


def throughput(envs: dict[str, EnvConfig], rounds: int, steps: int) -> dict[str, Any]:
    """Env steps/s of each setting's batched task under random actions, interleaved in rounds."""
    from dexrl.tasks.registry import make_task

    tasks = {k: make_task(e, num_envs=64, seed=0) for k, e in envs.items()}
    for t in tasks.values():
        t.reset()
    rates: dict[str, list[float]] = {k: [] for k in tasks}
    rng = np.random.default_rng(0)
    for _ in range(rounds):
        for k, t in tasks.items():
            actions = rng.uniform(-1, 1, (steps, t.num_envs, t.action_dim))
            t0 = time.perf_counter()
            for a in actions:
                t.step(a)
            rates[k].append(steps * t.num_envs / (time.perf_counter() - t0))
    names = list(tasks)
    ratio = np.array(rates[names[-1]]) / np.array(rates[names[0]])
    return {"env_steps_per_s": {k: _mmm(v) for k, v in rates.items()},
            f"ratio_{names[-1]}_over_{names[0]}": _mmm(ratio.tolist())}  # fmt: skip


def _mmm(values: list[float]) -> dict[str, float]:
    return {"min": float(np.min(values)), "median": float(np.median(values)), "max": float(np.max(values))}


def parse_setting(text: str) -> tuple[str, float, int]:
    name, sep, rest = text.partition("=")
    ts, comma, sub = rest.partition(",")
    try:
        if not (sep and comma):
            raise ValueError
        return name, float(ts), int(sub)
    except ValueError:
        raise SystemExit(f"--setting {text!r}: expected NAME=TIMESTEP,SUBSTEPS (e.g. 10ms_x8=0.01,8)") from None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate_z")
    p.add_argument("--setting", action="append", default=None,
                   help="NAME=TIMESTEP,SUBSTEPS; the first is the baseline (default 4ms_x20, 10ms_x8)")
    p.add_argument("--envs", type=int, default=32, help="envs of the hold / random runs")
    p.add_argument("--steps", type=int, default=100, help="control steps of the hold / random runs")
    p.add_argument("--adr-episodes", type=int, default=8, help="episodes per ADR hard limit")
    p.add_argument("--skip-adr", action="store_true")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--throughput-steps", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    settings = [parse_setting(s) for s in (args.setting or ["4ms_x20=0.004,20", "10ms_x8=0.01,8"])]
    base = load_env_config(args.env)
    settle_s = base.settle_steps * base.timestep  # the same settling time in every setting
    envs = {name: load_env_config(args.env, {"timestep": ts, "substeps": sub,
                                             "settle_steps": round(settle_s / ts)})
            for name, ts, sub in settings}  # fmt: skip
    result: dict[str, Any] = {"env": args.env, "settings": {n: {"timestep": t, "substeps": s} for n, t, s in settings}}
    for name, env in envs.items():
        row: dict[str, Any] = {pol: contact_figures(env, pol, args.envs, args.steps, args.seed)
                               for pol in ("hold", "random")}  # fmt: skip
        if not args.skip_adr:
            limits = adr_limits(env, args.adr_episodes, args.seed)
            row["adr_limits"] = limits
            row["adr_limits_worst_nonfinite"] = max(v["nonfinite_rate"] for v in limits.values())
        result[name] = row
        print(f"{name}: hold {row['hold']}\n{name}: random {row['random']}", flush=True)
        if "adr_limits" in row:
            print(f"{name}: ADR hard limits, worst non-finite rate {row['adr_limits_worst_nonfinite']:.3f}", flush=True)
    result["throughput"] = throughput(envs, args.rounds, args.throughput_steps)
    print(f"throughput: {result['throughput']}")
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Environment throughput against raw MuJoCo physics, on one core.

For the same scene and the same control sequence, measures:
  raw    — `mj_step(m, d, substeps)` per control step, as the env steps (physics steps/s), the
           baseline of this run;
  single — the dexrl task with K=1 (env steps/s × substeps = physics steps/s);
  batched — the dexrl task with K=16; run a second time with `mj_step` timed apart, it also gives
           the env's own work per env step (µs beside the physics: observations, rewards,
           resets, bookkeeping), a figure a load change between the phases does not move.
Ratios to raw are reported as min/median/max over repeats (machines are noisy: compare ratios).
`--adr` runs single and batched with domain randomization (configs/adr/<name>.yaml); raw stays
the calibrated model. `--compare-adr` adds, per repeat, batched runs of --adr-steps control steps
with adr=none and adr=auto with every range at its full hard limits (so resets do real work):
`adr_throughput_ratio` = auto / none (target >= 0.95), `reset_ms` = one randomized reset_env.

    python scripts/bench_env.py                     # cube_rotate, 3 repeats
    python scripts/bench_env.py --env reach --json  # last line: one JSON object
    python scripts/bench_env.py --robot leap --json # the LEAP-like hand
    python scripts/bench_env.py --compare-adr --json
"""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import replace

import mujoco
import numpy as np

from dexrl.adr import PARAM_SPECS, ADRConfig, ADRState, get_spec, load_adr_config
from dexrl.adr.apply import CUBE_EDGE_QUANTUM
from dexrl.adr.randomizer import EpisodeRandomizer, config_for_task
from dexrl.benchmarking import CLOCKS, BenchClock, pin_one_core
from dexrl.tasks.registry import make_task

# Every timing reads this clock: wall time, or with --clock cpu this process's CPU time.
clock = BenchClock()


def attach_randomizer(task, adr: str, seed: int) -> EpisodeRandomizer | None:  # type: ignore[no-untyped-def]
    """None for "none"; "auto" = ADR as a run starts it (configs/adr/auto.yaml, ranges at the
    calibrated values: the full ADR machinery, the calibrated physics); "auto-wide" = ADR with
    every range at its full hard limits and every cube size compiled. Parameters the task cannot
    take (e.g. cube ones on reach) are disabled, as the trainer does."""
    if adr == "none":
        return None
    if adr == "auto-wide":
        cfg, _ = config_for_task(ADRConfig(mode="auto", seed=seed), task)
        saved = ADRState(cfg).to_json()
        saved["ranges"] = {s.name: list(cfg.hard_limits(s)) for s in PARAM_SPECS}
        randomizer = EpisodeRandomizer(cfg, state=ADRState.from_json(saved, cfg))
    else:
        cfg, _ = config_for_task(replace(load_adr_config(adr), seed=seed), task)
        randomizer = EpisodeRandomizer(cfg, seed=seed)
    randomizer.attach(task)
    return randomizer


def warm_cube_sizes(randomizer: EpisodeRandomizer) -> list[float]:
    """Compile every cube size of the hard-limit range now (a worker does it once per size over
    its life, ~1 ms each), so the timed runs measure the steady state. Returns the times (s)."""
    ctx, spec = randomizer.context, get_spec("cube_size")
    if ctx is None or "cube_size" not in randomizer.active:
        return []
    lo, hi = (float(spec.to_value(ctx.cube_edge, lam)) for lam in spec.hard_limits)
    times = []
    for k in range(round(lo / CUBE_EDGE_QUANTUM), round(hi / CUBE_EDGE_QUANTUM) + 1):
        t0 = clock()
        ctx.calibrated_for_edge(k * CUBE_EDGE_QUANTUM)
        times.append(clock() - t0)
    return times


def timed_resets(task, times: list[float]) -> None:  # type: ignore[no-untyped-def]
    """Record the duration of every reset_env of `task` (randomization included) into `times`."""
    reset_env = task.reset_env

    def timed(i: int) -> None:
        t0 = clock()
        reset_env(i)
        times.append(clock() - t0)

    task.reset_env = timed


def env_rate(
    env: str, num_envs: int, steps: int, seed: int, overrides: dict, adr: str = "none",
    split: dict[str, float] | None = None,
) -> tuple[float, list]:
    """Physics steps/s of the task; returns the control targets it sent, for the raw replay.

    `split` (optional) receives the seconds inside `mj_step` ("physics_s"), all seconds
    ("total_s"), the episodes that ended and the mean solver iterations per physics step.
    """
    task = make_task(env, num_envs=num_envs, seed=seed, overrides=overrides)
    randomizer = attach_randomizer(task, adr, seed)
    if randomizer is not None:
        warm_cube_sizes(randomizer)
    task.reset()
    if split is not None:
        _measure_physics(task, split)
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-1, 1, (steps, num_envs, task.action_dim))
    # For the raw replay: (state at an episode start or None, control targets) per step.
    sent: list[tuple[np.ndarray | None, np.ndarray]] = []
    record = num_envs == 1
    elapsed = 0.0
    for k in range(steps):
        start = _state(task) if record and task.step_count[0] == 0 else None
        t0 = clock()
        task.step(actions[k])
        elapsed += clock() - t0
        if record:
            sent.append((start, task.targets[0].copy()))
    if split is not None:
        split["total_s"] = elapsed
        split["solver_iterations"] /= steps * num_envs
    return steps * num_envs * task.cfg.substeps / elapsed, sent


def _measure_physics(task, split: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    """Time the batched physics of `task` and count resets and solver iterations into `split`."""
    split.update(physics_s=0.0, episodes=0.0, solver_iterations=0.0)
    step, reset_env = task.sim.step, task.reset_env

    def timed_step(ctrl: np.ndarray) -> None:
        t0 = clock()
        step(ctrl)
        split["physics_s"] += clock() - t0
        # Iterations of the last physics step of the control step (a sample of the solver work).
        split["solver_iterations"] += sum(int(d.solver_niter[0]) for d in task.sim.datas)

    def counted_reset(i: int) -> None:
        split["episodes"] += 1
        reset_env(i)

    task.sim.step, task.reset_env = timed_step, counted_reset


def raw_rate(env: str, seed: int, controls: list, overrides: dict) -> float:
    """Physics steps/s of plain `mj_step` on the same model, states and controls as the env run.

    Replaying the env's own episode starts and control targets makes both runs do the same
    physics (same contacts), and stepping the substeps in one `mj_step(m, d, nstep)` call, as
    the env does, leaves the env no advantage: the ratio measures only what the env adds.
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
        t0 = clock()
        d.ctrl[:] = ctrl
        mujoco.mj_step(m, d, n)  # the substeps in C, as the env runs them (dexrl.sim.batch)
        elapsed += clock() - t0
    return len(controls) * n / elapsed


def _state(task) -> np.ndarray:  # type: ignore[no-untyped-def]
    m, d = task.sim.models[0], task.sim.datas[0]
    spec = mujoco.mjtState.mjSTATE_INTEGRATION
    out = np.empty(mujoco.mj_stateSize(m, spec))
    mujoco.mj_getState(m, d, out, spec)
    return out


def summarize(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def reset_cost_ms(env: str, adr: str, resets: int, seed: int, overrides: dict) -> tuple[dict, dict]:
    """min/median/max ms of one reset_env (cube sizes compiled beforehand), and of compiling
    one cube size (empty for adr=none)."""
    task = make_task(env, num_envs=16, seed=seed, overrides=overrides)
    randomizer = attach_randomizer(task, adr, seed)
    compiles = warm_cube_sizes(randomizer) if randomizer is not None else []
    task.reset()
    times: list[float] = []
    timed_resets(task, times)
    for k in range(resets):
        task.reset_env(k % task.num_envs)
    compile_ms = summarize([1e3 * t for t in compiles]) if compiles else {}
    return summarize([1e3 * t for t in times]), compile_ms


def compare_adr(args: argparse.Namespace, overrides: dict) -> dict:
    """Batched throughput with adr=none vs adr=auto at full hard limits, and the reset cost."""
    rates: dict[str, list[float]] = {"none": [], "auto": [], "auto-wide": []}
    splits: dict[str, list[dict[str, float]]] = {"none": [], "auto": [], "auto-wide": []}
    for r in range(args.repeats):
        for adr in rates:
            split: dict[str, float] = {}
            rate, _ = env_rate(args.env, args.batch, args.adr_steps, seed=r, overrides=overrides,
                               adr=adr, split=split)
            rates[adr].append(rate)
            splits[adr].append(split)
        print(f"repeat {r}: batched x{args.batch}, {args.adr_steps} steps: adr none "
              f"{rates['none'][-1]:,.0f} | adr auto {rates['auto'][-1]:,.0f} "
              f"({rates['auto'][-1] / rates['none'][-1]:.3f}) | adr auto at full hard limits "
              f"{rates['auto-wide'][-1]:,.0f} ({rates['auto-wide'][-1] / rates['none'][-1]:.3f}) "
              "physics steps/s")
    # adr_throughput_ratio: ADR as a run starts it (all of its work at every reset and step,
    # calibrated physics) against none. At full hard limits the randomized physics itself is
    # slower too (more solver iterations, more drops); that is reported separately.
    ratios = [a / n for a, n in zip(rates["auto"], rates["none"], strict=True)]
    wide_ratios = [a / n for a, n in zip(rates["auto-wide"], rates["none"], strict=True)]
    # Where the time goes: the randomized physics itself (harder contacts, more solver
    # iterations) vs the Python work ADR adds around it (resets, noise, perturbations).
    pairs = list(zip(splits["auto-wide"], splits["none"], strict=True))
    physics_ratio = [n["physics_s"] / a["physics_s"] for a, n in pairs]
    overhead = [((a["total_s"] - a["physics_s"]) - (n["total_s"] - n["physics_s"])) / a["total_s"]
                for a, n in pairs]  # fmt: skip
    reset_ms, compile_ms = reset_cost_ms(args.env, "auto-wide", args.adr_resets, 0, overrides)
    reset_ms_none, _ = reset_cost_ms(args.env, "none", args.adr_resets, 0, overrides)
    print(f"adr_throughput_ratio {statistics.median(ratios):.3f}, at full hard limits "
          f"{statistics.median(wide_ratios):.3f} (medians of {args.repeats}); at full limits: "
          f"physics alone {statistics.median(physics_ratio):.3f} (solver iterations per step "
          f"{statistics.median(s['solver_iterations'] for s in splits['none']):.2f} -> "
          f"{statistics.median(s['solver_iterations'] for s in splits['auto-wide']):.2f}), "
          f"ADR's Python work {100 * statistics.median(overhead):.1f}% of the run")
    print(f"reset_ms min/median/max {reset_ms['min']:.2f}/{reset_ms['median']:.2f}/"
          f"{reset_ms['max']:.2f} (adr=none: median {reset_ms_none['median']:.2f}); "
          f"one cube size compiled once per worker: median {compile_ms.get('median', 0):.2f} ms")
    return {
        "batched_adr_none_physics_steps_per_s": summarize(rates["none"]),
        "batched_adr_auto_physics_steps_per_s": summarize(rates["auto-wide"]),
        "adr_throughput_ratio": summarize(ratios),
        "adr_throughput_ratio_full_limits": summarize(wide_ratios),
        "adr_steps": args.adr_steps,
        "adr_physics_time_ratio": summarize(physics_ratio),
        "adr_python_overhead_fraction": summarize(overhead),
        "episodes_ended": {k: summarize([s["episodes"] for s in v]) for k, v in splits.items()},
        "solver_iterations_per_step": {
            k: summarize([s["solver_iterations"] for s in v]) for k, v in splits.items()
        },
        "reset_ms": reset_ms,
        "reset_ms_none": reset_ms_none,
        "cube_size_compile_ms": compile_ms,
        "resets": args.adr_resets,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="cube_rotate")
    p.add_argument("--robot", default=None,
                   help="the hand: a name in configs/robot/ (dexhand, leap) or a robot yaml's path; default: the config's")
    p.add_argument("--steps", type=int, default=1500, help="control steps per single-env run")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p.add_argument("--clock", choices=sorted(CLOCKS), default="wall",
                   help="wall time, or this process's CPU time (robust on a loaded machine)")
    p.add_argument("--adr", default="none", choices=["none", "manual", "auto"],
                   help="domain randomization of the single and batched runs (configs/adr/)")
    p.add_argument("--compare-adr", action="store_true",
                   help="also measure batched adr=auto at full hard limits against adr=none")
    p.add_argument("--adr-steps", type=int, default=300,
                   help="control steps per batched run of --compare-adr (episodes last ~100)")
    p.add_argument("--adr-resets", type=int, default=400, help="resets timed by --compare-adr")
    args = p.parse_args()
    pin_one_core()
    clock.use(args.clock)
    overrides: dict = {"robot": args.robot} if args.robot else {}
    rows: dict[str, list[float]] = {"raw": [], "single": [], "batched": [], "env_us": [], "physics_share": []}
    batch_steps = max(1, args.steps // args.batch)
    for r in range(args.repeats):
        single, controls = env_rate(args.env, 1, args.steps, seed=r, overrides=overrides, adr=args.adr)
        raw = raw_rate(args.env, r, controls, overrides)
        batched, _ = env_rate(args.env, args.batch, batch_steps, seed=r, overrides=overrides, adr=args.adr)
        # The same batched run again with mj_step timed apart: the env's own work per env step,
        # read within one run, so a load change between phases does not enter it (the timing
        # wrapper adds ~1 us per env step to it; the rate above is measured without it).
        split: dict[str, float] = {}
        env_rate(args.env, args.batch, batch_steps, seed=r, overrides=overrides, adr=args.adr, split=split)
        env_us = 1e6 * (split["total_s"] - split["physics_s"]) / (batch_steps * args.batch)
        rows["raw"].append(raw)
        rows["single"].append(single)
        rows["batched"].append(batched)
        rows["env_us"].append(env_us)
        rows["physics_share"].append(split["physics_s"] / split["total_s"])
        print(f"repeat {r}: raw {raw:,.0f} | single {single:,.0f} ({single / raw:.3f}) | "
              f"batched x{args.batch} {batched:,.0f} ({batched / raw:.3f}) physics steps/s | "
              f"env work {env_us:.1f} us per env step (physics {rows['physics_share'][-1]:.3f} of the step)")
    ratio_single = [s / r for s, r in zip(rows["single"], rows["raw"], strict=True)]
    ratio_batched = [b / r for b, r in zip(rows["batched"], rows["raw"], strict=True)]
    result = {
        "env": args.env,
        "robot": args.robot or "default",
        "cores": 1,
        "repeats": args.repeats,
        "raw_mj_step_per_s": summarize(rows["raw"]),
        "single_physics_steps_per_s": summarize(rows["single"]),
        "batched_physics_steps_per_s": summarize(rows["batched"]),
        "batch_size": args.batch,
        "ratio_single": summarize(ratio_single),
        "ratio_batched": summarize(ratio_batched),
        "env_work_us_per_env_step": summarize(rows["env_us"]),
        "physics_share_batched": summarize(rows["physics_share"]),
        "mujoco": mujoco.__version__,
        "adr": args.adr,
        "clock": args.clock,
    }
    print(f"ratio_single {result['ratio_single']['median']:.3f}, "
          f"ratio_batched {result['ratio_batched']['median']:.3f}, env work "
          f"{result['env_work_us_per_env_step']['median']:.1f} us per env step (median of {args.repeats})")
    if args.compare_adr:
        result.update(compare_adr(args, overrides))
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()

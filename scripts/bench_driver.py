#!/usr/bin/env python
"""The driver at cluster scale, measured by simulation: the real Trainer against N stand-in workers.

    python scripts/bench_driver.py                                # N = 2, 8, 32, 64; cube_rotate sizes
    python scripts/bench_driver.py --workers 2,8 --iterations 3 --json
    python scripts/bench_driver.py --out docs/bench_driver        # + driver_scaling.png / .json

Each stand-in (`dexrl.distributed.standin`) is a real Ray actor that receives the broadcast
weights, sleeps `--step-time` seconds (a rollout's stepping) and returns a batch of the real size
and layout (`--envs` × `--horizon` samples of the env's observation/critic/action sizes) with
episode statistics, reporting its episodes to the ADR actor (`--adr auto`). The trainer, learner,
ADR actor and logging are the real ones. Per iteration the driver's seconds are split by stage
(`dexrl.distributed.stages`); the overhead is every stage but `wait` (the workers' stepping) and
`learner` (the PPO update: on a GPU at scale, and not the driver's to remove). Each stage's
median over the timed iterations is fitted as a + b·N (least squares) and its growth exponent k
checked (c·N^k over N ≥ 8; k > 1.1 flags a stage growing faster than linearly), then extrapolated to `--extrapolate` (256, 1,024). The
overhead fraction is overhead / (step time + overhead): conservative, as it leaves the learner
out of the iteration. Target: ≤ 5 % at 256 workers × 64 envs with a 1 s stepping time.

Every figure comes twice: wall seconds, and the driver process's CPU seconds in the same stages
(`time.process_time`, all its threads, Ray's included). Here the N stand-ins share the driver's
2 cores, so a stage's wall time also holds the time the driver waited for a core; its CPU time is
the driver's own work, about what a head node with cores of its own would spend.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from dexrl.distributed.stages import OVERHEAD_STAGES, STAGES


def measure(n: int, args: argparse.Namespace, dims: dict[str, int]) -> dict[str, Any]:
    """Median seconds per stage over the timed iterations of one Trainer with n stand-ins."""
    import ray

    from dexrl.distributed.standin import StandInWorkers
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import compose, typed_configs

    overrides = [f"env={args.env}", f"adr={args.adr}", "logger=none", f"train.num_workers={n}",
                 f"train.envs_per_worker={args.envs}", f"train.horizon={args.horizon}",
                 f"train.total_env_steps={n * args.envs * args.horizon * (args.iterations + 1)}",
                 "train.checkpoint_every=1000000", "algo.epochs=1"]  # fmt: skip
    c = typed_configs(compose(overrides, "train").plain())
    workers = StandInWorkers(dims, args.step_time, episode_steps=c.env.max_episode_steps)
    with tempfile.TemporaryDirectory() as run_dir:
        t0 = time.perf_counter()
        trainer = Trainer(c.env, c.algo, c.model, c.adr, c.train, c.ray, c.logger, run_dir,
                          seed=0, worker_cls=workers)  # fmt: skip
        start_s = time.perf_counter() - t0
        try:
            trainer.run()
            rss = _rss_mib([int(p) for p in ray.get([w.pid.remote() for w in trainer.workers])])
            floor = _call_floor(trainer.workers)
        finally:
            trainer.close()
    laps = trainer.stage_history[1:]  # the first iteration includes start-up (actors importing)
    if not laps:
        raise SystemExit("[dexrl] error: no timed iteration; use --iterations >= 1")
    stages = {s: statistics.median(lap[s] for lap in laps) for s in STAGES}
    cpu = {s: statistics.median(lap[s] for lap in trainer.stage_cpu_history[1:]) for s in STAGES}
    overhead = sum(stages[s] for s in OVERHEAD_STAGES)
    overhead_cpu = sum(cpu[s] for s in OVERHEAD_STAGES)
    return {"workers": n, "samples_per_iteration": n * args.envs * args.horizon, "start_s": start_s,
            "iterations": len(laps), "stages_s": stages, "overhead_s": overhead,
            "iteration_s": statistics.median(sum(lap.values()) for lap in laps),
            "overhead_fraction": overhead / (args.step_time + overhead), "ray_call_floor_s": floor,
            "stages_cpu_s": cpu, "overhead_cpu_s": overhead_cpu,
            "overhead_cpu_fraction": overhead_cpu / (args.step_time + overhead_cpu),
            "standin_rss_mib": {"median": statistics.median(rss), "max": max(rss), "total": sum(rss)}
            if rss else None}  # fmt: skip


def _call_floor(workers: list[Any], repeats: int = 5) -> float:
    """Seconds to submit one no-argument call to every worker (median of `repeats`): Ray's own
    cost per actor call on this machine, the floor under `launch` (one `rollout` call each)."""
    import ray

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        futures = [w.pid.remote() for w in workers]
        times.append(time.perf_counter() - t0)
        ray.get(futures)
    return statistics.median(times)


def batch_bytes(args: argparse.Namespace, dims: dict[str, int], episode_steps: int) -> int:
    """Bytes of one worker's batch as the stand-ins build it (the real layout and sizes)."""
    import dataclasses

    from dexrl.distributed.standin import StandInWorker

    batch = StandInWorker(None, None, args.envs, args.horizon, 0, dims=dims, step_time_s=0.0,
                          episode_steps=episode_steps)._batch()  # fmt: skip

    def size(x: Any) -> int:
        if isinstance(x, np.ndarray):
            return int(x.nbytes)
        return sum(size(v) for v in x) if isinstance(x, (tuple, list)) else 0

    return sum(size(getattr(batch, f.name)) for f in dataclasses.fields(batch))


def _rss_mib(pids: list[int]) -> list[float]:
    """The resident memory of each stand-in, MiB (this machine's processes only)."""
    from dexrl.benchmarking import proc_kib

    return [kib / 1024 for kib in (proc_kib(p, "VmRSS") for p in pids) if kib is not None]


def fit(rows: list[dict[str, Any]], stage: str | None, cpu: bool = False) -> dict[str, float]:
    """a + b·N (least squares, a and b at least 0) for one stage's seconds (None: the whole
    overhead; `cpu`: the driver's CPU seconds instead of wall) against N, and the exponent k of
    c·N^k over N ≥ 8 (all N when fewer than two are): the growth check, since a few noisy points
    make a power law a poor predictor."""
    n = np.array([r["workers"] for r in rows], dtype=float)
    total, per_stage = ("overhead_cpu_s", "stages_cpu_s") if cpu else ("overhead_s", "stages_s")
    y = np.array([r[total] if stage is None else r[per_stage][stage] for r in rows])
    b, a = np.polyfit(n, y, 1)
    if b < 0:  # no growth: the mean is the fit
        a, b = float(y.mean()), 0.0
    elif a < 0:  # through the origin
        a, b = 0.0, float((n @ y) / (n @ n))
    big = (n >= 8) & (y > 0)
    sel = big if big.sum() >= 2 else y > 0
    k = float(np.polyfit(np.log(n[sel]), np.log(y[sel]), 1)[0]) if sel.sum() >= 2 else float("nan")
    return {"a": float(a), "b": float(b), "k": k}


def predict(f: dict[str, float], n: float) -> float:
    """The linear fit at n."""
    return f["a"] + f["b"] * n


def plot(rows: list[dict[str, Any]], fits: dict[str, dict[str, float]], extra: list[int], step: float,
         path: Path) -> None:  # fmt: skip
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = np.array([r["workers"] for r in rows], dtype=float)
    grid = np.geomspace(n.min(), max([*extra, int(n.max())]), 50)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for stage in OVERHEAD_STAGES:
        y = [1e3 * r["stages_s"][stage] for r in rows]
        if max(y) < 0.05:
            continue
        line = ax1.plot(n, y, "o", label=stage)[0]
        ax1.plot(grid, [1e3 * predict(fits[stage], g) for g in grid], "-", color=line.get_color(), alpha=0.5)
    ax1.set(xscale="log", yscale="log", xlabel="rollout workers N", ylabel="driver ms per iteration",
            title="overhead per stage: measured (dots), fit (lines)")  # fmt: skip
    ax1.legend(fontsize=7)
    ax1.grid(alpha=0.3, which="both")
    frac = [100 * r["overhead_fraction"] for r in rows]
    wall = ax2.plot(n, frac, "o", label="wall, measured")[0]
    over = [predict(fits["overhead"], g) for g in grid]
    ax2.plot(grid, [100 * o / (step + o) for o in over], "-", color=wall.get_color(), alpha=0.6,
             label="wall, fit")  # fmt: skip
    cpu = ax2.plot(n, [100 * r["overhead_cpu_fraction"] for r in rows], "s", label="driver CPU, measured")[0]
    over_cpu = [predict(fits["overhead_cpu"], g) for g in grid]
    ax2.plot(grid, [100 * o / (step + o) for o in over_cpu], "-", color=cpu.get_color(), alpha=0.6,
             label="driver CPU, fit")  # fmt: skip
    ax2.axhline(5.0, color="r", ls="--", lw=1, label="target 5 %")
    ax2.set(xscale="log", xlabel="rollout workers N", ylabel="overhead / (stepping + overhead), %",
            title=f"driver overhead (wall; driver CPU), {step:g} s stepping per rollout")  # fmt: skip
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=7)
    ax2.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="2,8,32,64", help="N values, comma separated (2,8,32,64)")
    ap.add_argument("--env", default="cube_rotate", help="whose observation/action sizes (cube_rotate)")
    ap.add_argument("--envs", type=int, default=64, help="envs per worker (64)")
    ap.add_argument("--horizon", type=int, default=64, help="steps per env per rollout (64)")
    ap.add_argument("--step-time", type=float, default=1.0, help="a rollout's stepping time, s (1.0)")
    ap.add_argument("--iterations", type=int, default=4, help="timed iterations per N, after one untimed (4)")
    ap.add_argument("--adr", default="auto", choices=("auto", "none"), help="ADR actor in the loop (auto)")
    ap.add_argument("--extrapolate", default="256,1024", help="N to extrapolate to (256,1024)")
    ap.add_argument("--network-gbps", type=float, default=25.0,
                    help="a head node's network, Gb/s, to state what moving the batches would take (25)")
    ap.add_argument("--out", type=Path, help="write driver_scaling.json and .png here")
    ap.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = ap.parse_args(argv)
    try:
        ns = sorted({int(x) for x in args.workers.split(",") if x.strip()})
        extra = [int(x) for x in args.extrapolate.split(",") if x.strip()]
    except ValueError:
        print(f"[dexrl] error: --workers/--extrapolate take integers, e.g. 2,8,32 (got {args.workers!r}, "
              f"{args.extrapolate!r})", file=sys.stderr)  # fmt: skip
        return 2
    if len(ns) < 2 or ns[0] < 1 or args.iterations < 1 or args.step_time < 0:
        print("[dexrl] error: need at least two worker counts >= 1, --iterations >= 1, --step-time >= 0",
              file=sys.stderr)  # fmt: skip
        return 2
    from dexrl.config import load_env_config
    from dexrl.distributed.ray_setup import start_local_ray
    from dexrl.tasks.registry import make_task

    env_cfg = load_env_config(args.env)
    task = make_task(env_cfg, num_envs=1, seed=0, autoreset=False)
    dims = {"obs_dim": task.obs_dim, "critic_obs_dim": task.critic_obs_dim, "action_dim": task.action_dim}
    import ray

    if not ray.is_initialized():  # the tests' shared Ray is used as it is
        start_local_ray(num_cpus=2, log_to_driver=False)
    rows = []
    for n in ns:
        row = measure(n, args, dims)
        rows.append(row)
        st = row["stages_s"]
        print(f"[dexrl] N={n:5d}: overhead {1e3 * row['overhead_s']:7.1f} ms ({100 * row['overhead_fraction']:.2f} %) = "
              + ", ".join(f"{s} {1e3 * st[s]:.1f}" for s in OVERHEAD_STAGES)
              + f"; wait {1e3 * st['wait']:.0f}, learner {1e3 * st['learner']:.0f} ms"
              + f"; driver CPU: overhead {1e3 * row['overhead_cpu_s']:.1f} ms "
                f"({100 * row['overhead_cpu_fraction']:.2f} %), launch {1e3 * row['stages_cpu_s']['launch']:.1f}"
              + f"; Ray's floor for {n} no-op calls {1e3 * row['ray_call_floor_s']:.1f} ms"
              + (f"; stand-in RSS median {row['standin_rss_mib']['median']:.0f} MiB, all "
                 f"{row['standin_rss_mib']['total'] / 1024:.1f} GiB" if row["standin_rss_mib"] else ""),
              flush=True)  # fmt: skip
    fits = {s: fit(rows, s) for s in OVERHEAD_STAGES} | {"overhead": fit(rows, None)}
    fits_cpu = {s: fit(rows, s, cpu=True) for s in OVERHEAD_STAGES}
    fits["overhead_cpu"] = fit(rows, None, cpu=True)
    floor = fit([{**r, "stages_s": {"floor": r["ray_call_floor_s"]}} for r in rows], "floor")
    fits["ray_call_floor"] = floor
    superlinear = [s for s in OVERHEAD_STAGES if fits[s]["k"] > 1.1 and rows[-1]["stages_s"][s] > 1e-3]
    extrapolated = []
    for n in extra:
        over = sum(predict(fits[s], n) for s in OVERHEAD_STAGES)
        over_cpu = sum(predict(fits_cpu[s], n) for s in OVERHEAD_STAGES)
        extrapolated.append({"workers": n, "overhead_s": over,
                             "stages_s": {s: predict(fits[s], n) for s in OVERHEAD_STAGES},
                             "overhead_fraction": over / (args.step_time + over),
                             "ray_call_floor_s": predict(floor, n), "overhead_cpu_s": over_cpu,
                             "stages_cpu_s": {s: predict(fits_cpu[s], n) for s in OVERHEAD_STAGES},
                             "overhead_cpu_fraction": over_cpu / (args.step_time + over_cpu)})  # fmt: skip
        print(f"[dexrl] N={n:5d} (extrapolated): overhead {1e3 * over:.1f} ms "
              f"({100 * over / (args.step_time + over):.2f} %); Ray's no-op calls alone "
              f"{1e3 * predict(floor, n):.1f} ms; driver CPU {1e3 * over_cpu:.1f} ms "
              f"({100 * over_cpu / (args.step_time + over_cpu):.2f} %)")  # fmt: skip
    nbytes = batch_bytes(args, dims, env_cfg.max_episode_steps)
    for e in extrapolated:  # here the batches come from local shared memory; on a cluster, the network
        e["batch_bytes_per_iteration"] = e["workers"] * nbytes
        e["network_s"] = e["workers"] * nbytes * 8 / (args.network_gbps * 1e9)
    print(f"[dexrl] data into the learner: {nbytes / 1e6:.1f} MB per worker batch; "
          + "; ".join(f"N={e['workers']}: {e['batch_bytes_per_iteration'] / 1e9:.2f} GB per iteration, "
                      f"{e['network_s']:.2f} s at {args.network_gbps:g} Gb/s into one head" for e in extrapolated)
          + " (not in the overhead above: the stand-ins share this machine's object store)")  # fmt: skip
    for s in OVERHEAD_STAGES:
        f = fits[s]
        fc = fits_cpu[s]
        print(f"[dexrl] fit {s:>10}: {1e3 * f['a']:.2f} ms + {1e3 * f['b']:.4f} ms·N; grows ~N^{f['k']:.2f}"
              f" (driver CPU {1e3 * fc['a']:.2f} ms + {1e3 * fc['b']:.4f} ms·N)")
    print(f"[dexrl] stages growing faster than linearly (k > 1.1): {', '.join(superlinear) or 'none'}")
    result = {"env": args.env, "envs_per_worker": args.envs, "horizon": args.horizon,
              "dims": dims, "batch_bytes": nbytes, "network_gbps": args.network_gbps,
              "step_time_s": args.step_time, "adr": args.adr, "measured": rows,
              "fits": fits, "fits_cpu": fits_cpu, "extrapolated": extrapolated,
              "superlinear": superlinear}  # fmt: skip
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "driver_scaling.json").write_text(json.dumps(result, indent=1))
        plot(rows, fits, extra, args.step_time, args.out / "driver_scaling.png")
        print(f"[dexrl] wrote {args.out / 'driver_scaling.json'} and driver_scaling.png")
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

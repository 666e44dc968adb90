#!/usr/bin/env python
"""Learning curves: dexrl's PPO against the stable-baselines3 reference on the same task.

The sanity anchor of issue 9: a well-tested PPO on the same env, the same env steps and the same
cores. For every seed, dexrl trains with scripts/train.py's loop (the config-file defaults, local
Ray, 2 rollout workers, CPU learner) and SB3 PPO with `configs/algo/sb3.yaml` (2 envs in
subprocesses); both then run the mean action for `--eval-episodes` fresh episodes. Curves are
recorded against env steps and wall-clock seconds; the script writes `learning.json` and
`learning.png` in `--out` and prints one JSON object as the last line with `--json`.

    python scripts/bench_learning.py --env reach --env-set reach_target_range=0.3 --steps 300000 --seeds 0 1 2
    python scripts/bench_learning.py --env cube_rotate_z --steps 2000000 --seeds 0 1 2 --sb3 --json
    python scripts/bench_learning.py --env reach --set algo.epochs=4 --set train.horizon=32   # a variant
    python scripts/bench_learning.py --merge runs/cz_s0 runs/cz_s1 runs/sb3_s0 --out runs/cz   # one plot
    python scripts/bench_learning.py --from-runs runs/cube_rotate_z/<date1> runs/cube_rotate_z/<date2> --out docs/cz
        # scripts/train.py runs (and their scripts/evaluate.py eval/metrics.json) into the same plots

Run it alone on the machine: a learning run beside other heavy jobs changes the wall-clock axis
(the env-step axis and the final scores do not depend on the machine's load).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from dexrl.config import (
    EnvConfig,
    LoggerConfig,
    RayConfig,
    WandbConfig,
    default_algo_configs,
    default_train_config,
    load_env_config,
    load_group,
)  # fmt: skip
from dexrl.eval.episodes import run_episodes

CURVE_KEYS = ("success_rate", "consecutive_successes_mean", "episode_return_mean")
CURVE_LABELS = {"success_rate": "success rate (fraction of episodes)",
                "consecutive_successes_mean": "consecutive successes per episode (mean)",
                "episode_return_mean": "episode return (sum of rewards, mean)"}  # fmt: skip


def parse_sets(items: list[str]) -> dict[str, dict[str, Any]]:
    """["algo.lr=1e-3", "train.horizon=32", "model.init_log_std=-1"] -> {"algo": {...}, ...}."""
    out: dict[str, dict[str, Any]] = {"algo": {}, "train": {}, "model": {}}
    for item in items:
        key, sep, value = item.partition("=")
        group, dot, name = key.partition(".")
        if not sep or not dot or group not in out:
            raise SystemExit(f"--set {item!r}: expected algo.<key>=<value>, train.<key>=<value> "
                             "or model.<key>=<value>")
        out[group][name] = yaml.safe_load(value)
    return out


def train_dexrl(env: EnvConfig, steps: int, seed: int, sets: dict[str, dict[str, Any]],
                workers: int) -> tuple[list[dict[str, float]], Any]:
    """Train with the Trainer (real Ray, CPU learner); returns (curve rows, trained actor)."""
    from dexrl.distributed.trainer import Trainer
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict

    ppo, model = default_algo_configs("mlp")
    ppo = config_from_dict(PPOConfig, {**_fields(ppo), **sets["algo"]})
    model = config_from_dict(ModelConfig, {**_fields(model), **sets["model"]})
    train = default_train_config(total_env_steps=steps, num_workers=workers, device="cpu",
                                 checkpoint_every=10**6, **sets["train"])
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(env, ppo, model, None, train, RayConfig(num_cpus=workers), logger,
                          run_dir, seed=seed)
        trainer.run()
        trainer.close()
        rows = [json.loads(x) for x in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    from dexrl.rl.networks import load_actor_state, make_actor

    actor = make_actor(trainer.learner.dims["obs_dim"], trainer.learner.dims["action_dim"], model, ppo.obs_clip)
    load_actor_state(actor, trainer.learner.actor_state())  # the trained policy, on the CPU
    return curve_of(rows), actor


def curve_of(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The learning curve of a run's metrics.jsonl rows: env steps, wall time, episodes, CURVE_KEYS."""
    return [{"env_steps": r["env_steps"], "wall_time_s": r["wall_time_s"], "episodes": r["episodes"],
             **{k: r.get(k) for k in CURVE_KEYS}} for r in rows]  # fmt: skip


def _fields(cfg: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in cfg.__dict__.items()}


def train_sb3(env: EnvConfig, steps: int, seed: int) -> tuple[list[dict[str, float]], Any]:
    """SB3 PPO (configs/algo/sb3.yaml) with a curve point after every rollout."""
    from stable_baselines3.common.callbacks import BaseCallback

    from dexrl.baselines.sb3 import make_ppo, make_vec_env

    algo = load_group("algo", "sb3")
    vec = make_vec_env(env, int(algo["n_envs"]), seed, info_keywords=("consecutive_successes",))
    curve: list[dict[str, float]] = []
    t0 = time.perf_counter()

    class Curve(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            episodes = list(self.model.ep_info_buffer or [])[-20:]  # the latest finished episodes
            if not episodes:
                return
            successes = [float(e["consecutive_successes"]) for e in episodes]
            curve.append({
                "env_steps": self.num_timesteps, "wall_time_s": time.perf_counter() - t0,
                "episodes": len(episodes),
                "success_rate": float(np.mean([s > 0 for s in successes])),
                "consecutive_successes_mean": float(np.mean(successes)),
                "episode_return_mean": float(np.mean([e["r"] for e in episodes])),
            })  # fmt: skip

    model = make_ppo(algo, vec, seed)
    model.learn(total_timesteps=steps, callback=Curve())
    vec.close()

    def policy(obs: np.ndarray) -> np.ndarray:
        actions, _ = model.predict(obs, deterministic=True)
        return np.asarray(actions)

    return curve, policy


def evaluate(env: EnvConfig, policy: Any, episodes: int) -> dict[str, float]:
    """The mean action on fresh episodes (seed 123, as tests/learning)."""
    if hasattr(policy, "act"):
        actor = policy

        def policy(obs: np.ndarray) -> np.ndarray:  # noqa: F811 - the actor's mean action
            actions, _, _ = actor.act(obs, deterministic=True)
            return actions

    return run_episodes(env, policy, episodes=episodes, num_envs=16, seed=123)


SMOOTH = 5
"""Curve points averaged: SB3's final level is the mean of its last SMOOTH points, and dexrl
reaches it when the episode-weighted mean of SMOOTH consecutive points does. A dexrl point is
the episodes that ended in one iteration: where few ended (episodes of one length end together,
every few iterations) a point is noise, e.g. 1.0 from a single episode."""


def smoothed(curve: list[dict[str, float]], key: str) -> list[tuple[dict[str, float], float]]:
    """(last row, episode-weighted mean of `key`) for every SMOOTH consecutive points that have
    it. Points without an episode count weigh 1."""
    points = [row for row in curve if row.get(key) is not None]
    out = []
    for end in range(SMOOTH, len(points) + 1):
        window = points[end - SMOOTH : end]
        weights = [max(row.get("episodes", 1), 1e-9) for row in window]
        out.append((points[end - 1], float(np.average([row[key] for row in window], weights=weights))))
    return out


def time_to(curve: list[dict[str, float]], key: str, level: float) -> float | None:
    """Wall seconds until the smoothed `key` first reaches `level` (None if never)."""
    return next((row["wall_time_s"] for row, value in smoothed(curve, key) if value >= level), None)


def plot(results: dict[str, Any], key: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for algo, colour in (("dexrl", "tab:blue"), ("sb3", "tab:orange")):
        for run in results.get(algo, []):
            for ax, x in zip(axes, ("env_steps", "wall_time_s"), strict=True):
                points = [(r[x], value) for r, value in smoothed(run["curve"], key)]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, color=colour, alpha=0.8,
                            label=f"{algo} seed {run['seed']}")  # fmt: skip
    for ax, x in zip(axes, ("env steps", "wall-clock time (s)"), strict=True):
        ax.set_xlabel(x)
        ax.set_ylabel(CURVE_LABELS.get(key, key.replace("_", " ")))
        if key in ("success_rate", "consecutive_successes_mean"):
            ax.set_ylim(bottom=0.0)  # a rate or a count: never below zero
        ax.set_xlim(left=0.0)
        ax.grid(alpha=0.3)
    if axes[0].get_legend_handles_labels()[0]:  # a run shorter than the smoothing window has no curve
        axes[0].legend(fontsize=7)
    who = "dexrl PPO vs stable-baselines3 PPO" if results.get("sb3") else "dexrl PPO"
    fig.suptitle(f"{results['env']}: {who} (training episodes, "
                 f"episode-weighted mean of {SMOOTH} points)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="reach")
    p.add_argument("--env-set", action="append", default=[], help="env key=value (e.g. reach_target_range=0.3)")
    p.add_argument("--set", action="append", default=[], help="algo.k=v, train.k=v or model.k=v for dexrl")
    p.add_argument("--steps", type=int, default=300_000)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--sb3", action="store_true", help="also train the SB3 reference (= --algos dexrl sb3)")
    p.add_argument("--algos", nargs="+", choices=["dexrl", "sb3"], default=None,
                   help="which trainers to run (default: dexrl; e.g. --algos sb3 to add a reference "
                        "curve to an earlier dexrl run of the same --env/--steps/--seeds)")
    p.add_argument("--eval-episodes", type=int, default=64)
    p.add_argument("--curve-key", default="success_rate", choices=CURVE_KEYS)
    p.add_argument("--out", default="runs/bench_learning")
    p.add_argument("--json", action="store_true")
    p.add_argument("--from-runs", nargs="+", metavar="RUN_DIR", default=None,
                   help="train nothing: curves of scripts/train.py runs (metrics.jsonl), final "
                        "scores from each run's scripts/evaluate.py output (eval/metrics.json)")
    p.add_argument("--merge", nargs="+", metavar="DIR", default=None,
                   help="train nothing: combine the learning.json of earlier runs (seeds run one at "
                        "a time, an SB3 reference added later) into one in --out")
    args = p.parse_args()
    if args.from_runs:
        return write_results(from_runs([Path(d) for d in args.from_runs]), args)
    if args.merge:
        return write_results(merge([Path(d) for d in args.merge]), args)
    env = load_env_config(args.env, {k: yaml.safe_load(v) for k, v in
                                     (s.split("=", 1) for s in args.env_set)})  # fmt: skip
    sets = parse_sets(args.set)
    results: dict[str, Any] = {"env": args.env, "steps": args.steps, "env_overrides": args.env_set,
                               "dexrl_overrides": args.set, "dexrl": [], "sb3": []}  # fmt: skip
    random_policy = run_episodes(env, None, episodes=args.eval_episodes, num_envs=16, seed=123)
    results["random"] = random_policy
    algos = tuple(args.algos) if args.algos else ("dexrl", "sb3") if args.sb3 else ("dexrl",)
    for seed in args.seeds:
        for algo in algos:
            t0 = time.perf_counter()
            curve, policy = (train_dexrl(env, args.steps, seed, sets, args.workers) if algo == "dexrl"
                             else train_sb3(env, args.steps, seed))  # fmt: skip
            final = evaluate(env, policy, args.eval_episodes)
            run = {"seed": seed, "wall_s": time.perf_counter() - t0, "final": final, "curve": curve}
            results[algo].append(run)
            print(f"[bench_learning] {algo} seed {seed}: success_rate {final['success_rate']:.2f}, "
                  f"consecutive successes {final['consecutive_successes_mean']:.2f}, return "
                  f"{final['return_mean']:.2f} ({run['wall_s']:.0f} s)", flush=True)
    write_results(results, args)


def write_results(results: dict[str, Any], args: argparse.Namespace) -> None:
    summary = _summary(results, args.curve_key)
    results["summary"] = summary
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning.json").write_text(json.dumps(results, indent=1))
    plot(results, args.curve_key, out / "learning.png")
    plot(results, "consecutive_successes_mean", out / "learning_consecutive.png")
    print(f"[bench_learning] wrote {out / 'learning.json'}, {out / 'learning.png'} and "
          f"{out / 'learning_consecutive.png'}")
    if args.json:
        print(json.dumps(summary))


def from_runs(dirs: list[Path]) -> dict[str, Any]:
    """A results dict from scripts/train.py run directories (one seed each, one env): the curve
    from metrics.jsonl, the final scores from eval/metrics.json (scripts/evaluate.py's default
    out) when it exists. The random policy is evaluated here on the runs' env."""
    from dexrl.config import env_config_from_dict

    runs, env_cfg = [], None
    for d in dirs:
        metrics, config = d / "metrics.jsonl", d / "config.resolved.yaml"
        if not (metrics.is_file() and config.is_file()):
            raise SystemExit(f"--from-runs {d}: not a scripts/train.py run (metrics.jsonl and "
                             "config.resolved.yaml expected)")
        cfg = yaml.safe_load(config.read_text())
        env = env_config_from_dict(cfg["env"], source=str(config))
        if env_cfg is not None and env.name != env_cfg.name:
            raise SystemExit(f"--from-runs: {d} trained env {env.name}, the first run {env_cfg.name}")
        env_cfg = env_cfg or env
        rows = [json.loads(x) for x in metrics.read_text().splitlines() if x.strip()]
        curve = curve_of(rows)
        ev = d / "eval" / "metrics.json"
        final: dict[str, Any] = {}
        if ev.is_file():
            c = json.loads(ev.read_text())["calibrated"]
            final = {**c, "return_mean": c["episode_return_mean"]}
        runs.append({"seed": int(cfg["seed"]), "wall_s": rows[-1]["wall_time_s"], "final": final,
                     "curve": curve, "run_dir": str(d)})  # fmt: skip
    assert env_cfg is not None
    return {"env": env_cfg.name, "steps": max(r["curve"][-1]["env_steps"] for r in runs),
            "env_overrides": [], "dexrl_overrides": [], "dexrl": sorted(runs, key=lambda r: r["seed"]),
            "sb3": [], "random": run_episodes(env_cfg, None, episodes=128, num_envs=16, seed=123)}  # fmt: skip


def merge(dirs: list[Path]) -> dict[str, Any]:
    """One results dict from several runs' learning.json: runs of one env (and env overrides),
    each (trainer, seed) once; `steps` is the longest run's budget."""
    loaded = []
    for d in dirs:
        path = d / "learning.json"
        if not path.is_file():
            raise SystemExit(f"--merge {d}: no learning.json there (the --out of a finished "
                             "bench_learning run)")  # fmt: skip
        loaded.append((d, json.loads(path.read_text())))
    first_dir, merged = loaded[0]
    merged = {**merged, "dexrl": [], "sb3": [], "merged_from": [str(d) for d in dirs]}
    merged.pop("summary", None)
    for d, r in loaded:
        for key in ("env", "env_overrides"):
            if r[key] != merged[key]:
                raise SystemExit(f"--merge: {d} has {key}={r[key]!r}, {first_dir} has "
                                 f"{merged[key]!r}: merge runs of one task only")  # fmt: skip
        for algo in ("dexrl", "sb3"):
            for run in r[algo]:
                if any(x["seed"] == run["seed"] for x in merged[algo]):
                    raise SystemExit(f"--merge: {algo} seed {run['seed']} appears twice ({d} "
                                     "and an earlier directory): pass each run once")  # fmt: skip
                merged[algo].append({**run, "steps": r["steps"]})
        merged["steps"] = max(merged["steps"], r["steps"])
    for algo in ("dexrl", "sb3"):
        merged[algo].sort(key=lambda run: run["seed"])
    return merged


def _summary(results: dict[str, Any], key: str) -> dict[str, Any]:
    """Final scores per seed; with SB3: dexrl's wall time to SB3's final training-curve level."""
    s: dict[str, Any] = {"env": results["env"], "steps": results["steps"],
                         "random_success_rate": results["random"]["success_rate"],
                         "random_return_mean": results["random"]["return_mean"]}  # fmt: skip
    for algo in ("dexrl", "sb3"):
        runs = results[algo]
        if runs and all(r["final"] for r in runs):
            s[f"{algo}_success_rate"] = [r["final"]["success_rate"] for r in runs]
            s[f"{algo}_consecutive_successes_median"] = [r["final"]["consecutive_successes_median"] for r in runs]
            s[f"{algo}_return_mean"] = [r["final"]["return_mean"] for r in runs]
            s[f"{algo}_wall_s"] = [r["wall_s"] for r in runs]
    sb3_by_seed = {run["seed"]: run for run in results["sb3"]}
    paired = [(d, sb3_by_seed[d["seed"]]) for d in results["dexrl"] if d["seed"] in sb3_by_seed]
    if paired:
        ratios = []
        for d, b in paired:
            level = np.mean([r[key] for r in b["curve"] if r.get(key) is not None][-SMOOTH:])
            t = time_to(d["curve"], key, float(level))
            ratios.append(None if t is None else t / b["wall_s"])
        s["paired_seeds"] = [d["seed"] for d, _ in paired]
        s["dexrl_time_to_sb3_final_over_sb3_time"] = ratios
    return s


if __name__ == "__main__":
    main()

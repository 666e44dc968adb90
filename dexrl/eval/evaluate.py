"""Evaluate a checkpoint: metrics.json (calibrated and, with ADR state, at the trained ranges),
an mp4 of the first episodes, and robustness sweeps (one ADR parameter at a time across its hard
limits, CSV + PNG). Library code: typed arguments in, files and dicts out (scripts/evaluate.py
is the command line)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexrl.adr.config import ADRConfig
from dexrl.adr.params import PARAM_NAMES, get_spec
from dexrl.adr.report import trained_ranges_physical
from dexrl.config import EnvConfig, env_config_to_dict
from dexrl.eval.policy import Policy
from dexrl.eval.runner import EpisodeRecord, Randomization, run_episodes, summarize
from dexrl.sim.render import write_mp4


@dataclass
class EvalSettings:
    episodes: int = 100
    seed: int = 0
    num_envs: int = 16
    video_episodes: int = 2  # rendered episodes (0 = no video)
    video_size: tuple[int, int] = (480, 360)
    camera: str = "front"
    video_skipped: str | None = None  # why no video could be rendered (recorded in metrics.json)


def adr_range_randomization(ranges: dict[str, tuple[float, float]]) -> Randomization | None:
    """λ ~ U(φ_L, φ_H) per episode for every parameter whose trained range is not a point."""
    active = tuple(n for n in PARAM_NAMES if n in ranges and ranges[n][1] > ranges[n][0])
    if not active:
        return None
    return Randomization(active, lambda _j, rng: {n: rng.uniform(*ranges[n]) for n in active})


def pinned(name: str, lam: float) -> Randomization | None:
    """Parameter `name` at λ, everything else calibrated; λ = 0 is the calibrated model itself."""
    if lam == 0.0:
        return None
    return Randomization((name,), lambda _j, _rng: {name: lam})


def evaluate_policy(
    env: EnvConfig, policy: Policy, settings: EvalSettings, out: Path,
    adr_ranges: dict[str, tuple[float, float]] | None = None,
    progress: Callable[[str, int], None] | None = None,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the calibrated evaluation (with video) and, given ADR ranges, one at those ranges.
    Writes out/metrics.json (and out/video.mp4); returns the metrics dict. `source` (what was
    evaluated: checkpoint path, its env steps, the dexrl version) is recorded first in it."""
    out.mkdir(parents=True, exist_ok=True)
    dt = env.timestep * env.substeps
    records = run_episodes(
        env, policy, settings.episodes, settings.seed, settings.num_envs, None,
        settings.video_episodes, settings.video_size, settings.camera, _phase(progress, "calibrated"),
    )  # fmt: skip
    metrics: dict[str, Any] = {
        **(source or {}), "env": env.name, "episodes": settings.episodes, "seed": settings.seed,
        "control_dt_s": dt, "calibrated": summarize(records, dt),
        "per_episode": {"consecutive_successes": [r.successes for r in records],
                        "episode_return": [r.ret for r in records],
                        "dropped": [r.dropped for r in records],
                        "length": [r.length for r in records],
                        "end": [r.end for r in records]},
    }  # fmt: skip
    if any(r.solve is not None for r in records):
        metrics["solve"] = solve_metrics(records, str(env_config_to_dict(env).get("scramble", "")))
        metrics["per_episode"]["solve"] = [r.solve for r in records]
    frames = [f for r in records[: settings.video_episodes] for f in r.frames]
    if frames:
        write_mp4(out / "video.mp4", frames, fps=1.0 / dt)
        metrics["video"] = {"path": "video.mp4", "episodes": settings.video_episodes,
                            "frames": len(frames), "fps": 1.0 / dt}  # fmt: skip
    elif settings.video_skipped:
        metrics["video"] = {"skipped": settings.video_skipped}
    randomization = adr_range_randomization(adr_ranges or {})
    if randomization is not None:
        adr_records = run_episodes(env, policy, settings.episodes, settings.seed,
                                   settings.num_envs, randomization, progress=_phase(progress, "adr ranges"))
        metrics["adr_ranges"] = {**summarize(adr_records, dt),
                                 "ranges": {n: list(adr_ranges[n]) for n in randomization.active}}  # type: ignore[index]
        # The same ranges in physical units (value, or factor / amount on the calibrated model).
        metrics["adr_ranges"]["ranges_physical"] = trained_ranges_physical(env, metrics["adr_ranges"]["ranges"])
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics


def solve_metrics(records: Sequence[EpisodeRecord], scramble: str) -> dict[str, Any]:
    """cube_solve: solve rate, subgoals completed, and where the unsolved episodes stopped
    (counts by the kind of subgoal and the reason the episode ended)."""
    from dexrl.eval.episodes import solve_summary

    details = [r.solve for r in records if r.solve is not None]
    subgoals = [d["subgoals_completed"] for d in details]
    failed = [d["failed_at"] for d in details if "failed_at" in d]
    by_kind: dict[str, int] = {}
    by_reason: dict[str, int] = {}
    for f in failed:
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + 1
        by_reason[f["reason"]] = by_reason.get(f["reason"], 0) + 1
    return {
        "scramble": scramble or "random",
        **solve_summary([d["solved"] for d in details], subgoals),
        "subgoals_completed_median": float(np.median(subgoals)),
        "subgoals_completed_max": int(max(subgoals)),
        "plan_subgoals_median": float(np.median([d["plan_subgoals"] for d in details])),
        "failed_at_subgoal_median": float(np.median([f["subgoal"] for f in failed])) if failed else None,
        "failures_by_subgoal_kind": by_kind,
        "failures_by_reason": by_reason,
    }


def _phase(progress: Callable[[str, int], None] | None, what: str) -> Callable[[int], None] | None:
    """progress(what, n) as the runner's progress(n) callback."""
    if progress is None:
        return None
    return lambda n: progress(what, n)


# ---------------------------------------------------------------------------- sweeps


def sweep_points(name: str, adr: ADRConfig, points: int) -> list[float]:
    """`points` λ values evenly across the hard limits, plus the calibrated 0, sorted."""
    lo, hi = adr.hard_limits(get_spec(name))
    grid = set(np.round(np.linspace(lo, hi, points), 6).tolist()) | {0.0}
    return sorted(grid)


def run_sweep(
    env: EnvConfig, policy: Policy, names: Sequence[str], adr: ADRConfig, settings: EvalSettings,
    out: Path, adr_ranges: dict[str, tuple[float, float]] | None = None, points: int = 7,
    progress: Callable[[str, int], None] | None = None, source: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """One row per (parameter, λ): consecutive successes (median, p10, p90, mean) and rates on
    the same episode seeds as the plain evaluation. Writes out/sweep.csv and out/sweep.png
    (`source`, as for evaluate_policy, puts the checkpoint's training steps in the title)."""
    from dexrl.adr.apply import ApplyContext, scalar_nominals
    from dexrl.tasks.registry import make_task

    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    nominals = scalar_nominals(ApplyContext(probe), names)
    dt = env.timestep * env.substeps
    rows: list[dict[str, Any]] = []
    for name in names:
        for lam in sweep_points(name, adr, points):
            what = f"{name} λ={lam:+.2f}"
            recs = run_episodes(env, policy, settings.episodes, settings.seed, settings.num_envs,
                                pinned(name, lam), progress=_phase(progress, what))
            s = summarize(recs, dt)
            value = get_spec(name).to_value(nominals[name], lam) if name in nominals else math.nan
            trained = (adr_ranges or {}).get(name, (0.0, 0.0))
            rows.append({"param": name, "lambda": lam, "value": float(value),
                         "calibrated": lam == 0.0, "trained_low": trained[0], "trained_high": trained[1],
                         **{k: s[k] for k in ("consecutive_successes_median", "consecutive_successes_p10",
                                              "consecutive_successes_p90", "consecutive_successes_mean",
                                              "success_rate", "drop_rate", "episode_return_mean")}})  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "sweep.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    plot_sweep(rows, out / "sweep.png", title=sweep_title(env.name, settings.episodes, source),
               cap=float(env.max_successes) if env.max_successes else None)
    return rows


def sweep_title(env_name: str, episodes: int, source: dict[str, Any] | None = None) -> str:
    """What a sweep plot shows: the env, the checkpoint's training (env steps, iterations) when
    known, and how many episodes each point is."""
    source = source or {}
    steps, its = source.get("trained_env_steps"), source.get("trained_iterations")
    trained = "training steps unknown"
    if steps is not None:
        trained = f"trained {int(steps):,} env steps" + (f" ({int(its)} iterations)" if its is not None else "")
    return f"{env_name}, {trained}\n{episodes} episodes per point, mean action, the rest calibrated"


def sweep_axis(name: str, lams: Sequence[float], values: Sequence[float]) -> tuple[np.ndarray, str]:
    """The x values and the axis label of one sweep panel in physical terms ("cube mass (kg)"),
    never the dimensionless λ: a parameter whose calibrated value is not one number (every
    link's mass, every joint's damping) shows its factor on the calibrated model or the amount
    added to it (`ParamSpec.physical`)."""
    spec = get_spec(name)
    known = all(math.isfinite(v) for v in values)
    x = np.asarray(values, dtype=float) if known else np.array([spec.physical(lam) for lam in lams])
    return x, f"{name.replace('_', ' ')} ({spec.physical_unit(known)})"


def plot_sweep(rows: list[dict[str, Any]], path: Path, title: str = "", cap: float | None = None) -> Path:
    """One panel per parameter: median consecutive successes with the p10–p90 band against the
    parameter's value in its physical unit (`sweep_axis`), the calibrated value as a dashed
    line and the trained ADR range shaded when the checkpoint has one. Counts start at 0; `cap`
    (the env's max_successes, where an episode ends) is drawn dotted."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["param"] for r in rows))
    fig, axes = plt.subplots(1, len(names), figsize=(max(5.4, 4.6 * len(names)), 3.9), squeeze=False)
    top = max([r["consecutive_successes_p90"] for r in rows] + [cap or 0.0, 1.0])
    for ax, name in zip(axes[0], names, strict=True):
        rs = [r for r in rows if r["param"] == name]
        lams = [r["lambda"] for r in rs]
        x, label = sweep_axis(name, lams, [r["value"] for r in rs])
        ax.fill_between(x, [max(r["consecutive_successes_p10"], 0.0) for r in rs],
                        [r["consecutive_successes_p90"] for r in rs], alpha=0.25,
                        label="p10–p90 of episodes")  # fmt: skip
        ax.plot(x, [r["consecutive_successes_median"] for r in rs], "o-", label="median")
        calib = next(i for i, r in enumerate(rs) if r["calibrated"])
        ax.axvline(x[calib], color="k", ls="--", lw=1, label="calibrated")
        if cap:
            ax.axhline(cap, color="grey", ls=":", lw=1, label=f"episode ends at {cap:g} successes")
        lo, hi = rs[0]["trained_low"], rs[0]["trained_high"]
        if hi > lo:
            span = np.interp([lo, hi], lams, x)
            ax.axvspan(span[0], span[1], color="tab:green", alpha=0.12, label="trained ADR range")
        ax.set_xlabel(label)
        ax.set_ylabel("consecutive successes per episode")
        ax.set_ylim(0.0, top * 1.05)  # a count: never below zero, the same scale in every panel
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    if title:  # wrapped to the figure's width (about 12 characters an inch at this size)
        width = int(12 * fig.get_figwidth())
        fig.suptitle("\n".join(textwrap.fill(line, width) for line in title.splitlines()), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

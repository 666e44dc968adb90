"""Run N whole episodes of a batched task with a policy, each on its own seed, and summarize them.

Episode j always runs on the seed `episode_seed(seed, j)` in whichever env of the batch is free:
its result depends on (seed, j, policy, randomization) only, not on the batch size, so a sweep
point and a plain evaluation with the same seeds see the same episodes, and a test can recompute
any episode alone. Episodes are assigned in order and every started episode is counted (taking
"the first N to finish" of a batch would favour short episodes, i.e. early drops).

Randomization is applied the way training applies it (dexrl.adr.apply), with λ per episode
from a `LambdaSource`; λ = 0 everywhere (no source) is the calibrated model itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexrl.config import EnvConfig
from dexrl.eval.policy import Policy
from dexrl.tasks.registry import make_task

# Evaluation seeds are SeedSequence([_EVAL_TAG, seed, j]); training seeds are plain integers,
# so an evaluation never replays a training episode ("fresh seeds").
_EVAL_TAG = 0xE7A1
# (episode index, generator of that episode) -> λ of every active parameter.
LambdaSource = Callable[[int, np.random.Generator], Mapping[str, float]]


def episode_seed(seed: int, j: int) -> np.random.SeedSequence:
    """The seed episode j of an evaluation with `seed` runs on (also for independent checks)."""
    return np.random.SeedSequence([_EVAL_TAG, seed, j])


@dataclass
class EpisodeRecord:
    """One finished episode."""

    index: int
    ret: float
    successes: int  # consecutive successes (the episode ends at the first failure)
    length: int  # control steps
    dropped: bool
    unhealthy: bool
    lambdas: dict[str, float] = field(default_factory=dict)
    frames: list[np.ndarray] = field(default_factory=list)  # recorded episodes only
    # Why it ended: solved, dropped, unhealthy, timeout (no success in time), success cap, step cap.
    end: str = ""
    # cube_solve only: solved, the plan's length and where the episode stopped (solve_details).
    solve: dict[str, Any] | None = None
    # Per-episode sum of each named reward term ("reward/<term>"), as training logs it.
    reward_terms: dict[str, float] = field(default_factory=dict)


@dataclass
class Randomization:
    """Which parameters an evaluation randomizes and how λ is chosen per episode."""

    active: tuple[str, ...]
    source: LambdaSource


class _Video:
    """Frames of the first `episodes` episodes, with the goal as a ghost and the step's numbers."""

    def __init__(self, task: Any, episodes: int, width: int, height: int, camera: str) -> None:
        from dexrl.sim.render import FrameRenderer

        self.episodes = episodes
        self.renderer = FrameRenderer(task.base_model, width, height, camera) if episodes else None

    def capture(self, task: Any, i: int, record: EpisodeRecord, step: int) -> None:
        if self.renderer is None or record.index >= self.episodes:
            return
        from dexrl.eval.goals import goal_markers, goal_text

        text = [f"episode {record.index}  step {step}", *goal_text(task, i)]
        frame = self.renderer.render(task.sim.datas[i], goal_markers(task, i), text, task.sim.models[i])
        record.frames.append(frame)

    def close(self) -> None:
        if self.renderer is not None:
            self.renderer.close()


def run_episodes(
    env: EnvConfig,
    policy: Policy,
    episodes: int,
    seed: int = 0,
    num_envs: int = 16,
    randomization: Randomization | None = None,
    record: int = 0,
    video_size: tuple[int, int] = (480, 360),
    camera: str = "front",
    progress: Callable[[int], None] | None = None,
) -> list[EpisodeRecord]:
    """`episodes` finished episodes of `policy` (records in episode order).

    record: render the first `record` episodes (frames in their records); progress(n) is called
    with the number of episodes finished so far.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1 (got {episodes})")
    k = min(num_envs, episodes)
    task = make_task(env, num_envs=k, seed=seed, autoreset=False)
    context = _apply_context(task, randomization)
    video = _Video(task, record, *video_size, camera)
    running: list[EpisodeRecord | None] = [None] * k
    _skip_idle_physics(task, running)
    done_records: list[EpisodeRecord] = []
    next_j = 0
    policy.reset(k)
    try:
        for i in range(k):
            running[i] = _start(task, i, next_j, seed, randomization, context)
            next_j += 1
        obs, _ = task.observations()
        starts = np.ones(k, dtype=bool)
        steps = np.zeros(k, dtype=np.int64)
        for i in range(k):
            video.capture(task, i, running[i], 0)  # type: ignore[arg-type]
        while len(done_records) < episodes:
            r = task.step(policy(obs, starts))
            steps += 1
            starts[:] = False
            for i in range(k):
                rec = running[i]
                if rec is not None:
                    video.capture(task, i, rec, int(steps[i]))
            ended = np.flatnonzero(r.terminated | r.truncated)
            for i in ended.tolist():
                rec = running[i]
                if rec is None:  # idle env (every episode is assigned): keep stepping it
                    continue
                _finish(rec, task, i, r.info)
                done_records.append(rec)
                if progress is not None:
                    progress(len(done_records))
                running[i] = None
                if next_j < episodes:
                    running[i] = _start(task, i, next_j, seed, randomization, context)
                    next_j += 1
                    steps[i] = 0
                    starts[i] = True
                    video.capture(task, i, running[i], 0)  # type: ignore[arg-type]
            if ended.size:
                obs, _ = task.observations()
            else:
                obs = r.obs
    finally:
        video.close()
    return sorted(done_records, key=lambda e: e.index)


def _skip_idle_physics(task: Any, running: list[EpisodeRecord | None]) -> None:
    """Step the physics of envs that run an episode only. Once every episode is assigned, the
    envs that finished idle until the last one ends; their physics would be wasted work (up to
    a third of an evaluation's time, scripts/bench_eval.py). An idle env is never read again."""
    step = task.sim.step

    def busy_only(ctrl: np.ndarray) -> None:
        ids = [i for i, rec in enumerate(running) if rec is not None]
        step(ctrl, ids if len(ids) < len(running) else None)

    task.sim.step = busy_only


def _apply_context(task: Any, randomization: Randomization | None) -> Any:
    if randomization is None or not randomization.active:
        return None
    from dexrl.adr.apply import ApplyContext, check_appliers

    check_appliers(randomization.active, task)
    context = ApplyContext(task)
    if any(n.endswith("_perturbation") for n in randomization.active):
        task.pre_physics_hooks.append(context.perturb)
    return context


def _start(task: Any, i: int, j: int, seed: int, randomization: Randomization | None,
           context: Any) -> EpisodeRecord:  # fmt: skip
    """Put env i at the start of episode j: its own generator, its λ, a fresh state and goal."""
    task.reseed(i, episode_seed(seed, j))
    lambdas: dict[str, float] = {}
    if context is not None and randomization is not None:
        lambdas = {n: float(v) for n, v in randomization.source(j, task.rngs[i]).items()}
        context.apply(i, lambdas, randomization.active)
    task.sim.clear_warnings(i)
    task.reset_env(i)
    return EpisodeRecord(index=j, ret=0.0, successes=0, length=0, dropped=False,
                         unhealthy=False, lambdas=lambdas)  # fmt: skip


def _finish(rec: EpisodeRecord, task: Any, i: int, info: Mapping[str, np.ndarray]) -> None:
    rec.ret = float(task.episode_return[i])
    rec.reward_terms = {f"reward/{k}": float(v[i]) for k, v in task.episode_reward_terms.items()}
    rec.successes = int(task.consecutive_successes[i])
    rec.length = int(task.step_count[i])
    rec.dropped = bool(info["dropped"][i])
    rec.unhealthy = bool(info["unhealthy"][i])
    rec.end = end_reason(task, i, info)
    if "cube_solved" in info:
        rec.solve = solve_details(task, i, info)


def end_reason(task: Any, i: int, info: Mapping[str, np.ndarray]) -> str:
    """The first of the task's episode-ending conditions that holds (HandTask.step's order)."""
    cfg = task.cfg
    checks = (
        ("unhealthy", bool(info["unhealthy"][i])),
        ("dropped", bool(info["dropped"][i])),
        ("solved", bool(info.get("cube_solved", np.zeros(i + 1, bool))[i])),
        ("success cap", int(task.consecutive_successes[i]) >= cfg.max_successes),
        ("timeout", int(task.steps_since_success[i]) >= cfg.timeout_steps),
        ("step cap", int(task.step_count[i]) >= cfg.max_episode_steps),
    )  # fmt: skip
    return next((name for name, hit in checks if hit), "other")


def solve_details(task: Any, i: int, info: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """cube_solve's record of one ended episode: solved or not, the plan, and where it failed
    (the subgoal the hand was working on, its kind, and why the episode ended)."""
    from dexrl.tasks.rubiks import ROTATE

    solved = bool(info["cube_solved"][i])
    index, total = int(info["subgoal_index"][i]), int(info["subgoals_total"][i])
    details: dict[str, Any] = {"solved": solved, "subgoals_completed": int(task.consecutive_successes[i]),
                               "plan_subgoals": total, "replans": int(info["replans"][i])}  # fmt: skip
    if not solved:
        kind = "rotate" if int(info["subgoal_type"][i]) == ROTATE else "flip"
        details["failed_at"] = {"subgoal": index + 1, "of": total, "kind": kind,
                                "reason": end_reason(task, i, info)}  # fmt: skip
    return details


def summarize(records: list[EpisodeRecord], control_dt: float) -> dict[str, float | None]:
    """The figures a user compares policies by ([D]/[R] report consecutive successes)."""
    succ = np.array([r.successes for r in records], dtype=np.float64)
    rets = np.array([r.ret for r in records], dtype=np.float64)
    total_s = control_dt * sum(r.length for r in records)
    return {
        "episodes": float(len(records)),
        "consecutive_successes_mean": float(succ.mean()),
        "consecutive_successes_median": float(np.median(succ)),
        "consecutive_successes_p10": float(np.percentile(succ, 10)),
        "consecutive_successes_p90": float(np.percentile(succ, 90)),
        "success_rate": float((succ > 0).mean()),
        "drop_rate": float(np.mean([r.dropped for r in records])),
        "unhealthy_rate": float(np.mean([r.unhealthy for r in records])),
        # Simulated time per success over all episodes (None when nothing succeeded).
        "seconds_per_success": float(total_s / succ.sum()) if succ.sum() > 0 else None,
        "episode_return_mean": float(rets.mean()),
        "episode_return_median": float(np.median(rets)),
        "episode_length_mean": float(np.mean([r.length for r in records])),
        **{k: float(np.mean([r.reward_terms.get(k, 0.0) for r in records]))
           for k in sorted({k for r in records for k in r.reward_terms})},
    }

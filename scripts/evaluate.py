#!/usr/bin/env python
"""Evaluate a trained policy: metrics.json, an mp4 of the first episodes, robustness sweeps.

    python scripts/evaluate.py checkpoint=runs/cube_rotate/<date>
    python scripts/evaluate.py checkpoint=runs/cube_rotate/<date> episodes=20 out=eval/ video_episodes=1
    python scripts/evaluate.py checkpoint=<run> sweep=cube_mass,cube_friction_slide,action_latency

Own keys: checkpoint (a run dir or its checkpoints/latest), episodes (100), out (default
<run dir>/eval), seed (fresh evaluation seeds; 0), num_envs (16), video_episodes (2; 0 = none),
sweep (ADR parameters, comma separated; `all` = every parameter the env can vary), sweep_points
(7; 2 = the hard limits and the calibrated value). The env, robot and model come from
the checkpoint; `env.key=value` changes a value, `env=<name>` another env of the same shapes.
A bad key, value or checkpoint prints one line and exits 2 before anything runs. cube_solve is
evaluated on the fair scramble of [R] (env.scramble=... to choose another; "" = random):
metrics.json then has a "solve" block (solve rate, subgoals completed, where episodes failed).
face_turn is evaluated on [R] App. C.1's goals (rotate_probability 0.5, either direction) whatever
the run trained on; `env.rotate_probability=1.0` measures turn goals alone. metrics.json's
"evaluation_values" lists the env values the evaluation set this way.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dexrl.frontdoor import ConfigError, compose, exit_on_error, load_run, restore_configs

KEYS: dict[str, Any] = {"checkpoint": None, "episodes": 100, "out": None, "seed": 0,
                        "num_envs": 16, "video_episodes": 2, "sweep": None, "sweep_points": 7}  # fmt: skip


def _sweep_names(sweep: str | None, task: Any) -> list[str]:
    from dexrl.adr.apply import unsupported_reason
    from dexrl.adr.params import PARAM_NAMES

    names = [n.strip() for n in (sweep or "").split(",") if n.strip()]
    if names == ["all"]:  # every parameter this env can vary (reach: no cube, so no cube_*)
        return [n for n in PARAM_NAMES if unsupported_reason(n, task) is None]
    for n in names:
        if n not in PARAM_NAMES:
            raise ConfigError(f"sweep: unknown ADR parameter '{n}'; choose from: {', '.join(PARAM_NAMES)} "
                              f"(or sweep=all)")
        reason = unsupported_reason(n, task)
        if reason:
            raise ConfigError(f"sweep: parameter '{n}' cannot vary on env {task.cfg.name}: {reason}")
    return names


def _check_args(args: dict[str, Any]) -> None:
    for key in ("episodes", "num_envs", "sweep_points"):
        if args[key] < 1:
            raise ConfigError(f"{key} must be >= 1 (got {args[key]})")
    if args["video_episodes"] < 0:
        raise ConfigError(f"video_episodes must be >= 0 (got {args['video_episodes']})")


class _Bar:
    """One tqdm bar per phase (calibrated, adr ranges, each sweep point)."""

    def __init__(self, total: int) -> None:
        self.total, self.phase, self.bar, self.n = total, "", None, 0

    def __call__(self, phase: str, n: int) -> None:
        from tqdm import tqdm

        if phase != self.phase:
            self.close()
            self.phase, self.n = phase, 0
            self.bar = tqdm(total=self.total, desc=phase, unit="ep", file=sys.stderr, leave=False)
        assert self.bar is not None
        self.bar.update(n - self.n)
        self.n = n

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def evaluated_source(run: Any) -> dict[str, Any]:
    """What metrics.json evaluated: the checkpoint, its training counters, the dexrl version."""
    import dexrl

    counters = run.payload.get("counters") or {}
    return {"checkpoint": str(run.checkpoint_dir.resolve()),
            "trained_env_steps": int(counters["env_steps"]) if "env_steps" in counters else None,
            "trained_iterations": int(counters["iteration"]) if "iteration" in counters else None,
            "dexrl_version": dexrl.__version__}  # fmt: skip


@exit_on_error
def main(argv: list[str]) -> None:
    composed = compose(argv, "evaluate", KEYS)
    args = composed.args
    _check_args(args)
    if args["video_episodes"] > 0:
        from dexrl.headless import choose_gl_backend

        chosen = choose_gl_backend()  # before MuJoCo is imported; None with a display or MUJOCO_GL
        if chosen:
            print(f"[dexrl] {chosen}")
    run = load_run(args["checkpoint"])
    configs = restore_configs(composed, run, nodes=("env",))
    from dexrl.eval.evaluate import EvalSettings, evaluate_policy, run_sweep
    from dexrl.eval.policy import CheckpointPolicy
    from dexrl.tasks.registry import make_task, task_class

    # The conditions the task reports its results under (cube_solve: [R]'s fair scramble),
    # where the command line does not set them.
    evaluation = {k: v for k, v in task_class(configs.env.task).evaluation_values.items()
                  if not composed.touched(f"env.{k}")}  # fmt: skip
    configs.env = configs.env.with_values(**evaluation)

    task = make_task(configs.env, num_envs=1, seed=0, autoreset=False)
    from dexrl.frontdoor import check_dims

    check_dims(run, task.obs_dim, task.action_dim, configs.env.name)
    names = _sweep_names(args["sweep"], task)
    out = Path(args["out"]) if args["out"] else (run.run_dir or run.checkpoint_dir) / "eval"
    policy = CheckpointPolicy(run, task.obs_dim, task.action_dim)
    settings = EvalSettings(args["episodes"], args["seed"], args["num_envs"], args["video_episodes"])
    if settings.video_episodes:
        from dexrl.headless import render_unavailable_reason

        skipped = render_unavailable_reason()
        if skipped:  # the metrics need no OpenGL: evaluate anyway, say why there is no video
            print(f"[dexrl] video skipped: {skipped}; writing metrics only (set MUJOCO_GL=egl or "
                  f"osmesa, or video_episodes=0)", file=sys.stderr)  # fmt: skip
            settings.video_episodes, settings.video_skipped = 0, skipped
    ranges = {n: tuple(r) for n, r in (run.adr_state or {}).get("ranges", {}).items()}
    bar = _Bar(args["episodes"])
    try:
        source = {**evaluated_source(run), "evaluation_values": evaluation}
        metrics = evaluate_policy(configs.env, policy, settings, out, ranges, bar,  # type: ignore[arg-type]
                                  source=source)
        if names:
            run_sweep(configs.env, policy, names, run.adr, settings, out, ranges,  # type: ignore[arg-type]
                      args["sweep_points"], bar, source=source)  # fmt: skip
    finally:
        bar.close()
    c = metrics["calibrated"]
    print(f"[dexrl] {configs.env.name}, {args['episodes']} episodes (calibrated): consecutive successes "
          f"mean {c['consecutive_successes_mean']:.2f} median {c['consecutive_successes_median']:.1f} "
          f"p10 {c['consecutive_successes_p10']:.1f} p90 {c['consecutive_successes_p90']:.1f}; "
          f"success rate {c['success_rate']:.2f}, drop rate {c['drop_rate']:.2f}, "
          f"return {c['episode_return_mean']:.2f}")  # fmt: skip
    if "solve" in metrics:
        s = metrics["solve"]
        print(f"[dexrl] cube_solve ({s['scramble']}): solve rate {s['solve_rate']:.2f}, subgoals completed "
              f"mean {s['subgoals_completed']:.1f} median {s['subgoals_completed_median']:.1f} of a "
              f"{s['plan_subgoals_median']:.0f}-subgoal plan; failures by reason {s['failures_by_reason']}")  # fmt: skip
    if ranges:  # the checkpoint has ADR state: its trained ranges in physical units
        from dexrl.adr.report import format_ranges

        print(f"[dexrl] trained ADR ranges: {format_ranges(metrics.get('adr_ranges', {}).get('ranges_physical', {}))}")
    if "adr_ranges" in metrics:
        a = metrics["adr_ranges"]
        print(f"[dexrl] at the trained ADR ranges: consecutive successes mean "
              f"{a['consecutive_successes_mean']:.2f} median {a['consecutive_successes_median']:.1f}")  # fmt: skip
    print(f"[dexrl] wrote {out / 'metrics.json'}" + (f", {out / 'video.mp4'}" if "video" in metrics else "")
          + (f", {out / 'sweep.csv'}, {out / 'sweep.png'}" if names else ""))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

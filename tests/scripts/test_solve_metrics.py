"""cube_solve evaluation: metrics.json says whether the fair scramble was solved, how many
subgoals were completed and where each episode failed, consistent with the episodes themselves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dexrl.eval.evaluate import EvalSettings, evaluate_policy
from dexrl.eval.policy import ZeroPolicy
from dexrl.eval.runner import episode_seed
from dexrl.solver import CubeState, parse_moves
from dexrl.tasks.registry import load_env_config, make_task
from dexrl.tasks.rubiks import ROTATE
from dexrl.tasks.rubiks_cube import FAIR_SCRAMBLE


def test_cube_solve_metrics_report_the_fair_scramble_and_where_it_failed(tmp_path: Path) -> None:
    # A short timeout keeps the test short; the hand holding still completes no subgoal.
    env = load_env_config("cube_solve").with_values(scramble=FAIR_SCRAMBLE, timeout_steps=12)
    probe = make_task(env, num_envs=1, seed=0, autoreset=False)
    metrics = evaluate_policy(env, ZeroPolicy(probe.action_dim), EvalSettings(episodes=2, num_envs=2,
                              video_episodes=0), tmp_path)  # fmt: skip
    assert json.loads((tmp_path / "metrics.json").read_text())["solve"] == metrics["solve"]
    solve = metrics["solve"]
    per = metrics["per_episode"]["solve"]
    assert solve["scramble"] == FAIR_SCRAMBLE
    assert solve["solve_rate"] == 0.0 and [d["solved"] for d in per] == [False, False]
    assert solve["subgoals_completed"] == np.mean(metrics["per_episode"]["consecutive_successes"]) == 0.0
    for j, d in enumerate(per):
        # The plan the episode started with, rebuilt alone from the same episode seed.
        probe.reseed(0, episode_seed(0, j))
        probe.reset_env(0)
        assert probe.cubes[0].state == CubeState.solved().apply(parse_moves(FAIR_SCRAMBLE))
        assert d["plan_subgoals"] == len(probe.plans[0].subgoals) > 20
        reason = metrics["per_episode"]["end"][j]
        # Nothing was completed: it failed on the subgoal it started with (a flip to the face
        # already on top is skipped at reset, so that can be the second).
        start = probe.plans[0].index
        kind = "rotate" if probe.goal_type[0] == ROTATE else "flip"
        assert d["failed_at"] == {"subgoal": start + 1, "of": d["plan_subgoals"], "kind": kind,
                                  "reason": reason}  # fmt: skip
        assert reason in ("timeout", "dropped")
    assert sum(solve["failures_by_reason"].values()) == 2

"""scripts/evaluate.py on a real checkpoint: metrics.json against episodes recomputed one by one,
the mp4 decoded frame by frame, the sweep's calibrated point against the plain evaluation."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _evaluate(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "evaluate.py"), *args],
                          capture_output=True, text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def evaluation(reach_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("eval")
    r = _evaluate([f"checkpoint={reach_run}", "episodes=5", "num_envs=2", "video_episodes=1",
                   "sweep=actuator_gain", "sweep_points=2", f"out={out}", "seed=3"])  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return out


def _episode_alone(run, j: int, seed: int) -> tuple[float, int, int, bool]:  # type: ignore[no-untyped-def]
    """Episode j recomputed in a one-env batched task, stepped by hand with the actor's mean."""
    import torch

    from dexrl.eval.runner import episode_seed
    from dexrl.rl.networks import load_actor_state, make_actor
    from dexrl.tasks.registry import make_task

    task = make_task(run.env, num_envs=1, seed=0, autoreset=False)
    actor = make_actor(task.obs_dim, task.action_dim, run.model, run.ppo.obs_clip)
    load_actor_state(actor, run.payload["learner"]["actor"])
    task.reseed(0, episode_seed(seed, j))
    task.reset_env(0)
    obs, _ = task.observations()
    total, steps = 0.0, 0
    while True:
        with torch.no_grad():
            mean, _ = actor(torch.as_tensor(obs, dtype=torch.float32)[None])
        r = task.step(np.clip(mean[0].numpy(), -1, 1))
        total += float(r.reward[0])
        steps += 1
        obs = r.obs
        if r.terminated[0] or r.truncated[0]:
            return total, int(task.consecutive_successes[0]), steps, bool(r.info["dropped"][0])


def test_metrics_match_episodes_computed_alone(evaluation: Path, reach_run: Path) -> None:
    from dexrl.frontdoor import load_run

    metrics = json.loads((evaluation / "metrics.json").read_text())
    per = metrics["per_episode"]
    run = load_run(reach_run)
    alone = [_episode_alone(run, j, seed=3) for j in range(5)]
    assert per["episode_return"] == pytest.approx([a[0] for a in alone], rel=1e-5, abs=1e-6)
    assert per["consecutive_successes"] == [a[1] for a in alone]
    assert per["length"] == [a[2] for a in alone]
    succ = np.array([a[1] for a in alone], dtype=float)
    c = metrics["calibrated"]
    assert c["consecutive_successes_mean"] == pytest.approx(succ.mean())
    assert c["consecutive_successes_p90"] == pytest.approx(np.percentile(succ, 90))
    assert c["episode_return_mean"] == pytest.approx(np.mean([a[0] for a in alone]), rel=1e-5)


def test_video_decodes_with_one_frame_per_step_plus_the_start(evaluation: Path) -> None:
    from dexrl.sim.render import read_mp4

    metrics = json.loads((evaluation / "metrics.json").read_text())
    frames = read_mp4(evaluation / "video.mp4")
    assert len(frames) == metrics["per_episode"]["length"][0] + 1
    assert frames[0].shape == (360, 480, 3)
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # the hand moved


def test_sweep_calibrated_point_equals_the_plain_evaluation(evaluation: Path) -> None:
    metrics = json.loads((evaluation / "metrics.json").read_text())
    with open(evaluation / "sweep.csv") as f:
        rows = list(csv.DictReader(f))
    assert [float(r["lambda"]) for r in rows] == sorted(float(r["lambda"]) for r in rows)
    assert len(rows) == 3  # two grid points (the hard limits) plus the calibrated 0
    calib = [r for r in rows if r["calibrated"] == "True"]
    assert len(calib) == 1 and float(calib[0]["lambda"]) == 0.0
    c = metrics["calibrated"]
    for key in ("consecutive_successes_median", "consecutive_successes_mean", "episode_return_mean"):
        assert float(calib[0][key]) == pytest.approx(c[key]), key
    # A weaker hand (gain at its lower hard limit) is not the same episodes: the sweep varied it.
    low = rows[0]
    assert float(low["episode_return_mean"]) != pytest.approx(c["episode_return_mean"])
    png = (evaluation / "sweep.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_face_turn_is_evaluated_on_the_standard_goals_whatever_it_trained_on(tmp_path: Path) -> None:
    """A run trained on a curriculum (turn goals only, clockwise only) is reported on [R] App.
    C.1's goals unless the command line sets them; metrics.json names what evaluation set."""
    from export.exported import env_config, write_trained_checkpoint

    env = env_config("face_turn", rotate_probability=1.0, rotate_direction=1)
    write_trained_checkpoint(tmp_path / "run" / "checkpoints" / "latest", env, "mlp")
    common = [f"checkpoint={tmp_path / 'run'}", "episodes=2", "num_envs=2", "video_episodes=0"]
    r = _evaluate([*common, f"out={tmp_path / 'standard'}"])
    assert r.returncode == 0, r.stderr[-3000:]
    standard = json.loads((tmp_path / "standard" / "metrics.json").read_text())
    assert standard["evaluation_values"] == {"rotate_probability": 0.5, "rotate_direction": 0}
    r = _evaluate([*common, "env.rotate_probability=1.0", f"out={tmp_path / 'turns'}"])
    assert r.returncode == 0, r.stderr[-3000:]
    turns = json.loads((tmp_path / "turns" / "metrics.json").read_text())
    assert turns["evaluation_values"] == {"rotate_direction": 0}  # the command line's value stays

"""Learning-regression runs: the point is never to lose the ability to train.

Run alone with `pytest -m learning`. Each trains with the real loop (real Ray, 2 rollout
workers, CPU learner) for a fixed number of env steps and compares with thresholds set from
several seeds (figures in README "Learning regression").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from dexrl.config import (
    EnvConfig,
    LoggerConfig,
    RayConfig,
    WandbConfig,
    default_algo_configs,
    default_train_config,
    load_env_config,
)
from dexrl.eval.episodes import run_episodes

pytestmark = [pytest.mark.learning, pytest.mark.timeout(900)]


def _train(env: EnvConfig, steps: int, tmp_path: Path, seed: int = 0) -> tuple[list[dict], Any]:
    from dexrl.distributed.trainer import Trainer

    # configs/config.yaml's train node (envs per worker, horizon, learner threads ...): the test
    # guards what `python scripts/train.py` runs, on 2 workers and the CPU learner.
    train = default_train_config(total_env_steps=steps, num_workers=2, device="cpu",
                                 checkpoint_every=10**6)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10)
    ppo, model = default_algo_configs("mlp")  # what scripts/train.py uses by default
    trainer = Trainer(env, ppo, model, None,
                      train, RayConfig(num_cpus=2), logger, tmp_path, seed=seed)
    trainer.run()
    rows = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    return rows, trainer.learner.actor


def _evaluate(env: EnvConfig, actor: Any, episodes: int) -> dict[str, float]:
    """The trained policy's mean action (deterministic), same protocol as the random baseline."""
    actor = actor.cpu()

    def policy(obs: np.ndarray) -> np.ndarray:
        actions, _, _ = actor.act(obs, deterministic=True)
        return actions

    return run_episodes(env, policy, episodes=episodes, num_envs=16, seed=123)


def _late(rows: list[dict], key: str, n: int = 10) -> float:
    vals = [r[key] for r in rows[-n:] if r.get(key) is not None]
    return float(np.mean(vals))


def test_reach_reaches_success_threshold(ray_session, tmp_path: Path) -> None:
    # The small problem of the reach task (experiment=reach_fast): targets within 30% of the joint
    # ranges, every fingertip within 1 cm. Goals already met are never drawn, yet a random walk
    # can end within 1 cm of a target now and then (1 of 64 episodes measured).
    env = load_env_config("reach", {"reach_target_range": 0.3})
    random_policy = run_episodes(env, None, episodes=64, num_envs=16, seed=123)
    assert random_policy["success_rate"] <= 0.05
    rows, actor = _train(env, 400_000, tmp_path)  # experiment=reach_fast
    trained = _evaluate(env, actor, episodes=64)
    print(f"reach: random {random_policy}, trained {trained}, late training success_rate "
          f"{_late(rows, 'success_rate', 3):.3f}")
    # Seeds 0 / 1 / 2 with the defaults (400k steps, 2 workers x 64 envs x 64 steps): success rate
    # 0.98 / 1.00 / 1.00, median consecutive successes 8 / 8 / 7 (README "Learning regression";
    # at 300k: 0.94 / 0.94 / 0.80; before issue 9, at 300k: 0.39 / 0.00 / 0.16).
    assert trained["success_rate"] >= 0.8, trained
    assert trained["consecutive_successes_median"] >= 3, trained
    # The controller kept each update near desired_kl (0.016): within its band [0.008, 0.032]
    # on most updates.
    kls = [r["kl_end"] for r in rows]
    assert np.median(kls) <= 0.032, kls


def cube_z_fast_env() -> EnvConfig:
    """cube_rotate_z with `experiment=cube_z_fast`'s env settings (read from its yaml, so the
    test follows the experiment)."""
    import yaml

    from dexrl.paths import configs_dir

    experiment = yaml.safe_load((configs_dir() / "experiment" / "cube_z_fast.yaml").read_text())
    return load_env_config("cube_rotate_z", experiment["env"])


def test_cube_rotate_z_improves_over_random_policy(ray_session, tmp_path: Path) -> None:
    env = cube_z_fast_env()
    random_policy = run_episodes(env, None, episodes=128, num_envs=16, seed=123)
    # Relative actions: zero holds every target, so the hand keeps its grasp and never turns the
    # block (goals are drawn beyond the tolerance): the baseline that "not dropping" alone meets.
    still = run_episodes(env, lambda obs: np.zeros((len(obs), 20)), episodes=128, num_envs=16, seed=123)
    rows, actor = _train(env, 300_000, tmp_path)
    trained = _evaluate(env, actor, episodes=128)
    print(f"cube_rotate_z: random {random_policy}, hold still {still}, trained {trained}, late "
          f"training return {_late(rows, 'episode_return_mean', 3):.3f}")
    # experiment=cube_z_fast's env (grasp start, 10 ms x 8, shaping terms), README "In-hand
    # rotation". 128 episodes: random return -2.33, success rate 0.07, drop rate 0.06, turned
    # 0.020 rad toward the goal per episode; holding still -0.05, 0.00, 0.00, 0.008 rad.
    # Trained at 300k, seeds 0/1/2/3/4 on the dev machine: return 1.03/0.71/0.50/0.55/0.94,
    # success rate 0.27/0.22/0.09/0.12/0.16, no drop but one episode of seed 1, turned
    # 0.275/0.271/0.305/0.072/0.150 rad; the run CI made of seed 0 (another CPU, so another
    # trajectory): return 0.21, success rate 0.08, no drop.
    # At 300k a policy holds the block and turns it to some goals; at 5M the median is 13.5-50
    # consecutive successes (README).
    assert trained["return_mean"] >= random_policy["return_mean"] + 1.5, (trained, random_policy)
    assert trained["drop_rate"] <= random_policy["drop_rate"], (trained, random_policy)
    assert trained["success_rate"] >= 0.05 > still["success_rate"], (trained, still)
    assert trained["reward/rotation_speed"] > still["reward/rotation_speed"], (trained, still)

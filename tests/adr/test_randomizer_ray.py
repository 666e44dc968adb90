"""EpisodeRandomizer with the real ADR state actor: a rollout worker's episodes reach it."""

from __future__ import annotations

from dexrl.adr import PARAM_NAMES, ADRConfig, ParamConfig
from dexrl.adr.randomizer import EpisodeRandomizer
from dexrl.config import load_env_config
from dexrl.distributed.adr_actor import ADRStateActor
from dexrl.distributed.worker import RolloutWorker
from dexrl.rl.config import ModelConfig

SMALL = ModelConfig(actor_hidden=(32,), critic_hidden=(32,))


def test_worker_sends_boundary_results_to_the_adr_actor(ray_session) -> None:  # type: ignore[no-untyped-def]
    ray = ray_session
    two = {n: ParamConfig(enabled=n in ("gravity", "cube_mass")) for n in PARAM_NAMES}
    # Every episode is a boundary episode; 3 successes per episode ≥ t_H = 2 widens.
    cfg = ADRConfig(mode="auto", boundary_prob=1.0, buffer_size=4, threshold_low=1.0,
                    threshold_high=2.0, params=two)  # fmt: skip
    actor = ray.remote(num_cpus=0)(ADRStateActor).remote(cfg)
    randomizer = EpisodeRandomizer(cfg, actor, seed=0)
    env = load_env_config("cube_rotate", {"max_episode_steps": 3, "success_tolerance": 4.0})
    worker = RolloutWorker(env, SMALL, num_envs=4, horizon=6, seed=0, randomizer=randomizer)
    for _ in range(4):
        worker.rollout(None)
        assert randomizer._reports == []  # flushed at the end of every rollout
    metrics = ray.get(actor.metrics.remote())  # ordered after this process's report calls
    # 4 rollouts × 4 envs × 2 episodes of 3 steps each, all boundary episodes.
    assert metrics["adr/boundary_reports"] + metrics["adr/stale_reports"] == 32
    assert metrics["adr/invalid_episodes"] == 0 and metrics["adr/nonboundary_reports"] == 0
    assert metrics["adr/widen_events"] >= 1
    assert "adr/cube_mass/high_value" in metrics  # the worker sent the model's nominals
    # Assignments arrive in batches of 2·K = 8: 4 first resets + 32 episodes = 36 used.
    assert metrics["adr/episodes"] % 8 == 0 and 36 <= metrics["adr/episodes"] <= 36 + 16

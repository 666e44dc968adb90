"""train.video_every: a short training writes a decodable mp4 per due iteration, rendered by an
actor of its own that the trainer never waits for."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import ray

from dexrl.distributed.video import VIDEO_SIZE, VIDEO_STEPS, VideoRecorder
from dexrl.sim.render import read_mp4


def test_training_with_video_every_writes_a_decodable_mp4(reach_run: Path) -> None:
    # 2 iterations with video_every=1: the weights after update 1 are rendered (after update 2
    # training ends, and no collect follows).
    assert sorted(p.name for p in (reach_run / "videos").iterdir()) == ["iter_1.mp4"]
    frames = read_mp4(reach_run / "videos" / "iter_1.mp4")
    assert 2 <= len(frames) <= VIDEO_STEPS + 1  # the start plus one frame per control step
    assert frames[0].shape == (VIDEO_SIZE[1], VIDEO_SIZE[0], 3)
    assert frames[0].std() > 10  # a rendered scene, not a blank image
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 0.5  # the hand moved


def test_recorder_never_waits_and_skips_a_video_due_while_one_renders(ray_session, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dexrl.rl.config import ModelConfig
    from dexrl.rl.networks import make_actor
    from dexrl.tasks.registry import load_env_config, make_task

    env = load_env_config("reach", {"max_episode_steps": 10, "timeout_steps": 10})  # a short render
    task = make_task(env, num_envs=1, seed=0, autoreset=False)
    weights = make_actor(task.obs_dim, task.action_dim, ModelConfig()).state_dict()
    warnings: list[str] = []
    rec = VideoRecorder(env, ModelConfig(), 5.0, every=2, run_dir=tmp_path, warn=warnings.append)
    try:
        ref = ray.put(weights)
        t0 = time.perf_counter()
        rec.maybe_start(1, ref)  # not due
        assert rec.pending is None
        rec.maybe_start(2, ref)  # due: started, not awaited
        rec.maybe_start(4, ref)  # due, but the render of 2 is still running: skipped
        assert time.perf_counter() - t0 < 2.0
        assert rec.pending is not None and rec.pending[0] == 2
        rec.finish(timeout_s=300)
    finally:
        rec.close()
    assert warnings == []
    assert [p.name for p in rec.written] == ["iter_2.mp4"]
    assert len(read_mp4(tmp_path / "videos" / "iter_2.mp4")) >= 2

"""Videos during training (`train.video_every=N`): every N iterations one short episode of the
current policy is rendered by a Ray actor of its own and saved as videos/iter_<k>.mp4 in the run
directory (and logged to Weights & Biases when it is on).

The trainer never waits for a render: it hands the actor the weights it has just broadcast to
the rollout workers (the same object reference) and collects the finished mp4 at a later
iteration; a render still running when the next one is due is not queued (that video is skipped).
The actor asks Ray for no CPU (`num_cpus=0`), so it takes no rollout worker's place, and runs at
the lowest scheduling priority (nice 19), so on a busy machine it only uses idle cycles.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import ray

from dexrl.config import EnvConfig

# Control steps of a training video at most (8 s at 12.5 Hz): short enough to render in the
# background within an iteration or two, long enough to see the policy at work.
VIDEO_STEPS = 100
VIDEO_SIZE = (320, 240)


class _VideoActor:
    """Renders one calibrated episode of the policy with the given weights (mean action)."""

    def __init__(self, env: EnvConfig, model: Any, obs_clip: float, camera: str) -> None:
        from dexrl.rl.networks import make_actor
        from dexrl.tasks.registry import make_task

        os.nice(19)  # the rollout workers and the learner come first
        self.env = replace(env, max_episode_steps=min(env.max_episode_steps, VIDEO_STEPS))
        probe = make_task(self.env, num_envs=1, seed=0, autoreset=False)
        self.actor = make_actor(probe.obs_dim, probe.action_dim, model, obs_clip)
        self.camera = camera

    def render(self, weights: dict[str, Any], seed: int) -> tuple[bytes, int, float]:
        """(mp4 bytes, frames, fps) of one episode from `seed` (frames = steps + 1)."""
        from dexrl.eval.policy import ActorPolicy
        from dexrl.eval.runner import run_episodes
        from dexrl.rl.networks import load_actor_state
        from dexrl.sim.render import write_mp4

        load_actor_state(self.actor, weights)
        record = run_episodes(self.env, ActorPolicy(self.actor), 1, seed=seed, num_envs=1,
                              record=1, video_size=VIDEO_SIZE, camera=self.camera)[0]  # fmt: skip
        fps = 1.0 / (self.env.timestep * self.env.substeps)
        with tempfile.TemporaryDirectory() as tmp:
            path = write_mp4(Path(tmp) / "video.mp4", record.frames, fps)
            return path.read_bytes(), len(record.frames), fps


class VideoRecorder:
    """The trainer's side: starts renders every `every` iterations, saves and logs finished ones."""

    def __init__(self, env: EnvConfig, model: Any, obs_clip: float, every: int, run_dir: Path,
                 warn: Callable[[str], None], camera: str = "front") -> None:  # fmt: skip
        self.every, self.run_dir, self.warn = every, Path(run_dir), warn
        actor_cls = ray.remote(num_cpus=0, max_restarts=0)(_VideoActor)
        self.actor: Any = actor_cls.remote(env, model, obs_clip, camera)
        self.pending: tuple[int, Any] | None = None
        self.written: list[Path] = []

    def maybe_start(self, iteration: int, weights_ref: Any) -> None:
        """Collect a finished render; start one for `iteration` if it is due and none is running."""
        self.poll()
        if iteration <= 0 or iteration % self.every or self.pending is not None:
            return
        self.pending = (iteration, self.actor.render.remote(weights_ref, iteration))

    def poll(self, timeout_s: float = 0.0) -> None:
        """Save (and log) the pending render if it finished within `timeout_s` (0: do not wait)."""
        if self.pending is None:
            return
        iteration, ref = self.pending
        ready, _ = ray.wait([ref], timeout=timeout_s)
        if not ready:
            return
        self.pending = None
        try:
            data, _frames, _fps = ray.get(ref)
        except (ray.exceptions.RayError, RuntimeError) as err:  # e.g. no OpenGL for rendering
            self.warn(f"video of iteration {iteration} failed: {str(err).strip().splitlines()[-1]}")
            return
        path = self.run_dir / "videos" / f"iter_{iteration}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.written.append(path)
        _log_to_wandb(path, iteration)

    def finish(self, timeout_s: float = 120.0) -> None:
        """At the end of training: wait (bounded) for the render in flight so it is not lost."""
        self.poll(timeout_s)
        if self.pending is not None:
            self.warn(f"video of iteration {self.pending[0]} not finished within {timeout_s:.0f} s")
            self.pending = None

    def close(self) -> None:
        ray.kill(self.actor)


def _log_to_wandb(path: Path, iteration: int) -> None:
    """Attach the mp4 to the run's next logged step (the metrics log owns the wandb run).
    The file is logged as it is: wandb encodes a (T, C, H, W) array only with moviepy, which
    dexrl does not need, and the frames would be the same."""
    import sys

    wandb = sys.modules.get("wandb")  # imported by MetricsLog only when wandb is on
    if wandb is None or wandb.run is None:
        return
    wandb.run.log({"video": wandb.Video(str(path), format="mp4"), "video_iteration": iteration},
                  commit=False)  # fmt: skip

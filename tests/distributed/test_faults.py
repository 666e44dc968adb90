"""Fault tolerance with real Ray and real processes: a SIGKILLed rollout worker is restarted and
the run finishes; a SIGKILLed trainer resumes from its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from dexrl.config import LoggerConfig, RayConfig, TrainConfig, WandbConfig, load_env_config
from dexrl.rl.config import ModelConfig, PPOConfig

ROOT = Path(__file__).resolve().parents[2]
SMALL_MODEL = ModelConfig(actor_hidden=(64, 64), critic_hidden=(64, 64))


def _trainer(tmp_path: Path, total_steps: int):  # type: ignore[no-untyped-def]
    from dexrl.distributed.trainer import Trainer

    train = TrainConfig(total_env_steps=total_steps, num_workers=2, envs_per_worker=4, horizon=8,
                        device="cpu", checkpoint_every=1000)
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False)
    env = load_env_config("reach", {"max_episode_steps": 10, "timeout_steps": 10})
    return Trainer(env, PPOConfig(epochs=1, minibatches=1), SMALL_MODEL, None, train,
                   RayConfig(), logger, tmp_path)


def test_sigkilled_worker_is_restarted_and_run_finishes(ray_session, tmp_path: Path) -> None:
    import ray

    trainer = _trainer(tmp_path, total_steps=64 * 8)
    pids = ray.get([w.pid.remote() for w in trainer.workers])
    # Kill worker 0 while its rollout is in flight: that rollout is lost, the actor restarts.
    futures = trainer._launch(ray.put(trainer.learner.actor_state()))
    os.kill(pids[0], signal.SIGKILL)
    batches, _ = trainer._gather(futures)
    assert trainer.counters["worker_restarts"] == 1
    assert len(batches) == 1  # the surviving worker's rollout still arrives
    last = trainer.run()
    assert last["env_steps"] >= 64 * 8
    assert last["worker_restarts"] == 1
    new_pid = ray.get(trainer.workers[0].pid.remote())
    assert new_pid != pids[0]  # a fresh process, constructed again by Ray
    log = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert log[-1]["worker_restarts"] == 1


def _train_cmd(run_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable, str(ROOT / "scripts" / "train.py"), "env=cube_rotate_z", "logger=none",
        "env.max_episode_steps=10",
        "ray.num_cpus=2", "train.num_workers=2", "train.envs_per_worker=4", "train.horizon=8",
        "train.device=cpu", "algo.epochs=1", "algo.minibatches=1",
        "model.actor_hidden=[64,64]", "model.critic_hidden=[64,64]", "adr=auto",
        "train.checkpoint_every=2", f"hydra.run.dir={run_dir}", *extra,
    ]  # fmt: skip


def _env() -> dict[str, str]:
    env = dict(os.environ, WANDB_MODE="disabled", RAY_AUTH_MODE="disabled")
    env.pop("RAY_ADDRESS", None)
    return env


@pytest.mark.slow
def test_sigkilled_trainer_resumes_from_last_checkpoint(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = subprocess.Popen(_train_cmd(run_dir, "train.total_env_steps=100000000"), env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    meta = run_dir / "checkpoints" / "latest" / "meta.json"
    deadline = time.time() + 240
    while time.time() < deadline:
        if meta.is_file() and json.loads(meta.read_text())["counters"]["iteration"] >= 4:
            break
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.5)
    else:
        pytest.fail("no checkpoint at iteration >= 4 within 240 s")
    os.killpg(proc.pid, signal.SIGKILL)  # the trainer and everything it started
    proc.wait()
    saved = torch.load(run_dir / "checkpoints" / "latest" / "checkpoint.pt", weights_only=True)
    it0 = int(saved["counters"]["iteration"])
    steps0 = int(saved["counters"]["env_steps"])
    count0 = float(saved["learner"]["obs_rms"]["count"])
    adr0 = json.loads(saved["adr"])
    target = steps0 + 3 * 64
    out = subprocess.run(_train_cmd(run_dir, f"train.total_env_steps={target}", f"resume={run_dir}"),
                         env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    resumed = torch.load(run_dir / "checkpoints" / "latest" / "checkpoint.pt", weights_only=True)
    assert int(resumed["counters"]["iteration"]) == it0 + 3  # counters continue
    assert int(resumed["counters"]["env_steps"]) == target
    # Normalizer statistics kept growing from the checkpointed count (not from zero).
    assert float(resumed["learner"]["obs_rms"]["count"]) == pytest.approx(count0 + 3 * 64)
    adr1 = json.loads(resumed["adr"])
    assert adr1["counters"]["episodes"] >= adr0["counters"]["episodes"]
    assert set(adr1["ranges"]) == set(adr0["ranges"])
    lines = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert lines[-1]["iteration"] == it0 + 3
    # One run, one curve: rows the killed run logged after its checkpoint moved aside, so the
    # iterations go up without a repeat; the resume says where it started.
    iterations = [x["iteration"] for x in lines]
    assert iterations == sorted(set(iterations)), iterations
    assert f"resumed from {run_dir / 'checkpoints' / 'latest'} at {steps0} env steps (iteration {it0})" in out.stdout
    assert (run_dir / "config.resolved.yaml").is_file() and (run_dir / f"config.resumed_it{it0}.yaml").is_file()

"""The rollout worker in-process: the batch contract, continuity across rollouts, keeping
diverged physics out of the learner's data, and running without torch (in a subprocess and as a
Ray actor fed the learner's broadcast)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from dexrl.config import load_env_config
from dexrl.distributed.worker import RolloutWorker
from dexrl.rl.config import ModelConfig, PPOConfig
from dexrl.rl.learner import PPOLearner

SMALL = ModelConfig(actor_hidden=(32,), critic_hidden=(32,))
ROOT = Path(__file__).resolve().parents[2]


def _worker(num_envs: int = 3, horizon: int = 6, **overrides) -> RolloutWorker:  # type: ignore[no-untyped-def]
    env = load_env_config("cube_rotate", {"max_episode_steps": 4, **overrides})
    return RolloutWorker(env, SMALL, num_envs=num_envs, horizon=horizon, seed=0)


def test_rollout_batch_shapes_and_episode_boundaries() -> None:
    w = _worker()
    batch, stats = w.rollout(None)
    assert batch is not None
    assert batch.obs.shape == (6, 3, w.task.obs_dim)
    assert batch.critic_obs.shape == (6, 3, w.task.critic_obs_dim)
    # max_episode_steps=4: every env is truncated at step 3 (unless it dropped/terminated earlier)
    ended = batch.terminated | batch.truncated
    assert ended[3].all() and not ended[:3].any()
    assert batch.episode_starts[0].all() and batch.episode_starts[4].all()
    # one bootstrap row per timed-out env (all of them, at step 3)
    assert batch.final_critic_obs.shape[0] == int(batch.truncated.sum()) == batch.num_envs
    assert (batch.final_critic_obs != 0).any(axis=-1).all()
    assert stats["env_steps"] == 18 and len(stats["returns"]) == 3


def test_rollouts_continue_episodes_and_feed_the_learner() -> None:
    w = _worker(max_episode_steps=100, timeout_steps=100)
    b1, _ = w.rollout(None)
    b2, _ = w.rollout(None)
    assert b1 is not None and b2 is not None
    assert not b2.episode_starts[0].any()  # the episodes carried on into the second rollout
    learner = PPOLearner(w.task.obs_dim, w.task.critic_obs_dim, w.task.action_dim,
                         PPOConfig(epochs=1, minibatches=1), SMALL, device="cpu")
    metrics = learner.update(b1)
    assert np.isfinite(metrics["policy_loss"])
    b3, _ = w.rollout(learner.actor_state())
    assert b3 is not None and np.isfinite(b3.logp).all()


def test_diverged_env_is_withheld_from_the_learner() -> None:
    w = _worker(num_envs=3, horizon=8, max_episode_steps=100, timeout_steps=100)
    # An absurd timestep on env 1's own model makes its physics blow up (as a bad ADR sample could).
    w.task.sim.models[1].opt.timestep = 5.0
    w.task.sim.models[1].actuator_gainprm[:, 0] *= 1e6
    w.task.sim.models[1].actuator_biasprm[:, 1] *= 1e6
    batch, stats = w.rollout(None)
    assert stats["unhealthy"] >= 1 and stats["dropped_envs"] == 1
    assert batch is not None and batch.num_envs == 2
    assert np.isfinite(batch.obs).all() and np.isfinite(batch.rewards).all()


def test_worker_imports_and_rolls_out_without_torch() -> None:
    # A fresh interpreter: importing the worker module, building workers and rolling out with
    # weights given as numpy arrays (the broadcast format) must never load torch.
    code = textwrap.dedent("""
        import sys
        import numpy as np
        import dexrl.distributed.worker
        assert "torch" not in sys.modules, "importing dexrl.distributed.worker loaded torch"
        from dexrl.config import load_env_config
        from dexrl.rl.config import ModelConfig
        env = load_env_config("cube_rotate", {"max_episode_steps": 4})
        for kind in ("mlp", "lstm"):
            model = ModelConfig(kind=kind, actor_hidden=(16,), lstm_dense=(16,), lstm_size=8)
            worker = dexrl.distributed.worker.RolloutWorker(env, model, num_envs=2, horizon=3, seed=0)
            rng = np.random.default_rng(0)
            state = {k: rng.normal(size=s).astype(np.float32) for k, s in worker.actor.shapes.items()}
            state["obs_normalizer.std"] = np.ones_like(state["obs_normalizer.std"])
            state["obs_normalizer.clip"] = np.float32(5.0)
            batch, _ = worker.rollout(state)
            assert batch is not None and np.isfinite(batch.logp).all()
        assert "torch" not in sys.modules, "a rollout loaded torch"
        print("no torch")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "no torch", out.stderr[-3000:]


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps")
def test_ray_worker_process_never_maps_torch(ray_session) -> None:  # type: ignore[no-untyped-def]
    # The real path: a Ray actor built from the env and model configs, fed `ray.put` of the
    # learner's actor_state(). Unpickling a torch tensor would load torch into the worker.
    from dexrl.distributed.worker import BLAS_THREAD_VARS, make_worker_actor

    ray = ray_session
    env = load_env_config("cube_rotate", {"max_episode_steps": 4})
    worker = make_worker_actor().remote(env, SMALL, 2, 3, 0)
    try:
        dims = ray.get(worker.dims.remote())
        learner = PPOLearner(dims["obs_dim"], dims["critic_obs_dim"], dims["action_dim"],
                             PPOConfig(gamma=0.99), SMALL, device="cpu")  # fmt: skip
        batch, _ = ray.get(worker.rollout.remote(ray.put(learner.actor_state())))
        assert batch is not None and np.isfinite(batch.logp).all()
        pid = ray.get(worker.pid.remote())
        assert "libtorch" not in Path(f"/proc/{pid}/maps").read_text()
        # one BLAS thread per worker CPU (numpy's OpenBLAS would start one per core)
        environ = dict(x.split("=", 1) for x in Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in x)
        assert {k: environ.get(k) for k in BLAS_THREAD_VARS} == dict.fromkeys(BLAS_THREAD_VARS, "1")
    finally:
        ray.kill(worker)

"""Group 1, "runs at all": reset, step, policy forward, one PPO iteration with real Ray workers,
and a checkpoint round trip that restores identical outputs."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from dexrl.config import LoggerConfig, RayConfig, WandbConfig
from dexrl.doctor.common import DoctorSetup, make_learner
from dexrl.doctor.report import Check, fmt
from dexrl.tasks.registry import make_task

GROUP = "runs"


def _finite(*arrays: np.ndarray) -> bool:
    return all(bool(np.isfinite(a).all()) for a in arrays)


def check_runs(setup: DoctorSetup) -> list[Check]:
    checks: list[Check] = []
    task = make_task(setup.env, num_envs=2, seed=setup.seed)
    obs, critic = task.reset()
    shapes_ok = obs.shape == (2, task.obs_dim) and critic.shape == (2, task.critic_obs_dim)
    checks.append(Check(GROUP, "reset", "pass" if shapes_ok and _finite(obs, critic) else "fail",
                        f"obs {obs.shape[1]}, critic {critic.shape[1]}, finite={_finite(obs, critic)}",
                        "finite, sizes = obs_dim / critic_obs_dim",
                        "the task's reset gives NaN or wrong sizes: check _task_reset and the obs parts"))  # fmt: skip
    rng = np.random.default_rng(setup.seed)
    r = task.step(rng.uniform(-1, 1, (2, task.action_dim)))
    ok = _finite(r.obs, r.critic_obs, r.reward)
    checks.append(Check(GROUP, "step", "pass" if ok else "fail", f"finite={ok}", "finite obs and reward",
                        "a random action gives NaN: check the reward terms and the physics timestep"))  # fmt: skip
    learner = make_learner(setup, task.obs_dim, task.critic_obs_dim, task.action_dim)
    sample = learner.actor.sample(r.obs, learner.actor.initial_state(2))
    ok = sample.actions.shape == (2, task.action_dim) and _finite(sample.actions, sample.logp)
    checks.append(Check(GROUP, "policy_forward", "pass" if ok else "fail",
                        f"actions {sample.actions.shape}, finite={ok}", f"(2, {task.action_dim}), finite",
                        "the policy cannot act on the observation: check obs_dim and the model config"))  # fmt: skip
    checks.extend(_train_and_restore(setup, r.obs))
    return checks


def _train_and_restore(setup: DoctorSetup, probe_obs: np.ndarray) -> list[Check]:
    """One iteration with real workers; then the checkpoint it saved, opened the way every script
    opens one (`frontdoor.load_run`), must give bit-identical policy and value outputs."""
    from dexrl.distributed.trainer import Trainer
    from dexrl.frontdoor import load_run

    workers = 2 if setup.train.num_workers == "auto" else int(setup.train.num_workers)
    train = replace(setup.train, num_workers=workers, total_env_steps=1, checkpoint_every=1,
                    stop_at_successes=None, max_wall_s=None, device="cpu",
                    learner_threads=1)  # fmt: skip
    logger = LoggerConfig(wandb=WandbConfig(mode="disabled"), progress_bar=False, print_every=10**9)
    adr = setup.adr if setup.adr is not None and setup.adr.mode != "none" else None
    with tempfile.TemporaryDirectory(prefix="dexrl_doctor_") as tmp:
        threads = torch.get_num_threads()
        try:
            trainer = Trainer(setup.env, setup.ppo, setup.model, adr, train, setup.ray or RayConfig(),
                              logger, tmp, seed=setup.seed)  # fmt: skip
            try:
                last = trainer.run()
            finally:
                trainer.close()
        except Exception as err:  # the check reports any failure to run, with its message
            torch.set_num_threads(threads)
            return [Check(GROUP, "ppo_iteration", "fail", f"{type(err).__name__}: {err}"[:120],
                          "one iteration completes", "see the error; rerun scripts/train.py with the same overrides")]  # fmt: skip
        torch.set_num_threads(threads)
        ok = last.get("iteration") == 1 and np.isfinite(last.get("policy_loss", np.nan))
        checks = [Check(GROUP, "ppo_iteration", "pass" if ok else "fail",
                        f"{last.get('env_steps')} steps, {workers} workers, policy_loss {fmt(last.get('policy_loss', np.nan))}",
                        "1 iteration, finite losses",
                        "the update gave NaN or no iteration finished: check the worker log lines above")]  # fmt: skip
        checks.append(_round_trip(trainer, load_run(Path(tmp)), probe_obs))
    return checks


def _round_trip(trainer: object, run: object, probe_obs: np.ndarray) -> Check:
    learner = trainer.learner  # type: ignore[attr-defined]
    dims = run.dims  # type: ignore[attr-defined]
    restored = type(learner)(dims["obs_dim"], dims["critic_obs_dim"], dims["action_dim"],
                             run.ppo, run.model, device="cpu")  # type: ignore[attr-defined]  # fmt: skip
    restored.load_state_dict(run.payload["learner"])  # type: ignore[attr-defined]
    obs = torch.as_tensor(probe_obs, dtype=torch.float32)
    critic_obs = torch.zeros(obs.shape[0], dims["critic_obs_dim"])
    with torch.no_grad():
        same_actor = torch.equal(_mean(learner, obs), _mean(restored, obs))
        same_critic = torch.equal(learner.critic.value(critic_obs), restored.critic.value(critic_obs))
    ok = same_actor and same_critic
    return Check(GROUP, "checkpoint_round_trip", "pass" if ok else "fail",
                 f"actor identical={same_actor}, critic identical={same_critic}", "both identical",
                 "a restored run acts differently: something the networks use is not in the checkpoint")  # fmt: skip


def _mean(learner: object, obs: torch.Tensor) -> torch.Tensor:
    actor = learner.actor  # type: ignore[attr-defined]
    x = obs.unsqueeze(0) if actor.is_recurrent else obs
    return actor(x)[0]  # type: ignore[no-any-return]

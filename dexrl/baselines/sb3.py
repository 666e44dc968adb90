"""stable-baselines3 PPO on a dexrl task (`algo=sb3`): a known-good reference to compare with.

SB3 sees only the policy observation (`obs_mode="policy"`) and steps `n_envs` single envs in
subprocesses, the way most SB3 users run MuJoCo tasks.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from dexrl.config import EnvConfig, TrainConfig


def make_vec_env(env: EnvConfig, n_envs: int, seed: int, subprocess: bool = True,
                 info_keywords: tuple[str, ...] = ()) -> Any:
    """SB3's vector env over `n_envs` single dexrl envs; info_keywords: info entries VecMonitor
    copies into each finished episode's record (e.g. consecutive_successes)."""
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv, VecMonitor

    from dexrl.tasks.gym_env import DexHandEnv

    def factory(rank: int) -> Any:
        def make() -> Any:
            from gymnasium.wrappers import TimeLimit

            e = DexHandEnv(env=env, obs_mode="policy")  # this EnvConfig as it is, robot included
            e.reset(seed=seed + rank)
            return TimeLimit(e, max_episode_steps=env.max_episode_steps)

        return make

    cls = SubprocVecEnv if subprocess and n_envs > 1 else DummyVecEnv
    return VecMonitor(cls([factory(i) for i in range(n_envs)]), info_keywords=info_keywords)


def silent(model: Any) -> Any:
    """`model` with a logger that writes nothing: SB3's default one (verbose=0, no tensorboard)
    still creates an empty `SB3-<date>` folder in the temp directory on every `learn`."""
    from stable_baselines3.common.logger import Logger

    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def make_ppo(algo: dict[str, Any], vec: Any, seed: int) -> Any:
    """SB3's PPO with the hyper-parameters of `configs/algo/sb3.yaml` (`algo`), on the CPU."""
    from stable_baselines3 import PPO

    return silent(PPO(
        "MlpPolicy", vec, n_steps=int(algo["n_steps"]), batch_size=int(algo["batch_size"]),
        n_epochs=int(algo["n_epochs"]), gamma=float(algo["gamma"]), gae_lambda=float(algo["gae_lambda"]),
        clip_range=float(algo["clip_range"]), learning_rate=float(algo["learning_rate"]),
        ent_coef=float(algo["ent_coef"]), policy_kwargs={"net_arch": list(algo["net_arch"])},
        seed=seed, device="cpu", verbose=0,
    ))  # fmt: skip


def progress_callback(total: int, every_s: float = 10.0) -> Any:
    """An SB3 callback printing one line (env steps, steps/s, mean return) every `every_s`
    seconds, so a reference run is never silent for long."""
    from stable_baselines3.common.callbacks import BaseCallback

    class _Progress(BaseCallback):
        def _on_training_start(self) -> None:
            self.t0 = self.last = time.perf_counter()

        def _on_step(self) -> bool:
            now = time.perf_counter()
            if now - self.last >= every_s:
                self.last = now
                eps = [ep["r"] for ep in self.model.ep_info_buffer] if self.model.ep_info_buffer else []
                ret = f"{sum(eps) / len(eps):.2f}" if eps else "n/a"
                print(f"[dexrl] sb3: {self.num_timesteps}/{total} env steps, "
                      f"{self.num_timesteps / (now - self.t0):.0f} steps/s, return {ret}", flush=True)  # fmt: skip
            return True

    return _Progress()


def train_sb3(env: EnvConfig, algo: dict[str, Any], train: TrainConfig, run_dir: Path, seed: int = 0,
              progress_every_s: float = 10.0) -> dict[str, Any]:  # fmt: skip
    """Train SB3 PPO for train.total_env_steps; writes sb3_metrics.json and the model zip."""
    vec = make_vec_env(env, int(algo.get("n_envs", 2)), seed)
    model = make_ppo(algo, vec, seed)
    t0 = time.perf_counter()
    model.learn(total_timesteps=train.total_env_steps, callback=progress_callback(train.total_env_steps, progress_every_s))
    elapsed = time.perf_counter() - t0
    rewards = [ep["r"] for ep in model.ep_info_buffer] if model.ep_info_buffer else []
    result = {
        "env_steps": int(model.num_timesteps),
        "wall_time_s": elapsed,
        "samples_per_s": model.num_timesteps / elapsed,
        "episode_return_mean": float(sum(rewards) / len(rewards)) if rewards else None,
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "sb3_metrics.json").write_text(json.dumps(result, indent=2))
    model.save(run_dir / "sb3_model.zip")
    vec.close()
    return result

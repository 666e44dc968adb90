"""Tiny numpy environments and a rollout loop that does what a dexrl rollout worker does.

The environments auto-reset and report terminated/truncated separately, with the critic
observation of the final state on timeouts, like the real batched task envs.
"""

from __future__ import annotations

import numpy as np

from dexrl.rl.numpy_actor import NumpyActor
from dexrl.rl.storage import RolloutBatch, RolloutBuffer

StepResult = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class ContextualBandit:
    """One-step episodes: reward = -||clip(a) - a*||^2 with a* = 0.8 tanh(M z) from a context z.

    The policy sees z offset and scaled (2 + 3z) so the input normalizer has work to do; the
    critic sees z and a* (privileged).
    """

    obs_dim, critic_obs_dim, action_dim = 3, 5, 2

    def __init__(self, num_envs: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.num_envs = num_envs
        self.matrix = np.array([[1.0, -0.5, 0.3], [0.2, 0.8, -1.0]])
        self._new_context()

    def _new_context(self) -> None:
        self.z = self.rng.normal(size=(self.num_envs, 3))
        self.target = 0.8 * np.tanh(self.z @ self.matrix.T)

    def observe(self) -> tuple[np.ndarray, np.ndarray]:
        obs = (2.0 + 3.0 * self.z).astype(np.float32)
        return obs, np.concatenate([self.z, self.target], axis=1).astype(np.float32)

    def step(self, actions: np.ndarray) -> StepResult:
        rewards = -((np.clip(actions, -1, 1) - self.target) ** 2).sum(axis=1)
        self._new_context()
        obs, critic_obs = self.observe()
        done = np.ones(self.num_envs, bool)
        return obs, critic_obs, rewards.astype(np.float32), done, ~done, np.zeros_like(critic_obs)


class CueRecall:
    """Two-step memory task: step 0 shows a cue of +-0.5, step 1 shows nothing and rewards
    -(clip(a) - cue)^2. A memoryless policy can do no better than -Var(cue) = -0.25; a recurrent
    one can reach ~0. The critic sees the cue at both steps. Episodes end by termination."""

    obs_dim, critic_obs_dim, action_dim = 2, 2, 1

    def __init__(self, num_envs: int, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.num_envs = num_envs
        self.phase = np.zeros(num_envs, int)
        self.cue = self.rng.choice([-0.5, 0.5], size=num_envs)

    def observe(self) -> tuple[np.ndarray, np.ndarray]:
        first = self.phase == 0
        obs = np.stack([np.where(first, self.cue, 0.0), first.astype(float)], axis=1)
        critic_obs = np.stack([self.cue, self.phase.astype(float)], axis=1)
        return obs.astype(np.float32), critic_obs.astype(np.float32)

    def step(self, actions: np.ndarray) -> StepResult:
        done = self.phase == 1
        rewards = np.where(done, -((np.clip(actions[:, 0], -1, 1) - self.cue) ** 2), 0.0)
        self.phase = np.where(done, 0, 1)
        self.cue = np.where(done, self.rng.choice([-0.5, 0.5], size=self.num_envs), self.cue)
        obs, critic_obs = self.observe()
        return (
            obs,
            critic_obs,
            rewards.astype(np.float32),
            done,
            np.zeros_like(done),
            np.zeros_like(critic_obs),
        )


class Runner:
    """Collects T-step rollouts from a batched env with the numpy policy, like a rollout worker."""

    def __init__(self, env, actor: NumpyActor, num_steps: int, seed: int) -> None:
        self.env, self.actor, self.num_steps = env, actor, num_steps
        self.buffer = RolloutBuffer(
            num_steps, env.num_envs, env.obs_dim, env.critic_obs_dim, env.action_dim
        )
        self.obs, self.critic_obs = env.observe()
        self.starts = np.ones(env.num_envs, bool)
        self.hidden = actor.initial_state(env.num_envs)
        self.rng = np.random.default_rng(seed)
        self.episode_return = np.zeros(env.num_envs)

    def collect(self) -> tuple[RolloutBatch, list[float]]:
        hidden_before, finished = self.hidden, []
        for _ in range(self.num_steps):
            step = self.actor.sample(
                self.obs, self.hidden, episode_starts=self.starts, rng=self.rng
            )
            self.hidden = step.hidden
            obs, critic_obs, rewards, terminated, truncated, final = self.env.step(step.actions)
            self.buffer.add(self.obs, self.critic_obs, step.actions, step.logp, rewards, terminated,
                            truncated, self.starts, final, action_mean=step.mean,
                            action_std=step.std)  # fmt: skip
            self.episode_return += rewards
            done = terminated | truncated
            finished += self.episode_return[done].tolist()
            self.episode_return[done] = 0.0
            self.obs, self.critic_obs, self.starts = obs, critic_obs, done
        return self.buffer.finish(self.critic_obs, hidden_before), finished

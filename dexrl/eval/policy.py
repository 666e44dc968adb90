"""Policies an evaluation can run: a checkpoint's actor (mean action), random, zero.

Every policy takes a batch of observations and the envs whose episode just started (a recurrent
policy zeroes their state) and returns actions [K, A] in [-1, 1].
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import torch


class Policy(Protocol):
    def reset(self, num_envs: int) -> None: ...

    def __call__(self, obs: np.ndarray, starts: np.ndarray) -> np.ndarray: ...


class ActorPolicy:
    """A policy network acting with its mean action (deterministic); its observation
    normalizer is inside the actor's state."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.actor.eval()
        self.hidden: Any = None

    def reset(self, num_envs: int) -> None:
        self.hidden = tuple(h.numpy() for h in self.actor.initial_state(num_envs))

    def __call__(self, obs: np.ndarray, starts: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            actions, _, self.hidden = self.actor.act(
                obs, self.hidden, deterministic=True, episode_starts=starts
            )
        return np.clip(actions, -1.0, 1.0)


class CheckpointPolicy(ActorPolicy):
    """The trained actor of a checkpoint (a frontdoor.RunSpec), with its normalizer."""

    def __init__(self, run: Any, obs_dim: int, action_dim: int) -> None:
        from dexrl.frontdoor import check_dims
        from dexrl.rl.networks import load_actor_state, make_actor

        check_dims(run, obs_dim, action_dim, run.env.name)
        actor = make_actor(obs_dim, action_dim, run.model, run.ppo.obs_clip)
        load_actor_state(actor, run.payload["learner"]["actor"])
        super().__init__(actor)


class RandomPolicy:
    """Uniform actions in [-1, 1] (the baseline; the viewer without a checkpoint)."""

    def __init__(self, action_dim: int, seed: int = 0) -> None:
        self.action_dim = action_dim
        self.rng = np.random.default_rng(seed)

    def reset(self, num_envs: int) -> None:
        pass

    def __call__(self, obs: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return self.rng.uniform(-1.0, 1.0, (obs.shape[0], self.action_dim))


class ZeroPolicy:
    """All-zero actions: under relative control the hand holds its targets."""

    def __init__(self, action_dim: int) -> None:
        self.action_dim = action_dim

    def reset(self, num_envs: int) -> None:
        pass

    def __call__(self, obs: np.ndarray, starts: np.ndarray) -> np.ndarray:
        return np.zeros((obs.shape[0], self.action_dim))

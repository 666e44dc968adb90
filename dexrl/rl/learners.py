"""The seam between the training loop and an algorithm: the `Learner` protocol and the registry
the trainer builds its learner from.

The trainer (`dexrl.distributed.trainer.Trainer`) needs only this surface: the sizes it was
built for, where it runs, one update per batch of rollouts, the training progress (for
schedules), the policy weights as numpy arrays for the rollout workers (`ActorState`: what
`dexrl.rl.numpy_actor.NumpyActor` loads), and a state to checkpoint and restore. PPO
(`dexrl.rl.learner.PPOLearner`) is the one registered today; another algorithm registers its
class here under its `algorithm` name, which checkpoints record.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from dexrl.rl.config import ModelConfig
from dexrl.rl.numpy_actor import ActorState
from dexrl.rl.storage import RolloutBatch


@runtime_checkable
class Learner(Protocol):
    """What the trainer calls on a learner."""

    algorithm: str  # "ppo": recorded in checkpoints and the run's config
    dims: dict[str, int]  # obs_dim, critic_obs_dim, action_dim
    device: Any  # torch.device (or another framework's) the update runs on

    def update(self, batch: RolloutBatch) -> dict[str, float]:
        """One update on one iteration's rollouts; scalars to log (losses, KL, ...)."""
        ...

    def set_progress(self, fraction: float) -> None:
        """How far training is, 0 → 1 (learning-rate schedules)."""
        ...

    def actor_state(self) -> ActorState:
        """The policy's weights as float32 numpy arrays by name, for the rollout workers."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs (weights, optimizer, normalizers, RNG)."""
        ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


# (obs_dim, critic_obs_dim, action_dim, algorithm config, model, device, seed) → a Learner
LearnerFactory = Callable[[int, int, int, Any, ModelConfig, str, int], Learner]


def _ppo(obs_dim: int, critic_obs_dim: int, action_dim: int, cfg: Any, model: ModelConfig, device: str,
         seed: int) -> Learner:  # fmt: skip
    from dexrl.rl.learner import PPOLearner

    return PPOLearner(obs_dim, critic_obs_dim, action_dim, cfg, model, device=device, seed=seed)


LEARNERS: dict[str, LearnerFactory] = {"ppo": _ppo}


def learner_factory(algorithm: str) -> LearnerFactory:
    """The registered factory of `algorithm`, or a ValueError naming the ones there are."""
    try:
        return LEARNERS[algorithm]
    except KeyError:
        raise ValueError(f"no learner registered for algorithm {algorithm!r}; registered: "
                         f"{', '.join(sorted(LEARNERS))} (dexrl.rl.learners.LEARNERS)") from None

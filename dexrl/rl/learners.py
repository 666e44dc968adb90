"""The seam between the training loop and an algorithm: the `Learner` protocol and the registry
the trainer builds its learner from.

The trainer (`dexrl.distributed.trainer.Trainer`) needs only this surface: the sizes it was
built for, where it runs, one update per batch of rollouts, the training progress (for
schedules), the policy weights as numpy arrays for the rollout workers (`ActorState`: what
`dexrl.rl.numpy_actor.NumpyActor` loads), and a state to checkpoint and restore. PPO
(`dexrl.rl.learner.PPOLearner`) is the one registered today; another algorithm registers a
factory of its learner here under its `algorithm` name (`register_learner`), which checkpoints
record, and a trainer is built with it: `Trainer(..., learner_factory=learner_factory(name))`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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

    def update(self, batch: RolloutBatch | Sequence[RolloutBatch]) -> dict[str, float]:
        """One update on one iteration's rollouts (the trainer passes the workers' batches as a
        list; `RolloutBatch.concat` joins them); scalars to log (losses, KL, ...)."""
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


def register_learner(algorithm: str, factory: LearnerFactory) -> LearnerFactory:
    """Add `algorithm` to `LEARNERS`: `factory(obs_dim, critic_obs_dim, action_dim, algo config,
    model, device, seed)` builds its Learner, whose `algorithm` attribute is this name (the one
    checkpoints record). Registering the same factory again changes nothing; another factory
    under a taken name is a ValueError. Returns `factory`."""
    if not algorithm or not isinstance(algorithm, str):
        raise ValueError(f"a learner's algorithm name must be a non-empty string (got {algorithm!r})")
    old = LEARNERS.get(algorithm)
    if old is not None and old is not factory:
        raise ValueError(f"algorithm {algorithm!r} already has a learner ({getattr(old, '__qualname__', old)}); "
                         "register yours under another name")  # fmt: skip
    LEARNERS[algorithm] = factory
    return factory

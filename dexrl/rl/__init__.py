"""PPO core: configs, normalizers, GAE, networks, losses, rollout storage and the learner.

torch + numpy only (no ray, mujoco or hydra). The names below are imported lazily (PEP 562):
importing a torch-free submodule (`dexrl.rl.config`, `dexrl.rl.storage`, `dexrl.rl.numpy_actor`,
`dexrl.rl.running_stats`) runs this file first, and rollout workers must not load torch (it adds
about 190 MiB to each worker process). `from dexrl.rl import PPOLearner` still works and loads
torch then.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict
    from dexrl.rl.gae import compute_gae
    from dexrl.rl.learner import METRIC_KEYS, PPOLearner, resolve_device
    from dexrl.rl.networks import (
        Actor,
        Critic,
        GaussianActor,
        LSTMActor,
        load_actor_state,
        make_actor,
    )
    from dexrl.rl.normalizer import ObservationNormalizer
    from dexrl.rl.numpy_actor import NumpyActor
    from dexrl.rl.running_stats import RunningMeanStd, compute_moments
    from dexrl.rl.storage import RolloutBatch, RolloutBuffer

_SOURCES = {
    "dexrl.rl.config": ("ModelConfig", "PPOConfig", "config_from_dict"),
    "dexrl.rl.gae": ("compute_gae",),
    "dexrl.rl.learner": ("METRIC_KEYS", "PPOLearner", "resolve_device"),
    "dexrl.rl.networks": (
        "Actor", "Critic", "GaussianActor", "LSTMActor", "load_actor_state", "make_actor",
    ),  # fmt: skip
    "dexrl.rl.normalizer": ("ObservationNormalizer",),
    "dexrl.rl.numpy_actor": ("NumpyActor",),
    "dexrl.rl.running_stats": ("RunningMeanStd", "compute_moments"),
    "dexrl.rl.storage": ("RolloutBatch", "RolloutBuffer"),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}

__all__ = [
    "METRIC_KEYS", "Actor", "Critic", "GaussianActor", "LSTMActor", "ModelConfig", "NumpyActor",
    "ObservationNormalizer", "PPOConfig", "PPOLearner", "RolloutBatch", "RolloutBuffer",
    "RunningMeanStd", "compute_gae", "compute_moments", "config_from_dict", "load_actor_state",
    "make_actor", "resolve_device",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    """Import the submodule that defines `name` on first use."""
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})

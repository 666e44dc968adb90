"""PPO core: configs, normalizers, GAE, networks, losses, rollout storage and the learner.

torch + numpy only (no ray, mujoco or hydra): rollout workers import `make_actor`,
`load_actor_state` and `RolloutBuffer`; the train script drives `PPOLearner`.
"""

from dexrl.rl.config import ModelConfig, PPOConfig, config_from_dict
from dexrl.rl.gae import compute_gae
from dexrl.rl.learner import METRIC_KEYS, PPOLearner, resolve_device
from dexrl.rl.networks import Actor, Critic, GaussianActor, LSTMActor, load_actor_state, make_actor
from dexrl.rl.normalizer import ObservationNormalizer, RunningMeanStd, compute_moments
from dexrl.rl.storage import RolloutBatch, RolloutBuffer

__all__ = [
    "METRIC_KEYS",
    "Actor",
    "Critic",
    "GaussianActor",
    "LSTMActor",
    "ModelConfig",
    "ObservationNormalizer",
    "PPOConfig",
    "PPOLearner",
    "RolloutBatch",
    "RolloutBuffer",
    "RunningMeanStd",
    "compute_gae",
    "compute_moments",
    "config_from_dict",
    "load_actor_state",
    "make_actor",
    "resolve_device",
]

"""The policy as rollout workers run it: the torch actor's forward pass and sampling in numpy.

A worker only needs the policy's forward pass and a Gaussian sample, not autograd; without torch
a worker process holds about 190 MiB less (scripts/bench_worker_rss.py). `NumpyActor` computes
what `dexrl.rl.networks.GaussianActor.sample` computes, in float32 (to float32 rounding):
- normalization: clip((obs - mean) / std, -clip, clip) with the float32 buffers the learner set;
- MLP policy: Linear + activation per `actor_hidden` width, then the linear mean head;
- LSTM policy: Linear + activation per `lstm_dense` width, one torch.nn.LSTM step (gates i, f, g, o
  stacked in that order in `weight_ih_l0` / `weight_hh_l0`; (h, c) zeroed first for environments
  whose episode starts at this step), then the linear mean head;
- a diagonal Gaussian with the state-independent std exp(log_std): actions = mean + std * noise,
  and the log-prob summed over action dimensions (torch.distributions.Normal's formula).
Agreement with the torch actor's `evaluate` is tested in tests/rl/test_numpy_actor.py.

Weights arrive as `PPOLearner.actor_state()`: the torch state-dict names mapped to numpy arrays
(`obs_normalizer.*` carries the normalizer), so a worker never unpickles a torch tensor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from dexrl.rl.config import ModelConfig

F32 = NDArray[np.float32]
NumpyHidden = tuple[F32, ...]
"""Recurrent state as numpy: (h, c) each [B, H] for the LSTM policy, () for the MLP policy."""

ActorState = dict[str, NDArray[np.float32]]
"""Policy weights and normalizer buffers by their torch state-dict names (`actor_state()`)."""

_LOG_SQRT_2PI = math.log(math.sqrt(2.0 * math.pi))


@dataclass(frozen=True)
class ActionSample:
    """One policy step for B environments (numpy, on the CPU)."""

    actions: F32
    """[B, A] unclipped Gaussian samples (or the mean when deterministic)."""
    logp: F32
    """[B] log-prob of `actions`."""
    mean: F32
    """[B, A] the Gaussian's mean."""
    std: F32
    """[B, A] the Gaussian's std."""
    hidden: NumpyHidden
    """The recurrent state after the step (() for the MLP)."""


def _elu(x: F32) -> F32:
    # expm1 only of the non-positive part: no overflow warning from the branch np.where drops.
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def _relu(x: F32) -> F32:
    return np.maximum(x, 0)


def _sigmoid(x: F32) -> F32:
    # 1 / (1 + exp(-x)) written with tanh: the same value, and no overflow for large |x|.
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_ACTIVATIONS: dict[str, Callable[[F32], F32]] = {"elu": _elu, "relu": _relu, "tanh": np.tanh}


class NumpyActor:
    """The MLP or LSTM Gaussian policy of `model`, numpy only.

    Until `load_state` is called the weights are zero: the mean is 0 everywhere and the std is
    exp(init_log_std), the distribution the learner's freshly initialized policy is close to (its
    mean head starts at gain 0.01).
    """

    def __init__(
        self, obs_dim: int, action_dim: int, model: ModelConfig, obs_clip: float = 5.0
    ) -> None:
        model.validate()
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.is_recurrent = model.kind == "lstm"
        self.lstm_size = model.lstm_size
        self.activation = _ACTIVATIONS[model.activation]
        self.shapes = _state_shapes(obs_dim, action_dim, model)
        state: ActorState = {k: np.zeros(shape, np.float32) for k, shape in self.shapes.items()}
        state["obs_normalizer.std"][:] = 1.0
        state["obs_normalizer.clip"][...] = obs_clip
        state["log_std"][:] = model.init_log_std
        self.load_state(state)

    def load_state(self, state: Mapping[str, ArrayLike]) -> None:
        """Adopt weights and normalizer buffers by torch state-dict name (numpy arrays, e.g. from
        `PPOLearner.actor_state()`); every name must be there with its shape (ValueError)."""
        missing = sorted(set(self.shapes) - set(state))
        unexpected = sorted(set(state) - set(self.shapes))
        if missing or unexpected:
            raise ValueError(f"actor state does not fit this policy: missing {missing}, "
                             f"unexpected {unexpected}")  # fmt: skip
        # Own float32 copies: the arrays Ray hands over are read-only views of its object store.
        params = {k: np.array(state[k], dtype=np.float32) for k in self.shapes}
        for key, shape in self.shapes.items():
            if params[key].shape != shape:
                raise ValueError(
                    f"actor state {key!r} has shape {params[key].shape}, expected {shape}"
                )
        self.obs_mean = params["obs_normalizer.mean"]
        self.obs_std = params["obs_normalizer.std"]
        self.obs_clip = float(params["obs_normalizer.clip"])
        self.std = np.exp(params["log_std"])
        self.log_std = np.log(self.std)  # torch's Normal takes log(scale) of the std, not log_std
        widths = sum(1 for k in self.shapes if k.startswith("body.") and k.endswith(".weight"))
        self.layers = [(params[f"body.{2 * i}.weight"].T.copy(), params[f"body.{2 * i}.bias"])
                       for i in range(widths)]  # fmt: skip
        self.head = (params["mean_head.weight"].T.copy(), params["mean_head.bias"])
        if self.is_recurrent:
            self.w_ih = params["lstm.weight_ih_l0"].T.copy()
            self.w_hh = params["lstm.weight_hh_l0"].T.copy()
            self.b_ih, self.b_hh = params["lstm.bias_ih_l0"], params["lstm.bias_hh_l0"]

    def initial_state(self, batch: int) -> NumpyHidden:
        """Zero (h, c), each [batch, lstm_size], for the LSTM; () for the MLP."""
        if not self.is_recurrent:
            return ()
        shape = (batch, self.lstm_size)
        return np.zeros(shape, np.float32), np.zeros(shape, np.float32)

    def mean(
        self,
        obs: ArrayLike,
        hidden: NumpyHidden | None = None,
        episode_starts: NDArray[np.bool_] | None = None,
    ) -> tuple[F32, NumpyHidden]:
        """obs [B, Do] raw -> (Gaussian mean [B, A], state after the step).

        hidden: the state before the step (None/() -> zeros; ignored by the MLP); episode_starts
        [B]: environments whose obs is the first of an episode start from a zero state.
        """
        x = np.asarray(obs, dtype=np.float32)
        x = np.clip((x - self.obs_mean) / self.obs_std, -self.obs_clip, self.obs_clip)
        for weight, bias in self.layers:
            x = self.activation(x @ weight + bias)
        new_hidden: NumpyHidden = ()
        if self.is_recurrent:
            hidden = hidden or self.initial_state(x.shape[0])
            x, new_hidden = self._lstm_step(x, hidden, episode_starts)
        weight, bias = self.head
        return x @ weight + bias, new_hidden

    def _lstm_step(
        self, x: F32, hidden: NumpyHidden, starts: NDArray[np.bool_] | None
    ) -> tuple[F32, NumpyHidden]:
        """One torch.nn.LSTM step: gates [i, f, g, o] = x W_ih^T + b_ih + h W_hh^T + b_hh."""
        h, c = (np.asarray(s, dtype=np.float32) for s in hidden)
        if starts is not None:
            keep = (~np.asarray(starts, dtype=bool)).astype(np.float32)[:, None]
            h, c = h * keep, c * keep
        gates = (x @ self.w_ih + self.b_ih) + (h @ self.w_hh + self.b_hh)
        i, f, g, o = np.split(gates, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        return h, (h, c)

    def log_prob(self, actions: F32, mean: F32) -> F32:
        """Log-density of `actions` [..., A] under N(mean, std), summed over actions -> [...]."""
        z = (actions - mean) ** 2 / (2.0 * self.std**2)
        return (-z - self.log_std - np.float32(_LOG_SQRT_2PI)).sum(-1, dtype=np.float32)

    def sample(
        self,
        obs: ArrayLike,
        hidden: NumpyHidden | None = None,
        deterministic: bool = False,
        episode_starts: NDArray[np.bool_] | None = None,
        rng: np.random.Generator | None = None,
    ) -> ActionSample:
        """One step for B environments, as `GaussianActor.sample`: unclipped actions (the env
        clips to [-1, 1]) drawn with `rng` (a fresh unseeded one when None), or the mean when
        deterministic; their log-prob, the Gaussian's mean and std, and the new state."""
        mean, new_hidden = self.mean(obs, hidden, episode_starts)
        std = np.broadcast_to(self.std, mean.shape)
        if deterministic:
            actions = mean
        else:
            rng = np.random.default_rng() if rng is None else rng
            noise = rng.standard_normal(mean.shape, dtype=np.float32)
            actions = (mean + std * noise).astype(np.float32, copy=False)  # float32 already
        return ActionSample(actions=actions, logp=self.log_prob(actions, mean), mean=mean,
                            std=std.copy(), hidden=new_hidden)  # fmt: skip


def _state_shapes(obs_dim: int, action_dim: int, model: ModelConfig) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every entry of the torch actor's state dict (`dexrl.rl.networks`)."""
    shapes: dict[str, tuple[int, ...]] = {
        "log_std": (action_dim,),
        "obs_normalizer.mean": (obs_dim,),
        "obs_normalizer.std": (obs_dim,),
        "obs_normalizer.clip": (),
    }
    widths = model.lstm_dense if model.kind == "lstm" else model.actor_hidden
    in_dim = obs_dim
    for i, width in enumerate(widths):  # nn.Sequential(Linear, activation, ...): Linears at 2i
        shapes[f"body.{2 * i}.weight"] = (width, in_dim)
        shapes[f"body.{2 * i}.bias"] = (width,)
        in_dim = width
    if model.kind == "lstm":
        gates = 4 * model.lstm_size
        shapes["lstm.weight_ih_l0"] = (gates, in_dim)
        shapes["lstm.weight_hh_l0"] = (gates, model.lstm_size)
        shapes["lstm.bias_ih_l0"] = (gates,)
        shapes["lstm.bias_hh_l0"] = (gates,)
        in_dim = model.lstm_size
    shapes["mean_head.weight"] = (action_dim, in_dim)
    shapes["mean_head.bias"] = (action_dim,)
    return shapes

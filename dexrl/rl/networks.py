"""Policy (MLP or LSTM Gaussian actor) and the separate privileged critic.

Design (docs/architecture.md §5 and §9; docs/references.md "PPO hyper-parameters"):
- Raw observations go in. Normalization (running mean/std, clip +-obs_clip) sits inside each
  network as buffers, so the weight broadcast, checkpoints and an ONNX export all carry it.
- Rollout workers run this policy in numpy (`dexrl.rl.numpy_actor`, no torch in their process);
  `ActionSample` is defined there and `sample` below returns the same fields.
- The policy is a Gaussian with a state-independent learnable log std. Actions are *unbounded*
  samples; the environment clips them to [-1, 1]. We record the unclipped sample and its exact
  log-prob, so the PPO ratio is exact. A tanh squash would need a log-det-Jacobian correction and
  makes the mean unreachable at the box edges; clipping in the env is what the GPU in-hand peers
  do. A deployed policy uses the mean, clipped to [-1, 1].
- The critic is a separate MLP on the privileged observation (the policy never sees it). It predicts
  the value normalized by the running mean/std of returns; `value()` denormalizes.
- One interface for both policies: `hidden` is a tuple of [B, H] tensors, empty for the MLP.
  Sequences are time-major: obs [T, B, Do], episode_starts [T, B] (True where obs[t] is the first
  observation of an episode; the LSTM state is reset to zero *before* that step).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn
from torch.distributions import Normal

from dexrl.rl.config import ModelConfig
from dexrl.rl.normalizer import ObservationNormalizer, RunningMeanStd
from dexrl.rl.numpy_actor import ActionSample, NumpyHidden

Hidden = tuple[torch.Tensor, ...]
"""Recurrent state: (h, c) each [B, H] for the LSTM policy, () for the MLP policy."""

# Orthogonal init gains (Saxe et al. 2014; the usual PPO choice, cf. Andrychowicz et al. 2021):
# sqrt(2) for hidden layers, a tiny policy head so initial actions sit near 0 with std from
# init_log_std, and 1 for the value head.
HIDDEN_GAIN = math.sqrt(2.0)
POLICY_HEAD_GAIN = 0.01
VALUE_HEAD_GAIN = 1.0

_ACTIVATIONS: dict[str, type[nn.Module]] = {"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh}


def _linear(in_dim: int, out_dim: int, gain: float) -> nn.Linear:
    layer = nn.Linear(in_dim, out_dim)
    nn.init.orthogonal_(layer.weight, gain=gain)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(in_dim: int, widths: Sequence[int], activation: str) -> nn.Sequential:
    """Hidden layers only (Linear + activation each); the caller adds its own head."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [_linear(in_dim, width, HIDDEN_GAIN), _ACTIVATIONS[activation]()]
        in_dim = width
    return nn.Sequential(*layers)


class GaussianActor(nn.Module):
    """Shared parts of both policies: obs normalizer, log std, sampling and evaluation.

    Subclasses implement `forward(obs, hidden, episode_starts) -> (mean, new_hidden)` and
    `initial_state(batch)`.
    """

    is_recurrent: bool = False

    def __init__(self, obs_dim: int, action_dim: int, init_log_std: float, obs_clip: float) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.action_dim = action_dim
        self.obs_normalizer = ObservationNormalizer(obs_dim, obs_clip)
        self.log_std = nn.Parameter(torch.full((action_dim,), float(init_log_std)))

    def initial_state(self, batch: int, device: torch.device | str | None = None) -> Hidden:
        """Zero recurrent state for `batch` environments (() for a feed-forward policy)."""
        return ()

    def forward(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        episode_starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        raise NotImplementedError

    def distribution(self, mean: torch.Tensor) -> Normal:
        """Diagonal Gaussian with the given mean and the learned, state-independent std."""
        return Normal(mean, self.log_std.exp().expand_as(mean))

    def evaluate(
        self,
        obs: torch.Tensor,
        actions: torch.Tensor,
        hidden0: Hidden | None = None,
        episode_starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probs and entropies of taken actions along a chunk, with gradients.

        obs [T, B, Do], actions [T, B, A], hidden0: state at the chunk start (each [B, H]),
        episode_starts [T, B] -> (logp [T, B], entropy [T, B]). The LSTM unrolls over the chunk,
        zeroing its state where an episode starts, exactly as the workers did in `act`.
        """
        mean, _ = self(obs, hidden0, episode_starts)
        dist = self.distribution(mean)
        return dist.log_prob(actions).sum(-1), dist.entropy().sum(-1)

    @torch.no_grad()
    def act(
        self,
        obs: NDArray[np.floating],
        hidden: NumpyHidden | Hidden | None = None,
        deterministic: bool = False,
        episode_starts: NDArray[np.bool_] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[NDArray[np.float32], NDArray[np.float32], NumpyHidden]:
        """One step for B environments, numpy in and out (rollout workers, evaluation).

        obs [B, Do] raw; hidden: state from the previous call (None/() -> zeros); episode_starts [B]
        resets the state of environments whose obs is the first of an episode.
        Returns (actions [B, A] unclipped -- the env clips to [-1, 1]; logp [B]; new hidden).
        deterministic=True returns the mean (evaluation, deployment).
        """
        step = self.sample(obs, hidden, deterministic, episode_starts, generator)
        return step.actions, step.logp, step.hidden

    @torch.no_grad()
    def sample(
        self,
        obs: NDArray[np.floating],
        hidden: NumpyHidden | Hidden | None = None,
        deterministic: bool = False,
        episode_starts: NDArray[np.bool_] | None = None,
        generator: torch.Generator | None = None,
    ) -> ActionSample:
        """`act` plus the distribution it sampled from (mean, std [B, A]): rollout workers record
        them so the learner can compute the analytic KL against the behaviour policy."""
        device = self.log_std.device
        obs_t = torch.as_tensor(obs, dtype=torch.float32, device=device).unsqueeze(0)
        starts_t = None
        if episode_starts is not None:
            starts_t = torch.as_tensor(episode_starts, dtype=torch.bool, device=device).unsqueeze(0)
        hidden_t = tuple(
            torch.as_tensor(h, dtype=torch.float32, device=device) for h in hidden or ()
        )
        mean, new_hidden = self(obs_t, hidden_t or None, starts_t)
        dist = self.distribution(mean[0])
        if deterministic:
            actions = dist.mean
        else:
            noise = torch.randn(mean[0].shape, generator=generator, device="cpu").to(device)
            actions = dist.mean + dist.stddev * noise
        logp = dist.log_prob(actions).sum(-1)
        return ActionSample(
            actions=actions.cpu().numpy(),
            logp=logp.cpu().numpy(),
            mean=dist.mean.cpu().numpy(),
            std=dist.stddev.cpu().numpy(),
            hidden=tuple(h.cpu().numpy() for h in new_hidden),
        )


class Actor(GaussianActor):
    """Feed-forward Gaussian policy: normalize -> MLP (default 512-256-128 ELU) -> mean."""

    def __init__(self, obs_dim: int, action_dim: int, model: ModelConfig, obs_clip: float) -> None:
        super().__init__(obs_dim, action_dim, model.init_log_std, obs_clip)
        self.body = _mlp(obs_dim, model.actor_hidden, model.activation)
        self.mean_head = _linear(model.actor_hidden[-1], action_dim, POLICY_HEAD_GAIN)

    def forward(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        episode_starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        """obs [..., Do] -> (mean [..., A], ()); hidden and episode_starts are ignored."""
        return self.mean_head(self.body(self.obs_normalizer(obs))), ()


class LSTMActor(GaussianActor):
    """Recurrent Gaussian policy: normalize -> dense layers -> LSTM -> linear mean head.

    [D] used dense 1024 -> LSTM 512; the defaults (256 -> 128) suit CPU workers.
    """

    is_recurrent = True

    def __init__(self, obs_dim: int, action_dim: int, model: ModelConfig, obs_clip: float) -> None:
        super().__init__(obs_dim, action_dim, model.init_log_std, obs_clip)
        self.lstm_size = model.lstm_size
        self.body = _mlp(obs_dim, model.lstm_dense, model.activation)
        lstm_in = model.lstm_dense[-1] if model.lstm_dense else obs_dim
        self.lstm = nn.LSTM(lstm_in, model.lstm_size)
        for name, param in self.lstm.named_parameters():
            if "weight" in name:
                nn.init.orthogonal_(param)
            else:
                nn.init.zeros_(param)
        self.mean_head = _linear(model.lstm_size, action_dim, POLICY_HEAD_GAIN)

    def initial_state(self, batch: int, device: torch.device | str | None = None) -> Hidden:
        """(h, c) zeros, each [batch, lstm_size]."""
        device = self.log_std.device if device is None else device
        zeros = torch.zeros(batch, self.lstm_size, device=device)
        return zeros, zeros.clone()

    def forward(
        self,
        obs: torch.Tensor,
        hidden: Hidden | None = None,
        episode_starts: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, Hidden]:
        """obs [T, B, Do], hidden (h, c) [B, H] or None (zeros), episode_starts [T, B] or None
        -> (mean [T, B, A], (h, c) after the last step)."""
        if obs.dim() != 3:
            raise ValueError(
                f"LSTMActor expects time-major obs [T, B, Do], got shape {tuple(obs.shape)}"
            )
        features = self.body(self.obs_normalizer(obs))
        h, c = hidden if hidden else self.initial_state(obs.shape[1], obs.device)
        out, (h, c) = self._unroll(features, h, c, episode_starts)
        return self.mean_head(out), (h, c)

    def _unroll(
        self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, starts: torch.Tensor | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """Run the LSTM over x [T, B, F], zeroing (h, c) of env b before step t if starts[t, b].

        The sequence is cut only at steps where some env starts an episode; each segment between
        cuts runs as one fused nn.LSTM call.
        """
        if starts is None:
            out, (h_n, c_n) = self.lstm(x, (h.unsqueeze(0), c.unsqueeze(0)))
            return out, (h_n[0], c_n[0])
        starts_cpu = starts.detach().to("cpu", torch.bool)
        cuts = (torch.nonzero(starts_cpu[1:].any(dim=1)).flatten() + 1).tolist()
        bounds = [0, *cuts, x.shape[0]]
        outs = []
        for begin, end in zip(bounds[:-1], bounds[1:], strict=True):
            keep = (~starts[begin]).to(x.dtype).unsqueeze(-1)
            out, (h_n, c_n) = self.lstm(
                x[begin:end], ((h * keep).unsqueeze(0), (c * keep).unsqueeze(0))
            )
            h, c = h_n[0], c_n[0]
            outs.append(out)
        return torch.cat(outs, dim=0), (h, c)


class Critic(nn.Module):
    """Value function on the privileged observation: normalize -> MLP -> normalized value.

    `forward` returns the value in normalized units (what the value loss trains); `value`
    returns it in reward units. The return statistics are buffers updated by `set_value_stats`.
    """

    value_mean: torch.Tensor
    value_std: torch.Tensor

    def __init__(self, critic_obs_dim: int, model: ModelConfig, obs_clip: float) -> None:
        super().__init__()
        self.obs_normalizer = ObservationNormalizer(critic_obs_dim, obs_clip)
        self.body = _mlp(critic_obs_dim, model.critic_hidden, model.activation)
        self.value_head = _linear(model.critic_hidden[-1], 1, VALUE_HEAD_GAIN)
        self.register_buffer("value_mean", torch.tensor(0.0))
        self.register_buffer("value_std", torch.tensor(1.0))

    def forward(self, critic_obs: torch.Tensor) -> torch.Tensor:
        """critic_obs [..., Dc] raw -> normalized value [...]."""
        return self.value_head(self.body(self.obs_normalizer(critic_obs))).squeeze(-1)

    def denormalize(self, normalized_value: torch.Tensor) -> torch.Tensor:
        """Normalized value -> reward units."""
        return normalized_value * self.value_std + self.value_mean

    def value(self, critic_obs: torch.Tensor) -> torch.Tensor:
        """critic_obs [..., Dc] raw -> value in reward units [...]."""
        return self.denormalize(self(critic_obs))

    @torch.no_grad()
    def set_value_stats(self, rms: RunningMeanStd, preserve_outputs: bool = True) -> None:
        """Adopt new return statistics (mean, std of `rms`).

        preserve_outputs=True rescales the value head so `value()` is unchanged (PopArt's "ART",
        van Hasselt et al. 2016): w' = w s/s', b' = (s b + m - m') / s'. Without it every change
        of the statistics would shift all value predictions at once. Pass False the first time
        (an untrained critic's ~0 output is better read as "the mean return" than preserved).
        """
        new_mean = float(rms.mean.reshape(()))
        new_std = float(rms.std.reshape(()))
        if preserve_outputs:
            old_mean, old_std = self.value_mean.item(), self.value_std.item()
            self.value_head.weight.mul_(old_std / new_std)
            self.value_head.bias.mul_(old_std / new_std).add_((old_mean - new_mean) / new_std)
        self.value_mean.fill_(new_mean)
        self.value_std.fill_(new_std)


def make_actor(
    obs_dim: int, action_dim: int, model: ModelConfig, obs_clip: float = 5.0
) -> GaussianActor:
    """The policy network for `model.kind`, on CPU (the learner's, evaluation's, export's; rollout
    workers run the same policy in numpy, `dexrl.rl.numpy_actor.NumpyActor`)."""
    model.validate()
    if model.kind == "lstm":
        return LSTMActor(obs_dim, action_dim, model, obs_clip)
    return Actor(obs_dim, action_dim, model, obs_clip)


def load_actor_state(actor: GaussianActor, state: Mapping[str, Any]) -> None:
    """Load weights + normalizer buffers by state-dict name: numpy arrays broadcast by
    `PPOLearner.actor_state()`, or the tensors of a checkpoint's `learner.actor`."""
    device = actor.log_std.device
    # Arrays are copied: those Ray hands over are read-only, which torch.as_tensor warns about.
    actor.load_state_dict({k: (v if isinstance(v, torch.Tensor) else torch.from_numpy(np.array(v)))
                           .to(device) for k, v in state.items()})  # fmt: skip

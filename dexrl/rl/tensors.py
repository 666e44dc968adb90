"""Small torch pieces of the PPO learner: the device choice, its Adam, cutting a rollout into
training sequences (and the LSTM's state at each chunk start), and the explained variance it
reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray


def adam(params: list[torch.nn.Parameter], lr: float, eps: float) -> torch.optim.Adam:
    """Adam with the fused kernel (one pass over all parameters; about 5% of a CPU update
    saved on the default networks), or the plain one where this torch build has no fused Adam
    for the device."""
    try:
        return torch.optim.Adam(params, lr=lr, eps=eps, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, lr=lr, eps=eps)


def to_sequences(x: torch.Tensor, length: int) -> torch.Tensor:
    """[T, B, ...] -> [L, (T / L) * B, ...], sequence index k * B + b (chunk k, env b)."""
    num_steps, num_envs, *rest = x.shape
    chunks = x.reshape(num_steps // length, length, num_envs, *rest)
    return chunks.transpose(0, 1).reshape(length, (num_steps // length) * num_envs, *rest)


def explained_variance(predictions: NDArray[np.floating], targets: NDArray[np.floating]) -> float:
    """1 - Var(targets - predictions) / Var(targets): 1 is perfect, 0 is no better than the mean.

    NaN when the targets have no variance.
    """
    var_targets = float(np.var(targets))
    if var_targets == 0.0:
        return float("nan")
    return 1.0 - float(np.var(targets - predictions)) / var_targets




def resolve_device(device: str) -> torch.device:
    """ "auto" -> cuda when available, else cpu; "cpu"; "cuda" / "cuda:K" (ValueError if absent)."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cpu":
        return torch.device("cpu")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device={device!r} but torch sees no CUDA GPU; use 'auto' or 'cpu'")
        return torch.device(device)
    raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:K]', got {device!r}")


def chunk_length(recurrent: bool, bptt_len: int, num_steps: int) -> int:
    """Sequence length L used for training: 1 for the MLP, min(bptt_len, T) for the LSTM."""
    if not recurrent:
        return 1
    length = min(bptt_len, num_steps)
    if num_steps % length:
        raise ValueError(f"rollout length T={num_steps} must be a multiple of bptt_len={length}")
    return length


@torch.no_grad()
def chunk_start_states(
    actor: Any, obs: torch.Tensor, starts: torch.Tensor, hidden_before: Sequence[np.ndarray], length: int
) -> tuple[torch.Tensor, ...]:
    """The LSTM state at the start of each `length`-step chunk of the rollout [T, B, ...],
    unrolling the pre-update `actor` from `hidden_before` (its state before step 0); () for a
    feed-forward actor. Chunk-major order (chunk k, env b) -> index k * B + b, as `to_sequences`."""
    if not actor.is_recurrent:
        return ()
    hidden = tuple(torch.as_tensor(h, device=obs.device) for h in hidden_before)
    states = []
    for begin in range(0, obs.shape[0], length):
        states.append(hidden)
        _, hidden = actor(obs[begin : begin + length], hidden, starts[begin : begin + length])
    return tuple(torch.cat([s[i] for s in states], dim=0) for i in range(len(hidden)))

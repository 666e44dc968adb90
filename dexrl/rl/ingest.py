"""The workers' batches as the learner holds them: one tensor per [T, B, ...] field on the
learner's device, filled worker batch by worker batch (docs/architecture.md §17).

The trainer hands the learner the list of per-worker `RolloutBatch`es it fetched from Ray: joining
them first on the driver (`RolloutBatch.concat`) would copy every byte once more before the learner
copies them again (to its GPU, or into the minibatches). Here each worker's arrays are copied
straight into their columns of the destination tensors, which `BatchIngest(reuse=True)` keeps
between updates (a fresh multi-GB host buffer page-faults on every write; the learner's `update`
reuses them, `prepare` for the doctor does not). A single batch on the CPU is used in place (a
tensor view of the numpy array, no copy at all). The small [T, B] and [B, ...] arrays that GAE
reads on the CPU are joined with numpy.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from dexrl.rl.running_stats import Moments
from dexrl.rl.storage import RolloutBatch, check_joinable, join_final_rows, merge_moments

TENSOR_FIELDS = ("obs", "critic_obs", "actions", "logp", "action_mean", "action_std", "episode_starts")
"""The [T, B, ...] fields the epochs read, as tensors on the learner's device."""


@dataclass
class Ingested:
    """Several workers' batches as one, without a host-side join of the large fields."""

    tensors: dict[str, torch.Tensor]
    """TENSOR_FIELDS -> [T, B, ...] on the learner's device (B = every worker's envs)."""
    rewards: NDArray[np.float32]
    terminated: NDArray[np.bool_]
    truncated: NDArray[np.bool_]
    final_critic_obs: NDArray[np.float32]
    """[K, Dc] in the order of np.nonzero(truncated) of the joined batch."""
    last_critic_obs: NDArray[np.float32]
    actor_hidden: tuple[NDArray[np.float32], ...]
    obs_moments: Moments
    critic_obs_moments: Moments

    @property
    def num_steps(self) -> int:
        return int(self.rewards.shape[0])


class BatchIngest:
    """Copies a list of worker batches into device tensors (see the module docstring)."""

    def __init__(self, device: torch.device, reuse: bool) -> None:
        self.device, self.reuse = device, reuse
        self._buffers: dict[str, torch.Tensor] = {}
        self.seconds = 0.0  # wall seconds of the last call (the learner reports it)

    def __call__(self, batches: Sequence[RolloutBatch]) -> Ingested:
        start = time.perf_counter()
        ingested = self._ingest(batches)
        self.seconds = time.perf_counter() - start
        return ingested

    def _ingest(self, batches: Sequence[RolloutBatch]) -> Ingested:
        if not batches:
            raise ValueError("the learner got no rollout batch (an empty list)")
        check_joinable(batches)
        first = batches[0]

        def join(name: str, axis: int) -> np.ndarray:
            arrays = [getattr(x, name) for x in batches]
            return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)

        return Ingested(
            tensors={name: self._tensor(name, [getattr(x, name) for x in batches]) for name in TENSOR_FIELDS},
            rewards=join("rewards", 1), terminated=join("terminated", 1), truncated=join("truncated", 1),
            final_critic_obs=first.final_critic_obs if len(batches) == 1 else join_final_rows(batches),
            last_critic_obs=join("last_critic_obs", 0),
            actor_hidden=tuple(np.concatenate([x.actor_hidden[i] for x in batches], axis=0)
                               for i in range(len(first.actor_hidden))),
            obs_moments=merge_moments([x.obs_moments for x in batches]),
            critic_obs_moments=merge_moments([x.critic_obs_moments for x in batches]),
        )  # fmt: skip

    def _tensor(self, name: str, parts: list[np.ndarray]) -> torch.Tensor:
        """[T, B, ...] with each part's envs in its columns (parts join along B, axis 1)."""
        if len(parts) == 1 and self.device.type == "cpu":
            return _view(parts[0])  # no copy
        t, rest = parts[0].shape[0], parts[0].shape[2:]
        shape = (t, sum(p.shape[1] for p in parts), *rest)
        dtype = _view(parts[0][:0]).dtype
        dest = self._buffers.get(name)
        if dest is None or tuple(dest.shape) != shape or dest.dtype != dtype:
            dest = torch.empty(shape, dtype=dtype, device=self.device)
            if self.reuse:
                self._buffers[name] = dest
        begin = 0
        for part in parts:
            end = begin + part.shape[1]
            dest[:, begin:end].copy_(_view(part))
            begin = end
        return dest


def _view(array: np.ndarray) -> torch.Tensor:
    """A tensor sharing `array`'s memory. Arrays fetched from Ray's object store are read-only;
    the learner never writes to these tensors, so torch's warning about that is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(array)

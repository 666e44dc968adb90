"""Running mean/std of observations (and of returns), mergeable across rollout workers.

[D]/[R] normalize network inputs with a running mean/std and clip at +-5 sigma
(docs/references.md "PPO hyper-parameters").
Each worker summarizes its own rollout as moments (count, mean, var); the learner merges them
with the parallel formula of Chan, Golub & LeVeque (1979), so the merged statistics equal those of
the pooled data exactly (up to float64 rounding), whatever the chunk sizes.

Two halves:
- `RunningMeanStd` (numpy, float64) is the source of truth, owned by the learner and checkpointed.
  It lives in `dexrl.rl.running_stats` (no torch, so rollout workers import it without torch) and
  is re-exported here.
- `ObservationNormalizer` (torch nn.Module) holds a float32 copy (mean, std, clip) as buffers inside
  the actor/critic, so raw observations go into the network and an exported graph is self-contained.
"""

from __future__ import annotations

import torch
from torch import nn

from dexrl.rl.running_stats import VAR_EPS, Moments, RunningMeanStd, compute_moments

__all__ = ["VAR_EPS", "Moments", "ObservationNormalizer", "RunningMeanStd", "compute_moments"]


class ObservationNormalizer(nn.Module):
    """clamp((x - mean) / std, -clip, clip) with mean, std and clip stored as buffers.

    Buffers travel with `state_dict()` (weight broadcast, checkpoint, ONNX export) but are not
    trained: the learner copies them from its `RunningMeanStd` with `set_stats`.
    """

    mean: torch.Tensor
    std: torch.Tensor
    clip: torch.Tensor

    def __init__(self, dim: int, clip: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.register_buffer("clip", torch.tensor(float(clip)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = (x - self.mean) / self.std
        return torch.maximum(torch.minimum(z, self.clip), -self.clip)

    @torch.no_grad()
    def set_stats(self, rms: RunningMeanStd) -> None:
        """Copy mean and std (sqrt(var + VAR_EPS)) from the float64 source of truth."""
        if rms.shape != tuple(self.mean.shape):
            raise ValueError(
                f"normalizer stats of shape {rms.shape}, expected {tuple(self.mean.shape)}"
            )
        self.mean.copy_(torch.as_tensor(rms.mean, dtype=torch.float32))
        self.std.copy_(torch.as_tensor(rms.std, dtype=torch.float32))

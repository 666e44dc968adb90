"""Running mean/std of observations (and of returns), mergeable across rollout workers: numpy only.

[D]/[R] normalize network inputs with a running mean/std and clip at +-5 sigma
(docs/references.md "PPO hyper-parameters").
Each worker summarizes its own rollout as moments (count, mean, var); the learner merges them
with the parallel formula of Chan, Golub & LeVeque (1979), so the merged statistics equal those of
the pooled data exactly (up to float64 rounding), whatever the chunk sizes.

This module has no torch: rollout workers (`dexrl.distributed.worker`, via `dexrl.rl.storage`)
import it without loading torch. `dexrl.rl.normalizer` re-exports it beside the torch half.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Variance floor inside the square root: a constant input dimension maps to 0, not to inf/nan.
VAR_EPS = 1e-8

Moments = tuple[float, NDArray[np.float64], NDArray[np.float64]]
"""(count, mean, var): a summary of samples that `RunningMeanStd.merge` can pool exactly."""


def compute_moments(x: ArrayLike, shape: tuple[int, ...]) -> Moments:
    """Moments of samples `x[..., *shape]` (all leading axes are samples); population variance."""
    data = np.asarray(x, dtype=np.float64).reshape((-1, *shape))
    if data.shape[0] == 0:
        return 0.0, np.zeros(shape), np.ones(shape)
    return float(data.shape[0]), data.mean(axis=0), data.var(axis=0)


class RunningMeanStd:
    """Count, mean and (population) variance of a stream of vectors of a fixed `shape`."""

    def __init__(self, shape: int | tuple[int, ...]) -> None:
        self.shape: tuple[int, ...] = (shape,) if isinstance(shape, int) else tuple(shape)
        self.count = 0.0
        # With count 0 these are placeholders: normalize() is the identity until data arrives,
        # and merge() weights them by count 0, so they never leak into real statistics.
        self.mean = np.zeros(self.shape, dtype=np.float64)
        self.var = np.ones(self.shape, dtype=np.float64)

    @classmethod
    def from_moments(cls, count: float, mean: ArrayLike, var: ArrayLike) -> RunningMeanStd:
        """A RunningMeanStd holding the given moments (e.g. sent by a worker)."""
        mean_arr = np.asarray(mean, dtype=np.float64)
        rms = cls(mean_arr.shape)
        rms.merge((count, mean_arr, np.asarray(var, dtype=np.float64)))
        return rms

    @property
    def std(self) -> NDArray[np.float64]:
        """Standard deviation used for normalization, sqrt(var + VAR_EPS)."""
        return np.sqrt(self.var + VAR_EPS)

    def moments(self) -> Moments:
        """(count, mean, var) copies, the form workers send and `merge` accepts."""
        return self.count, self.mean.copy(), self.var.copy()

    def update(self, x: ArrayLike) -> None:
        """Add samples `x[..., *shape]` (all leading axes are sample axes)."""
        self.merge(compute_moments(x, self.shape))

    def merge(self, other: RunningMeanStd | Moments) -> None:
        """Pool another set of statistics into this one (Chan et al. parallel update)."""
        count_b, mean_b, var_b = other.moments() if isinstance(other, RunningMeanStd) else other
        mean_b = np.asarray(mean_b, dtype=np.float64)
        var_b = np.asarray(var_b, dtype=np.float64)
        if mean_b.shape != self.shape or var_b.shape != self.shape:
            raise ValueError(
                f"cannot merge moments of shape mean {mean_b.shape} / var {var_b.shape} "
                f"into RunningMeanStd of shape {self.shape}"
            )
        if count_b < 0 or np.any(var_b < 0):
            raise ValueError(f"moments need count >= 0 and var >= 0, got count {count_b}")
        count_b = float(count_b)
        if count_b == 0:
            return
        total = self.count + count_b
        delta = mean_b - self.mean
        # M2 (sum of squared deviations) adds, plus a correction for the distance between means.
        m2 = self.var * self.count + var_b * count_b + delta**2 * (self.count * count_b / total)
        # np.asarray: for shape () numpy arithmetic yields scalars, and callers expect arrays.
        self.mean = np.asarray(self.mean + delta * (count_b / total))
        self.var = np.asarray(m2 / total)
        self.count = total

    def normalize(self, x: ArrayLike, clip: float | None = None) -> NDArray[np.float32]:
        """(x - mean) / std, clipped to [-clip, clip] when clip is given; float32."""
        out = (np.asarray(x, dtype=np.float64) - self.mean) / self.std
        if clip is not None:
            out = np.clip(out, -clip, clip)
        return out.astype(np.float32)

    def state_dict(self) -> dict[str, Any]:
        """{"count": float, "mean": float64 array, "var": float64 array} (no pickled objects)."""
        return {"count": self.count, "mean": self.mean.copy(), "var": self.var.copy()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore from `state_dict()` output; arrays may be numpy, lists or CPU tensors."""
        mean = _as_float64(state["mean"])
        var = _as_float64(state["var"])
        if mean.shape != self.shape or var.shape != self.shape:
            raise ValueError(
                f"normalizer state has shape mean {mean.shape} / var {var.shape}, "
                f"expected {self.shape}"
            )
        self.count = float(state["count"])
        self.mean, self.var = mean, var


def _as_float64(x: Any) -> NDArray[np.float64]:
    if hasattr(x, "detach"):  # a torch tensor (checkpoints store tensors), without importing torch
        x = x.detach().cpu().numpy()
    return np.array(x, dtype=np.float64)

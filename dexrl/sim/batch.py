"""Step K environments together, each with its own MjModel (ADR changes models per env).

The physics substeps of one control step run inside MuJoCo's C loop (`mj_step(m, d, nstep)`), so
the Python cost is one call per env per control step, not one per substep (docs/architecture.md §1).
Observations are then gathered into [K, ...] numpy arrays by the task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import mujoco
import numpy as np


class DataViews(NamedTuple):
    """numpy views into one MjData, made once: each attribute read of an MjData builds a new
    view (~0.3 µs), and a task's snapshot reads five per env per step."""

    qpos: np.ndarray
    qvel: np.ndarray
    site_xpos: np.ndarray
    sensordata: np.ndarray
    warnings: np.ndarray  # MjData.warning.number: the count of each mjtWarning

    @classmethod
    def of(cls, d: mujoco.MjData) -> DataViews:
        return cls(d.qpos, d.qvel, d.site_xpos, d.sensordata, d.warning.number)


class BatchedSim:
    """K independent MuJoCo simulations advanced with one call per control step."""

    def __init__(self, models: Sequence[mujoco.MjModel], substeps: int) -> None:
        if not models:
            raise ValueError("BatchedSim needs at least one model")
        if substeps < 1:
            raise ValueError(f"substeps must be >= 1 (got {substeps})")
        nu = models[0].nu
        if any(m.nu != nu or m.nq != models[0].nq for m in models):
            raise ValueError("all models in a batch must have the same nq and nu")
        self.models: list[mujoco.MjModel] = list(models)
        self.datas: list[mujoco.MjData] = [mujoco.MjData(m) for m in self.models]
        self.views = [DataViews.of(d) for d in self.datas]  # renewed with each env's MjData
        self.substeps = substeps
        self.num_envs = len(self.models)
        self.nu = nu

    def step(self, ctrl: np.ndarray, env_ids: Sequence[int] | None = None) -> None:
        """Set controls [K, nu] and advance `substeps` physics steps per env (in C)."""
        ids = range(self.num_envs) if env_ids is None else env_ids
        for i in ids:
            d = self.datas[i]
            d.ctrl[:] = ctrl[i]
            mujoco.mj_step(self.models[i], d, self.substeps)

    def forward(self, i: int) -> None:
        """Recompute derived quantities (positions, sensors) of env i after editing its state."""
        mujoco.mj_forward(self.models[i], self.datas[i])

    def replace_model(self, i: int, model: mujoco.MjModel) -> None:
        """Give env i a new model (after a geometry change), with fresh data."""
        if model.nq != self.models[0].nq or model.nu != self.nu:
            raise ValueError("a replacement model must keep nq and nu")
        self.models[i] = model
        self.datas[i] = mujoco.MjData(model)
        self.views[i] = DataViews.of(self.datas[i])

    def gather(self, field: str) -> np.ndarray:
        """Stack one MjData array field over the batch: [K, ...]."""
        return np.stack([getattr(d, field) for d in self.datas])

    def clear_warnings(self, i: int) -> None:
        self.views[i].warnings[:] = 0

"""Applying a sampled λ to one env of a batched task: the context the apply functions share.

`ApplyContext` holds, for one task, the ids the apply functions write to (`ModelIndex`), every
env's calibrated model, the cube-size cache (cube size is geometry: MjSpec + `compile()`, cached
per quantized size), and per-env state that is not a model field (friction factors, perturbation
stds, observation-noise levels). `ApplyContext.apply` runs the apply functions of the parameters
to randomize, in registry order; `unsupported_reason` / `check_appliers` say which parameters a
task cannot take, `scalar_nominals` reads calibrated values for value-unit metrics.

The apply functions themselves, one per registered parameter, and the rules they follow are in
`dexrl.adr.appliers` (`APPLIERS`, `Applier`, `register_param`); they are re-exported here, so
`dexrl.adr.apply.APPLIERS` is the same table.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from dexrl.adr.appliers import APPLIERS as APPLIERS  # re-exported: the table lives there
from dexrl.adr.appliers import Applier as Applier
from dexrl.adr.appliers import ApplyFn as ApplyFn
from dexrl.adr.appliers import NominalFn as NominalFn
from dexrl.adr.appliers import register_param as register_param
from dexrl.adr.appliers import unregister_param as unregister_param
from dexrl.adr.params import get_spec
from dexrl.sim.model import compile_model, set_cube_half_size
from dexrl.tasks.base import ObsPart

CUBE_EDGE_QUANTUM = 1e-4
"""Cube edges are rounded to 0.1 mm before compiling, so a worker compiles each size once and
reuses it (at most ~170 models over [R]'s 49–66 mm range, ~1 ms each). 0.1 mm is below one ADR
step at the calibrated size (Δ = 0.02 → 57 mm · (e^{0.003} − 1) = 0.17 mm), so each step shows."""

# Observation noise of [D] at λ = 1 (docs/references.md "ADR"): (correlated, uncorrelated) std
# per element.
OBS_NOISE_LEVELS: dict[str, tuple[float, float]] = {
    "fingertip_pos": (0.001, 0.002),  # m
    "object_pos": (0.005, 0.001),  # m
    # [D] gives 0.1 rad of orientation noise; a rotation by θ moves the components of a unit
    # quaternion by about sin(θ/2) ≈ θ/2, so 0.05 per component.
    "object_quat": (0.05, 0.05),
    "exact": (0.0, 0.0),  # goals, joint angles, the previous action: no sensor noise modelled
}

@dataclass(frozen=True)
class ModelIndex:
    """Ids the apply functions write to, resolved once from the calibrated model."""

    cube_body: int  # -1 when the model has no cube
    cube_bodies: np.ndarray  # the cube body and its children (the Rubik's cube's top layer)
    cube_geoms: np.ndarray  # collision geoms of those bodies
    cube_dofs: np.ndarray  # the 6 dofs of its free joint
    hand_bodies: np.ndarray  # the robot's root body and every body under it
    hand_geoms: np.ndarray  # collision geoms of the hand
    hand_dofs: np.ndarray  # dofs of the hand's hinge joints

    @staticmethod
    def resolve(model: mujoco.MjModel, task: Any) -> ModelIndex:
        ids = task.ids
        collides = (model.geom_contype != 0) | (model.geom_conaffinity != 0)
        hand_bodies = np.asarray(ids.hand_bodies)
        in_hand = np.isin(model.geom_bodyid, hand_bodies)
        cube = ids.cube_body
        cube_bodies = np.flatnonzero(model.body_rootid == cube) if cube >= 0 else np.zeros(0, int)
        return ModelIndex(
            cube_body=cube,
            cube_bodies=cube_bodies,
            cube_geoms=np.flatnonzero(collides & np.isin(model.geom_bodyid, cube_bodies)),
            cube_dofs=np.arange(ids.cube_dof_adr, ids.cube_dof_adr + 6) if cube >= 0 else
            np.zeros(0, dtype=np.int64),
            hand_bodies=hand_bodies,
            hand_geoms=np.flatnonzero(collides & in_hand),
            hand_dofs=np.asarray(ids.hand_dof_adr),
        )  # fmt: skip


class ApplyContext:
    """What the apply functions share for one task: ids, calibrated models, the cube-size cache,
    and per-env state that is not a model field (friction factors, perturbation stds)."""

    def __init__(self, task: Any) -> None:
        self.task: Any = task
        base: mujoco.MjModel = task.base_model
        self.index: ModelIndex = ModelIndex.resolve(base, task)
        K = task.num_envs
        self.calibrated: list[mujoco.MjModel] = [base] * K
        """Per env: the untouched compiled model its current model was copied from."""
        self.cube_edge: float = 0.0
        self._nominal_key = -1
        if self.index.cube_body >= 0:
            self.cube_edge = 2.0 * float(base.geom_size[self.index.cube_geoms[0], 0])
            self._nominal_key = self._size_key(self.cube_edge)
        self._size_of_env = [self._nominal_key] * K
        self._models_by_size: dict[int, mujoco.MjModel] = {self._nominal_key: base}
        # Per size: the MjModel array fields that differ from `base` (None: layout differs).
        self._differing: dict[int, frozenset[str] | None] = {self._nominal_key: frozenset()}
        self.compiles = 0
        # w·λ of [cube slide, cube spin/roll, robot slide, robot spin/roll] (see _write_friction).
        self.friction_log_scale = np.zeros((K, 4))
        # Std of the random wrench on each env's cube: force (N) ×3, torque (N·m) ×3.
        self.perturbation_std = np.zeros((K, 6))
        self._obs_levels: tuple[np.ndarray, np.ndarray] | None = None

    # --- running the apply functions ----------------------------------------------------------

    def apply(self, i: int, lambdas: Mapping[str, float], names: Iterable[str]) -> None:
        """Write λ of `names` (registry order) into env i; call before `reset_env` builds its state."""
        refresh_constants = False
        for name in names:
            applier = APPLIERS[name]
            applier.apply(self, i, get_spec(name), float(lambdas[name]))
            refresh_constants |= applier.changes_inertia
        if refresh_constants:
            # Masses, inertias and armature enter constants MuJoCo derives at compile time
            # (body_invweight0, dof_invweight0, actuator_acc0, ...): the contact softness is scaled
            # by them. mj_setConst recomputes them from the written fields (~30 µs); it uses env
            # i's MjData as scratch, which reset_env then resets.
            mujoco.mj_setConst(self.model(i), self.task.sim.datas[i])

    def model(self, i: int) -> mujoco.MjModel:
        return self.task.sim.models[i]  # type: ignore[no-any-return]

    # --- cube size (geometry: MjSpec + compile, cached) ---------------------------------------

    @staticmethod
    def _size_key(edge: float) -> int:
        return int(round(edge / CUBE_EDGE_QUANTUM))

    def calibrated_for_edge(self, edge: float) -> mujoco.MjModel:
        """The compiled, calibrated model whose cube edge is `edge` rounded to the quantum."""
        key = self._size_key(edge)
        model = self._models_by_size.get(key)
        if model is None:
            spec = self.task.spec.copy()  # the task's spec stays at the calibrated size
            set_cube_half_size(spec, 0.5 * key * CUBE_EDGE_QUANTUM)
            model = compile_model(spec)
            self._models_by_size[key] = model
            self._differing[key] = _differing_fields(self.task.base_model, model)
            self.compiles += 1
        return model

    def use_cube_edge(self, i: int, edge: float) -> None:
        """Make env i's model the calibrated model of cube edge `edge` (quantized)."""
        key, old = self._size_key(edge), self._size_of_env[i]
        if key == old:
            return  # same geometry: the other fields are rewritten from calibrated values anyway
        calibrated = self.calibrated_for_edge(edge)
        fields = self._differing[key]
        if fields is None:  # a resize that changed array sizes: env i needs a new model and data
            self.task.sim.replace_model(i, copy.copy(calibrated))
        else:
            # Same layout (only geometry and what the compiler derives from it differ, e.g. geom
            # sizes, bounding boxes, the cube's inertia): copying those fields into env i's model
            # equals replace_model(copy(calibrated)) and keeps its MjData (saves ~1 ms a reset).
            model = self.model(i)
            for name in fields.union(self._differing[old] or ()):
                getattr(model, name)[...] = getattr(calibrated, name)
            for name in _STAT_FIELDS:
                setattr(model.stat, name, getattr(calibrated.stat, name))
        self.calibrated[i] = calibrated
        self._size_of_env[i] = key

    # --- per-step perturbations (installed in task.pre_physics_hooks) -------------------------

    def perturb(self) -> None:
        """Random force and torque on the cube, redrawn every control step (held over it)."""
        task, body = self.task, self.index.cube_body
        for i in np.flatnonzero(self.perturbation_std.any(axis=1)):
            task.sim.datas[i].xfrc_applied[body] = self.perturbation_std[i] * task.rngs[i].standard_normal(6)

    # --- observation noise levels -------------------------------------------------------------

    def obs_levels(self) -> tuple[np.ndarray, np.ndarray]:
        """(correlated, uncorrelated) noise std per policy-observation element at λ = 1."""
        if self._obs_levels is None:
            self._obs_levels = obs_noise_levels(self.task.policy_obs_parts())
        return self._obs_levels


def obs_noise_levels(parts: Sequence[ObsPart]) -> tuple[np.ndarray, np.ndarray]:
    """[D]'s per-element (correlated, uncorrelated) noise std of a policy observation, from the
    task's named parts (`HandTask.policy_obs_parts`): each part's `noise` class sets its level.
    Quantities derived from a noisy one (goal minus fingertip) get its level (independent draws:
    an additive per-element noise cannot propagate through the derivation)."""
    unknown = sorted({p.noise for p in parts} - set(OBS_NOISE_LEVELS))
    if unknown:
        raise ValueError(
            f"observation noise: unknown noise class(es) {unknown} in the task's observation "
            f"parts; known: {sorted(OBS_NOISE_LEVELS)}"
        )
    corr = np.concatenate([np.full(p.size, OBS_NOISE_LEVELS[p.noise][0]) for p in parts])
    uncorr = np.concatenate([np.full(p.size, OBS_NOISE_LEVELS[p.noise][1]) for p in parts])
    return corr, uncorr


_STAT_FIELDS = ("meaninertia", "meanmass", "meansize", "extent", "center")


def _differing_fields(base: mujoco.MjModel, other: mujoco.MjModel) -> frozenset[str] | None:
    """Names of `other`'s array fields that differ from `base`'s; None if any size differs."""
    sizes, arrays = _model_field_names()
    if any(getattr(base, n) != getattr(other, n) for n in sizes):
        return None
    # Byte comparison: exact, NaN-safe and ~5x cheaper than np.array_equal over ~500 fields.
    return frozenset(n for n in arrays if getattr(base, n).tobytes() != getattr(other, n).tobytes())


@functools.cache
def _model_field_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(integer size fields, array fields) of mujoco.MjModel."""
    model = mujoco.MjModel.from_xml_string("<mujoco/>")
    names = [n for n in dir(model) if not n.startswith("_")]
    sizes = tuple(n for n in names if isinstance(getattr(model, n), int))
    return sizes, tuple(n for n in names if isinstance(getattr(model, n), np.ndarray))


# --- what a task can take ---------------------------------------------------------------------


def unsupported_reason(name: str, task: Any) -> str | None:
    """Why parameter `name` cannot be applied to `task`, or None when it can."""
    applier = APPLIERS.get(name)
    if applier is None:
        return "it has no apply function in dexrl.adr.apply.APPLIERS"
    if applier.needs_cube and task.ids.cube_body < 0:
        return f"it needs a cube, and task {task.cfg.task!r} (object {task.cfg.object!r}) has none"
    if applier.needs_rubiks and not task.has_face_hinge:
        return f"it needs the Rubik's cube, and task {task.cfg.task!r} has none"
    cube_bodies = np.count_nonzero(task.base_model.body_rootid == task.ids.cube_body)
    if name == "cube_size" and cube_bodies > 1:
        return (
            f"it resizes a one-body cube (set_cube_half_size); the cube of object {task.cfg.object!r} "
            "has child bodies (a hinged layer)"
        )
    if name.startswith("obs_noise_"):
        try:
            obs_noise_levels(task.policy_obs_parts())
        except ValueError as err:
            return str(err)
    return None


def check_appliers(names: Iterable[str], task: Any) -> None:
    """Fail with a clear message when a parameter to randomize cannot be applied to `task`."""
    for name in names:
        reason = unsupported_reason(name, task)
        if reason is not None:
            raise ValueError(
                f"ADR parameter {name!r} cannot be randomized here: {reason}; "
                f"disable it (adr.params.{name}.enabled=false)"
            )


def scalar_nominals(ctx: ApplyContext, names: Iterable[str]) -> dict[str, float]:
    """Calibrated values of `names` that are one number (for `adr/<name>/low_value` metrics)."""
    out = {}
    for name in names:
        applier = APPLIERS.get(name)
        if applier is None or applier.nominal is None or unsupported_reason(name, ctx.task):
            continue
        values = np.unique(np.asarray(applier.nominal(ctx), dtype=float))
        if values.size == 1:
            out[name] = float(values[0])
    return out

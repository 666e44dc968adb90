"""Applying a sampled λ to one env of a batched task: one apply function per registered parameter.

`APPLIERS` maps every name of `dexrl.adr.params.PARAM_SPECS` to an `Applier`: the function that
writes the parameter's value into env i, and how its calibrated (nominal) value is read from the
model. To add a parameter, add its `ParamSpec` to the registry and one entry here.

Rules every apply function follows:
- It writes from the *calibrated* value, never from env i's current (already randomized) model:
  `ApplyContext.calibrated[i]` is the compiled, untouched model env i's current one was copied
  from (the task's `base_model`, or the cached model of env i's cube size), so values never
  compound over episodes.
- Model fields go into env i's own MjModel (`task.sim.models[i]`, docs/architecture.md §2).
  Cube size is geometry and goes through MjSpec + `compile()` (cached per quantized size); it
  resets env i's model to the calibrated model of that size, so every other field is written
  after it.
- Functions run in registry order, which is also the dependency order: cube damping and the
  perturbation scales read the (randomized) cube mass, cube size and gravity written before them.
- Control-loop parameters (latency, action noise, observation noise) go into the task's per-env
  arrays (`action_delay`, `action_noise_std`, `obs_noise_*_std`), perturbations into the
  per-env stds that `ApplyContext.perturb` (a `pre_physics_hooks` entry) draws from every step.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np

from dexrl.adr.params import ParamSpec, get_spec
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
        self.task = task
        base: mujoco.MjModel = task.base_model
        self.index = ModelIndex.resolve(base, task)
        K = task.num_envs
        self.calibrated: list[mujoco.MjModel] = [base] * K
        """Per env: the untouched compiled model its current model was copied from."""
        self.cube_edge = 0.0
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


# --- the apply functions, in registry order ---------------------------------------------------
# Signature: (ctx, env index, spec, λ). `spec.to_value(nominal, λ)` is the registered mapping.

ApplyFn = Callable[[ApplyContext, int, ParamSpec, float], None]


def _cube_size(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    ctx.use_cube_edge(i, float(spec.to_value(ctx.cube_edge, lam)))


def _cube_mass(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    c, m, bodies = ctx.calibrated[i], ctx.model(i), ctx.index.cube_bodies
    m.body_mass[bodies] = spec.to_value(c.body_mass[bodies], lam)
    m.body_inertia[bodies] = spec.to_value(c.body_inertia[bodies], lam)  # same density: I ∝ m


def _write_friction(ctx: ApplyContext, i: int) -> None:
    """Hand–cube contact friction = calibrated · e^{w·λ_cube} · e^{w·λ_robot}, per column.

    MuJoCo takes the *maximum* of the two geoms' frictions for a contact, so scaling only the
    cube's geoms below the hand's (equal when calibrated) would change nothing, and ADR would
    widen that side for free. Both factors are therefore written into both the cube's and the
    hand's geoms: the contact gets their product whatever the calibrated values are. (The hand
    touches only the cube; the cube's floor contacts end the episode anyway.)
    """
    c, m, ix = ctx.calibrated[i], ctx.model(i), ctx.index
    cube_slide, cube_spin, robot_slide, robot_spin = ctx.friction_log_scale[i]
    scale = np.exp([cube_slide + robot_slide, cube_spin + robot_spin, cube_spin + robot_spin])
    for geoms in (ix.cube_geoms, ix.hand_geoms):
        m.geom_friction[geoms] = c.geom_friction[geoms] * scale


def _friction(column: int) -> ApplyFn:
    def apply(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
        ctx.friction_log_scale[i, column] = np.log(spec.to_value(1.0, lam))  # = w·λ
        _write_friction(ctx, i)

    return apply


def _cube_damping(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    c, m, ix = ctx.calibrated[i], ctx.model(i), ctx.index
    rate = float(spec.to_value(0.0, lam))  # 1/s; the calibrated cube has none (spec.nominal)
    # Damping = rate × (mass, principal inertia): each dof's velocity decays at `rate`.
    mass = m.body_mass[ix.cube_bodies].sum()  # the free joint carries the whole cube
    scale = np.concatenate([np.full(3, mass), m.body_inertia[ix.cube_body]])
    m.dof_damping[ix.cube_dofs] = c.dof_damping[ix.cube_dofs] + rate * scale


def _robot_link_mass(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    c, m, bodies = ctx.calibrated[i], ctx.model(i), ctx.index.hand_bodies
    m.body_mass[bodies] = spec.to_value(c.body_mass[bodies], lam)
    m.body_inertia[bodies] = spec.to_value(c.body_inertia[bodies], lam)


def _hand_dof_field(field: str) -> ApplyFn:
    def apply(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
        dofs = ctx.index.hand_dofs
        getattr(ctx.model(i), field)[dofs] = spec.to_value(getattr(ctx.calibrated[i], field)[dofs], lam)

    return apply


def _actuator_gain(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    # A position actuator is force = kp·ctrl − kp·length: gain and bias scale together.
    c, m = ctx.calibrated[i], ctx.model(i)
    m.actuator_gainprm[:, 0] = spec.to_value(c.actuator_gainprm[:, 0], lam)
    m.actuator_biasprm[:, 1] = spec.to_value(c.actuator_biasprm[:, 1], lam)


def _actuator_force_range(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    ctx.model(i).actuator_forcerange[:] = spec.to_value(ctx.calibrated[i].actuator_forcerange, lam)


def _gravity(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    g0 = ctx.calibrated[i].opt.gravity
    magnitude = float(np.linalg.norm(g0))
    ctx.model(i).opt.gravity[:] = g0 * (float(spec.to_value(magnitude, lam)) / magnitude)


def _timestep(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    ctx.model(i).opt.timestep = float(spec.to_value(ctx.calibrated[i].opt.timestep, lam))


def _action_latency(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    # Whole control steps, ⌊v⌋ or ⌈v⌉ with mean v = the robot's calibrated latency + λ
    # (ParamSpec.draw_integer), from env i's RNG.
    calibrated = float(ctx.task.cfg.robot.action_latency_steps)
    ctx.task.action_delay[i] = spec.draw_integer(float(spec.to_value(calibrated, lam)), ctx.task.rngs[i])


def _action_noise(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    ctx.task.action_noise_std[i] = float(spec.to_value(0.0, lam))


def _obs_noise(kind: int) -> ApplyFn:
    def apply(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
        task = ctx.task
        floor = (task.cfg.obs_noise_correlated, task.cfg.obs_noise_uncorrelated)[kind]
        target = (task.obs_noise_corr_std, task.obs_noise_uncorr_std)[kind]
        # The env config's noise is the floor: ADR adds [D]'s per-quantity levels on top of it.
        target[i] = np.maximum(floor, float(spec.to_value(0.0, lam)) * ctx.obs_levels()[kind])

    return apply


def _cube_weight(ctx: ApplyContext, i: int) -> float:
    """m·g of env i's (randomized) cube under its (randomized) gravity, N."""
    m = ctx.model(i)
    return float(m.body_mass[ctx.index.cube_bodies].sum() * np.linalg.norm(m.opt.gravity))


def _cube_force_perturbation(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    ctx.perturbation_std[i, :3] = float(spec.to_value(0.0, lam)) * _cube_weight(ctx, i)


def _cube_torque_perturbation(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
    edge = 2.0 * float(ctx.model(i).geom_size[ctx.index.cube_geoms[0], 0])
    ctx.perturbation_std[i, 3:] = float(spec.to_value(0.0, lam)) * _cube_weight(ctx, i) * edge


# --- calibrated values, for value-unit ADR metrics --------------------------------------------

NominalFn = Callable[[ApplyContext], Any]


def _model_nominal(field: str, rows: str | None = None, column: int | None = None) -> NominalFn:
    """Calibrated `model.<field>[ctx.index.<rows>, column]` (all rows when `rows` is None)."""

    def nominal(ctx: ApplyContext) -> Any:
        value = getattr(ctx.task.base_model, field)
        if rows is not None:
            value = value[getattr(ctx.index, rows)]
        return value if column is None else value[..., column]

    return nominal


@dataclass(frozen=True)
class Applier:
    """How one registered parameter reaches the simulation."""

    apply: ApplyFn
    """Writes the value for λ into env i (from calibrated values)."""
    nominal: NominalFn | None = None
    """Calibrated value(s) read from the model; None when `ParamSpec.nominal` fixes it."""
    needs_cube: bool = False
    """The task's model must have a cube (a `cube_joint` free joint)."""
    changes_inertia: bool = False
    """Writes mass, inertia or armature: MuJoCo's derived constants are recomputed after."""
    needs_rubiks: bool = False
    """The task must have the Rubik's cube's face hinge (`HandTask.has_face_hinge`: `cube_ids`, `set_face_*`)."""


def _face(setter_name: str) -> ApplyFn:
    def apply(ctx: ApplyContext, i: int, spec: ParamSpec, lam: float) -> None:
        from dexrl.tasks import rubiks_cube as rubiks

        ids = ctx.task.cube_ids
        nominal = getattr(rubiks, setter_name.replace("set_", ""))(ctx.calibrated[i], ids)
        getattr(rubiks, setter_name)(ctx.task.sim.models[i], ids, float(spec.to_value(nominal, lam)))

    return apply


def _face_nominal(getter_name: str) -> NominalFn:
    def nominal(ctx: ApplyContext) -> float:
        from dexrl.tasks import rubiks_cube as rubiks

        return float(getattr(rubiks, getter_name)(ctx.task.base_model, ctx.task.cube_ids))

    return nominal


APPLIERS: dict[str, Applier] = {
    "cube_size": Applier(_cube_size, lambda ctx: ctx.cube_edge, needs_cube=True),
    "cube_mass": Applier(
        _cube_mass, lambda ctx: ctx.task.base_model.body_mass[ctx.index.cube_bodies].sum(),
        needs_cube=True, changes_inertia=True,
    ),  # fmt: skip
    "cube_friction_slide": Applier(
        _friction(0), _model_nominal("geom_friction", "cube_geoms", 0), needs_cube=True
    ),
    "cube_friction_spin_roll": Applier(
        _friction(1), _model_nominal("geom_friction", "cube_geoms", 1), needs_cube=True
    ),
    "cube_damping": Applier(_cube_damping, needs_cube=True),
    # The hand's friction acts only where the hand touches something, and the cube is the only
    # thing it touches (the doctor found no contact at all on reach, even under saturating
    # commands): without a cube these would be randomized dimensions that change nothing.
    "robot_friction_slide": Applier(
        _friction(2), _model_nominal("geom_friction", "hand_geoms", 0), needs_cube=True
    ),
    "robot_friction_spin_roll": Applier(
        _friction(3), _model_nominal("geom_friction", "hand_geoms", 1), needs_cube=True
    ),
    "robot_link_mass": Applier(
        _robot_link_mass, _model_nominal("body_mass", "hand_bodies"), changes_inertia=True
    ),
    "robot_joint_damping": Applier(
        _hand_dof_field("dof_damping"), _model_nominal("dof_damping", "hand_dofs")
    ),
    "robot_armature": Applier(
        _hand_dof_field("dof_armature"),
        _model_nominal("dof_armature", "hand_dofs"),
        changes_inertia=True,
    ),
    "robot_frictionloss": Applier(
        _hand_dof_field("dof_frictionloss"), _model_nominal("dof_frictionloss", "hand_dofs")
    ),
    "actuator_gain": Applier(_actuator_gain, _model_nominal("actuator_gainprm", column=0)),
    "actuator_force_range": Applier(
        _actuator_force_range, _model_nominal("actuator_forcerange", column=1)
    ),
    "gravity": Applier(_gravity, lambda ctx: float(np.linalg.norm(ctx.task.base_model.opt.gravity))),
    "timestep": Applier(_timestep, lambda ctx: float(ctx.task.base_model.opt.timestep)),
    "action_latency": Applier(_action_latency, lambda ctx: float(ctx.task.cfg.robot.action_latency_steps)),
    "action_noise": Applier(_action_noise),
    "obs_noise_correlated": Applier(_obs_noise(0)),
    "obs_noise_uncorrelated": Applier(_obs_noise(1)),
    "cube_force_perturbation": Applier(_cube_force_perturbation, needs_cube=True),
    "cube_torque_perturbation": Applier(_cube_torque_perturbation, needs_cube=True),
    "face_friction": Applier(_face("set_face_friction"), _face_nominal("face_friction"), needs_rubiks=True),
    "face_detent": Applier(_face("set_face_detent"), _face_nominal("face_detent"), needs_rubiks=True),
}
"""Parameter name → how it is applied; one entry per entry of `PARAM_SPECS`."""


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

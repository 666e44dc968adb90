"""The apply functions: how each registered parameter's λ reaches env i of a batched task.

`APPLIERS` maps every name of `dexrl.adr.params.PARAM_SPECS` to an `Applier`: the function that
writes the parameter's value into env i, and how its calibrated (nominal) value is read from the
model. To add a parameter, add its `ParamSpec` to the registry and one entry here; from outside
the package, `register_param(spec, applier)` does both. The context the functions share (ids,
calibrated models, the cube-size cache, per-env state) and the checks of what a task can take are
`dexrl.adr.apply`.

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

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dexrl.adr.params import ParamSpec, register_spec, unregister_spec

if TYPE_CHECKING:
    from dexrl.adr.apply import ApplyContext

# --- the apply functions, in registry order ---------------------------------------------------
# Signature: (ctx, env index, spec, λ). `spec.to_value(nominal, λ)` is the registered mapping.

ApplyFn = Callable[["ApplyContext", int, ParamSpec, float], None]


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

NominalFn = Callable[["ApplyContext"], Any]


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


def register_param(spec: ParamSpec, applier: Applier) -> None:
    """Add a randomizable parameter from outside the package: `spec` goes to the end of the
    registry (`dexrl.adr.params.PARAM_SPECS`, so it is drawn after every built-in one) and
    `applier` into `APPLIERS`. From then on it is configured and randomized like a built-in
    parameter (`adr.params.<name>`; enabled in `adr=auto` wherever `applier` says it applies).

    Call it when the module that defines the parameter is imported, before any ADR config,
    state or randomizer that should know the parameter is built. Like an out-of-package task
    (`dexrl.tasks.registry.register_task`), the parameter exists only in processes that import
    that module; a Ray run's ADR actor imports dexrl's own modules only (rollout workers also a
    task's `env.task_module`), so a parameter for distributed training belongs in the two tables
    (`PARAM_SPECS`, `APPLIERS`), not in a task module.
    """
    if not isinstance(applier, Applier):
        raise TypeError(
            f"register_param({spec.name!r}): applier must be an Applier, got {applier!r}"
        )
    if spec.name in APPLIERS:
        raise ValueError(f"ADR parameter {spec.name!r} already has an apply function")
    register_spec(spec)
    APPLIERS[spec.name] = applier


def unregister_param(name: str) -> None:
    """Undo `register_param(...)` for `name` (built-in parameters cannot be removed)."""
    unregister_spec(name)
    del APPLIERS[name]

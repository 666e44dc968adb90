"""The randomizable physics parameters: one `ParamSpec` entry per parameter.

This module only *describes* parameters (how λ maps to a value, the hard limits, the unit); the
MuJoCo side that writes the value into an env's MjModel is `dexrl.adr.appliers.APPLIERS`. To add a
parameter (e.g. the Rubik's cube's `face_friction`), add one entry to `PARAM_SPECS` and one
`Applier` there; the ADR algorithm, configs and metrics pick it up by name. Code outside the
package adds one with `dexrl.adr.apply.register_param(spec, applier)` (`register_spec` here is
its MuJoCo-free half).

λ convention [R §5]: every parameter has a dimensionless λ; λ = 0 is the calibrated (nominal)
model, and ADR ranges start there (φ_L = φ_H = 0, docs/references.md "ADR"). Two mappings:

- "multiplicative": value = nominal · e^{w·λ}. [R] randomizes cube size as x0·e^{0.15λ} and
  friction as x0·e^{wλ} (docs/references.md "ADR"). A symmetric λ range is a symmetric range
  in log-scale, and the nominal may be an array (e.g. every link's mass scaled by the same factor).
- "additive": value = nominal + w·λ, with w in the parameter's unit. Used where the calibrated
  value is zero (noise, latency, perturbations) or where [R]/[D] state ranges additively (gravity).

`w` is chosen per parameter so that one ADR step (Δ = 0.02 in λ, [R] Table 15) is a small change and
a "strong" randomization is |λ| ≈ 1, as for cube size in [R] where λ ∈ [-1, 1] spans the final
0.049–0.066 m range. This keeps the ADR entropy (computed in λ units) comparable across dims.

`nominal` is None when it comes from the compiled model (resolved in phase 2, per env); a float
means the calibrated value is fixed by definition (e.g. no observation noise in a calibrated sim).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

MappingKind = Literal["additive", "multiplicative"]
MAPPINGS: tuple[str, ...] = ("additive", "multiplicative")


@dataclass(frozen=True)
class ParamSpec:
    """Description of one randomizable parameter (what ADR needs; not how MuJoCo applies it)."""

    name: str
    """Registry key, used in configs, metrics (`adr/<name>/low`) and checkpoints."""
    description: str
    """What the env side changes, in words (model field, which bodies/dofs)."""
    mapping: MappingKind
    """How λ becomes a value: "additive" (nominal + w·λ) or "multiplicative" (nominal·e^{w·λ})."""
    hard_limits: tuple[float, float]
    """[lo, hi] in λ units, lo ≤ 0 ≤ hi: ADR never widens past these (Alg. 1 of [R]). A side
    with limit 0 cannot move (a one-sided parameter such as noise, which cannot go below 0)."""
    unit: str
    """Unit of the *value* (after mapping), for humans and metrics."""
    w: float = 1.0
    """Scale of λ: the exponent factor (multiplicative) or the value per unit λ (additive)."""
    nominal: float | None = None
    """Calibrated value if fixed by definition; None = read from the compiled model (phase 2)."""
    integer: bool = False
    """The value is a whole number (e.g. latency in control steps), drawn per episode by
    `draw_integer` from a categorical over the two integers around the mapped value."""

    def __post_init__(self) -> None:
        # Checked here so that adding a registry entry with a typo fails at import, not mid-run.
        lo, hi = self.hard_limits
        if self.mapping not in MAPPINGS:
            raise ValueError(f"{self.name}: mapping {self.mapping!r} is not one of {MAPPINGS}")
        if not lo <= 0.0 <= hi:
            raise ValueError(
                f"{self.name}: hard limits [{lo}, {hi}] must contain the calibrated value λ = 0"
            )
        if not self.w > 0.0:
            raise ValueError(f"{self.name}: w must be positive, got {self.w}")

    def to_value(self, nominal: float | np.ndarray, lam: float) -> float | np.ndarray:
        """The parameter's value for λ; `nominal` may be an array (same factor for every entry)."""
        if self.mapping == "multiplicative":
            return np.multiply(nominal, math.exp(self.w * lam))  # type: ignore[no-any-return]
        return np.add(nominal, self.w * lam)  # type: ignore[no-any-return]

    def physical(self, lam: float, nominal: float | None = None) -> float:
        """λ in physical terms: the value (in `unit`) when the calibrated value is one number
        (`nominal`); otherwise, when it differs per body or joint (every link's mass), the factor
        on the calibrated model (multiplicative) or the amount added to it (additive, in `unit`).
        `physical_unit` names which."""
        if nominal is not None:
            return float(self.to_value(nominal, lam))
        if self.mapping == "multiplicative":
            return math.exp(self.w * lam)
        return self.w * lam

    def physical_unit(self, nominal_known: bool) -> str:
        """The unit of `physical(λ, nominal)`: e.g. "kg", "× calibrated", "m/s² added"."""
        unit = "dimensionless" if self.unit == "1" else self.unit
        if nominal_known:
            return unit
        return "× calibrated" if self.mapping == "multiplicative" else f"{unit} added"

    def draw_integer(self, value: float, rng: np.random.Generator) -> int:
        """A whole-number value whose expectation is `value` (for `integer` parameters).

        [R] App. B.2 samples discrete parameters from a categorical distribution parameterized
        by λ. Here the categorical has mass on ⌊v⌋ and ⌈v⌉ with P(⌈v⌉) = v − ⌊v⌋, so
        E[value] = v: continuous and monotone in λ, and each Δ step of ADR changes the episodes'
        mean latency by Δ (rounding v instead would make a staircase: Δ steps that change
        nothing, then a whole control step at once). One uniform draw every call, whatever v.
        """
        low = math.floor(value)
        return int(low) + int(rng.random() < value - low)


def _log_range(lo: float, hi: float, w: float = 1.0) -> tuple[float, float]:
    """λ limits for a multiplicative parameter whose scale factor should stay in [lo, hi]."""
    return (round(math.log(lo) / w, 4), round(math.log(hi) / w, 4))


# Frictions, damping etc. are scaled log-symmetrically; e^{±1} = [0.37, 2.72] contains the
# hand-tuned ranges of [D Table 1] (friction 0.7–1.3, damping 0.3–3 needs ±1.5 below).
_UNIT_LOG = (-1.0, 1.0)

PARAM_SPECS: list[ParamSpec] = [
    # --- the object -------------------------------------------------------------------------
    ParamSpec(
        name="cube_size",
        description="edge length of the cube (geom size; recompiled through MjSpec)",
        mapping="multiplicative",
        w=0.15,  # [R]: x0·e^{0.15λ} (docs/references.md "ADR")
        hard_limits=(-1.0, 1.0),  # 0.049–0.066 m for the 57 mm cube, [R]'s final range
        unit="m",
    ),
    ParamSpec(
        name="cube_mass",
        description="mass of the cube body (its inertia scaled by the same factor)",
        mapping="multiplicative",
        hard_limits=_log_range(0.4, 1.75),  # 0.036–0.158 kg for a 90 g cube, [R]'s final range
        unit="kg",
    ),
    ParamSpec(
        name="cube_friction_slide",
        description="sliding friction (geom friction[0]), the cube's factor of the hand–cube "
        "contact (MuJoCo takes the max of two geoms, so cube and robot factors multiply and are "
        "written into both: dexrl.adr.appliers._write_friction)",
        mapping="multiplicative",
        hard_limits=_UNIT_LOG,
        unit="1",
    ),
    ParamSpec(
        name="cube_friction_spin_roll",
        description="torsional and rolling friction (geom friction[1:3]), the cube's factor "
        "(multiplies the robot's, see cube_friction_slide)",
        mapping="multiplicative",
        hard_limits=_UNIT_LOG,
        unit="m",
    ),
    ParamSpec(
        name="cube_damping",
        description="extra velocity damping of the cube's free joint as a decay rate: "
        "dof_damping = rate × (mass for translation dofs, principal inertia for rotation dofs), "
        "so one number has one unit across the 6 dofs; unmodelled dissipation (calibrated: none)",
        mapping="additive",
        w=0.5,
        hard_limits=(0.0, 2.0),  # up to 1/s: a spinning cube loses 1/e of its speed per second
        unit="1/s",
        nominal=0.0,
    ),
    # --- the robot --------------------------------------------------------------------------
    ParamSpec(
        name="robot_friction_slide",
        description="sliding friction (geom friction[0]), the hand's factor of the hand–cube "
        "contact (multiplies the cube's, see cube_friction_slide)",
        mapping="multiplicative",
        hard_limits=_UNIT_LOG,
        unit="1",
    ),
    ParamSpec(
        name="robot_friction_spin_roll",
        description="torsional and rolling friction (geom friction[1:3]), the hand's factor "
        "(multiplies the cube's, see cube_friction_slide)",
        mapping="multiplicative",
        hard_limits=_UNIT_LOG,
        unit="m",
    ),
    ParamSpec(
        name="robot_link_mass",
        description="mass of every hand link (body_mass and body_inertia, same factor)",
        mapping="multiplicative",
        hard_limits=_UNIT_LOG,  # contains [D Table 1] masses U[0.5, 1.5]
        unit="kg",
    ),
    ParamSpec(
        name="robot_joint_damping",
        description="dof_damping of all hand joints",
        mapping="multiplicative",
        hard_limits=(-1.5, 1.5),  # contains [D Table 1] log-U[0.3, 3] = λ ∈ [-1.20, 1.10]
        unit="N·m·s/rad",
    ),
    ParamSpec(
        name="robot_armature",
        description="dof_armature of all hand joints (reflected rotor inertia)",
        mapping="multiplicative",
        hard_limits=(-1.5, 1.5),
        unit="kg·m²",
    ),
    ParamSpec(
        name="robot_frictionloss",
        description="dof_frictionloss (dry joint friction) of all hand joints",
        mapping="multiplicative",
        hard_limits=(-1.5, 1.5),
        unit="N·m",
    ),
    ParamSpec(
        name="actuator_gain",
        description="position gain kp of every actuator (gainprm[0] and biasprm[1] = -kp)",
        mapping="multiplicative",
        hard_limits=_log_range(0.5, 2.0),  # contains [D Table 1] log-U[0.75, 1.5]
        unit="N·m/rad",
    ),
    ParamSpec(
        name="actuator_force_range",
        description="actuator_forcerange (both ends) of every actuator",
        mapping="multiplicative",
        hard_limits=_log_range(0.5, 2.0),
        unit="N·m",
    ),
    # --- the world and the control loop -----------------------------------------------------
    ParamSpec(
        name="gravity",
        description="magnitude of opt.gravity (direction kept)",
        mapping="additive",
        hard_limits=(-3.81, 4.19),  # 9.81 + λ ∈ [6, 14] m/s² ([R], docs/references.md "ADR")
        unit="m/s²",
    ),
    ParamSpec(
        name="timestep",
        description="physics timestep opt.timestep (substeps per control step unchanged)",
        mapping="multiplicative",
        hard_limits=_log_range(0.8, 1.25),  # mild: larger steps destabilize hand contacts
        unit="s",
    ),
    ParamSpec(
        name="action_latency",
        description="delay of the action in whole control steps (80 ms each at 12.5 Hz)",
        mapping="additive",
        hard_limits=(0.0, 2.0),  # mean latency λ steps: ⌊λ⌋ or ⌈λ⌉ per episode (draw_integer)
        unit="control steps",
        nominal=0.0,
        integer=True,
    ),
    ParamSpec(
        name="action_noise",
        description="std of Gaussian noise added to the normalized action (range [-1, 1])",
        mapping="additive",
        w=0.1,
        hard_limits=(0.0, 2.0),  # up to std 0.2
        unit="action range",
        nominal=0.0,
    ),
    ParamSpec(
        name="obs_noise_correlated",
        description="scale of per-episode (correlated) observation noise; 1 = [D]'s levels: "
        "fingertips 1 mm, object position 5 mm, orientation 0.1 rad",
        mapping="additive",
        hard_limits=(0.0, 3.0),
        unit="× [D] levels",
        nominal=0.0,
    ),
    ParamSpec(
        name="obs_noise_uncorrelated",
        description="scale of per-step (uncorrelated) observation noise; 1 = [D]'s levels: "
        "fingertips 2 mm, object position 1 mm, orientation 0.1 rad",
        mapping="additive",
        hard_limits=(0.0, 3.0),
        unit="× [D] levels",
        nominal=0.0,
    ),
    ParamSpec(
        name="cube_force_perturbation",
        description="std of random forces on the cube, in units of its weight m·g",
        mapping="additive",
        w=0.1,
        hard_limits=(0.0, 3.0),  # up to 0.3 m·g
        unit="m·g",
        nominal=0.0,
    ),
    ParamSpec(
        name="cube_torque_perturbation",
        description="std of random torques on the cube, in units of m·g·edge (weight × edge)",
        mapping="additive",
        w=0.1,
        hard_limits=(0.0, 3.0),  # up to 0.3 m·g·edge
        unit="m·g·edge",
        nominal=0.0,
    ),
    # Rubik's cube only (tasks face_turn, cube_solve; [R] randomizes the cube's own friction):
    ParamSpec(
        name="face_friction",
        description="dry friction of the Rubik's cube top-layer hinge (dof_frictionloss)",
        mapping="multiplicative",
        hard_limits=(-1.5, 1.5),  # x[0.22, 4.5]
        unit="N·m",
    ),
    ParamSpec(
        name="face_detent",
        description="stiffness of the detent spring pulling the top layer to the nearest 90°",
        mapping="multiplicative",
        hard_limits=(-1.5, 1.5),  # x[0.22, 4.5]
        unit="N·m/rad",
    ),
]
"""The registry, in a fixed order (the order λs are drawn in, so it is part of determinism:
append new parameters at the end to keep seeded runs reproducible). A list so that
`register_spec` can append to it where every module that imported it sees the new entry; change
it only through `register_spec`, which keeps `PARAM_NAMES` and `get_spec` in step."""

PARAM_NAMES: list[str] = [s.name for s in PARAM_SPECS]
_BY_NAME: dict[str, ParamSpec] = {s.name: s for s in PARAM_SPECS}
_BUILT_IN = frozenset(PARAM_NAMES)


def get_spec(name: str) -> ParamSpec:
    """The registered spec for `name`; ValueError listing the known names otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown ADR parameter {name!r}; known parameters: {', '.join(PARAM_NAMES)}"
        ) from None


def register_spec(spec: ParamSpec) -> None:
    """Append `spec` to the registry (the MuJoCo-free half of `dexrl.adr.apply.register_param`,
    which also gives it its apply function: use that)."""
    if spec.name in _BY_NAME:
        raise ValueError(f"ADR parameter {spec.name!r} is already registered")
    PARAM_SPECS.append(spec)
    PARAM_NAMES.append(spec.name)
    _BY_NAME[spec.name] = spec


def unregister_spec(name: str) -> None:
    """Remove a parameter added with `register_spec` (a built-in one cannot be removed)."""
    if name in _BUILT_IN:
        raise ValueError(
            f"ADR parameter {name!r} is built in (dexrl.adr.params); it cannot be removed"
        )
    spec = get_spec(name)
    PARAM_SPECS.remove(spec)
    PARAM_NAMES.remove(name)
    del _BY_NAME[name]

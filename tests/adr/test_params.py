"""The parameter registry: λ → value mappings and hard limits against the published figures
(docs/references.md "ADR")."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dexrl.adr import PARAM_NAMES, PARAM_SPECS, ParamSpec, get_spec


def test_registry_names_are_unique_and_complete() -> None:
    assert len(set(PARAM_NAMES)) == len(PARAM_NAMES)
    expected = {
        "cube_size", "cube_mass", "cube_friction_slide", "cube_friction_spin_roll",
        "cube_damping", "robot_friction_slide", "robot_friction_spin_roll", "robot_link_mass",
        "robot_joint_damping", "robot_armature", "robot_frictionloss", "actuator_gain",
        "actuator_force_range", "gravity", "timestep", "action_latency", "action_noise",
        "obs_noise_correlated", "obs_noise_uncorrelated", "cube_force_perturbation",
        "cube_torque_perturbation", "face_friction", "face_detent",
    }  # fmt: skip
    assert set(PARAM_NAMES) == expected


def test_cube_size_limits_give_the_final_range_of_the_paper() -> None:
    # [R]: size x0·e^{0.15λ}; final range 0.049–0.066 m for the 57 mm Rubik's cube.
    spec = get_spec("cube_size")
    lo, hi = spec.hard_limits
    assert spec.to_value(0.057, lo) == pytest.approx(0.057 * math.exp(-0.15), rel=1e-12)
    assert spec.to_value(0.057, lo) == pytest.approx(0.049, abs=5e-4)
    assert spec.to_value(0.057, hi) == pytest.approx(0.066, abs=5e-4)


def test_cube_mass_and_gravity_limits_give_the_final_ranges_of_the_paper() -> None:
    mass, gravity = get_spec("cube_mass"), get_spec("gravity")
    # 90 g cube: 0.09·0.4 = 0.036 kg, 0.09·1.75 = 0.1575 kg ([R]: 0.036–0.158 kg).
    assert mass.to_value(0.09, mass.hard_limits[0]) == pytest.approx(0.036, abs=1e-5)
    assert mass.to_value(0.09, mass.hard_limits[1]) == pytest.approx(0.1575, abs=1e-5)
    # 9.81 m/s² + λ, λ ∈ [-3.81, 4.19] → [6, 14] m/s².
    assert gravity.to_value(9.81, gravity.hard_limits[0]) == pytest.approx(6.0)
    assert gravity.to_value(9.81, gravity.hard_limits[1]) == pytest.approx(14.0)


def test_mean_latency_is_continuous_and_monotone_in_lambda() -> None:
    """[R] App. B.2: a discrete parameter comes from a categorical over λ. Per episode the
    latency is ⌊λ⌋ or ⌈λ⌉ (whole control steps) and its mean over episodes is λ itself: every
    Δ = 0.02 step moves it, with no staircase (rounding gave 0 up to λ = 0.49, then 1)."""
    spec = get_spec("action_latency")
    rng = np.random.default_rng(0)
    grid = np.round(np.arange(0.0, 2.0001, 0.05), 2)
    means = []
    for lam in grid:
        value = float(spec.to_value(0.0, lam))
        draws = np.array([spec.draw_integer(value, rng) for _ in range(4000)])
        assert set(np.unique(draws)) <= {math.floor(lam), math.ceil(lam)}, lam
        means.append(draws.mean())
    # Binomial(4000, p ≤ 0.5): std of a mean ≤ 0.008; 0.03 is > 3.7 std.
    np.testing.assert_allclose(means, grid, atol=0.03)
    assert (np.diff(means) > 0).all()  # monotone: each 0.05 step raises the mean
    assert spec.to_value(0.0, 0.3) == pytest.approx(0.3)  # metrics report the mean latency


def test_multiplicative_scales_every_entry_of_an_array_nominal() -> None:
    masses = np.array([0.1, 0.2, 0.4])
    scaled = get_spec("robot_link_mass").to_value(masses, math.log(2.0))
    np.testing.assert_allclose(scaled, [0.2, 0.4, 0.8])


def test_every_limit_contains_the_calibrated_value() -> None:
    for spec in PARAM_SPECS:
        lo, hi = spec.hard_limits
        assert lo <= 0.0 <= hi, spec.name
        nominal = 1.0 if spec.nominal is None else spec.nominal
        assert spec.to_value(nominal, 0.0) == nominal, spec.name


def test_a_bad_registry_entry_fails_when_defined() -> None:
    with pytest.raises(ValueError, match="must contain the calibrated value"):
        ParamSpec("face_detent", "detent spring", "additive", (0.1, 1.0), "N·m/rad")
    with pytest.raises(ValueError, match="mapping 'log'"):
        ParamSpec("face_detent", "detent spring", "log", (-1.0, 1.0), "N·m/rad")  # type: ignore[arg-type]

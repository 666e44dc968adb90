"""ADR configs: the shipped group files and the validation messages users see."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from dexrl.adr import ADRConfig, ParamConfig, adr_config_from_dict, get_spec, load_adr_config


def test_auto_config_has_the_policy_values_of_the_paper() -> None:
    config = load_adr_config("auto")
    # [R] Table 15 (docs/references.md "ADR"): p_b 0.5, Δ 0.02, t_H 20, t_L 10, m 240. m and p_b
    # are sized to the run ("auto", dexrl.adr.sizing: 240 and 0.5 at cluster scale, and before
    # a run sizes them); the dataclass defaults stay the paper's.
    assert (config.mode, config.boundary_prob, config.delta) == ("auto", "auto", 0.02)
    assert (config.buffer_size, config.decide_within_iterations) == ("auto", 8)
    assert (config.effective_buffer_size(), config.effective_boundary_prob()) == (240, 0.5)
    assert (ADRConfig().buffer_size, ADRConfig().boundary_prob) == (240, 0.5)
    # t_L / t_H are the task's (env.adr_threshold_*; config_for_task), [R]'s 10 / 20 by default.
    assert (config.threshold_low, config.threshold_high) == (None, None)
    assert config.thresholds() == (10.0, 20.0)
    assert config.params == {}


def test_none_config() -> None:
    assert load_adr_config("none").mode == "none"


# Scale endpoints of [D Table 1] per parameter (docs/references.md "ADR"); gravity is additive
# in m/s².
_D_TABLE_1 = {
    "cube_size": (0.95, 1.05),
    "cube_mass": (0.5, 1.5),
    "robot_link_mass": (0.5, 1.5),
    "cube_friction_slide": (0.7, 1.3),
    "cube_friction_spin_roll": (0.7, 1.3),
    "robot_joint_damping": (0.3, 3.0),
    "actuator_gain": (0.75, 1.5),
}


def test_manual_config_reproduces_the_hand_tuned_ranges() -> None:
    config = load_adr_config("manual")
    # Contact friction = cube factor x robot factor: only one side is randomized, so the
    # contact's range is exactly [D]'s U[0.7, 1.3].
    assert "robot_friction_slide" not in config.params
    assert "robot_friction_spin_roll" not in config.params
    assert config.mode == "manual"
    for name, (scale_lo, scale_hi) in _D_TABLE_1.items():
        lo, hi = config.params[name].manual_range or (math.nan, math.nan)
        spec = get_spec(name)
        assert spec.to_value(1.0, lo) == pytest.approx(scale_lo, rel=1e-3), name
        assert spec.to_value(1.0, hi) == pytest.approx(scale_hi, rel=1e-3), name
    # N(0, 0.4) m/s² as the uniform of equal std: half-width h with h/√3 = 0.4.
    lo, hi = config.params["gravity"].manual_range or (math.nan, math.nan)
    assert (hi - lo) / math.sqrt(12) == pytest.approx(0.4, rel=1e-4)
    assert config.params["obs_noise_correlated"].manual_range == [1.0, 1.0]


def test_unknown_parameter_name_lists_the_known_names() -> None:
    with pytest.raises(ValueError) as err:
        ADRConfig(mode="auto", params={"cube_mas": ParamConfig()})
    assert "cube_mas" in str(err.value)
    assert "cube_mass" in str(err.value) and "gravity" in str(err.value)


def test_inverted_range_names_parameter_and_values() -> None:
    with pytest.raises(ValueError, match=r"cube_mass\.manual_range .*lo 0\.3 > hi -0\.2"):
        ADRConfig(mode="manual", params={"cube_mass": ParamConfig(manual_range=[0.3, -0.2])})
    with pytest.raises(ValueError, match=r"gravity\.hard_limits .*lo 1\.0 > hi -1\.0"):
        ADRConfig(params={"gravity": ParamConfig(hard_limits=[1.0, -1.0])})


def test_bad_mode_lists_the_allowed_modes() -> None:
    with pytest.raises(ValueError, match="'adr' is not one of: none, manual, auto"):
        ADRConfig(mode="adr")


def test_manual_range_outside_the_hard_limits_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"timestep\.manual_range \[-1\.0, 0\.1\] leaves"):
        ADRConfig(mode="manual", params={"timestep": ParamConfig(manual_range=[-1.0, 0.1])})
    # ... unless the hard limits are overridden too.
    wide = ParamConfig(manual_range=[-1.0, 0.1], hard_limits=[-1.0, 0.2])
    assert ADRConfig(mode="manual", params={"timestep": wide}).hard_limits(
        get_spec("timestep")
    ) == (-1.0, 0.2)


def test_hard_limits_must_contain_the_calibrated_value() -> None:
    with pytest.raises(ValueError, match=r"gravity\.hard_limits \[0\.5, 1\.0\] must contain"):
        ADRConfig(params={"gravity": ParamConfig(hard_limits=[0.5, 1.0])})


def test_unknown_keys_from_yaml_are_named(tmp_path: Path) -> None:
    bad_top = tmp_path / "bad_top.yaml"
    bad_top.write_text("mode: auto\nbuffer_sise: 10\n")
    with pytest.raises(ValueError, match="buffer_sise"):
        load_adr_config(bad_top)
    bad_param = tmp_path / "bad_param.yaml"
    bad_param.write_text("mode: manual\nparams:\n  cube_mass: {manual_rang: [0, 1]}\n")
    with pytest.raises(ValueError, match=r"params\.cube_mass\.manual_rang"):
        load_adr_config(bad_param)


def test_dict_and_hydra_style_input_gives_typed_config() -> None:
    config = adr_config_from_dict({"mode": "auto", "params": {"gravity": {"delta": 0.1}}})
    assert isinstance(config.params["gravity"], ParamConfig)
    assert config.delta_for("gravity") == 0.1 and config.delta_for("cube_mass") == 0.02


def test_unknown_config_name_lists_the_group() -> None:
    with pytest.raises(FileNotFoundError, match="auto, manual, none"):
        load_adr_config("automatic")

"""ADRState: sampling per mode, boundary updates and their limits, entropy, metrics, JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from dexrl.adr import (
    PARAM_NAMES,
    PARAM_SPECS,
    ADRConfig,
    ADRState,
    EpisodeAssignment,
    ParamConfig,
    ParamSpec,
    load_adr_config,
)

# Small synthetic registry: two-sided params and one one-sided (noise-like) param.
SPECS = (
    ParamSpec("a", "two-sided", "additive", (-0.1, 0.06), "1"),
    ParamSpec("b", "two-sided, multiplicative", "multiplicative", (-0.5, 0.5), "kg"),
    ParamSpec("noise", "one-sided", "additive", (0.0, 0.1), "m", nominal=0.0),
)


def _auto(**kwargs: object) -> ADRConfig:
    return ADRConfig(mode="auto", **kwargs)  # type: ignore[arg-type]


def _drive(state: ADRState, episodes: int, performance: float) -> None:
    """Run episodes that all score `performance`, checking the range invariants every step."""
    for _ in range(episodes):
        state.report(state.sample_episode(), performance)
        ranges = state.ranges()
        for spec in state.specs:
            low, high = ranges[spec.name]
            lo_limit, hi_limit = state.config.hard_limits(spec)
            assert lo_limit <= low <= 0.0 <= high <= hi_limit, (spec.name, low, high)


def test_none_mode_gives_calibrated_values() -> None:
    state = ADRState(load_adr_config("none"))
    for _ in range(50):
        assignment = state.sample_episode()
        assert assignment.boundary is None
        assert assignment.lambdas == dict.fromkeys(PARAM_NAMES, 0.0)


def test_manual_mode_samples_inside_fixed_ranges_and_never_boundaries() -> None:
    config = load_adr_config("manual")
    state = ADRState(config)
    seen: dict[str, list[float]] = {name: [] for name in PARAM_NAMES}
    for _ in range(2000):
        assignment = state.sample_episode()
        assert assignment.boundary is None
        state.report(assignment, 50.0)  # high performance must not widen anything
        for name, lam in assignment.lambdas.items():
            seen[name].append(lam)
    for name, values in seen.items():
        manual = config.param(name).manual_range or [0.0, 0.0]  # unlisted: calibrated
        assert manual[0] <= min(values) and max(values) <= manual[1], name
        if manual[1] - manual[0] > 0.1:  # uniform: 2000 draws come near both ends
            assert min(values) < manual[0] + 0.01 * (manual[1] - manual[0]) + 0.01, name
    assert set(seen["obs_noise_correlated"]) == {1.0}  # zero-width range pins the value
    assert state.ranges()["cube_mass"] == tuple(config.param("cube_mass").manual_range or ())


def test_every_boundary_is_evaluated_at_rate_p_b_over_2d_and_pinned() -> None:
    """[R] Alg. 1: a parameter uniformly (d = 3), then a side with probability 0.5, so each
    boundary gets p_b/(2d) of the episodes. "noise" cannot go below 0: its low-side share runs as
    ordinary episodes, and its high side gets p_b/(2d) like every other (not p_b/d)."""
    state = ADRState(_auto(seed=3, boundary_prob=0.3), SPECS)
    _drive(state, 2000, 50.0)  # open the ranges so pinned and sampled values differ
    n = 30000
    picks = dict.fromkeys([("a", "low"), ("a", "high"), ("b", "low"), ("b", "high")], 0)
    picks[("noise", "high")] = 0
    for _ in range(n):
        assignment = state.sample_episode()
        if assignment.boundary is not None:
            picks[assignment.boundary] += 1
            name, side = assignment.boundary
            low, high = state.ranges()[name]
            assert assignment.lambdas[name] == (low if side == "low" else high)
    # Each boundary: Binomial(30000, 0.05), std 0.00126 of the rate; 0.005 is ~4 std.
    for key, count in picks.items():
        assert count / n == pytest.approx(0.3 / 6, abs=0.005), key
    assert sum(picks.values()) / n == pytest.approx(0.3 * 5 / 6, abs=0.01)


def test_good_performance_widens_exactly_to_the_hard_limits_and_no_further() -> None:
    state = ADRState(_auto(buffer_size=3), SPECS)
    _drive(state, 5000, 50.0)
    assert state.ranges() == {"a": (-0.1, 0.06), "b": (-0.5, 0.5), "noise": (0.0, 0.1)}
    assert state.metrics()["adr/narrow_events"] == 0


def test_bad_performance_narrows_back_to_exactly_the_calibrated_value() -> None:
    state = ADRState(_auto(buffer_size=3), SPECS)
    _drive(state, 600, 50.0)
    assert all(high > 0.0 for _, high in state.ranges().values())
    _drive(state, 6000, 0.0)  # narrowing must stop at 0 on each side, not cross it
    assert state.ranges() == {"a": (0.0, 0.0), "b": (0.0, 0.0), "noise": (0.0, 0.0)}


def test_one_widen_step_per_full_buffer_at_threshold() -> None:
    # t_H = 20 is inclusive (average ≥ t_H widens); t_L = 10 inclusive (≤ t_L narrows).
    config = _auto(buffer_size=2, boundary_prob=1.0, delta=0.01)
    state = ADRState(config, SPECS[:1], nominals={"a": 2.0})
    reports = {"a/low": 0, "a/high": 0}
    while min(reports.values()) < 2:
        assignment = state.sample_episode()
        assert assignment.boundary is not None
        reports[f"a/{assignment.boundary[1]}"] += 1
        state.report(assignment, 20.0 if assignment.boundary[1] == "high" else 15.0)
    low, high = state.ranges()["a"]
    assert (low, high) == (0.0, 0.01)  # high widened once; low saw 15 (no change)
    metrics = state.metrics()
    assert metrics["adr/a/high_perf"] == 20.0 and metrics["adr/a/low_perf"] == 15.0
    assert metrics["adr/a/high_value"] == 2.01  # nominal 2 + w·λ with w = 1


def test_disabled_params_stay_calibrated_and_leave_the_entropy() -> None:
    config = _auto(buffer_size=1, params={"gravity": ParamConfig(enabled=False)})
    state = ADRState(config)
    for _ in range(3000):
        assignment = state.sample_episode()
        assert assignment.lambdas["gravity"] == 0.0
        assert assignment.boundary is None or assignment.boundary[0] != "gravity"
        state.report(assignment, 50.0)
    assert state.ranges()["gravity"] == (0.0, 0.0)
    assert "adr/gravity/low" not in state.metrics()


def test_entropy_matches_hand_computation() -> None:
    # Manual ranges set by hand: widths 1.0, 2.0 and 0.0 (floored to 1e-3).
    config = ADRConfig(
        mode="manual",
        params={
            "cube_mass": ParamConfig(manual_range=[-0.5, 0.5]),
            "gravity": ParamConfig(manual_range=[-1.0, 1.0]),
            "obs_noise_correlated": ParamConfig(manual_range=[1.0, 1.0]),
        },
    )
    # (log 1 + log 2 + log 0.001) / 3 = (0 + 0.693147 - 6.907755) / 3
    assert ADRState(config).entropy_npd() == pytest.approx(-2.071536, abs=1e-6)
    assert ADRState(config).metrics()["adr/nonzero_ranges"] == 2
    # Fresh ADR: every range is zero width, so H = log(1e-3) whatever d is.
    assert ADRState(_auto()).entropy_npd() == pytest.approx(-6.907755, abs=1e-6)


def test_entropy_of_auto_ranges_after_widening() -> None:
    # Widen everything to the hard limits: widths 0.16, 1.0, 0.1 → mean of logs.
    state = ADRState(_auto(buffer_size=2), SPECS)
    _drive(state, 3000, 50.0)
    # (ln 0.16 + ln 1 + ln 0.1) / 3 = (-1.832581 + 0 - 2.302585) / 3
    assert state.metrics()["adr_entropy_npd"] == pytest.approx(-1.378389, abs=1e-6)


def test_report_bookkeeping_invalid_stale_and_nonboundary() -> None:
    state = ADRState(_auto(buffer_size=100, boundary_prob=1.0), SPECS)
    assignment = state.sample_episode()
    assert assignment.boundary is not None
    state.report_invalid(assignment)
    state.report(EpisodeAssignment(assignment.lambdas, None), 30.0)
    name, side = assignment.boundary
    stale = EpisodeAssignment({**assignment.lambdas, name: 0.5}, assignment.boundary)
    state.report(stale, 30.0)
    with pytest.raises(ValueError, match="report_invalid"):
        state.report(assignment, float("nan"))
    metrics = state.metrics()
    assert metrics["adr/invalid_episodes"] == 1 and metrics[f"adr/{name}/{side}_invalid"] == 1
    assert metrics["adr/nonboundary_reports"] == 1 and metrics["adr/stale_reports"] == 1
    assert metrics["adr/boundary_reports"] == 0  # nothing entered a buffer
    assert f"adr/{name}/{side}_buffered" not in metrics


def test_json_round_trip_mid_run_continues_identically() -> None:
    config = _auto(buffer_size=10, seed=7)

    def successes(assignment: EpisodeAssignment) -> float:
        # Deterministic in λ, so both states see the same results for the same assignments.
        return float(round(50 * math.exp(-sum(v * v for v in assignment.lambdas.values()))))

    state = ADRState(config)
    for _ in range(3000):
        a = state.sample_episode()
        state.report(a, successes(a))
    saved = state.to_json()
    assert any(0 < len(v) < 10 for v in saved["buffers"].values())  # buffers part filled
    restored = ADRState.from_json(json.loads(json.dumps(saved)), config)
    assert restored.to_json() == saved
    for _ in range(3000):
        a, b = state.sample_episode(), restored.sample_episode()
        assert a == b
        state.report(a, successes(a))
        restored.report(b, successes(b))
    assert state.ranges() == restored.ranges()
    assert state.metrics() == restored.metrics()
    assert state.metrics()["adr/widen_events"] > 0  # the run actually moved boundaries


def test_from_json_rejects_another_mode() -> None:
    saved = ADRState(_auto()).to_json()
    with pytest.raises(ValueError, match="mode 'auto'; expected version 1 mode 'manual'"):
        ADRState.from_json(saved, ADRConfig(mode="manual"))


def test_same_seed_same_run_and_other_seed_differs() -> None:
    def run(seed: int) -> list[EpisodeAssignment]:
        state = ADRState(_auto(seed=seed))
        return [state.sample_episode() for _ in range(20)]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_a_new_parameter_is_one_registry_entry() -> None:
    face = ParamSpec("face_friction", "face hinge frictionloss", "multiplicative", (-1, 1), "N·m")
    state = ADRState(_auto(buffer_size=1, boundary_prob=1.0), (*PARAM_SPECS, face))
    for _ in range(5000):
        state.report(state.sample_episode(), 50.0)
    assert state.ranges()["face_friction"][1] > 0.0


def test_config_params_not_implemented_by_the_task_are_rejected() -> None:
    config = _auto(params={"gravity": ParamConfig(delta=0.1)})
    with pytest.raises(ValueError, match="does not implement: gravity"):
        ADRState(config, SPECS)


def test_metrics_report_values_for_known_nominals() -> None:
    config = ADRConfig(mode="manual", params={"cube_size": ParamConfig(manual_range=[-1, 1])})
    metrics = ADRState(config, nominals={"cube_size": 0.057}).metrics()
    assert metrics["adr/cube_size/low_value"] == pytest.approx(0.057 * np.exp(-0.15))
    assert metrics["adr/cube_size/high_value"] == pytest.approx(0.057 * np.exp(0.15))


# --- pinning the algorithm against plausible mis-implementations ---------------------------


def _report_side(state: ADRState, side: str, performances: list[float]) -> None:
    """Sample episodes until one evaluates boundary ("a", side) per performance, report it."""
    for performance in performances:
        assignment = state.sample_episode()
        while assignment.boundary != ("a", side):
            assignment = state.sample_episode()
        state.report(assignment, performance)


def test_a_decision_clears_the_buffer_and_the_next_needs_m_new_results() -> None:
    """Alg. 1: average m results, clear, decide. A sliding window (decide on every report once m
    are in, dropping the oldest) would widen again on the 5th report."""
    state = ADRState(_auto(buffer_size=4, boundary_prob=1.0, delta=0.01), SPECS[:1])
    _report_side(state, "high", [30.0] * 4)
    assert state.ranges()["a"] == (0.0, 0.01)
    assert state.to_json()["buffers"] == {}  # cleared by the decision
    _report_side(state, "high", [30.0] * 3)
    assert state.ranges()["a"] == (0.0, 0.01)  # 3 new results: no decision yet
    assert state.metrics()["adr/a/high_buffered"] == 3
    _report_side(state, "high", [30.0])
    assert state.ranges()["a"] == (0.0, 0.02)
    assert state.metrics()["adr/widen_events"] == 2


def test_averages_exactly_at_the_thresholds_widen_and_narrow() -> None:
    """t_H and t_L are both inclusive ([R]: ≥ t_H widens, ≤ t_L narrows)."""
    config = _auto(buffer_size=2, boundary_prob=1.0, delta=0.01, threshold_low=10.0,
                   threshold_high=20.0)  # fmt: skip
    state = ADRState(config, SPECS[:1])
    _report_side(state, "high", [19.0, 21.0])  # mean exactly 20
    _report_side(state, "high", [25.0, 15.0])  # 20 again
    assert state.ranges()["a"] == (0.0, 0.02)
    _report_side(state, "high", [10.0, 11.0])  # 10.5: between the thresholds, no move
    assert state.ranges()["a"] == (0.0, 0.02)
    _report_side(state, "high", [9.0, 11.0])  # mean exactly 10 narrows
    assert state.ranges()["a"] == (0.0, 0.01)
    assert state.metrics()["adr/narrow_events"] == 1


def test_results_measured_before_a_real_boundary_move_are_stale() -> None:
    """Parallel workers: episodes sampled at the old boundary report after it moved."""
    state = ADRState(_auto(buffer_size=2, boundary_prob=1.0, delta=0.01), SPECS[:1])
    in_flight: list[EpisodeAssignment] = []
    while len(in_flight) < 3:  # three episodes at the high boundary, all sampled at λ = 0
        assignment = state.sample_episode()
        if assignment.boundary == ("a", "high"):
            in_flight.append(assignment)
    for assignment in in_flight[:2]:
        state.report(assignment, 30.0)
    assert state.ranges()["a"] == (0.0, 0.01)  # the boundary moved under the third episode
    state.report(in_flight[2], 0.0)
    metrics = state.metrics()
    assert metrics["adr/stale_reports"] == 1 and metrics["adr/boundary_reports"] == 2
    assert state.to_json()["buffers"] == {}  # the stale result did not enter the buffer
    _report_side(state, "high", [0.0])  # a fresh episode at the new boundary (λ = 0.01) does
    assert state.metrics()["adr/a/high_buffered"] == 1


def _widened(ranges: dict[str, list[float]], config: ADRConfig) -> ADRState:
    saved = ADRState(config, SPECS).to_json()
    saved["ranges"] = ranges
    return ADRState.from_json(saved, config, SPECS)


def test_auto_mode_draws_unpinned_lambdas_uniformly_in_the_current_ranges() -> None:
    ranges = {"a": [-0.08, 0.04], "b": [-0.2, 0.3], "noise": [0.0, 0.05]}
    state = _widened(ranges, _auto(boundary_prob=0.5, seed=5))
    drawn: dict[str, list[float]] = {name: [] for name in ranges}
    for _ in range(6000):
        assignment = state.sample_episode()
        for name, lam in assignment.lambdas.items():
            if assignment.boundary is None or assignment.boundary[0] != name:
                drawn[name].append(lam)
    for name, (low, high) in ranges.items():
        values = np.asarray(drawn[name])
        width = high - low
        assert low <= values.min() and values.max() <= high, name
        # Uniform: the extremes come within 1% of the ends, the mean is the centre (std of the
        # mean of ≥ 5000 draws is width·0.29/70 ≈ 0.004·width).
        assert values.min() < low + 0.01 * width and values.max() > high - 0.01 * width, name
        assert values.mean() == pytest.approx((low + high) / 2, abs=0.02 * width), name


@pytest.mark.parametrize(
    ("ranges", "message"),
    [
        ({"a": [-0.2, 0.0]}, r"'a' \[-0.2, 0.0\] \(λ\) is not within the hard limits \[-0.1, 0.06\]"),
        ({"b": [-0.1, 0.6]}, r"'b' \[-0.1, 0.6\].*hard limits \[-0.5, 0.5\]"),
        ({"a": [0.01, 0.02]}, r"'a' \[0.01, 0.02\]"),  # low above the calibrated 0
        ({"b": [-0.3, -0.1]}, r"'b' \[-0.3, -0.1\]"),  # high below 0
        ({"noise": [0.0, float("nan")]}, "'noise' is not two finite numbers"),
    ],
)
def test_from_json_rejects_ranges_adr_could_not_have_reached(
    ranges: dict[str, list[float]], message: str
) -> None:
    config = _auto()
    saved = ADRState(config, SPECS).to_json()
    saved["ranges"].update(ranges)
    with pytest.raises(ValueError, match=message):
        ADRState.from_json(saved, config, SPECS)


def test_thresholds_default_to_the_paper_and_must_be_ordered() -> None:
    assert ADRConfig(mode="auto").thresholds() == (10.0, 20.0)
    assert ADRConfig(mode="auto", threshold_high=3.0, threshold_low=1.0).thresholds() == (1.0, 3.0)
    with pytest.raises(ValueError, match=r"threshold_low \(10.0\) must be below .* \(5.0\)"):
        ADRConfig(mode="auto", threshold_high=5.0)

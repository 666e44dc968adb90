"""ADR sized to the run (dexrl.adr.sizing): the rule for m and p_b, its floor and its cap."""

from __future__ import annotations

import itertools
import math

import pytest

from dexrl.adr import PARAM_NAMES, ADRConfig, ParamConfig, adr_config_from_dict
from dexrl.adr.sizing import (
    M_MIN,
    MAX_BOUNDARY_PROB,
    active_param_count,
    decision_error,
    decision_se,
    size_for_run,
)

# The 12 parameters adr=auto randomizes on `reach` (config_for_task drops the cube and Rubik's
# ones there); d is all the rule needs of them.
REACH_PARAMS = ("robot_link_mass", "robot_joint_damping", "robot_armature", "robot_frictionloss",
                "actuator_gain", "actuator_force_range", "gravity", "timestep", "action_latency",
                "action_noise", "obs_noise_correlated", "obs_noise_uncorrelated")  # fmt: skip


def _auto(active: int | tuple[str, ...], **kwargs: object) -> ADRConfig:
    names = PARAM_NAMES[:active] if isinstance(active, int) else active
    params = {n: ParamConfig(enabled=n in names) for n in PARAM_NAMES}
    merged: dict[str, object] = {"buffer_size": "auto", "boundary_prob": "auto", **kwargs}
    return ADRConfig(mode="auto", params=params, **merged)  # type: ignore[arg-type]


def test_the_laptop_reach_run_of_issue_24_gets_a_buffer_that_decides() -> None:
    # experiment=reach_fast adr=auto: 2 workers x 64 envs x 64 steps, 50-step episodes, 400k steps.
    cfg, sizing = size_for_run(_auto(REACH_PARAMS), 2, 64, 64, 50)
    assert sizing is not None and sizing.active_params == 12
    assert sizing.episodes_per_iteration == pytest.approx(163.84)
    assert sizing.results_per_boundary == pytest.approx(163.84 * 0.5 / 24)  # E p_b / (2d) = 3.41
    assert (
        (cfg.buffer_size, cfg.boundary_prob)
        == (27, 0.5)
        == (sizing.buffer_size, sizing.boundary_prob)
    )
    assert sizing.iterations_to_decide <= 8  # adr.decide_within_iterations
    assert sizing.env_steps_to_decide == pytest.approx(27 / (163.84 * 0.5 / 24) * 8192)  # ~64.8k
    assert sizing.decisions_in(400_000) > 6  # per boundary, at the first decision's pace
    line = sizing.line(400_000)
    assert "m=27" in line and "~65k env steps" in line and "\n" not in line
    # The same run with [R]'s m = 240 decides less than once per boundary, and says so.
    _, paper = size_for_run(_auto(REACH_PARAMS, buffer_size=240, boundary_prob=0.5), 2, 64, 64, 50)
    assert paper is not None and paper.decisions_in(400_000) < 1
    assert "fewer than one" in paper.line(400_000) and "adr.buffer_size=auto" in paper.line(400_000)


@pytest.mark.parametrize("k", [1, 2, 5, 8, 20])
def test_small_runs_decide_within_the_stated_iterations_or_say_why_not(k: int) -> None:
    grid = itertools.product([1, 2, 4], [4, 16, 64], [16, 64], [8, 50, 200], [1, 3, 12, 21])
    for workers, envs, horizon, length, d in grid:
        cfg, s = size_for_run(_auto(d, decide_within_iterations=k), workers, envs, horizon, length)
        assert (
            s is not None
            and M_MIN <= s.buffer_size <= 240
            and 0.5 <= s.boundary_prob <= MAX_BOUNDARY_PROB
        )
        assert cfg.buffer_size == s.buffer_size and cfg.boundary_prob == s.boundary_prob
        if s.iterations_to_decide > k + 1e-9:
            # Only when even the floor m at the highest p_b cannot fill within K iterations.
            assert s.buffer_size == M_MIN and s.boundary_prob == MAX_BOUNDARY_PROB
        elif s.buffer_size > M_MIN:
            assert s.boundary_prob == 0.5  # p_b rises only when the floor needs it
            if s.buffer_size < 240:  # the largest m that still decides within K iterations
                assert (s.buffer_size + 1) / s.results_per_boundary > k


def test_paper_scale_throughput_reproduces_m_240() -> None:
    # [R]'s cluster (29,440 CPU cores; docs/references.md "Scale of the original systems"), each
    # core a rollout worker of this trainer (64 envs, 64-step horizon), cube_rotate's 21
    # parameters, episodes counted at their 1600-step cap: ~900 results per boundary per iteration, so the cap m = 240 applies.
    cfg, s = size_for_run(_auto(21), 29_440, 64, 64, 1600)
    assert s is not None and (s.buffer_size, s.boundary_prob) == (240, 0.5)
    assert s.iterations_to_decide < 1
    # The cap is reached at 240 / K = 30 results per boundary per iteration, and held above it.
    per_iteration = [
        size_for_run(_auto(1), 1, 1, 4 * n, 1)[1] for n in (29, 30, 31, 10_000)
    ]  # r = n
    assert [s.buffer_size for s in per_iteration if s] == [232, 240, 240, 240]


def test_an_explicit_buffer_size_or_boundary_probability_wins() -> None:
    cfg, s = size_for_run(_auto(REACH_PARAMS, buffer_size=240), 2, 64, 64, 50)
    assert s is not None and cfg.buffer_size == 240 and not s.buffer_auto
    assert s.boundary_prob == MAX_BOUNDARY_PROB  # auto p_b does what it can for 240 in 8 iterations
    cfg, s = size_for_run(_auto(REACH_PARAMS, boundary_prob=0.25), 2, 64, 64, 50)
    assert s is not None and cfg.boundary_prob == 0.25 and cfg.buffer_size == M_MIN
    cfg, s = size_for_run(_auto(REACH_PARAMS, buffer_size=7, boundary_prob=1.0), 2, 64, 64, 50)
    assert (cfg.buffer_size, cfg.boundary_prob) == (7, 1.0)
    # Not mode auto: nothing to size.
    assert size_for_run(ADRConfig(mode="manual"), 2, 64, 64, 50) == (ADRConfig(mode="manual"), None)


def test_the_floor_and_its_statistical_cost() -> None:
    # SE of the mean of m results ≤ √(p(1-p)/m), p = 0.4 the worst of [R]'s normalized
    # thresholds [0.2, 0.4]; at m = 24 that is half the gap 0.2.
    assert M_MIN == 24 and decision_se(24) == pytest.approx(0.5) and decision_se(23) > 0.5
    assert decision_se(240) == pytest.approx(math.sqrt(0.24 / 240) / 0.2)  # 0.16
    at_floor, paper = decision_error(24), decision_error(240)
    assert at_floor["wrong_direction"] == pytest.approx(0.02275, abs=1e-5)  # P(Z ≥ 2)
    assert at_floor["move_at_midpoint"] == pytest.approx(0.3173, abs=1e-4)  # 2 P(Z ≥ 1)
    assert paper["wrong_direction"] < 1e-9 and paper["move_at_midpoint"] < 0.002
    assert active_param_count(_auto(REACH_PARAMS)) == 12


@pytest.mark.parametrize(
    ("key", "value"),
    [("buffer_size", "big"), ("buffer_size", 0), ("buffer_size", 2.5), ("buffer_size", True),
     ("boundary_prob", "often"), ("boundary_prob", 1.5), ("boundary_prob", -0.1),
     ("decide_within_iterations", 0)],
)  # fmt: skip
def test_bad_values_give_one_line_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"adr.{key} must be") as err:
        adr_config_from_dict({"mode": "auto", key: value})
    assert "\n" not in str(err.value) and repr(value) in str(err.value)


def test_sizing_rejects_a_run_without_throughput() -> None:
    with pytest.raises(ValueError, match="train.horizon must be >= 1"):
        size_for_run(_auto(3), 2, 64, 0, 50)

"""ADR on a synthetic task: boundaries settle where performance crosses [t_L, t_H].

Successes ~ Binomial(50, exp(-Σ ((λ_i - c_i)/σ_i)²)) over the parameters that matter: "narrow"
tolerates ~0.3 around 0, "offset" ~0.6 around 0.2 (so its range must grow asymmetrically), and
"harmless"/"one_sided" never hurt, so ADR must open them to their hard limits. Buffer size m is
10 instead of [R]'s 240 to keep the test fast (< 1 s); t_L, t_H, Δ, p_b are the paper's.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from dexrl.adr import ADRConfig, ADRState, ParamSpec

SPECS = (
    ParamSpec("narrow", "tolerance 0.3", "additive", (-1.0, 1.0), "1"),
    ParamSpec("offset", "tolerance 0.6 around 0.2", "additive", (-1.0, 1.0), "1"),
    ParamSpec("harmless", "no effect", "additive", (-0.5, 0.4), "1"),
    ParamSpec("one_sided", "no effect, noise-like", "additive", (0.0, 0.3), "1"),
)
CENTER = {"narrow": 0.0, "offset": 0.2}
SIGMA = {"narrow": 0.3, "offset": 0.6}


def success_prob(lambdas: Mapping[str, np.ndarray | float]) -> np.ndarray:
    return np.exp(-sum(((lambdas[n] - CENTER[n]) / SIGMA[n]) ** 2 for n in CENTER))


def expected_successes_at(name: str, lam: float, ranges: dict[str, tuple[float, float]]) -> float:
    """Mean successes of a boundary episode pinned at λ_name = lam (others ~ U(range))."""
    rng = np.random.default_rng(0)
    draws: dict[str, np.ndarray | float] = {
        n: rng.uniform(*ranges[n], size=50_000) for n in CENTER if n != name
    }
    draws[name] = lam
    return float(50 * np.mean(success_prob(draws)))


def test_boundaries_settle_between_the_thresholds_and_harmless_ones_reach_limits() -> None:
    config = ADRConfig(mode="auto", buffer_size=10, seed=0)
    state, env_rng = ADRState(config, SPECS), np.random.default_rng(1)
    history = []
    for episode in range(40_000):
        assignment = state.sample_episode()
        state.report(assignment, float(env_rng.binomial(50, success_prob(assignment.lambdas))))
        if episode % 1000 == 999:
            history.append(state.ranges())
    ranges = state.ranges()

    assert ranges["harmless"] == (-0.5, 0.4)
    assert ranges["one_sided"] == (0.0, 0.3)
    for name in CENTER:
        for lam in ranges[name]:
            # The neutral zone: a boundary stops where its mean result lies in [t_L, t_H].
            assert 10.0 <= expected_successes_at(name, lam, ranges) <= 20.0, (name, lam)
    # The narrow-tolerance parameter gets the narrower range; the offset one grows lopsided.
    narrow_low, narrow_high = ranges["narrow"]
    offset_low, offset_high = ranges["offset"]
    assert narrow_high - narrow_low < offset_high - offset_low
    assert offset_high > -offset_low + 0.2
    # Settled, not still growing: over the last 10k episodes boundaries moved ≤ 3 steps of Δ.
    for name in CENTER:
        for side in (0, 1):
            seen = [h[name][side] for h in history[-10:]]
            assert max(seen) - min(seen) <= 3 * config.delta + 1e-9, (name, side, seen)

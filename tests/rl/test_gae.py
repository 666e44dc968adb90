"""GAE against examples worked out by hand, and against an independent forward-sum formulation."""

from __future__ import annotations

import numpy as np
import pytest

from dexrl.rl.gae import compute_gae

# gamma = lam = 0.5 keeps the hand arithmetic exact: gamma * lam = 0.25.
GAMMA, LAM = 0.5, 0.5


def col(*xs: float) -> np.ndarray:
    """A [T, 1] float32 column (one environment)."""
    return np.array(xs, dtype=np.float32)[:, None]


def flags(*xs: int) -> np.ndarray:
    return np.array(xs, dtype=bool)[:, None]


def test_termination_in_the_middle_does_not_bootstrap() -> None:
    rewards, values = col(1, 2, 3), col(0.5, 1.0, 2.0)
    terminated, truncated = flags(0, 1, 0), flags(0, 0, 0)
    last = np.array([4.0], dtype=np.float32)
    adv, ret = compute_gae(
        rewards, values, terminated, truncated, np.zeros_like(rewards), last, GAMMA, LAM
    )
    # t=2: delta = 3 + 0.5*4 (rollout-end bootstrap) - 2 = 3          -> A2 = 3
    # t=1: terminated, next value 0: delta = 2 + 0 - 1 = 1; cut          -> A1 = 1
    # t=0: delta = 1 + 0.5*V1(=1) - 0.5 = 1;  A0 = 1 + 0.25 * A1        -> A0 = 1.25
    np.testing.assert_allclose(adv[:, 0], [1.25, 1.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(ret[:, 0], [1.75, 2.0, 5.0], atol=1e-6)


def test_timeout_bootstraps_from_the_final_observation_value() -> None:
    rewards, values = col(1, 1, 1, 1), col(2, 2, 0.5, 1)
    terminated, truncated = flags(0, 0, 0, 0), flags(0, 1, 0, 0)
    # Only bootstrap_values[1] is read; 100 elsewhere must be ignored.
    bootstrap = col(100, 6, 100, 100)
    last = np.array([2.0], dtype=np.float32)
    adv, ret = compute_gae(rewards, values, terminated, truncated, bootstrap, last, GAMMA, LAM)
    # t=3: delta = 1 + 0.5*2 (last) - 1 = 1                            -> A3 = 1
    # t=2: delta = 1 + 0.5*V3(=1) - 0.5 = 1; A2 = 1 + 0.25*1           -> A2 = 1.25
    # t=1: timeout -> next value is V(final obs) = 6, not V2:
    #      delta = 1 + 0.5*6 - 2 = 2; recursion cut                      -> A1 = 2
    # t=0: delta = 1 + 0.5*V1(=2) - 2 = 0; A0 = 0 + 0.25*2              -> A0 = 0.5
    np.testing.assert_allclose(adv[:, 0], [0.5, 2.0, 1.25, 1.0], atol=1e-6)
    np.testing.assert_allclose(ret[:, 0], [2.5, 4.0, 1.75, 2.0], atol=1e-6)
    # Treating the timeout as a termination would give A1 = 1 - 2 = -1 instead.
    adv_term, _ = compute_gae(rewards, values, truncated, terminated, bootstrap, last, GAMMA, LAM)
    assert adv_term[1, 0] == pytest.approx(-1.0)


def test_rollout_end_uses_last_values_unless_the_last_step_timed_out() -> None:
    rewards, values = col(0, 1), col(1, 1)
    no = flags(0, 0)
    last = np.array([3.0], dtype=np.float32)
    adv, _ = compute_gae(rewards, values, no, no, np.zeros_like(rewards), last, GAMMA, LAM)
    # t=1: delta = 1 + 0.5*3 - 1 = 1.5; t=0: delta = 0 + 0.5*1 - 1 = -0.5; A0 = -0.5 + 0.25*1.5
    np.testing.assert_allclose(adv[:, 0], [-0.125, 1.5], atol=1e-6)
    # A timeout at the last step: last_values is the *reset* observation's value (100) and must
    # not be used; the final observation's value (4) is: delta1 = 1 + 0.5*4 - 1 = 2.
    adv, _ = compute_gae(
        rewards, values, no, flags(0, 1), col(0, 4), np.array([100.0], np.float32), GAMMA, LAM
    )
    np.testing.assert_allclose(adv[:, 0], [0.0, 2.0], atol=1e-6)


def test_termination_wins_when_both_flags_are_set() -> None:
    rewards, values = col(1.0), col(0.5)
    both = flags(1)
    adv, _ = compute_gae(
        rewards, values, both, both, col(10.0), np.array([10.0], np.float32), GAMMA, LAM
    )
    assert adv[0, 0] == pytest.approx(0.5)  # 1 + 0 - 0.5


def reference_gae(rewards, values, terminated, truncated, bootstrap, last, gamma, lam):
    """Forward-sum form: A_t = sum_k (gamma*lam)^k delta_{t+k}, stopping at the episode's end."""
    T, B = rewards.shape
    next_values = np.concatenate([values[1:], last[None]], axis=0)
    next_values = np.where(truncated, bootstrap, next_values) * (1 - terminated)
    deltas = rewards + gamma * next_values - values
    adv = np.zeros((T, B))
    for b in range(B):
        for t in range(T):
            for k in range(t, T):
                adv[t, b] += (gamma * lam) ** (k - t) * deltas[k, b]
                if terminated[k, b] or truncated[k, b]:
                    break
    return adv


def test_matches_forward_sum_on_random_batch() -> None:
    rng = np.random.default_rng(0)
    T, B = 7, 5
    rewards, values, bootstrap = (rng.normal(size=(T, B)).astype(np.float32) for _ in range(3))
    terminated, truncated = rng.random((T, B)) < 0.2, rng.random((T, B)) < 0.2
    last = rng.normal(size=B).astype(np.float32)
    adv, ret = compute_gae(rewards, values, terminated, truncated, bootstrap, last, 0.9, 0.8)
    expected = reference_gae(rewards, values, terminated, truncated, bootstrap, last, 0.9, 0.8)
    np.testing.assert_allclose(adv, expected, atol=1e-5)
    np.testing.assert_allclose(ret, expected + values, atol=1e-5)


def test_shape_errors_name_the_argument() -> None:
    r = np.zeros((3, 2), np.float32)
    f = np.zeros((3, 2), bool)
    with pytest.raises(ValueError, match="values"):
        compute_gae(r, r[:2], f, f, r, np.zeros(2, np.float32), 0.9, 0.9)
    with pytest.raises(ValueError, match="last_values"):
        compute_gae(r, r, f, f, r, np.zeros(3, np.float32), 0.9, 0.9)
    with pytest.raises(ValueError, match="terminated"):
        compute_gae(r, r, f.astype(np.float32), f, r, np.zeros(2, np.float32), 0.9, 0.9)

"""Each PPO loss term against arithmetic written out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from dexrl.rl.losses import (
    approx_kl,
    bounds_loss,
    entropy_loss,
    gaussian_kl,
    normalize_advantages,
    policy_loss,
    value_loss,
)

# ratio r and advantage A per sample, clip eps = 0.2:
#  r    A   r*A    clamp(r)*A   min    clip active?
# 1.5   2   3.0    1.2*2=2.4    2.4    yes (r above 1+eps, A > 0)
# 0.5   1   0.5    0.8*1=0.8    0.5    no  (the min keeps the unclipped, pessimistic term)
# 1.1  -1  -1.1   -1.1         -1.1    no  (inside the band)
# 0.9  -3  -2.7   -2.7         -2.7    no  (inside the band)
# 0.5  -1  -0.5    0.8*-1=-0.8 -0.8    yes (r below 1-eps, A < 0)
# mean of min = (2.4 + 0.5 - 1.1 - 2.7 - 0.8) / 5 = -0.34 -> loss = +0.34
RATIOS = [1.5, 0.5, 1.1, 0.9, 0.5]
ADVANTAGES = [2.0, 1.0, -1.0, -3.0, -1.0]


def _inputs() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    logp_old = torch.tensor([-1.0, -2.0, 0.5, -0.3, 0.0], dtype=torch.float64)
    logp_new = (logp_old + torch.log(torch.tensor(RATIOS, dtype=torch.float64))).requires_grad_()
    return logp_new, logp_old, torch.tensor(ADVANTAGES, dtype=torch.float64)


def test_policy_loss_clipped_surrogate() -> None:
    logp_new, logp_old, adv = _inputs()
    loss, clip_fraction, kl = policy_loss(logp_new, logp_old, adv, clip=0.2)
    assert loss.item() == pytest.approx(0.34)
    # |r - 1| > 0.2 for r = 1.5, 0.5, 0.5 -> 3 of 5
    assert clip_fraction.item() == pytest.approx(0.6)
    # mean(r - 1 - ln r): 1.5 -> 0.5 - 0.405465 = 0.094535;  0.5 -> -0.5 + 0.693147 = 0.193147 (x2);
    # 1.1 -> 0.1 - 0.095310 = 0.004690;  0.9 -> -0.1 + 0.105361 = 0.005361; sum 0.490879 / 5
    assert kl.item() == pytest.approx(0.0981759, abs=1e-6)
    assert not clip_fraction.requires_grad and not kl.requires_grad


def test_policy_loss_gradient_is_zero_where_clipped() -> None:
    logp_new, logp_old, adv = _inputs()
    loss, _, _ = policy_loss(logp_new, logp_old, adv, clip=0.2)
    loss.backward()
    # d/dlogp of -r*A/N = -r*A/5 where the unclipped term is kept, 0 where the clip binds.
    expected = [0.0, -0.5 * 1 / 5, -1.1 * -1 / 5, -0.9 * -3 / 5, 0.0]
    assert logp_new.grad is not None
    torch.testing.assert_close(logp_new.grad, torch.tensor(expected, dtype=torch.float64))


def test_policy_loss_at_ratio_one_is_minus_mean_advantage() -> None:
    logp = torch.zeros(4)
    adv = torch.tensor([1.0, 2.0, 3.0, -2.0])
    loss, clip_fraction, kl = policy_loss(logp, logp, adv, clip=0.2)
    assert loss.item() == pytest.approx(-1.0)
    assert clip_fraction.item() == 0.0 and kl.item() == 0.0


def test_approx_kl_matches_exact_gaussian_kl() -> None:
    # KL(N(0,1) || N(0.1,1)) = 0.1^2 / 2 = 0.005; the estimator is unbiased with samples of N(0,1).
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400_000, generator=gen, dtype=torch.float64)
    old, new = torch.distributions.Normal(0.0, 1.0), torch.distributions.Normal(0.1, 1.0)
    assert approx_kl(new.log_prob(x), old.log_prob(x)).item() == pytest.approx(0.005, rel=0.03)


def test_value_loss_plain_and_clipped() -> None:
    values = torch.tensor([1.0, 2.0, 3.0])
    returns = torch.tensor([1.5, 1.0, 3.0])
    # squared errors 0.25, 1, 0 -> 0.5 * 1.25 / 3
    assert value_loss(values, returns).item() == pytest.approx(0.5 * 1.25 / 3)
    # old values 1.2, 1.0, 2.0 and clip 0.1 -> clipped predictions 1.1, 1.1, 2.1
    # clipped errors 0.16, 0.01, 0.81; max with unclipped: 0.25, 1, 0.81 -> 0.5 * 2.06 / 3
    old = torch.tensor([1.2, 1.0, 2.0])
    assert value_loss(values, returns, old, clip=0.1).item() == pytest.approx(0.5 * 2.06 / 3)
    with pytest.raises(ValueError, match="old_values and clip"):
        value_loss(values, returns, old)


def test_entropy_loss_and_advantage_normalization() -> None:
    assert entropy_loss(torch.tensor([0.5, 1.5])).item() == pytest.approx(-1.0)
    torch.testing.assert_close(
        normalize_advantages(torch.tensor([1.0, 3.0])), torch.tensor([-1.0, 1.0])
    )
    # [0, 3, 6]: mean 3, population std sqrt(6)
    out = normalize_advantages(torch.tensor([0.0, 3.0, 6.0]))
    torch.testing.assert_close(out, torch.tensor([-3.0, 0.0, 3.0]) / math.sqrt(6.0))


def test_gaussian_kl_matches_the_formula_worked_by_hand() -> None:
    # One action dimension: KL(N(0, 1) || N(1, 2)) = log 2 + (1 + 1) / 8 - 1/2 = 0.4431...
    # Two dimensions sum: add KL(N(0.5, 0.5) || N(0.5, 0.5)) = 0.
    ref_mean, ref_std = torch.tensor([[0.0, 0.5]]), torch.tensor([[1.0, 0.5]])
    mean, std = torch.tensor([[1.0, 0.5]]), torch.tensor([2.0, 0.5])  # std broadcast over N
    kl = gaussian_kl(ref_mean, ref_std, mean, std)
    assert kl.shape == (1,)
    assert kl.item() == pytest.approx(math.log(2.0) + 2.0 / 8.0 - 0.5, abs=1e-6)
    assert gaussian_kl(ref_mean, ref_std, ref_mean, ref_std).abs().max().item() < 1e-7


def test_bounds_loss_penalizes_only_means_beyond_the_bound() -> None:
    mean = torch.tensor([[0.0, 1.05, -1.1], [1.3, -1.5, 0.9]])
    # Row 1: nothing beyond 1.1. Row 2: (1.3 - 1.1)^2 + (-1.5 + 1.1)^2 = 0.04 + 0.16 = 0.2.
    assert bounds_loss(mean).item() == pytest.approx(0.2 / 2, abs=1e-6)

"""PPO objective terms as pure functions (Schulman et al. 2017), each checkable by hand.

All inputs share one shape (written [N]; [T, B] or a flat minibatch work the same) and every loss
is a mean over all elements. Losses are to be *minimized*.
"""

from __future__ import annotations

import torch


def policy_loss(
    logp_new: torch.Tensor, logp_old: torch.Tensor, advantages: torch.Tensor, clip: float
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Clipped surrogate loss.

    logp_new [N] (with grad), logp_old [N] behaviour log-probs recorded by the rollout workers,
    advantages [N], clip epsilon -> (loss [], clip_fraction [], approx_kl []).

    ratio = exp(logp_new - logp_old); loss = -mean(min(ratio * A, clamp(ratio, 1-eps, 1+eps) * A)).
    Because logp_old is the behaviour policy's, the ratio stays correct when the workers collected
    with weights one update old (docs/architecture.md §4). clip_fraction = share of samples
    with |ratio - 1| > eps; approx_kl = `approx_kl(logp_new, logp_old)`. Both diagnostics are
    detached.
    """
    ratio = (logp_new - logp_old).exp()
    unclipped = ratio * advantages
    clipped = ratio.clamp(1.0 - clip, 1.0 + clip) * advantages
    loss = -torch.minimum(unclipped, clipped).mean()
    with torch.no_grad():
        clip_fraction = ((ratio - 1.0).abs() > clip).float().mean()
    return loss, clip_fraction, approx_kl(logp_new, logp_old)


def approx_kl(logp_new: torch.Tensor, logp_ref: torch.Tensor) -> torch.Tensor:
    """Estimate of KL(ref || new) from samples of the reference policy, detached.

    logp_new [N], logp_ref [N] (log-probs of the same actions, drawn from the reference policy)
    -> mean((r - 1) - log r) with r = exp(logp_new - logp_ref): each term is >= 0, unbiased,
    and lower-variance than mean(-log r) (Schulman, "Approximating KL divergence", 2020).
    """
    with torch.no_grad():
        log_ratio = logp_new - logp_ref
        return (log_ratio.exp() - 1.0 - log_ratio).mean()


def value_loss(
    values: torch.Tensor,
    returns: torch.Tensor,
    old_values: torch.Tensor | None = None,
    clip: float | None = None,
) -> torch.Tensor:
    """Squared-error value loss, 0.5 * mean((values - returns)^2).

    values [N] predictions (with grad), returns [N] targets, in the same (normalized) units.
    With old_values [N] and clip, the prediction is also clipped to old_values +- clip and the
    larger of the two errors is used (PPO2-style value clipping). The 0.5 makes the gradient
    (values - returns).
    """
    error = (values - returns) ** 2
    if old_values is not None and clip is not None:
        clipped_values = old_values + (values - old_values).clamp(-clip, clip)
        error = torch.maximum(error, (clipped_values - returns) ** 2)
    elif (old_values is None) != (clip is None):
        raise ValueError("value_loss needs both old_values and clip for value clipping, or neither")
    return 0.5 * error.mean()


def entropy_loss(entropy: torch.Tensor) -> torch.Tensor:
    """-mean(entropy) for entropy [N]: minimizing it keeps the policy exploring."""
    return -entropy.mean()


def normalize_advantages(advantages: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """(A - mean(A)) / (std(A) + eps) over a minibatch [N] ([D]/[R]).

    Uses the population std (correction=0) so a two-element batch gives exactly +-1.
    """
    return (advantages - advantages.mean()) / (advantages.std(correction=0) + eps)


def gaussian_kl(
    mean_ref: torch.Tensor, std_ref: torch.Tensor, mean: torch.Tensor, std: torch.Tensor
) -> torch.Tensor:
    """Analytic KL(ref || new) of diagonal Gaussians, summed over the action dimension.

    mean_ref, std_ref [N, A] (the behaviour policy the rollout recorded), mean, std [N, A] (the
    policy now; std may be [A] and broadcast) -> [N]. Per dimension:
    log(σ/σ_ref) + (σ_ref² + (μ_ref − μ)²) / (2σ²) − ½. This is what rsl_rl's adaptive schedule
    reads every minibatch; unlike the sample estimate `approx_kl` it has no sampling noise.
    """
    var = std.square()
    per_dim = (std / std_ref).log() + (std_ref.square() + (mean_ref - mean).square()) / (2.0 * var) - 0.5
    return per_dim.sum(-1)


def bounds_loss(mean: torch.Tensor, bound: float = 1.1) -> torch.Tensor:
    """Soft penalty on action means outside ±bound, mean over samples of the per-sample sum.

    mean [N, A] -> []. The env clips actions to [-1, 1], so a mean that drifts far outside only
    loses gradient signal (every sample near it is clipped to the same action); the GPU in-hand
    trainers add this term with a small weight (rl_games' `bounds_loss_coef`).
    """
    excess = (mean - bound).clamp(min=0.0).square() + (mean + bound).clamp(max=0.0).square()
    return excess.sum(-1).mean()

"""Group 3, "signs and scales": bugs that do not crash but make learning slow or impossible.

Every check runs on a second rollout (collected after one real update, so the observation
normalizer has statistics) with its own copy of the learner, so no check sees another's steps.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dexrl.doctor.common import (
    Prepared,
    Rollout,
    clone_learner,
    policy_mean,
    prepare,
    reference_surrogate,
    surrogate_terms,
    whole_batch,
)
from dexrl.doctor.report import Check, fmt, grade
from dexrl.rl.learner import PPOLearner

GROUP = "signs"


def check_signs(fresh: PPOLearner, first: Rollout, warmed: PPOLearner, second: Rollout) -> list[Check]:
    """fresh: the untrained learner that collected `first`; warmed: after `update(first.batch)`,
    the learner that collected `second`."""
    checks = [_initial_entropy(fresh, first), _actions_at_clip(first)]
    checks.append(_surrogate_first_step(clone_learner(warmed), second))
    checks.extend(_normalized_obs(warmed, second))
    prepared = prepare(clone_learner(warmed), second.batch)
    checks.extend(_reward_scales(second, prepared))
    # On the untrained policy's batch: the signal a run starts from, whatever the update does.
    checks.append(_advantage_signal(clone_learner(fresh), first))
    checks.extend(_update_checks(clone_learner(warmed), second))
    return checks


def _initial_entropy(fresh: PPOLearner, first: Rollout) -> Check:
    """The behaviour policy's recorded std against the configured init_log_std: the std the
    workers sampled with is the one the config asks for (entropy per dim: 0.5 log(2 pi e sigma^2))."""
    sigma = math.exp(fresh.model.init_log_std)
    expected = 0.5 * math.log(2 * math.pi * math.e * sigma**2) * fresh.dims["action_dim"]
    std = first.batch.action_std.astype(np.float64)
    measured = float((0.5 * np.log(2 * np.pi * np.e * std**2)).sum(-1).mean())
    ok = abs(measured - expected) < 1e-3 * max(1.0, abs(expected))
    return Check(GROUP, "initial_entropy", grade(ok), f"{fmt(measured)} nats",
                 f"{fmt(expected)} (std {fmt(sigma)} x {fresh.dims['action_dim']} dims)",
                 "the sampled std is not the configured one: check how log_std becomes the std")  # fmt: skip


def _actions_at_clip(first: Rollout) -> Check:
    """Share of executed actions at +-1 against what the recorded Gaussians put beyond +-1.

    The env clips to [-1, 1], so P(|a| >= 1) of N(mean, std) is the expected share. Fewer means
    actions were squashed (e.g. a tanh before the env's clip: twice); more means they were
    scaled up. Measured on clean runs: observed / expected 0.97-1.03 on 2,048 x 20 actions."""
    mean = first.batch.action_mean.astype(np.float64)
    std = first.batch.action_std.astype(np.float64)
    expected = float((_normal_sf((1 - mean) / std) + _normal_sf((1 + mean) / std)).mean())
    observed = float((np.abs(first.executed) >= 1.0 - 1e-6).mean())
    ratio = observed / expected if expected > 0 else float("nan")
    ok = expected < 1e-3 or 0.7 <= ratio <= 1.4
    return Check(GROUP, "actions_at_clip", grade(ok), f"{fmt(observed)} ({fmt(ratio)} x expected)",
                 f"{fmt(expected)} (0.7-1.4 x) from the recorded Gaussians",
                 "executed actions do not follow the policy's distribution: squashed twice (tanh + clip) or rescaled")  # fmt: skip


def _normal_sf(z: np.ndarray) -> np.ndarray:
    return torch.special.ndtr(torch.as_tensor(-z)).numpy()  # P(Z > z) = Phi(-z)


def _surrogate_first_step(learner: PPOLearner, second: Rollout) -> Check:
    """One optimizer step of the learner's own loss on the whole batch (as one minibatch) must
    raise the true surrogate. Adam's first step moves each weight by ~lr * sign(gradient), so a
    correct sign gives a first-order gain lr * sum|g| > 0 whatever the scale; a flipped sign
    gives a loss."""
    prepared = prepare(learner, second.batch)
    with torch.no_grad():
        before = reference_surrogate(learner, prepared).item()
    actor_loss, critic_loss, _ = learner.minibatch_loss(
        prepared.sequences, prepared.hidden0, whole_batch(prepared)
    )
    learner.optimizer_step(actor_loss, critic_loss)
    with torch.no_grad():
        after = reference_surrogate(learner, prepared).item()
    gain = after - before
    return Check(GROUP, "surrogate_first_step", grade(gain > 0), f"{fmt(gain)}", "> 0",
                 "the update makes the policy worse on its own batch: a flipped sign in the policy loss")  # fmt: skip


NORM_MEAN_MAX = 2.0
NORM_STD_RANGE = (0.3, 3.0)
"""A fresh rollout through the normalizer fitted on the previous one: per-dimension |mean| and
std of a healthy dimension. Measured on a clean reach run (2,048 samples): max |mean| 1.08 (a
wrist joint drifting as the policy changed), std 1.0-2.2. Unnormalized, the positions (m) have
std ~0.01-0.03 and fail the std bound."""


def _normalized_obs(warmed: PPOLearner, second: Rollout) -> list[Check]:
    obs = torch.as_tensor(second.batch.obs).reshape(-1, warmed.dims["obs_dim"])
    raw_std = obs.std(0, correction=0)
    with torch.no_grad():
        z = warmed.actor.obs_normalizer(obs)
    mean, std = z.mean(0), z.std(0, correction=0)
    constant = raw_std < 1e-6
    live = ~constant
    bad = live & ((mean.abs() > NORM_MEAN_MAX) | (std < NORM_STD_RANGE[0]) | (std > NORM_STD_RANGE[1]))
    clip = float(warmed.actor.obs_normalizer.clip)
    at_clip = float((z.abs() >= clip - 1e-4).float().mean())
    names = _dim_names(second)
    worst = names[int((mean.abs() * live).argmax())] if live.any() else "-"
    checks = [Check(GROUP, "obs_normalized", grade(not bool(bad.any())),
                    f"max|mean| {fmt(float((mean.abs() * live).max()))} ({worst}), std {fmt(float(std[live].min()))}-{fmt(float(std[live].max()))}, {int(bad.sum())} bad",
                    f"|mean| <= {NORM_MEAN_MAX}, std {NORM_STD_RANGE[0]}-{NORM_STD_RANGE[1]} per dim",
                    "observations reach the network unnormalized (normalizer statistics not set?)")]  # fmt: skip
    const_names = sorted({names[i] for i in np.flatnonzero(constant.numpy())})
    checks.append(Check(GROUP, "obs_constant_or_exploding", grade(not const_names and at_clip < 0.01, warn=True),
                        f"{int(constant.sum())} constant dims {const_names[:3]}, {fmt(at_clip)} at the +-{fmt(clip)} clip",
                        "0 constant, < 1% clipped",
                        "a constant input carries nothing (remove it?); many clipped values mean an exploding input"))  # fmt: skip
    return checks


def _dim_names(second: Rollout) -> list[str]:
    """Part name of each observation dimension (the task's declared parts)."""
    parts = getattr(second, "parts", None) or []
    names: list[str] = []
    for part in parts:
        names += [f"{part.name}[{k}]" for k in range(part.size)]
    width = second.batch.obs.shape[-1]
    return names if len(names) == width else [f"obs[{k}]" for k in range(width)]


REWARD_STD_RANGE = (1e-3, 10.0)
RETURN_STD_RANGE = (1e-2, 100.0)
"""Rules of thumb for unnormalized rewards (PPO's value targets are normalized, but the entropy
and bounds terms are not): outside these the reward scale is worth a look, not an error."""


def _reward_scales(second: Rollout, prepared: Prepared) -> list[Check]:
    rewards = second.batch.rewards
    r_std, g_std = float(rewards.std()), float(prepared.returns.std())
    finite = bool(np.isfinite(rewards).all() and np.isfinite(prepared.returns).all())
    lo, hi = REWARD_STD_RANGE
    r_status = "fail" if not finite or r_std == 0 else grade(lo <= r_std <= hi, warn=True)
    g_status = "fail" if not finite else grade(RETURN_STD_RANGE[0] <= g_std <= RETURN_STD_RANGE[1], warn=True)
    return [
        Check(GROUP, "reward_scale", r_status, f"mean {fmt(float(rewards.mean()))}, std {fmt(r_std)}",
              f"std {lo}-{hi}", "a constant reward teaches nothing; a huge one makes the entropy term irrelevant"),
        Check(GROUP, "return_scale", g_status, f"mean {fmt(float(prepared.returns.mean()))}, std {fmt(g_std)}",
              f"std {RETURN_STD_RANGE[0]}-{RETURN_STD_RANGE[1]}", "check gamma against the episode length and the reward scale"),
    ]  # fmt: skip


ADV_COS_PASS = 0.15
ADV_COS_WARN = 0.05
"""Cosine between the actor gradients of two disjoint halves of the batch (halves by env, so
they are independent samples). Each half's gradient is signal s plus noise of twice the whole
batch's variance: cos = |s|^2 / (|s|^2 + 2|n|^2) = rho / (rho + 2), rho = |s|^2/|n|^2 of the
whole batch. Without signal (advantages not paired with their actions) it is 0 +- a few
hundredths. 0.15 is rho = 0.35 (|s| = 0.6 |n|), 0.05 is rho = 0.1. Measured on the untrained
policy's first batch (seed 0): at 8,192 samples (the defaults) reach 0.50, cube_rotate_z 0.31;
at 1,024 cube_rotate_z 0.09 (a WARN: that batch is too small for it). Advantages rolled by one
env (the bug): -0.07 to +0.03; shuffled advantages -0.08 to +0.07 (single splits, both sizes).

It replaced ||g(real A)|| / ||g(shuffled A)||, which estimates the same rho (sqrt(1 + rho):
1.39 on cube_rotate_z at 8,192, 1.08 at 1,024) but whose null is not 1: the rolled advantages
read 0.93 (reach at 8,192, cube_rotate_z at 1,024), since the shuffled gradient's noise is not
the real one's. The cosine needs no such baseline; the shuffled value is reported as its null."""
ADV_SPLITS = 3


def _advantage_signal(learner: PPOLearner, first: Rollout) -> Check:
    prepared = prepare(learner, first.batch)
    adv = prepared.sequences["advantages"]
    gen = torch.Generator().manual_seed(0)
    envs = first.batch.num_envs
    env_of = torch.arange(adv.shape[1]) % envs  # sequence k * B + b holds env b (`_to_sequences`)
    real, null = [], []
    for k in range(ADV_SPLITS):
        half = torch.zeros(envs, dtype=torch.bool)
        half[torch.randperm(envs, generator=gen)[: envs // 2]] = True
        real.append(_half_batch_cosine(learner, prepared, adv, half[env_of]))
        if k < 2:  # the null, for the reader: advantages no longer paired with their actions
            shuffled = adv.reshape(-1)[torch.randperm(adv.numel(), generator=gen)].reshape(adv.shape)
            null.append(_half_batch_cosine(learner, prepared, shuffled, half[env_of]))
    cos = float(np.mean(real))
    status = "pass" if cos >= ADV_COS_PASS else ("warn" if cos >= ADV_COS_WARN else "fail")
    return Check(GROUP, "advantage_signal", status,
                 f"cos {fmt(cos)} (shuffled advantages {fmt(float(np.mean(null)))})",
                 f">= {ADV_COS_PASS} between half-batch gradients (0 = noise)",
                 "the policy gradient is mostly noise: more samples per update (envs x horizon), a better critic, "
                 "or advantages not paired with their actions")  # fmt: skip


def _half_batch_cosine(learner: PPOLearner, prepared: Prepared, adv: torch.Tensor, in_a: torch.Tensor) -> float:
    """Cosine between the actor's surrogate gradients on the sequences `in_a` and on the rest."""
    terms = surrogate_terms(learner, prepared, adv)  # one forward for both halves
    params = [p for p in learner.actor.parameters() if p.requires_grad]
    grads = []
    for mask in (in_a, ~in_a):
        g = torch.autograd.grad(terms[:, mask].mean(), params, retain_graph=True, allow_unused=True)
        grads.append(torch.cat([(x if x is not None else torch.zeros_like(p)).reshape(-1) for x, p in zip(g, params, strict=True)]))
    return float(grads[0] @ grads[1] / (grads[0].norm() * grads[1].norm() + 1e-30))


KL_TOLERANCE = 0.2  # the bar: the controller's KL within 20% of the true one


def _update_checks(learner: PPOLearner, second: Rollout) -> list[Check]:
    """A real `update` of the learner: its gradient norms, and the KL its lr controller read
    against the analytic KL of the behaviour policy (the rollout's recorded Gaussians) to the
    updated policy, computed here independently."""
    # The sequences and LSTM chunk-start states `update` will use: a copy prepared first (its
    # normalizer merges the same moments the update merges).
    probe = prepare(clone_learner(learner), second.batch)
    metrics = learner.update(second.batch)
    with torch.no_grad():
        mean = policy_mean(learner, probe).double()
        std = learner.actor.log_std.exp().double()
        mu0, sd0 = probe.sequences["mean_old"].double(), probe.sequences["std_old"].double()
        true_kl = float(((std / sd0).log() + (sd0**2 + (mu0 - mean) ** 2) / (2 * std**2) - 0.5).sum(-1).mean())
    read = float(metrics["kl"])
    rel = abs(read - true_kl) / max(true_kl, 1e-12)
    checks = [Check(GROUP, "kl_controller", grade(rel <= KL_TOLERANCE),
                    f"read {fmt(read)}, true {fmt(true_kl)} ({fmt(rel * 100)}% off)", f"within {KL_TOLERANCE:.0%}",
                    "the lr controller reads the KL of the wrong pair of policies: its lr is set from a wrong number")]  # fmt: skip
    for part in ("actor", "critic"):
        norm = float(metrics[f"{part}_grad_norm"])
        status = "fail" if not math.isfinite(norm) else grade(0 < norm < 1e3, warn=True)
        checks.append(Check(GROUP, f"{part}_grad_norm", status, fmt(norm), "finite, > 0, < 1e3",
                            f"the {part}'s gradient is {'non-finite' if not math.isfinite(norm) else 'zero or huge'}: "
                            "a detached head (0) or an unnormalized input / loss (huge)"))  # fmt: skip
    return checks

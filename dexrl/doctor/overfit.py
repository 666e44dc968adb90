"""Group 2, "overfits one batch": on one fixed batch the learner's critic fits the fixed returns,
its actor raises PPO's surrogate to near the clip's ceiling, and behaviour cloning of the batch's
actions reaches near-zero error. A network that cannot memorize one batch cannot learn at all;
each failure names the part (network, optimizer, loss wiring)."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from dexrl.doctor.common import (
    DoctorSetup,
    Prepared,
    policy_mean,
    prepare,
    reference_surrogate,
    whole_batch,
)
from dexrl.doctor.report import Check, fmt, grade
from dexrl.rl.learner import PPOLearner, value_loss
from dexrl.rl.storage import RolloutBatch

GROUP = "overfit"
OVERFIT_SAMPLES = 256
"""Samples of the fixed batch (whole trajectories of the first envs): small enough to memorize."""


def check_overfit(setup: DoctorSetup, learner: PPOLearner, batch: RolloutBatch) -> list[Check]:
    """`learner` must be fresh (it is trained here); `batch` is one rollout of its policy."""
    small = _first_envs(batch, max(1, OVERFIT_SAMPLES // batch.num_steps))
    prepared = prepare(learner, small)
    return [
        _value_fit(learner, prepared),
        _surrogate_rises(learner, prepared),
        _behaviour_cloning(learner, prepared),
    ]


def _first_envs(batch: RolloutBatch, envs: int) -> RolloutBatch:
    """Every step of the batch's first `envs` envs: whole trajectories (LSTM sequences intact).

    Not the first steps of every env: at the default 128 envs x 64 steps those are 2 steps
    after reset, near-identical observations with returns as different as the envs' futures,
    which no critic can memorize (cube_rotate_z: value loss 0.677 -> 0.087 in 200 steps, a
    FAIL on a clean config; these 4 whole trajectories: see VALUE_BAR)."""
    if envs >= batch.num_envs:
        return batch
    fields = {f.name: getattr(batch, f.name) for f in dataclasses.fields(batch)}
    for name, value in fields.items():
        if isinstance(value, np.ndarray) and value.ndim >= 2 and value.shape[:2] == (batch.num_steps, batch.num_envs):
            fields[name] = value[:, :envs].copy()
    # the sparse final observations: the rows of the kept envs' timeouts (np.nonzero order)
    fields["final_critic_obs"] = batch.final_critic_obs[np.nonzero(batch.truncated)[1] < envs].copy()
    fields["last_critic_obs"] = batch.last_critic_obs[:envs].copy()
    fields["actor_hidden"] = tuple(h[:envs].copy() for h in batch.actor_hidden)  # [B, H] each
    return RolloutBatch(**fields)


VALUE_STEPS = 200
VALUE_BAR = 0.05
"""Value loss (normalized units; ~0.5 at the start when the critic predicts the mean) after
VALUE_STEPS critic steps on one batch of OVERFIT_SAMPLES. Measured on the untrained policy's
first batch, seed 0: 1.4e-5 (cube_rotate_z) and 2.0e-5 (reach) at the defaults (4 envs x 64
steps), 1.1e-3 on cube_rotate_z at the tests' 1,024 (16 envs x 16 steps)."""


def _value_fit(learner: PPOLearner, prepared: Prepared) -> Check:
    """The learner's own critic loss: its wiring from `minibatch_loss` (does the loss reach the
    critic's weights?), then VALUE_STEPS steps of the critic optimizer on the same loss function
    (`value_loss` as the learner calls it; the critic alone, to save the actor's forward)."""
    idx = whole_batch(prepared)
    _, wired, _ = learner.minibatch_loss(prepared.sequences, prepared.hidden0, idx)
    if not wired.requires_grad:
        return Check(GROUP, "value_fit", "fail", "no gradient", f"loss < {VALUE_BAR}",
                     "loss wiring: the value loss does not reach the critic's parameters (value head detached?)")  # fmt: skip
    seq = prepared.sequences
    start = wired.item() / learner.ppo.value_coef
    for _ in range(VALUE_STEPS):
        loss = value_loss(learner.critic(seq["critic_obs"]), seq["targets"])
        learner.critic_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        learner.critic_optimizer.step()
    end = loss.item()
    if not torch.isfinite(torch.tensor(end)):
        hint = "optimizer: the critic's loss diverged (critic_lr too high?)"
    else:
        hint = "network/optimizer: the critic cannot memorize one batch (too small, critic_lr too low, or the targets are not fixed)"
    return Check(GROUP, "value_fit", grade(end < VALUE_BAR), f"{fmt(start)} -> {fmt(end)}",
                 f"< {VALUE_BAR} after {VALUE_STEPS} critic steps", hint)  # fmt: skip


SURROGATE_STEPS = 60
SURROGATE_SHARE = 0.5
"""The clipped surrogate cannot exceed eps * mean|A| (every ratio at the clip, on the good side);
after SURROGATE_STEPS actor steps it should reach this share of that ceiling (measured 0.7-0.9)."""


def _surrogate_rises(learner: PPOLearner, prepared: Prepared) -> Check:
    """The learner's actor and optimizer maximize the doctor's own surrogate (its sign is the
    learner's business, checked in group signs): can this network and optimizer move it?"""
    adv = prepared.sequences["advantages"]
    if learner.ppo.normalize_advantages:
        adv = (adv - adv.mean()) / (adv.std(correction=0) + 1e-8)
    ceiling = learner.ppo.clip * adv.abs().mean().item()
    start = reference_surrogate(learner, prepared).item()
    for _ in range(SURROGATE_STEPS):
        loss = -reference_surrogate(learner, prepared)
        learner.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        learner.optimizer.step()
    end = -loss.item()
    share = end / ceiling if ceiling > 0 else float("nan")
    return Check(GROUP, "surrogate_rises", grade(share >= SURROGATE_SHARE),
                 f"{fmt(start)} -> {fmt(end)} ({fmt(share)} of ceiling {fmt(ceiling)})",
                 f">= {SURROGATE_SHARE} of eps*mean|A|",
                 "network/optimizer: the actor cannot raise the surrogate on one batch (lr, widths, or advantages all ~0)")  # fmt: skip


BC_STEPS = 200
BC_BAR = 0.05
"""RMS error of the policy mean against the batch's executed actions (clipped to [-1, 1], std
~0.6 around the mean) after BC_STEPS Adam steps at lr 1e-3: measured 0.017-0.020 (reach and
cube_rotate_z, same batches as VALUE_BAR)."""


def _behaviour_cloning(learner: PPOLearner, prepared: Prepared) -> Check:
    """Regress the actor's mean onto the batch's actions: the policy network and its observation
    path can represent an arbitrary mapping of these observations."""
    target = prepared.sequences["actions"].clamp(-1.0, 1.0)
    params = [p for n, p in learner.actor.named_parameters() if n != "log_std"]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    start = (policy_mean(learner, prepared) - target).square().mean().sqrt().item()
    for _ in range(BC_STEPS):
        rms = (policy_mean(learner, prepared) - target).square().mean().sqrt()
        optimizer.zero_grad(set_to_none=True)
        rms.backward()
        optimizer.step()
    end = rms.item()
    return Check(GROUP, "behaviour_cloning", grade(end < BC_BAR), f"rms {fmt(start)} -> {fmt(end)}",
                 f"< {BC_BAR} after {BC_STEPS} steps",
                 "network: the policy cannot memorize one batch (observations constant or clipped? too small?)")  # fmt: skip

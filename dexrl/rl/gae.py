"""Generalized Advantage Estimation (Schulman et al. 2016) with separate termination and timeout.

numpy, not torch: the recursion is a short sequential loop over T with vector work over B, the
rollout already arrives as numpy arrays, and on a GPU learner T tiny kernel launches would cost
more than the arithmetic. The learner computes the critic values (on its device) and passes them in.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.floating]


def compute_gae(
    rewards: FloatArray,
    values: FloatArray,
    terminated: NDArray[np.bool_],
    truncated: NDArray[np.bool_],
    bootstrap_values: FloatArray,
    last_values: FloatArray,
    gamma: float,
    lam: float,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Advantages and value targets of a time-major rollout of B auto-resetting environments.

    Args (T steps, B environments):
        rewards: [T, B] reward received after the action at step t.
        values: [T, B] V(s_t) of the observation the action was taken from.
        terminated: [T, B] the episode ended at step t in a true terminal state (drop, goal count).
        truncated: [T, B] the episode was cut at step t by a time limit (not a property of the MDP).
        bootstrap_values: [T, B] V of the *final* pre-reset observation where truncated[t]
            (read only there; any value elsewhere).
        last_values: [B] V of the observation after the last step (bootstraps the rollout end).
        gamma: discount factor. lam: GAE lambda.

    Returns:
        (advantages [T, B], returns [T, B]) float32, returns = advantages + values: the value targets.

    Why bootstrap on timeout, not on termination: a terminal state has no future, so its next value
    is 0. A timeout is an artefact of training (the task would go on), so the target for the last
    step still includes gamma * V(final observation); the final observation is not obs[t+1], which
    already belongs to the next episode after auto-reset, hence `bootstrap_values`. At both kinds
    of episode end the GAE recursion is cut so no advantage leaks across episodes. If both flags
    are set on a step, termination wins (no bootstrap).
    """
    num_steps = rewards.shape[0]
    per_step = {"values": values, "terminated": terminated, "truncated": truncated}
    _check_shapes(rewards, {**per_step, "bootstrap_values": bootstrap_values}, last_values)
    advantages = np.zeros(rewards.shape, dtype=np.float64)
    running = np.zeros(rewards.shape[1], dtype=np.float64)
    for t in reversed(range(num_steps)):
        next_values = last_values if t == num_steps - 1 else values[t + 1]
        # A timed-out episode continues from its final observation, not from the reset one.
        next_values = np.where(truncated[t], bootstrap_values[t], next_values)
        not_terminal = 1.0 - terminated[t].astype(np.float64)
        delta = rewards[t] + gamma * not_terminal * next_values - values[t]
        episode_continues = 1.0 - (terminated[t] | truncated[t]).astype(np.float64)
        running = delta + gamma * lam * episode_continues * running
        advantages[t] = running
    returns = advantages + values
    return advantages.astype(np.float32), returns.astype(np.float32)


def _check_shapes(
    rewards: FloatArray, per_step: dict[str, np.ndarray], last_values: FloatArray
) -> None:
    if rewards.ndim != 2:
        raise ValueError(f"rewards must be [T, B], got shape {rewards.shape}")
    for name, arr in per_step.items():
        if arr.shape != rewards.shape:
            raise ValueError(
                f"{name} must have shape {rewards.shape} like rewards, got {arr.shape}"
            )
    for name in ("terminated", "truncated"):
        if per_step[name].dtype != np.bool_:
            raise ValueError(f"{name} must be a bool array, got dtype {per_step[name].dtype}")
    if last_values.shape != rewards.shape[1:]:
        raise ValueError(
            f"last_values must have shape {rewards.shape[1:]}, got {last_values.shape}"
        )

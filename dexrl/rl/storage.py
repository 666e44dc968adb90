"""`RolloutBatch`: the contract between rollout workers and the learner, and a buffer that fills it.

Everything is numpy and time-major ([T, B, ...]: T steps of B environments) so a batch crosses
Ray without torch; the learner takes several workers' batches as a list (`PPOLearner.update`) and
`RolloutBatch.concat` joins them along B where one batch is wanted. The environments auto-reset:
after a step with terminated or truncated, the next observation is the first of a new episode.
The final observations of timed-out episodes are stored sparsely: one row per truncated step
(`final_critic_obs` [K, Dc], K = truncated.sum()), not a mostly-zero [T, B, Dc] array (a third of
a batch's bytes at cube_rotate's sizes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from dexrl.rl.running_stats import Moments, RunningMeanStd, compute_moments

F32 = NDArray[np.float32]
Bool = NDArray[np.bool_]

# (field name, dtype, shape template); letters are resolved from obs/critic_obs/actions.
_ARRAY_FIELDS: tuple[tuple[str, type, str], ...] = (
    ("obs", np.float32, "T B Do"),
    ("critic_obs", np.float32, "T B Dc"),
    ("actions", np.float32, "T B A"),
    ("logp", np.float32, "T B"),
    ("action_mean", np.float32, "T B A"),
    ("action_std", np.float32, "T B A"),
    ("rewards", np.float32, "T B"),
    ("terminated", np.bool_, "T B"),
    ("truncated", np.bool_, "T B"),
    ("final_critic_obs", np.float32, "K Dc"),  # K = truncated.sum(): rows in np.nonzero order
    ("episode_starts", np.bool_, "T B"),
    ("last_critic_obs", np.float32, "B Dc"),
)


@dataclass
class RolloutBatch:
    """One rollout of T steps from B environments, as the learner consumes it."""

    obs: F32
    """[T, B, Do] raw policy observations (what a real hand would sense; noisy)."""
    critic_obs: F32
    """[T, B, Dc] raw privileged observations for the critic."""
    actions: F32
    """[T, B, A] the unclipped Gaussian samples (the env clipped them to [-1, 1])."""
    logp: F32
    """[T, B] log-prob of `actions` under the behaviour policy (the weights the worker had)."""
    action_mean: F32
    """[T, B, A] mean of the behaviour policy's Gaussian at each step."""
    action_std: F32
    """[T, B, A] std of the behaviour policy's Gaussian: with `action_mean`, the learner computes
    the analytic KL of its policy against the one that collected the data (docs/architecture.md
    §12)."""
    rewards: F32
    """[T, B] reward after each action."""
    terminated: Bool
    """[T, B] the episode ended in a terminal state at step t (no bootstrap)."""
    truncated: Bool
    """[T, B] the episode hit its time limit at step t (bootstrap from `final_critic_obs`)."""
    final_critic_obs: F32
    """[K, Dc] critic obs of the final pre-reset state of each truncated step, K =
    truncated.sum(), in the order of `np.nonzero(truncated)` (step-major), so
    `values[truncated] = V(final_critic_obs)` fills them in place."""
    last_critic_obs: F32
    """[B, Dc] critic obs after the last step, to bootstrap the end of the rollout."""
    episode_starts: Bool
    """[T, B] True where obs[t] is the first observation of an episode."""
    obs_moments: Moments
    """(count, mean [Do], var [Do]) of `obs`, computed on the worker, merged by the learner."""
    critic_obs_moments: Moments
    """(count, mean [Dc], var [Dc]) of `critic_obs`, computed on the worker."""
    actor_hidden: tuple[F32, ...] = field(default=())
    """LSTM (h, c), each [B, H], the policy state *before* step 0; () for the MLP policy."""

    def __post_init__(self) -> None:
        self.validate()

    @property
    def num_steps(self) -> int:
        """T."""
        return int(self.obs.shape[0])

    @property
    def num_envs(self) -> int:
        """B."""
        return int(self.obs.shape[1])

    def validate(self) -> None:
        """Raise ValueError naming the field whose shape, dtype or content breaks the contract."""
        for name in ("obs", "critic_obs", "actions"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 3:
                raise ValueError(
                    f"RolloutBatch.{name} must be a 3-d numpy array [T, B, D], got {_describe(arr)}"
                )
        (t, b, d_obs), d_critic, d_act = (
            self.obs.shape,
            self.critic_obs.shape[2],
            self.actions.shape[2],
        )
        truncated = self.truncated
        k = int(np.count_nonzero(truncated)) if isinstance(truncated, np.ndarray) else -1
        sizes = {"T": t, "B": b, "K": k, "Do": d_obs, "Dc": d_critic, "A": d_act}
        for name, dtype, template in _ARRAY_FIELDS:
            expected = tuple(sizes[k] for k in template.split())
            _check_array(name, getattr(self, name), dtype, expected, template)
        for i, h in enumerate(self.actor_hidden):
            if not isinstance(h, np.ndarray) or h.ndim != 2 or h.shape[0] != b:
                raise ValueError(
                    f"RolloutBatch.actor_hidden[{i}] must be [B={b}, H], got {_describe(h)}"
                )
            _check_array(f"actor_hidden[{i}]", h, np.float32, h.shape, "B H")
        _check_moments("obs_moments", self.obs_moments, d_obs)
        _check_moments("critic_obs_moments", self.critic_obs_moments, d_critic)
        # With auto-reset, obs[t+1] starts an episode exactly when step t ended one.
        ended = self.terminated[:-1] | self.truncated[:-1]
        if not np.array_equal(self.episode_starts[1:], ended):
            t_bad, b_bad = np.argwhere(self.episode_starts[1:] != ended)[0]
            raise ValueError(
                f"RolloutBatch.episode_starts[{t_bad + 1}, {b_bad}] must equal terminated | truncated "
                f"at step {t_bad} (auto-reset); got {self.episode_starts[t_bad + 1, b_bad]}"
            )

    def select_envs(self, keep: Bool) -> RolloutBatch:
        """A batch with only the environments (columns of B) where `keep` [B] is True.

        Used to keep environments whose physics diverged out of the learner's data; the
        observation moments are recomputed from the kept columns.
        """
        keep = np.asarray(keep, dtype=bool)
        if keep.shape != (self.num_envs,):
            raise ValueError(f"keep must have shape ({self.num_envs},), got {keep.shape}")
        arrays = {
            name: np.compress(keep, getattr(self, name), axis=template.split().index("B"))
            for name, _, template in _ARRAY_FIELDS
            if "B" in template
        }
        # The final rows of the kept envs' timeouts (rows follow np.nonzero(truncated)).
        arrays["final_critic_obs"] = self.final_critic_obs[keep[np.nonzero(self.truncated)[1]]]
        return RolloutBatch(
            **arrays,
            obs_moments=compute_moments(arrays["obs"], (self.obs.shape[2],)),
            critic_obs_moments=compute_moments(arrays["critic_obs"], (self.critic_obs.shape[2],)),
            actor_hidden=tuple(h[keep] for h in self.actor_hidden),
        )

    @staticmethod
    def concat(batches: Sequence[RolloutBatch]) -> RolloutBatch:
        """Join batches from several workers along B; their moments are merged exactly."""
        if not batches:
            raise ValueError("RolloutBatch.concat needs at least one batch")
        check_joinable(batches)
        first = batches[0]
        # [T, B, ...] fields join on axis 1, [B, ...] fields (and hidden states) on axis 0.
        joined = {
            name: np.concatenate(
                [getattr(x, name) for x in batches], axis=template.split().index("B")
            )
            for name, _, template in _ARRAY_FIELDS
            if "B" in template
        }
        joined["final_critic_obs"] = join_final_rows(batches)
        hidden = tuple(
            np.concatenate([x.actor_hidden[i] for x in batches], axis=0)
            for i in range(len(first.actor_hidden))
        )
        return RolloutBatch(
            **joined,
            obs_moments=merge_moments([x.obs_moments for x in batches]),
            critic_obs_moments=merge_moments([x.critic_obs_moments for x in batches]),
            actor_hidden=hidden,
        )


class RolloutBuffer:
    """Fills a `RolloutBatch` step by step on a rollout worker.

    Per step: `add(...)`; at the end: `finish(last_critic_obs, actor_hidden)`, which computes the
    observation moments and hands the arrays over (the buffer then starts afresh, so a batch that
    is still being sent is never overwritten).
    """

    def __init__(
        self, num_steps: int, num_envs: int, obs_dim: int, critic_obs_dim: int, action_dim: int
    ) -> None:
        self.num_steps, self.num_envs = num_steps, num_envs
        self.dims = {"Do": obs_dim, "Dc": critic_obs_dim, "A": action_dim}
        self._allocate()

    def _allocate(self) -> None:
        sizes = {"T": self.num_steps, "B": self.num_envs, **self.dims}
        # last_critic_obs is not per step; finish() takes it.
        self._arrays: dict[str, np.ndarray] = {
            name: np.zeros(tuple(sizes[k] for k in template.split()), dtype=dtype)
            for name, dtype, template in _ARRAY_FIELDS
            if template.startswith("T")
        }
        self._final_rows: list[F32] = []  # final_critic_obs of the truncated envs, step by step
        self.step = 0

    def add(
        self,
        obs: F32,
        critic_obs: F32,
        actions: F32,
        logp: F32,
        rewards: F32,
        terminated: Bool,
        truncated: Bool,
        episode_starts: Bool,
        final_critic_obs: F32 | None = None,
        *,
        action_mean: F32,
        action_std: F32,
    ) -> None:
        """Record step t for all B envs: the obs acted on, what was done, and what followed.

        action_mean, action_std [B, A]: the behaviour policy's Gaussian at this step.

        final_critic_obs [B, Dc]: the critic obs of the final state of envs that were truncated at
        this step (rows of other envs are ignored; only the truncated rows are kept); None if none
        truncated.
        """
        if self.step >= self.num_steps:
            raise ValueError(f"RolloutBuffer is full ({self.num_steps} steps); call finish()")
        if final_critic_obs is None and np.any(truncated):
            # Zeros here would silently bootstrap the timeout from V(0).
            raise ValueError(
                "truncated envs at this step need final_critic_obs (their final state)"
            )
        t = self.step
        values = {
            "obs": obs,
            "critic_obs": critic_obs,
            "actions": actions,
            "logp": logp,
            "action_mean": action_mean,
            "action_std": action_std,
            "rewards": rewards,
            "terminated": terminated,
            "truncated": truncated,
            "episode_starts": episode_starts,
        }
        for name, value in values.items():
            self._arrays[name][t] = value  # numpy raises on a shape mismatch
        if final_critic_obs is not None:
            rows = np.asarray(final_critic_obs, dtype=np.float32)[np.asarray(truncated, dtype=bool)]
            self._final_rows.append(rows)
        self.step += 1

    def finish(self, last_critic_obs: F32, actor_hidden: tuple[F32, ...] = ()) -> RolloutBatch:
        """The filled batch. actor_hidden: the policy state the worker had *before* step 0."""
        if self.step != self.num_steps:
            raise ValueError(
                f"RolloutBuffer holds {self.step} of {self.num_steps} steps; add the rest first"
            )
        arrays = self._arrays
        rows = self._final_rows or [np.zeros((0, self.dims["Dc"]), np.float32)]
        batch = RolloutBatch(
            **arrays,
            final_critic_obs=np.concatenate(rows, axis=0),
            last_critic_obs=np.asarray(last_critic_obs, dtype=np.float32),
            obs_moments=compute_moments(arrays["obs"], (self.dims["Do"],)),
            critic_obs_moments=compute_moments(arrays["critic_obs"], (self.dims["Dc"],)),
            actor_hidden=tuple(np.asarray(h, dtype=np.float32) for h in actor_hidden),
        )
        self._allocate()
        return batch


def check_joinable(batches: Sequence[RolloutBatch]) -> None:
    """ValueError unless the batches can join along B: the same T and the same number of hidden
    arrays (all MLP or all LSTM)."""
    first = batches[0]
    for i, other in enumerate(batches[1:], start=1):
        if other.num_steps != first.num_steps or len(other.actor_hidden) != len(first.actor_hidden):
            raise ValueError(f"batch {i} has T={other.num_steps} and {len(other.actor_hidden)} hidden arrays; "
                             f"batch 0 has T={first.num_steps} and {len(first.actor_hidden)}")  # fmt: skip


def join_final_rows(batches: Sequence[RolloutBatch]) -> F32:
    """The `final_critic_obs` rows of several batches as the batch joined along B would hold
    them: ordered by (step, env of the joined batch), i.e. `np.nonzero` of the joined
    `truncated`."""
    steps, envs, offset = [], [], 0
    for x in batches:
        t, b = np.nonzero(x.truncated)
        steps.append(t)
        envs.append(b + offset)
        offset += x.num_envs
    rows = np.concatenate([x.final_critic_obs for x in batches], axis=0)
    return rows[np.lexsort((np.concatenate(envs), np.concatenate(steps)))]


def merge_moments(moments: Sequence[Moments]) -> Moments:
    """Observation moments of several batches merged exactly (parallel-variance formula)."""
    rms = RunningMeanStd(np.asarray(moments[0][1]).shape)
    for m in moments:
        rms.merge(m)
    return rms.moments()


def _describe(x: object) -> str:
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__}"


def _check_array(
    name: str, arr: object, dtype: type, shape: tuple[int, ...], template: str
) -> None:
    if not isinstance(arr, np.ndarray):
        raise ValueError(
            f"RolloutBatch.{name} must be a numpy array [{template}], got {_describe(arr)}"
        )
    if arr.shape != shape:
        raise ValueError(
            f"RolloutBatch.{name} must have shape [{template}] = {shape}, got {arr.shape}"
        )
    if arr.dtype != dtype:
        raise ValueError(f"RolloutBatch.{name} must have dtype {np.dtype(dtype)}, got {arr.dtype}")
    if arr.dtype == np.float32 and not np.isfinite(arr).all():
        raise ValueError(
            f"RolloutBatch.{name} contains NaN or inf (first at index {np.argwhere(~np.isfinite(arr))[0]})"
        )


def _check_moments(name: str, moments: object, dim: int) -> None:
    ok = (
        isinstance(moments, tuple | list)
        and len(moments) == 3
        and isinstance(moments[0], int | float | np.floating | np.integer)
        and float(moments[0]) >= 0
        and np.shape(moments[1]) == (dim,)
        and np.shape(moments[2]) == (dim,)
    )
    if not ok:
        raise ValueError(
            f"RolloutBatch.{name} must be (count >= 0, mean [{dim}], var [{dim}]), got {moments!r:.200}"
        )

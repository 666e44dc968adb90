"""Typed configuration of the PPO learner and of the policy/value networks.

Defaults follow the published dexterous-hand work ([D] arXiv:1808.00177, [R] arXiv:1910.07113;
docs/references.md "PPO hyper-parameters") where it gives a figure; other defaults are the usual
PPO values and say so.
Both classes are frozen so one instance can be shared without one user mutating another's
config; use `dataclasses.replace` to derive a variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Literal, TypeVar

LR_SCHEDULES = ("constant", "linear", "adaptive")
MODEL_KINDS = ("mlp", "lstm")
ACTIVATIONS = ("elu", "relu", "tanh")


@dataclass(frozen=True)
class PPOConfig:
    """Hyper-parameters of the PPO update (clipped surrogate, GAE, Adam)."""

    gamma: float | None = 0.998
    """Discount factor [D]/[R]: horizon ~500 steps = 40 s at 12.5 Hz. None (the
    config file's default) = the task's own `env.gamma` (`resolve_gamma`)."""
    gae_lambda: float = 0.95
    """GAE lambda [D]/[R]: bias/variance trade-off of the advantage estimate."""
    clip: float = 0.2
    """PPO ratio clip epsilon [D]/[R]."""
    lr: float = 3e-4
    """Adam learning rate of the policy [D]/[R]; the start value under "adaptive"."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critic: its own, never KL-driven (the KL measures the policy)."""
    lr_schedule: Literal["constant", "linear", "adaptive"] = "constant"
    """"constant"; "linear" decay to 0 over training (driven by `PPOLearner.set_progress`);
    "adaptive": from the analytic KL of the policy against the behaviour policy over the whole
    batch (see `lr_adapt_every`), divide the policy's lr by 1.5 when the KL exceeds 2 x desired_kl
    and multiply it by 1.5 below desired_kl / 2 (the rule of rsl_rl / rl_games). The critic's lr
    follows "linear" when that is chosen, never the KL."""
    lr_adapt_every: Literal["update", "epoch"] = "update"
    """When the "adaptive" schedule reads the KL: "update" = once, after the last step (it then
    reads exactly the KL of the update); "epoch" = after every epoch (rl_games' cadence; the KL
    grows over an update, so early epochs read low and raise the lr that late ones lower:
    measured on reach, the lr oscillated while every update ended at 2.3-2.4 x desired_kl)."""
    desired_kl: float = 0.016
    """KL per update the "adaptive" schedule aims at."""
    adam_eps: float = 1e-5
    """Adam epsilon; 1e-5 (not torch's 1e-8) is the usual PPO choice, it damps tiny-variance steps."""
    entropy_coef: float = 0.01
    """Weight of the entropy bonus [D]/[R]."""
    value_coef: float = 0.5
    """Weight of the value loss in the joint loss (common PPO default; [D]/[R] give none)."""
    value_clip: float | None = None
    """Clip the value prediction to old +- this (in normalized units); None = no value clipping."""
    max_grad_norm: float = 1.0
    """Clip the policy's gradient norm to this before each Adam step."""
    critic_max_grad_norm: float = 1.0
    """Clip the critic's gradient norm to this (separately from the policy's)."""
    bounds_loss_coef: float = 1e-4
    """Weight of the soft penalty on action means beyond ±1.1 (`losses.bounds_loss`; rl_games'
    in-hand configs use 1e-4): the env clips actions, so a mean far outside loses its gradient."""
    epochs: int = 5
    """Passes over each rollout batch."""
    minibatches: int | None = 4
    """Minibatches per epoch (MLP: over T*B samples; LSTM: over sequences of bptt_len steps).
    A number is used as given, whatever the batch; None (the config file's default) = as many
    as `minibatch_size` asks of the batch (`resolve_minibatches`)."""
    minibatch_size: int | Literal["auto"] = "auto"
    """Samples per minibatch when `minibatches` is None: minibatches = samples per update /
    minibatch_size, rounded to the nearest integer, at least 1 ("auto" = 2,048, the minibatch of
    the 2-worker laptop run: 2 x 64 envs x 64 steps = 8,192 samples in 4). More workers give
    more minibatches of the same size; lr, desired_kl and epochs stay as they are."""
    target_kl: float | None = None
    """Stop the update early once a minibatch's analytic KL against the behaviour policy exceeds
    this; None = never stop early."""
    normalize_advantages: bool = True
    """Normalize advantages to zero mean / unit std per minibatch [D]/[R]."""
    normalize_value_targets: bool = True
    """Critic predicts returns normalized by their running mean/std [D]/[R]."""
    obs_clip: float = 5.0
    """Normalized observations are clipped to +- this many std [D]/[R] (+-5 sigma)."""
    bptt_len: int = 16
    """LSTM truncated-BPTT chunk length in steps; must divide the rollout length T (or be >= T)."""

    def validate(self) -> PPOConfig:
        """Raise ValueError naming the first bad key and what is allowed; return self."""
        if self.gamma is not None:
            _in_range("gamma", self.gamma, 0.0, 1.0)
        _in_range("gae_lambda", self.gae_lambda, 0.0, 1.0)
        _positive("clip", self.clip)
        _positive("lr", self.lr)
        _positive("critic_lr", self.critic_lr)
        _one_of("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        _one_of("lr_adapt_every", self.lr_adapt_every, ("update", "epoch"))
        _positive("desired_kl", self.desired_kl)
        _positive("adam_eps", self.adam_eps)
        _non_negative("entropy_coef", self.entropy_coef)
        _positive("value_coef", self.value_coef)
        if self.value_clip is not None:
            _positive("value_clip", self.value_clip)
        _positive("max_grad_norm", self.max_grad_norm)
        _positive("critic_max_grad_norm", self.critic_max_grad_norm)
        _non_negative("bounds_loss_coef", self.bounds_loss_coef)
        _positive_int("epochs", self.epochs)
        if self.minibatches is not None:
            _positive_int("minibatches", self.minibatches)
        if self.minibatch_size != "auto":
            _positive_int("minibatch_size", self.minibatch_size, "'auto' or ")  # type: ignore[arg-type]
        if self.target_kl is not None:
            _positive("target_kl", self.target_kl)
        _bool("normalize_advantages", self.normalize_advantages)
        _bool("normalize_value_targets", self.normalize_value_targets)
        _positive("obs_clip", self.obs_clip)
        _positive_int("bptt_len", self.bptt_len)
        return self


def resolve_gamma(ppo: PPOConfig, task_gamma: float) -> PPOConfig:
    """`ppo` with its discount set: its own when given, else the task's (`env.gamma`)."""
    return ppo if ppo.gamma is not None else replace(ppo, gamma=task_gamma)


AUTO_MINIBATCH_SIZE = 2048
"""`minibatch_size: auto`: today's laptop minibatch (2 workers x 64 envs x 64 steps / 4)."""
AUTO_MIN_MINIBATCHES = 4
"""`minibatch_size: auto` never goes below 4 minibatches, what every update had before the rule,
so a batch of up to 8,192 samples (a laptop, a small test) trains exactly as it did; only larger
batches get more minibatches of ~2,048."""


@dataclass(frozen=True)
class BatchShape:
    """What one PPO update is made of (`resolve_minibatches`)."""

    workers: int
    envs_per_worker: int
    horizon: int
    samples: int
    """Samples per update: workers x envs_per_worker x horizon."""
    minibatches: int
    epochs: int
    source: str
    """How `minibatches` was chosen, for the start line (e.g. "algo.minibatch_size=auto: 2,048")."""

    @property
    def minibatch_size(self) -> int:
        """Samples per minibatch (torch.tensor_split: the minibatches differ by at most one)."""
        return self.samples // self.minibatches

    def line(self) -> str:
        """The one start line: workers, envs, horizon, samples, minibatches x size, epochs."""
        even = "" if self.samples % self.minibatches == 0 else "~"
        return (f"PPO batch: {self.workers} worker{'s' if self.workers != 1 else ''} x {self.envs_per_worker} envs x {self.horizon} "
                f"steps = {self.samples:,} samples per update, {self.minibatches} minibatch"
                f"{'es' if self.minibatches != 1 else ''} x "
                f"{even}{self.minibatch_size:,} samples, {self.epochs} epochs ({self.source})")  # fmt: skip


def minibatch_count(samples: int, minibatch_size: int | str, max_count: int | None = None) -> int:
    """The rule: samples / minibatch_size rounded to the nearest integer (halves up), at least 1
    (`"auto"`: size AUTO_MINIBATCH_SIZE and at least AUTO_MIN_MINIBATCHES) and at most
    `max_count` (the training sequences, so no minibatch is empty)."""
    auto = minibatch_size == "auto"
    size = AUTO_MINIBATCH_SIZE if auto else int(minibatch_size)
    count = max(AUTO_MIN_MINIBATCHES if auto else 1, (2 * samples + size) // (2 * size))
    return count if max_count is None else max(1, min(count, max_count))


def resolve_minibatches(
    ppo: PPOConfig, workers: int, envs_per_worker: int, horizon: int, kind: str = "mlp"
) -> tuple[PPOConfig, BatchShape]:
    """`ppo` with `minibatches` a number for updates of workers x envs_per_worker x horizon
    samples, and that update's shape. An explicit `minibatches` wins (it must not exceed the
    training sequences); None applies `minibatch_size` (`minibatch_count`). lr, desired_kl
    and epochs are never changed. ValueError (one line naming the key) on a bad value."""
    samples = workers * envs_per_worker * horizon
    # LSTM: the learner trains on chunks of bptt_len steps (the whole rollout if longer).
    sequences = samples if kind != "lstm" else workers * envs_per_worker * max(1, horizon // ppo.bptt_len)
    if ppo.minibatches is not None:
        if ppo.minibatches > sequences:
            unit = "samples" if kind != "lstm" else f"sequences of {ppo.bptt_len} steps"
            raise ValueError(f"algo.minibatches={ppo.minibatches} exceeds the {sequences:,} {unit} of one "
                             f"update ({workers} workers x {envs_per_worker} envs x {horizon} steps); "
                             "lower it, or set algo.minibatches=null to follow algo.minibatch_size")  # fmt: skip
        count, source = ppo.minibatches, f"algo.minibatches={ppo.minibatches} as given"
        if ppo.minibatch_size != "auto":
            source += f"; algo.minibatch_size={ppo.minibatch_size} not used"
    else:
        auto = ppo.minibatch_size == "auto"
        size = AUTO_MINIBATCH_SIZE if auto else int(ppo.minibatch_size)
        count = minibatch_count(samples, ppo.minibatch_size, sequences)
        source = f"algo.minibatch_size={ppo.minibatch_size}" + (f" = {size:,}" if auto else "")
        if auto and count == AUTO_MIN_MINIBATCHES and samples < AUTO_MIN_MINIBATCHES * size:
            source += f", at least {AUTO_MIN_MINIBATCHES} minibatches"
        elif count * size != samples:
            source += f"; {samples:,} / {size:,} rounded to {count}"
    shape = BatchShape(workers, envs_per_worker, horizon, samples, count, ppo.epochs, source)
    return replace(ppo, minibatches=count), shape


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the Gaussian policy (MLP or LSTM) and of the separate critic MLP."""

    kind: Literal["mlp", "lstm"] = "mlp"
    """"mlp" (feed-forward policy) or "lstm" (recurrent policy; [D] found it better on hardware)."""
    actor_hidden: tuple[int, ...] = (512, 256, 128)
    """MLP policy layer widths; 512-256-128 as the GPU in-hand peers use (docs/references.md
    "PPO hyper-parameters")."""
    lstm_dense: tuple[int, ...] = (256,)
    """LSTM policy: dense layers before the LSTM ([D] used 1024; smaller default for CPU workers)."""
    lstm_size: int = 128
    """LSTM policy: LSTM hidden size ([D] used 512; smaller default for CPU workers)."""
    critic_hidden: tuple[int, ...] = (512, 256, 128)
    """Critic MLP layer widths (critic runs on the learner only, so it can be wide)."""
    init_log_std: float = 0.0
    """Initial log std of the state-independent Gaussian (0 -> std 1 over the [-1, 1] action box)."""
    activation: Literal["elu", "relu", "tanh"] = "elu"
    """Hidden-layer activation: "elu", "relu" or "tanh"."""

    def validate(self) -> ModelConfig:
        """Raise ValueError naming the first bad key and what is allowed; return self."""
        _one_of("kind", self.kind, MODEL_KINDS)
        _widths("actor_hidden", self.actor_hidden, allow_empty=False)
        _widths("lstm_dense", self.lstm_dense, allow_empty=True)
        _positive_int("lstm_size", self.lstm_size)
        _widths("critic_hidden", self.critic_hidden, allow_empty=False)
        if not _is_number(self.init_log_std):
            raise ValueError(f"init_log_std must be a finite number, got {self.init_log_std!r}")
        _one_of("activation", self.activation, ACTIVATIONS)
        return self


_Config = TypeVar("_Config", PPOConfig, ModelConfig)


def config_from_dict(cls: type[_Config], values: Mapping[str, object]) -> _Config:
    """Build and validate a config from a plain mapping (e.g. a YAML/JSON section).

    Unknown keys raise ValueError listing the known ones; lists become tuples (width fields).
    """
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} key(s) {unknown}; allowed: {sorted(known)}")
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    return cls(**clean).validate()  # type: ignore[arg-type]


def _is_number(value: object) -> bool:
    # bool is an int subclass; `gamma: true` in a YAML file is a mistake, not 1.0.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _in_range(key: str, value: float, low: float, high: float) -> None:
    if not (_is_number(value) and low <= value <= high):
        raise ValueError(f"{key} must be a number in [{low}, {high}], got {value!r}")


def _positive(key: str, value: float) -> None:
    if not (_is_number(value) and value > 0):
        raise ValueError(f"{key} must be a number > 0, got {value!r}")


def _non_negative(key: str, value: float) -> None:
    if not (_is_number(value) and value >= 0):
        raise ValueError(f"{key} must be a number >= 0, got {value!r}")


def _positive_int(key: str, value: int, also: str = "") -> None:
    if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
        raise ValueError(f"{key} must be {also}an integer >= 1, got {value!r}")


def _bool(key: str, value: bool) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, got {value!r}")


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValueError(f"{key} must be one of {list(allowed)}, got {value!r}")


def _widths(key: str, value: tuple[int, ...], allow_empty: bool) -> None:
    ok = isinstance(value, tuple) and all(
        isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in value
    )
    if not ok or (not allow_empty and len(value) == 0):
        need = "a tuple of positive ints" + ("" if allow_empty else " (at least one)")
        raise ValueError(f"{key} must be {need}, got {value!r}")

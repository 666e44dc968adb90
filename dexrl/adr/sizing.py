"""ADR sized to the run: the buffer size m (and, if needed, p_b) from the run's throughput.

[R]'s m = 240 (Table 15) was chosen for a cluster that collects hundreds of boundary results per
boundary quickly. On one machine the same m means no decision at all: a 400k-step `reach` run
(2 workers × 64 envs × 64-step rollouts, 50-step episodes, 12 parameters) gives each of its
boundaries ~3.4 results per iteration, ~170 in the whole run, fewer than one buffer. With
`adr.buffer_size: auto` the trainer calls `size_for_run` before the ADR actor starts.

The rule (every number is per training iteration, i.e. one rollout of every worker):

    steps S = workers × envs_per_worker × horizon
    episodes E = S / L                         L = env.max_episode_steps (see below)
    results per boundary r = E × p_b / (2 d)   d = active parameters ([R] Alg. 1: one of d
                                               uniformly, then a side with probability 0.5)
    m = clamp(⌊r × K⌋, M_MIN, 240)             K = adr.decide_within_iterations (default 8)

so a boundary collects the m results of a decision within K iterations, expected. 240 is the
cap: at cluster scale (r ≥ 240 / K = 30 results per boundary per iteration) the rule gives
[R]'s m. With `adr.boundary_prob: auto`, p_b is [R]'s 0.5 unless a buffer of M_MIN (or the
explicit m) could not fill within K iterations at 0.5; then p_b rises to what it needs, at most
MAX_BOUNDARY_PROB. An explicit integer m or number p_b always wins.

L is the longest an episode can be, so E is a lower bound and the time to a decision an upper
bound: episodes that end early (drops, a task's timeout without success) make decisions come
sooner. On `reach` every episode runs its 50 steps, so there the estimate is exact.

M_MIN, the floor, is the statistical price of a small m. A decision compares the mean of m
episode results with t_L and t_H. [R]'s thresholds are 20 % and 40 % of the 50-success cap
(10 / 20), and so are those of cube_rotate(_z) and face_turn (same cap) and of `reach` (1 / 2
of an estimated 5-target ceiling); cube_solve keeps 10 / 20 against a 200-subgoal cap (5 % /
10 %), where this bound does not promise the noise stated here. Normalized to [0, 1] by that
cap, one episode's result has variance at most p(1 − p) (any variable in [0, 1] with mean p does: the Bhatia–Davis inequality), so the mean of m has
standard error SE ≤ √(p(1 − p)/m); over p ∈ [0.2, 0.4] the worst case is p = 0.4. With
SE ≤ NOISE_MAX = 0.5 of the gap t_H − t_L = 0.2, m ≥ 0.24 / 0.1² = 24 = M_MIN. What that
costs (normal approximation, `decision_error`): a boundary whose policy sits exactly at t_L
(should narrow) is widened instead with probability P(Z ≥ gap/SE) ≤ 2.3 % per decision at
m = 24, ~10⁻¹⁰ at m = 240; a policy halfway between the thresholds (should stay) moves a boundary
by ±Δ with probability ≤ 32 % at m = 24 (0.16 % at 240), a random walk without drift that the
drift at either threshold outweighs. The bound is loose for counts of successes, whose
variance is far below p(1 − p) once normalized by the cap.

Not in the estimate: after a boundary moves, the episodes already assigned at its old value
(running, or prefetched by the workers: 2 to 4 × envs_per_worker assignments per worker, see
`dexrl.adr.randomizer`) are dropped as stale (`adr/stale_reports`), so a boundary's second and
later decisions each take ~(2 to 4) × L / horizon iterations longer than its first: 1.6 to 3.1
on `reach`'s default run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from dexrl.adr.config import (
    AUTO,
    PAPER_BOUNDARY_PROB,
    PAPER_BUFFER_SIZE,
    PAPER_THRESHOLDS,
    ADRConfig,
)
from dexrl.adr.params import PARAM_NAMES

PAPER_SUCCESS_CAP = 50.0
"""[R]'s episode cap of 50 successes, against which its t_L / t_H = 10 / 20 are counted."""
NORMALIZED_THRESHOLDS = (
    PAPER_THRESHOLDS[0] / PAPER_SUCCESS_CAP,
    PAPER_THRESHOLDS[1] / PAPER_SUCCESS_CAP,
)
"""(t_L, t_H) as fractions of the success cap: (0.2, 0.4) in [R] (and on the tasks here but
cube_solve, see the module docstring)."""
NOISE_MAX = 0.5
"""Largest standard error of a decision's mean allowed, as a fraction of the gap t_H − t_L."""
MAX_BOUNDARY_PROB = 0.8
"""Ceiling of an `auto` p_b: at least 20 % of episodes draw every parameter from its range."""


def decision_se(m: int, thresholds: tuple[float, float] = NORMALIZED_THRESHOLDS) -> float:
    """Upper bound on the standard error of the mean of m results, as a fraction of the gap
    t_H − t_L: √(p(1 − p)/m) / gap at the p in [t_L, t_H] (normalized) nearest 0.5."""
    low, high = thresholds
    p = min(max(0.5, low), high)
    return math.sqrt(p * (1.0 - p) / m) / (high - low)


def decision_error(
    m: int, thresholds: tuple[float, float] = NORMALIZED_THRESHOLDS
) -> dict[str, float]:
    """What a decision of m results risks, at the SE bound (normal approximation):
    `wrong_direction` (a policy exactly at t_L is widened, or one at t_H narrowed) and
    `move_at_midpoint` (a policy halfway between t_L and t_H moves its boundary either way)."""
    z = 1.0 / decision_se(m, thresholds)  # the gap in standard errors
    tail = lambda x: 0.5 * math.erfc(x / math.sqrt(2.0))  # noqa: E731  P(Z ≥ x)
    return {"wrong_direction": tail(z), "move_at_midpoint": 2.0 * tail(z / 2.0)}


def min_buffer_size(
    noise_max: float = NOISE_MAX, thresholds: tuple[float, float] = NORMALIZED_THRESHOLDS
) -> int:
    """The smallest m whose decision SE is at most `noise_max` of the threshold gap."""
    low, high = thresholds
    p = min(max(0.5, low), high)
    return math.ceil(round(p * (1.0 - p) / (noise_max * (high - low)) ** 2, 9))


M_MIN = min_buffer_size()
"""Floor of an `auto` m: 24 (SE ≤ 0.5 of the t_L–t_H gap; the module docstring has the cost)."""


@dataclass(frozen=True)
class ADRSizing:
    """What the rule found for one run (all expected values, per training iteration)."""

    buffer_size: int
    boundary_prob: float
    buffer_auto: bool
    boundary_prob_auto: bool
    decide_within: int
    active_params: int
    steps_per_iteration: int
    episode_steps: int
    episodes_per_iteration: float
    results_per_boundary: float
    """Boundary results each boundary gets per iteration: E × p_b / (2d)."""

    @property
    def iterations_to_decide(self) -> float:
        """Iterations until a boundary's buffer first holds m results (inf without any)."""
        return (
            self.buffer_size / self.results_per_boundary
            if self.results_per_boundary > 0
            else math.inf
        )

    @property
    def env_steps_to_decide(self) -> float:
        return self.iterations_to_decide * self.steps_per_iteration

    def decisions_in(self, total_env_steps: int) -> float:
        """Decisions one boundary can make in `total_env_steps` (first-decision pace)."""
        steps = self.env_steps_to_decide
        return total_env_steps / steps if steps > 0 and math.isfinite(steps) else 0.0

    def line(self, total_env_steps: int | None = None) -> str:
        """The one line a run prints at its start."""
        how = f"auto: decide within {self.decide_within} iterations" if self.buffer_auto else "set"
        p_b = f"p_b {self.boundary_prob:.2f}" + (" (auto)" if self.boundary_prob_auto else "")
        text = (f"ADR: buffer size m={self.buffer_size} ({how}; {p_b}, {self.active_params} params, "
                f"~{self.episodes_per_iteration:.0f} episodes/iteration → {self.results_per_boundary:.1f} "
                f"results per boundary per iteration); a boundary's first decision is expected within "
                f"~{_steps(self.env_steps_to_decide)} env steps ({self.iterations_to_decide:.1f} iterations; "
                f"sooner if episodes end before their {self.episode_steps}-step cap)")  # fmt: skip
        if total_env_steps is not None:
            n = self.decisions_in(total_env_steps)
            text += f", ~{n:.{2 if n < 1 else 1 if n < 10 else 0}f} per boundary in this run's {_steps(total_env_steps)} steps"
            if n < 1.0:
                fix = ("adr.buffer_size=auto sizes m to the run" if not self.buffer_auto else
                       f"m is at its floor {M_MIN}: train longer, add workers or envs, or randomize fewer "
                       "parameters (adr.params.<name>.enabled=false)" if self.buffer_size <= M_MIN else
                       "the run ends before a boundary collects m results")  # fmt: skip
                text += f" (fewer than one: ADR may change no range; {fix})"
        return text + f"; decision SE ≤ {decision_se(self.buffer_size):.2f} of the t_L–t_H gap"


def _steps(n: float) -> str:
    if not math.isfinite(n):
        return "never"
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else f"{n:.0f}"


def active_param_count(cfg: ADRConfig) -> int:
    """d: the parameters ADR randomizes under `cfg` (after `config_for_task` dropped any)."""
    return sum(cfg.is_randomized(name) for name in PARAM_NAMES)


def size_for_run(
    cfg: ADRConfig, workers: int, envs_per_worker: int, horizon: int, episode_steps: int
) -> tuple[ADRConfig, ADRSizing | None]:
    """`cfg` with "auto" m and p_b replaced by the rule's numbers, and what the rule found
    (None unless mode "auto"). `cfg` should already be fitted to the task (`config_for_task`),
    so d counts only what this task randomizes; an explicit m or p_b is kept as it is."""
    if cfg.mode != "auto":
        return cfg, None
    for key, value in (("train.num_workers", workers), ("train.envs_per_worker", envs_per_worker),
                       ("train.horizon", horizon), ("env.max_episode_steps", episode_steps)):  # fmt: skip
        if value < 1:
            raise ValueError(f"ADR sizing: {key} must be >= 1, got {value}")
    d = max(1, active_param_count(cfg))
    k = cfg.decide_within_iterations
    steps = workers * envs_per_worker * horizon
    episodes = steps / episode_steps
    buffer_auto, prob_auto = cfg.buffer_size == AUTO, cfg.boundary_prob == AUTO
    if prob_auto:
        # The smallest p_b ≥ [R]'s 0.5 that fills the target buffer within K iterations.
        target = M_MIN if buffer_auto else int(cfg.buffer_size)
        p_b = min(MAX_BOUNDARY_PROB, max(PAPER_BOUNDARY_PROB, target * 2 * d / (episodes * k)))
    else:
        p_b = float(cfg.boundary_prob)
    per_boundary = episodes * p_b / (2 * d)
    if buffer_auto:
        m = min(PAPER_BUFFER_SIZE, max(M_MIN, math.floor(round(per_boundary * k, 9))))
    else:
        m = int(cfg.buffer_size)
    sizing = ADRSizing(
        m, p_b, buffer_auto, prob_auto, k, d, steps, episode_steps, episodes, per_boundary
    )
    return dataclasses.replace(cfg, buffer_size=m, boundary_prob=p_b), sizing

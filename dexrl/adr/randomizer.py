"""Per-episode domain randomization of a batched task: the bridge from the ADR state to the sim.

A rollout worker owns one `EpisodeRandomizer` and attaches it to its task. From then on, every
reset of env i (the task's `reset_hooks`, called before the ended episode's counters are cleared):

1. reports the episode env i just finished to the ADR state: performance = its
   `consecutive_successes` ([R]: successes per episode, docs/references.md "ADR"), or, when its
   physics went non-finite (the task flags it `info["unhealthy"]` and ends it), as *invalid*:
   counted, never used as performance;
2. draws the next `EpisodeAssignment` (λ per parameter);
3. applies it to env i (`dexrl.adr.apply`, from calibrated values: nothing compounds).

With a Ray actor (`dexrl.distributed.adr_actor.ADRStateActor`, one per run, docs/architecture.md
§3) assignments are prefetched in batches (one round trip per ~2·K episodes; it blocks only when
the queue is empty) and reports are buffered until `flush()`, which the worker calls after each
rollout and which does not wait. Without an actor the randomizer owns a local `ADRState`
(in-process use, tests, benchmarks).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any

from dexrl.adr.algorithm import ADRState, EpisodeAssignment
from dexrl.adr.apply import ApplyContext, check_appliers, scalar_nominals
from dexrl.adr.config import ADRConfig
from dexrl.adr.params import PARAM_NAMES

_PERTURBATIONS = ("cube_force_perturbation", "cube_torque_perturbation")


class EpisodeRandomizer:
    """Applies one ADR assignment per env per episode and reports the episodes back.

    `actor`: Ray handle of an `ADRStateActor`, or None to own a local `ADRState` seeded with
    `cfg.seed + seed` (`seed` = the worker index, so local states of different workers differ).
    `state`: a ready local state to use instead (e.g. restored with wide ranges for a benchmark);
    anything with `sample_episode()`, `report()` and `report_invalid()` will do.
    """

    def __init__(
        self, cfg: ADRConfig, actor: Any = None, seed: int = 0, state: Any = None
    ) -> None:
        self.cfg = cfg
        self.actor = actor
        self.state: Any = None
        if actor is None:
            self.state = state if state is not None else ADRState(replace(cfg, seed=cfg.seed + seed))
        self.active: tuple[str, ...] = tuple(n for n in PARAM_NAMES if cfg.is_randomized(n))
        """Parameters randomized in this mode, in registry (= apply) order."""
        self.prefetch = 0  # assignments per actor round trip; 2·K once attached
        self.task: Any = None
        self.context: ApplyContext | None = None
        self.assignments: list[EpisodeAssignment | None] = []
        """The assignment each env is running (None before its first randomized reset)."""
        self._queue: deque[EpisodeAssignment] = deque()
        self._pending: Any = None  # ObjectRef of an assignment batch in flight
        self._reports: list[tuple[EpisodeAssignment, float, bool]] = []
        self.episodes_reported = 0
        self.invalid_reported = 0

    # --- set-up -------------------------------------------------------------------------------

    def attach(self, task: Any) -> None:
        """Record the task's calibrated values and randomize each env at its every reset.

        Fails, naming the parameter, when one to randomize cannot be applied to this task.
        Mode "none" installs nothing: the task runs its calibrated model at full speed.
        """
        check_appliers(self.active, task)
        self.task = task
        self.context = ApplyContext(task)
        self.assignments = [None] * task.num_envs
        self.prefetch = 2 * task.num_envs
        nominals = scalar_nominals(self.context, PARAM_NAMES)
        if self.actor is not None:
            self.actor.set_nominals.remote(nominals)
        elif hasattr(self.state, "set_nominals"):
            self.state.set_nominals(nominals)
        if not self.active:
            return
        task.reset_hooks.append(self._on_reset)
        if any(name in self.active for name in _PERTURBATIONS):
            task.pre_physics_hooks.append(self.context.perturb)

    # --- per reset ----------------------------------------------------------------------------

    def _on_reset(self, i: int) -> None:
        task, previous = self.task, self.assignments[i]
        if previous is not None and task.step_count[i] > 0:
            # The task's snapshot still holds the ended episode's last state (same test as
            # HandTask.step's `healthy`); an episode cut short by an explicit reset() is reported
            # as it stands.
            healthy = bool(task.healthy()[i])
            self._report(previous, float(task.consecutive_successes[i]), healthy)
        assignment = self._next_assignment()
        self.assignments[i] = assignment
        assert self.context is not None
        self.context.apply(i, assignment.lambdas, self.active)

    def _report(self, assignment: EpisodeAssignment, performance: float, healthy: bool) -> None:
        self.episodes_reported += 1
        self.invalid_reported += int(not healthy)
        if self.actor is not None:
            self._reports.append((assignment, performance, healthy))
        elif healthy:
            self.state.report(assignment, performance)
        else:
            self.state.report_invalid(assignment)

    def _next_assignment(self) -> EpisodeAssignment:
        if self.actor is None:
            return self.state.sample_episode()  # type: ignore[no-any-return]
        import ray

        if not self._queue:
            if self._pending is None:
                self._pending = self.actor.sample_episodes.remote(self.prefetch)
            self._queue.extend(ray.get(self._pending))  # blocks only here, on an empty queue
            self._pending = None
        assignment = self._queue.popleft()
        if self._pending is None and len(self._queue) < self.prefetch // 2:
            self._pending = self.actor.sample_episodes.remote(self.prefetch)  # arrives meanwhile
        return assignment

    def record_episode(self, performance: float, healthy: bool = True) -> None:
        """An episode that ran without a task (a benchmark's stand-in worker): draw its
        assignment as an env reset would and report it, so the ADR actor sees real traffic."""
        self._report(self._next_assignment(), performance, healthy)

    def flush(self) -> None:
        """Send the buffered episode reports to the ADR actor (does not wait for it)."""
        if self.actor is not None and self._reports:
            self.actor.report.remote(self._reports)
            self._reports = []

    def metrics(self) -> dict[str, float]:
        """The local ADR state's metrics (empty with an actor: ask the actor)."""
        if self.actor is None and hasattr(self.state, "metrics"):
            return self.state.metrics()  # type: ignore[no-any-return]
        return {}


def config_for_task(cfg: ADRConfig, task: Any) -> tuple[ADRConfig, dict[str, str]]:
    """`cfg` fitted to `task`: its thresholds, and the parameters it cannot randomize disabled
    (with why each was).

    Thresholds: t_L / t_H left unset in `cfg` (None) become the task's `env.adr_threshold_low`
    / `_high`: successes per episode depend on the task ([R]'s 10/20 assume a 50-success cap
    that reach's 50-step episodes cannot approach). `adr=auto` then works on every env: the cube
    parameters are dropped for `reach`, the Rubik's face parameters for the block, `cube_size`
    for the hinged Rubik's cube. Disabled parameters stay at their calibrated value and do not
    count in the ADR entropy.
    """
    import dataclasses

    from dexrl.adr.apply import unsupported_reason
    from dexrl.adr.config import ParamConfig

    dropped = {
        name: reason
        for name in PARAM_NAMES
        if cfg.is_randomized(name) and (reason := unsupported_reason(name, task)) is not None
    }
    params = dict(cfg.params)
    for name in dropped:
        params[name] = dataclasses.replace(params.get(name, ParamConfig()), enabled=False)
    low, high = cfg.threshold_low, cfg.threshold_high
    if low is None:
        low = float(getattr(task.cfg, "adr_threshold_low", cfg.thresholds()[0]))
    if high is None:
        high = float(getattr(task.cfg, "adr_threshold_high", cfg.thresholds()[1]))
    fitted = dataclasses.replace(cfg, params=params, threshold_low=low, threshold_high=high)
    return fitted, dropped

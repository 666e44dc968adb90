"""Automatic domain randomization (ADR) [R §5, Alg. 1]: the single owner of ranges and buffers.

One `ADRState` serves a whole run (docs/architecture.md §3: one Ray actor owns it). Per episode:

1. `sample_episode()` draws λ for every parameter: λ_i ~ U(φ_L,i, φ_H,i). In mode "auto", with
   probability p_b the episode is a *boundary episode*: one of the d active parameters is picked
   uniformly, then its lower or upper boundary (0.5 each), and its λ is pinned there
   (docs/references.md "ADR"), so every boundary is evaluated in a fraction p_b/(2d) of the
   episodes.
2. The env runs the episode with those λ (boundary episodes train the policy too).
3. `report(assignment, successes)` appends a boundary episode's performance to that boundary's
   buffer; once it holds m results their average decides: ≥ t_H widens the boundary by Δ,
   ≤ t_L narrows it by Δ, never inward past λ = 0 (calibrated) nor outward past a hard limit.

Choices beyond the paper, each documented where it is made:
- A side whose hard limit is 0 (e.g. noise cannot go below 0) can never move; when the draw
  picks it, the episode runs as an ordinary (non-pinned) episode instead of a boundary episode
  whose result could change nothing. The other boundaries keep their rate p_b/(2d).
- A report whose pinned λ no longer equals the current boundary (the boundary moved while the
  episode ran, as happens with many parallel workers) is dropped and counted as stale, so a
  buffer only ever averages performance measured at one boundary value.
- Entropy floors zero widths at `ENTROPY_WIDTH_FLOOR` (see `entropy_npd`).

Pure numpy: no MuJoCo, torch or Ray here, so the algorithm is testable alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from dexrl.adr.config import ADRConfig
from dexrl.adr.params import PARAM_SPECS, ParamSpec

Side = Literal["low", "high"]

ENTROPY_WIDTH_FLOOR = 1e-3
"""Width (λ units) used in place of a zero-width range in the entropy. [R]'s formula
H = (1/d) Σ log(φ_H − φ_L) is −∞ while any range is still at the calibrated value (all of them
at the start of ADR); flooring keeps H finite and increasing as ranges open: a zero-width dim
counts as log(1e-3) ≈ −6.91 nats, one Δ = 0.02 step already lifts it to log(0.02) ≈ −3.91."""

JSON_VERSION = 1
_COUNTERS = (
    "episodes",  # assignments handed out by sample_episode
    "boundary_episodes",  # ... of which were boundary episodes
    "boundary_reports",  # boundary results appended to a buffer
    "nonboundary_reports",  # reports of ordinary episodes (ignored by ADR, counted)
    "stale_reports",  # boundary results dropped because the boundary had moved meanwhile
    "invalid_episodes",  # episodes whose physics went non-finite (report_invalid)
    "widen_events",  # boundary moves outward by Δ
    "narrow_events",  # boundary moves inward by Δ
    "decisions",  # buffers averaged (a decision: widen, narrow, or stay within [t_L, t_H])
)


@dataclass(frozen=True)
class EpisodeAssignment:
    """What one episode runs with."""

    lambdas: dict[str, float]
    """λ for every parameter of the state (0.0 = calibrated) — map with `ParamSpec.to_value`."""
    boundary: tuple[str, Side] | None = None
    """(parameter, "low" | "high") for a boundary episode, None otherwise."""


def _key(name: str, side: str) -> str:
    return f"{name}/{side}"


class ADRState:
    """Ranges [φ_L, φ_H] (λ units), boundary buffers, counters and RNG of one run.

    `specs` are the parameters the task implements (default: the whole registry, in registry
    order, which is the order λs are drawn in). `nominals` gives scalar nominal values resolved
    from the model, so `metrics()` can report ranges in value units as well.
    """

    def __init__(
        self,
        config: ADRConfig,
        specs: Sequence[ParamSpec] = PARAM_SPECS,
        nominals: Mapping[str, float] | None = None,
    ) -> None:
        self.config = config
        self.specs: tuple[ParamSpec, ...] = tuple(specs)
        self._index = {spec.name: i for i, spec in enumerate(self.specs)}
        missing = sorted(set(config.params) - set(self._index))
        if missing:
            raise ValueError(
                f"adr.params names parameter(s) this task does not implement: "
                f"{', '.join(missing)}; implemented: {', '.join(self._index)}"
            )
        self._limits = {s.name: config.hard_limits(s) for s in self.specs}
        self._nominals = {s.name: s.nominal for s in self.specs if s.nominal is not None}
        self.set_nominals(nominals or {})
        self._active = [s.name for s in self.specs if self._is_active(s.name)]
        self._low, self._high = self._initial_ranges()
        self._candidates = self._boundary_candidates()
        self._buffers: dict[str, list[float]] = {}
        self._last_average: dict[str, float] = {}
        self._invalid_by_boundary: dict[str, int] = {}
        self._counters = dict.fromkeys(_COUNTERS, 0)
        self._param_events = {f"{k}/{n}": 0 for n in self._active for k in ("widen", "narrow")}
        self._m, self._p_b = config.effective_buffer_size(), config.effective_boundary_prob()
        self._rng = np.random.default_rng(config.seed)
        self._t_low, self._t_high = config.thresholds()

    # --- set-up -------------------------------------------------------------------------------

    def _is_active(self, name: str) -> bool:
        """Whether `name` is a randomized dimension (counted in the entropy) in this mode."""
        return self.config.is_randomized(name)

    def _initial_ranges(self) -> tuple[np.ndarray, np.ndarray]:
        # ADR starts at the calibrated value, φ_L = φ_H = 0 (docs/references.md "ADR"); manual
        # ranges are fixed for the run; "none" and disabled parameters stay at [0, 0].
        low, high = np.zeros(len(self.specs)), np.zeros(len(self.specs))
        if self.config.mode == "manual":
            for name in self._active:
                manual = self.config.param(name).manual_range
                assert manual is not None  # _is_active checked it
                low[self._index[name]], high[self._index[name]] = manual
        return low, high

    def _boundary_candidates(self) -> list[tuple[str, tuple[Side | None, Side | None]]]:
        """Per active parameter: (low side or None, high side or None); None where that side's
        hard limit is 0, so the boundary can never move."""
        candidates: list[tuple[str, tuple[Side | None, Side | None]]] = []
        for name in self._active:
            lo, hi = self._limits[name]
            low: Side | None = "low" if lo != 0.0 else None
            high: Side | None = "high" if hi != 0.0 else None
            candidates.append((name, (low, high)))
        return candidates

    def set_nominals(self, nominals: Mapping[str, float]) -> None:
        """Record scalar nominal values (from the model) for value-unit metrics."""
        unknown = sorted(set(nominals) - set(self._index))
        if unknown:
            raise ValueError(f"nominals for unknown parameter(s): {', '.join(unknown)}")
        self._nominals.update({k: float(v) for k, v in nominals.items()})

    # --- the algorithm ------------------------------------------------------------------------

    def sample_episode(self) -> EpisodeAssignment:
        """λ for the next episode; in mode "auto" a boundary episode with probability p_b."""
        self._counters["episodes"] += 1
        # Every λ is drawn first, also the one a boundary episode then pins, so each episode
        # uses the RNG the same way; a zero-width range gives exactly φ_L (0 in "none").
        lambdas = self._rng.uniform(self._low, self._high)
        boundary: tuple[str, Side] | None = None
        can_pick = self.config.mode == "auto" and self._candidates
        if can_pick and self._rng.random() < self._p_b:
            # Parameter uniformly, then a side with probability 0.5 ([R] Alg. 1): 1/(2d) each.
            name, sides = self._candidates[self._rng.integers(len(self._candidates))]
            side = sides[self._rng.integers(2)]
            if side is not None:  # None: a side fixed at its hard limit 0 → ordinary episode
                lambdas[self._index[name]] = self._boundary_value(name, side)
                boundary = (name, side)
                self._counters["boundary_episodes"] += 1
        return EpisodeAssignment(
            {s.name: float(lam) for s, lam in zip(self.specs, lambdas, strict=True)}, boundary
        )

    def report(self, assignment: EpisodeAssignment, performance: float) -> None:
        """Record an episode's performance (successes); only boundary episodes affect ADR."""
        if not math.isfinite(performance):
            raise ValueError(
                f"performance must be finite, got {performance}; "
                "report episodes whose physics went non-finite with report_invalid()"
            )
        if assignment.boundary is None:
            self._counters["nonboundary_reports"] += 1
            return
        name, side = assignment.boundary
        if assignment.lambdas[name] != self._boundary_value(name, side):
            self._counters["stale_reports"] += 1  # measured at a boundary that has since moved
            return
        buffer = self._buffers.setdefault(_key(name, side), [])
        buffer.append(float(performance))
        self._counters["boundary_reports"] += 1
        if len(buffer) >= self._m:
            # Alg. 1 of [R]: average the m results, clear the buffer, then decide; the next
            # decision for this boundary needs m new results (no sliding window).
            average = float(np.mean(buffer))
            buffer.clear()
            self._last_average[_key(name, side)] = average
            self._counters["decisions"] += 1
            if average >= self._t_high:
                self._move(name, side, outward=True)
            elif average <= self._t_low:
                self._move(name, side, outward=False)

    def report_invalid(self, assignment: EpisodeAssignment) -> None:
        """Count an episode whose physics went non-finite; its result is not used by ADR."""
        self._counters["invalid_episodes"] += 1
        if assignment.boundary is not None:
            key = _key(*assignment.boundary)
            self._invalid_by_boundary[key] = self._invalid_by_boundary.get(key, 0) + 1

    def _boundary_value(self, name: str, side: str) -> float:
        i = self._index[name]
        return float(self._low[i] if side == "low" else self._high[i])

    def _move(self, name: str, side: str, outward: bool) -> None:
        """Move one boundary by Δ, clamped to [hard limit, 0] (low) or [0, hard limit] (high)."""
        i, step = self._index[name], self.config.delta_for(name)
        lo_limit, hi_limit = self._limits[name]
        sign = 1.0 if side == "high" else -1.0  # the outward direction
        old = self._boundary_value(name, side)
        # round(): repeated ±Δ leaves float residue (0.1 + 0.02 - 0.02 ≠ 0.1); 12 decimals is far
        # below any meaningful λ and makes narrowing land exactly on the calibrated 0.
        new = round(old + (sign * step if outward else -sign * step), 12)
        if side == "high":
            new = min(max(new, 0.0), hi_limit)
            self._high[i] = new
        else:
            new = max(min(new, 0.0), lo_limit)
            self._low[i] = new
        if new != old:
            self._counters["widen_events" if outward else "narrow_events"] += 1
            kind = f"{'widen' if outward else 'narrow'}/{name}"
            self._param_events[kind] = self._param_events.get(kind, 0) + 1

    def _check_restored_range(self, name: str, low: Any, high: Any) -> None:
        """A restored range must be one ADR could have reached: limit_lo ≤ φ_L ≤ 0 ≤ φ_H ≤ limit_hi."""
        lo_limit, hi_limit = self._limits[name]
        ok = isinstance(low, (int, float)) and isinstance(high, (int, float))
        if not (ok and math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"ADR state: range of {name!r} is not two finite numbers: {[low, high]}")
        if not lo_limit <= low <= 0.0 <= high <= hi_limit:
            raise ValueError(
                f"ADR state: range of {name!r} [{low}, {high}] (λ) is not within the hard limits "
                f"[{lo_limit}, {hi_limit}] around the calibrated 0; restore it with the limits it "
                f"was saved with (adr.params.{name}.hard_limits) or start ADR afresh"
            )

    # --- reading the state --------------------------------------------------------------------

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Current [φ_L, φ_H] of every parameter, in λ units."""
        return {
            s.name: (float(self._low[i]), float(self._high[i])) for i, s in enumerate(self.specs)
        }

    def param_events(self) -> dict[str, int]:
        """Boundary moves since the start of ADR per parameter: "widen/<name>", "narrow/<name>"
        for every active parameter (0 until it moves)."""
        return dict(self._param_events)

    def entropy_npd(self) -> float:
        """ADR entropy H = (1/d) Σ log(max(φ_H − φ_L, floor)) in nats per dimension [R §5].

        d counts the active (randomized) parameters; zero widths use ENTROPY_WIDTH_FLOOR. With
        no active parameter it is log(floor), the value of "everything calibrated".
        """
        widths = [self._high[self._index[n]] - self._low[self._index[n]] for n in self._active]
        if not widths:
            return math.log(ENTROPY_WIDTH_FLOOR)
        return float(np.mean(np.log(np.maximum(widths, ENTROPY_WIDTH_FLOOR))))

    def metrics(self) -> dict[str, float]:
        """Flat metrics for logging (all floats).

        Per active parameter: `adr/<name>/low`, `adr/<name>/high` (λ); when its nominal is
        known, `adr/<name>/low_value`, `adr/<name>/high_value`; and always the range in physical
        terms, `adr/range/<name>/low|high` (`ParamSpec.physical`: the value, or the factor on /
        amount added to the calibrated model when that is not one number). Per boundary once it
        has data: `adr/<name>/<side>_perf` (last buffer average), `_buffered` (results waiting),
        `_invalid` (non-finite episodes). Totals: `adr_entropy_npd`, `adr/nonzero_ranges` and
        `adr/<counter>` for each counter in `_COUNTERS`.
        """
        out: dict[str, float] = {"adr_entropy_npd": self.entropy_npd()}
        nonzero = 0
        for name in self._active:
            i, spec = self._index[name], self.specs[self._index[name]]
            nonzero += int(self._high[i] > self._low[i])
            for side, lam in (("low", self._low[i]), ("high", self._high[i])):
                out[f"adr/{name}/{side}"] = float(lam)
                if name in self._nominals:
                    value = spec.to_value(self._nominals[name], float(lam))
                    out[f"adr/{name}/{side}_value"] = float(value)
                physical = spec.physical(float(lam), self._nominals.get(name))
                out[f"adr/range/{name}/{side}"] = physical
        out["adr/nonzero_ranges"] = float(nonzero)
        out.update({f"adr/{k}_perf": v for k, v in self._last_average.items()})
        out.update({f"adr/{k}_buffered": float(len(v)) for k, v in self._buffers.items()})
        out.update({f"adr/{k}_invalid": float(v) for k, v in self._invalid_by_boundary.items()})
        out.update({f"adr/{k}": float(v) for k, v in self._counters.items()})
        return out

    # --- checkpointing ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """Complete state as JSON-compatible data (no pickle; docs/architecture.md §8)."""
        return {
            "version": JSON_VERSION,
            "mode": self.config.mode,
            "ranges": {name: list(r) for name, r in self.ranges().items()},
            "buffers": {k: list(v) for k, v in self._buffers.items() if v},
            "last_average": dict(self._last_average),
            "invalid_by_boundary": dict(self._invalid_by_boundary),
            "counters": dict(self._counters),
            "param_events": dict(self._param_events),
            # PCG64's state is two 128-bit ints; Python's json writes and reads them exactly.
            "rng": self._rng.bit_generator.state,
        }

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        config: ADRConfig,
        specs: Sequence[ParamSpec] = PARAM_SPECS,
        nominals: Mapping[str, float] | None = None,
    ) -> ADRState:
        """Restore a state saved by `to_json`; it continues exactly as the saved one would.

        `config` and `specs` must be the run's (thresholds, limits and Δ are not stored).
        Ranges are restored in mode "auto" only; other modes take them from `config`.
        A parameter added since the checkpoint starts at its calibrated value.
        """
        if data.get("version") != JSON_VERSION or data.get("mode") != config.mode:
            raise ValueError(
                f"ADR state is version {data.get('version')} mode {data.get('mode')!r}; "
                f"expected version {JSON_VERSION} mode {config.mode!r}"
            )
        state = cls(config, specs, nominals)
        unknown = sorted(set(data["ranges"]) - set(state._index))
        if unknown:
            raise ValueError(f"ADR state has unknown parameter(s): {', '.join(unknown)}")
        if config.mode == "auto":
            for name, (low, high) in data["ranges"].items():
                if name not in state._active:
                    continue  # disabled since the checkpoint: stays calibrated
                state._check_restored_range(name, low, high)
                state._low[state._index[name]], state._high[state._index[name]] = low, high
        state._buffers = {k: [float(x) for x in v] for k, v in data["buffers"].items()}
        state._last_average = {k: float(v) for k, v in data["last_average"].items()}
        state._invalid_by_boundary = {k: int(v) for k, v in data["invalid_by_boundary"].items()}
        state._counters.update({k: int(v) for k, v in data["counters"].items()})
        # Absent in checkpoints written before per-parameter events were counted: all 0 then.
        state._param_events.update({k: int(v) for k, v in data.get("param_events", {}).items()})
        state._rng.bit_generator.state = dict(data["rng"])
        return state
